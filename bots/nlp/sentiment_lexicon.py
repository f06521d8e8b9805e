"""Rule-based sentiment cues: a bilingual valence lexicon with negation and intensifiers, plus anger cues.

The learned n-gram model knows product reviews; customer-service chat is another domain. These
hand-written after-sales cues (and the VADER word list for English) carry the signal across
domains, and make "气死了", "what a joke", "不是很满意" or "not bad" behave predictably.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

# Valences use VADER's scale: about -4 (worst) .. +4 (best).
EN_CUES: dict[str, float] = {
    "what a joke": -2.5, "a joke": -2.0, "joke": -1.5, "rip off": -2.5, "ripoff": -2.5,
    "rip-off": -2.5, "waste of money": -2.8, "waste of time": -2.5, "never again": -2.5,
    "never buy": -2.5, "doesn't work": -2.0, "does not work": -2.0, "didn't work": -2.0,
    "not working": -2.0, "stopped working": -2.2, "still waiting": -1.8, "still not": -1.2,
    "fed up": -2.5, "sick of": -2.5, "sick and tired": -3.0, "taking forever": -2.0,
    "no one": -0.8, "nobody": -0.8, "ridiculous": -2.5, "unacceptable": -2.8,
    "worst": -3.1, "useless": -2.5, "scam": -3.0, "scammer": -3.2, "scammers": -3.2,
    "fraud": -3.0, "liar": -3.0, "liars": -3.0, "lied": -2.5, "incompetent": -2.8,
    "pathetic": -3.0, "disgrace": -3.0, "disgraceful": -3.0, "garbage": -2.8, "trash": -2.5,
    "rubbish": -2.5, "broken": -2.0, "damaged": -2.0, "defective": -2.5, "faulty": -2.2,
    "late": -1.0, "delayed": -1.2, "missing": -1.2, "lost": -1.2, "wrong": -1.5,
    "refund": -0.3, "complaint": -1.5, "complain": -1.5, "disappointed": -2.2,
    "disappointing": -2.2, "terrible": -3.0, "horrible": -3.0, "awful": -3.0,
    "no problem": 1.5, "not bad": 2.0, "thanks": 1.5, "thank you": 1.8, "thx": 1.2,
    "love": 3.0, "perfect": 3.0, "excellent": 3.0, "great": 2.5, "awesome": 3.0,
    "fast delivery": 2.0, "quick delivery": 2.0, "works great": 2.5, "works fine": 1.8,
    "as described": 1.5, "recommend": 2.0, "happy": 2.5, "satisfied": 2.0,
}
EN_ANGER: frozenset[str] = frozenset(
    """ridiculous unacceptable scam scammer scammers fraud liar liars lied incompetent pathetic
    disgrace disgraceful garbage trash rubbish ripoff rip-off useless worst idiot idiots stupid
    moron morons hate furious angry outrageous outraged shit bullshit crap fuck fucking wtf damn
    sue lawyer""".split()
) | {"what a joke", "rip off", "fed up", "sick of", "sick and tired", "never again"}
EN_NEGATORS: frozenset[str] = frozenset(
    """not no never none nothing nobody nor neither without cannot cant dont doesnt didnt isnt
    wasnt arent werent wont wouldnt shouldnt couldnt havent hasnt hadnt hardly barely""".split()
)
EN_BOOSTERS: dict[str, float] = {
    **dict.fromkeys(
        """very really so too extremely totally absolutely completely utterly super incredibly
        highly truly seriously such most""".split(), 0.3),
    **dict.fromkeys("slightly somewhat kinda little bit fairly rather".split(), -0.3),
}

ZH_CUES: dict[str, float] = {
    # negative / complaint
    "差": -2.0, "很差": -2.5, "太差": -3.0, "差劲": -3.0, "烂": -2.5, "垃圾": -3.2, "坑": -2.2,
    "坑人": -3.0, "骗子": -3.3, "骗人": -3.0, "欺骗": -3.0, "诈骗": -3.3, "忽悠": -2.5,
    "假货": -3.0, "山寨": -2.2, "劣质": -3.0, "破": -1.0, "坏": -2.0, "坏了": -2.2,
    "坏的": -2.0, "损坏": -2.2, "破损": -2.2, "故障": -2.0, "质量问题": -2.5, "问题": -1.0,
    "毛病": -1.8, "失望": -2.5, "后悔": -2.5, "上当": -2.8, "难用": -2.5, "难吃": -2.5,
    "难看": -2.2, "难受": -2.0, "恶心": -3.0, "糟糕": -2.8, "糟透": -3.2, "离谱": -2.8,
    "过分": -2.5, "无语": -2.5, "无奈": -2.0, "郁闷": -2.2, "生气": -2.8, "气死": -3.4,
    "愤怒": -3.2, "火大": -3.0, "投诉": -2.5, "举报": -2.8, "差评": -2.8, "退货": -0.5,
    "退款": -0.3, "慢": -1.2, "太慢": -2.2, "很慢": -2.0, "还没到": -1.5, "还没发货": -1.8,
    "没收到": -1.8, "不发货": -2.0, "迟迟": -1.8, "拖": -1.2, "敷衍": -2.8, "态度恶劣": -3.3,
    "态度差": -3.0, "不理人": -2.5, "没人理": -2.6, "没人管": -2.6, "不负责": -2.8, "黑心": -3.3,
    "缺德": -3.3, "无良": -3.3, "奸商": -3.4, "滚": -3.0, "妈的": -3.4, "他妈": -3.4,
    "尼玛": -3.2, "靠": -1.0, "卧槽": -2.5, "什么玩意": -3.0, "搞什么": -2.5, "脑残": -3.4,
    "废物": -3.2, "有病": -2.8, "再也不": -2.8, "别买": -3.0, "不值": -2.0, "浪费": -2.2,
    "贵": -1.0, "太贵": -2.0, "麻烦": -1.2, "错": -1.2, "发错": -2.0, "漏发": -2.0,
    "少发": -2.0, "欺负": -2.5, "骗": -2.5, "吐槽": -1.5, "呵呵": -1.5,
    # positive
    "好": 1.9, "很好": 2.5, "挺好": 2.2, "不错": 2.2, "满意": 2.5, "喜欢": 2.5, "推荐": 2.2,
    "赞": 2.5, "棒": 2.8, "好评": 2.8, "完美": 3.2, "优秀": 3.0, "实惠": 2.0, "划算": 2.2,
    "值": 1.8, "值得": 2.2, "物美价廉": 3.0, "快": 1.2, "很快": 2.0, "及时": 1.8, "方便": 1.8,
    "舒服": 2.2, "舒适": 2.2, "漂亮": 2.5, "好看": 2.5, "好用": 2.5, "好吃": 2.5, "耐心": 2.0,
    "热情": 2.2, "周到": 2.5, "专业": 2.0, "感谢": 2.2, "谢谢": 1.8, "辛苦": 1.2, "给力": 2.8,
    "靠谱": 2.5, "放心": 2.0, "惊喜": 2.8, "开心": 2.8, "高兴": 2.8, "正品": 2.0, "没问题": 1.2,
    "好好": 1.5, "清楚": 1.0, "干净": 2.0, "流畅": 2.2, "稳定": 1.8, "解决了": 2.0, "搞定": 2.0,
}
# Words that contain a cue character (好) but carry no sentiment.
ZH_NEUTRAL: frozenset[str] = frozenset(
    "你好 您好 好的 好吗 好不好 只好 好像 最好 好几 好多 差不多 差价 补差价 相差 时差 不急 慢慢 问题解决".split()
)
ZH_ANGER: frozenset[str] = frozenset(
    """垃圾 骗子 骗人 诈骗 坑人 奸商 黑心 缺德 无良 气死 愤怒 火大 生气 投诉 举报 滚 妈的 他妈 尼玛
    卧槽 什么玩意 搞什么 脑残 废物 有病 态度恶劣 离谱 过分 太差 差劲 糟透 恶心 再也不 别买 假货""".split()
)
ZH_NEGATORS: frozenset[str] = frozenset("不 没 没有 无 未 别 非 不是 并不 并没有 不太 不够 不怎么 从不 从没".split())
ZH_BOOSTERS: dict[str, float] = {
    **dict.fromkeys("很 太 非常 特别 超 超级 十分 极 极其 真 真的 相当 挺 最 巨 好 特 实在 简直 太过".split(), 0.3),
    **dict.fromkeys("有点 有些 稍 稍微 略 比较 还算 还".split(), -0.3),
}
_BOOST = 0.3
_NEGATION_SCALE = -0.74  # VADER's: "not good" is milder than "bad"
_ALPHA = 15.0  # VADER's normaliser: sum of valences → (-1, 1)
_EN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_ZH_CLAUSE_END = frozenset("，。！？；,.!?;~ \n")
_SHOUT_PUNCT = re.compile(r"[!！]{3,}|[?？]{3,}|[!?！？]{4,}")
_CAPS_WORD = re.compile(r"\b[A-Z]{4,}\b")


@dataclass(frozen=True)
class LexiconScore:
    """What the rules found in one message."""

    score: float  # VADER-style compound in (-1, 1); 0 when no cue matched
    hits: int  # sentiment-bearing cues matched
    insult: bool  # an anger word (垃圾, scam, ...) is present
    shouting: bool  # !!!, ???, or ALL CAPS


def _compound(total: float) -> float:
    return total / math.sqrt(total * total + _ALPHA) if total else 0.0


def _modified(valence: float, negated: bool, boost: float) -> float:
    """Apply an intensifier (moves away from zero) then negation (flips, damped)."""
    v = valence + math.copysign(boost, valence) if boost else valence
    return v * _NEGATION_SCALE if negated else v


class Lexicon:
    """Scores normalised text with valence cues, negation within a short window, and intensifiers."""

    def __init__(self, en_words: Mapping[str, float]) -> None:
        self._en = {**en_words, **EN_CUES}
        self._en_phrases = sorted((p for p in self._en if " " in p), key=len, reverse=True)
        modifiers = ZH_NEGATORS | ZH_BOOSTERS.keys() | ZH_NEUTRAL
        self._zh = {**dict.fromkeys(modifiers, 0.0), **ZH_CUES}
        self._zh_max = max(map(len, self._zh))
        # Single-word English valences, for the model's polarity-tag features.
        self.en_polarity = {w: v for w, v in self._en.items() if " " not in w and w not in EN_NEGATORS}

    def score(self, text: str, raw: str, lang: str) -> LexiconScore:
        """Score `text` (normalised); `raw` keeps the case and punctuation needed to see shouting."""
        total, hits, insult = self._zh_total(text) if lang == "zh" else self._en_total(text)
        shouting = bool(_SHOUT_PUNCT.search(raw)) or _is_caps(raw)
        return LexiconScore(_compound(total), hits, insult, shouting)

    def _en_total(self, text: str) -> tuple[float, int, bool]:
        total, hits, insult = 0.0, 0, False
        for phrase in self._en_phrases:
            if phrase in text:
                total += self._en[phrase]
                hits += 1
                insult |= phrase in EN_ANGER
                text = text.replace(phrase, " | ")
        words = _EN_WORD.findall(text.replace("|", " | "))
        for i, word in enumerate(words):
            valence = self._en.get(word)
            if not valence or word in EN_NEGATORS:
                continue
            # Four words back (VADER: three), so "won't be leaving a bad review" is negated too.
            window = [w.replace("'", "") for w in words[max(0, i - 4) : i]]
            negated = any(w in EN_NEGATORS or w.endswith("nt") and w[:-2] in _EN_AUX for w in window)
            boost = EN_BOOSTERS.get(words[i - 1], 0.0) if i else 0.0
            total += _modified(valence, negated, boost)
            hits += 1
            insult |= word in EN_ANGER and not negated
        return total, hits, insult

    def _zh_total(self, text: str) -> tuple[float, int, bool]:
        """Forward maximum matching over the cue list; modifiers apply to the next cue in the clause."""
        total, hits, insult = 0.0, 0, False
        negated, boost, i = False, 0.0, 0
        while i < len(text):
            if text[i] in _ZH_CLAUSE_END:
                negated, boost, i = False, 0.0, i + 1
                continue
            word = self._longest_zh(text, i)
            if word is None:
                i += 1
                continue
            i += len(word)
            if word in ZH_CUES:
                total += _modified(ZH_CUES[word], negated, boost)
                hits += 1
                insult |= word in ZH_ANGER and not negated
                negated, boost = False, 0.0
            elif word in ZH_NEUTRAL:
                continue
            elif word in ZH_NEGATORS:
                negated = not negated
                boost += ZH_BOOSTERS.get(word[-1], 0.0) if len(word) > 1 else 0.0
            else:
                boost += ZH_BOOSTERS[word]
        return total, hits, insult

    def _longest_zh(self, text: str, i: int) -> str | None:
        for n in range(min(self._zh_max, len(text) - i), 0, -1):
            if text[i : i + n] in self._zh:
                return text[i : i + n]
        return None


_EN_AUX = frozenset("do does did is was are were wo would should could have has had ca must need".split())


def _is_caps(raw: str) -> bool:
    """Shouting: two ALL-CAPS words of 4+ letters, or a mostly upper-case message of 8+ letters."""
    letters = [c for c in raw if c.isascii() and c.isalpha()]
    if len(letters) >= 8 and sum(c.isupper() for c in letters) >= 0.7 * len(letters):
        return True
    return len(_CAPS_WORD.findall(raw)) >= 2
