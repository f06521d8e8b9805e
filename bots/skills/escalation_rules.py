"""Trigger phrases that mean "a person must take over", matched with care.

A phrase only counts when it is not negated ("不要退款", "I'm not angry"), and safety words do not fire
on pre-sale or hypothetical questions ("会不会冒烟？", "is it safe overnight?"). Product words that merely
contain a trigger ("烫金礼盒", "smoke-grey case", "burnt-orange") are excluded by the phrase lists and
look-aheads, not by special cases in code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HAN = re.compile(r"[\u4e00-\u9fff]")
_CLAUSE = re.compile(r"[，,。.!！?？；;\n]")
ZH_NEGATORS = ("不要", "不用", "无需", "不是", "没有", "不想", "不会", "不必", "别", "不", "没", "未", "非")
EN_NEGATORS = re.compile(
    r"(?i)\b(not|no|don'?t|doesn'?t|didn'?t|never|without|isn'?t|wasn'?t|won'?t|aren'?t|nothing)\s+(\S+\s+){0,3}$"
)
ZH_QUESTION_FORMS = ("有没有", "是不是", "能不能", "要不要", "可不可以", "会不会", "行不行")  # ask, don't negate
ZH_HYPOTHETICAL = (
    "会不会", "会吗", "是否", "如果", "假如", "要是", "万一", "能不能", "可不可以", "安全吗", "有没有", "容易", "担心",
    "买之前", "下单前", "先问", "问清楚",
)
EN_HYPOTHETICAL = re.compile(
    r"(?i)\b(will it|would it|could it|can it|does it|do they|do these|is it safe|is it normal|what if|"
    r"what happens if|if (it|the|my|they)|in case|hypothetically|before i (buy|order|purchase)|just asking|"
    r"worried|afraid it|might|any risk|risk of|how likely|ever)\b"
)


@dataclass(frozen=True)
class Hit:
    phrase: str
    clause: str


class PhraseList:
    """A bilingual list of phrases, each a regular expression: Chinese ones match anywhere, English ones
    as whole words, and either may carry a look-ahead (`smoke(?![- ]?grey)`, `人工(?!智能)`)."""

    def __init__(self, zh: list[str], en: list[str]) -> None:
        self.zh = [re.compile(phrase) for phrase in sorted(zh, key=len, reverse=True)]
        self.en = [re.compile(rf"(?i)(?<![\w-]){phrase}(?![\w-])") for phrase in en]

    def find(self, text: str, *, hypothetical_ok: bool = True) -> Hit | None:
        """The first phrase occurring un-negated (and, unless allowed, not in a hypothetical question)."""
        for clause in _CLAUSE.split(text) if text else []:
            hit = self._in_clause(clause, text)
            if hit and (hypothetical_ok or not is_hypothetical(clause, text)):
                return hit
        return None

    def _in_clause(self, clause: str, text: str) -> Hit | None:
        for pattern in self.zh:
            for found in pattern.finditer(clause):
                if not _negated_zh(clause[: found.start()]):
                    return Hit(found.group(0), clause)
        for pattern in self.en:
            for found in pattern.finditer(clause):
                if not EN_NEGATORS.search(clause[: found.start()]):
                    return Hit(found.group(0), clause)
        return None


def _negated_zh(before: str) -> bool:
    """A negator in the few characters before the phrase: 不要退款, 没有冒烟, 别转人工 (but not 有没有真人)."""
    window = before[-6:]
    for form in ZH_QUESTION_FORMS:
        window = window.replace(form, "")
    return any(negator in window[-3:] for negator in ZH_NEGATORS)


def is_hypothetical(clause: str, text: str) -> bool:
    """A question about what could happen, not a report of what did."""
    asks = any(mark in text for mark in ("?", "？", "吗", "么")) or any(form in clause for form in ZH_QUESTION_FORMS)
    if _HAN.search(clause):
        return any(marker in clause for marker in ZH_HYPOTHETICAL) and (asks or "如果" in clause or "万一" in clause)
    return bool(EN_HYPOTHETICAL.search(clause)) and (asks or clause.lower().lstrip().startswith(("if ", "what if")))


def similar(a: str, b: str) -> float:
    """Overlap of character bigrams (Jaccard): cheap, and works for Chinese and English alike."""

    def grams(text: str) -> set[str]:
        text = re.sub(r"[\s\W_]+", "", text.lower())
        return {text[i : i + 2] for i in range(len(text) - 1)}

    left, right = grams(a), grams(b)
    return len(left & right) / len(left | right) if left and right else 0.0
