"""Text normalisation and hashed n-gram features shared by the sentiment build and runtime.

The build script and the runtime call exactly these functions, so a model trained on the
features scores the same way when shipped. Hashing (CRC32) keeps the artifact a fixed-size
weight vector with no vocabulary to store.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[a-zA-Z]")
_SPACE = re.compile(r"\s+")
_REPEAT = re.compile(r"(.)\1{2,}")
_EN_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[!?]+|[.,;:]")
_EN_CLAUSE_END = frozenset(".,;:!?")
_EN_NEGATORS = frozenset(
    "not no never nothing nobody none nor neither without cannot hardly barely".split()
)


@dataclass(frozen=True)
class FeatureConfig:
    """Which n-grams to hash; stored in the artifact so build and runtime agree."""

    bits: int = 18
    zh_char_max: int = 3
    en_char_min: int = 3
    en_char_max: int = 5
    en_word_max: int = 2

    def to_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.__dict__.items()}


def normalise(text: str, t2s: Mapping[int, str] | None = None) -> str:
    """NFKC (full-width → ASCII), lower case, traditional → simplified Chinese, squeeze runs."""
    text = unicodedata.normalize("NFKC", text).lower()
    if t2s:
        text = text.translate(t2s)
    text = _REPEAT.sub(r"\1\1\1", text)
    return _SPACE.sub(" ", text).strip()


def detect_lang(text: str) -> str:
    """'zh' when Chinese characters carry the message, else 'en'."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return "zh" if cjk and cjk * 3 >= latin else "en"


def en_tokens(text: str) -> list[str]:
    """Word tokens with negation scope marked ('not good' → 'not', 'NEG_good').

    The mark runs to the end of the clause, the usual trick that lets a linear model learn
    that 'not' flips the words after it.
    """
    out: list[str] = []
    negated = False
    for tok in _EN_TOKEN.findall(text):
        if tok[0] in _EN_CLAUSE_END:
            negated = False
            out.append(tok[:3])
            continue
        out.append("NEG_" + tok if negated else tok)
        if tok in _EN_NEGATORS or tok.endswith("n't"):
            negated = True
    return out


def zh_grams(text: str, cfg: FeatureConfig) -> Iterable[str]:
    """Character 1..n-grams; spaces dropped because Chinese has no word spacing."""
    s = text.replace(" ", "")
    for n in range(1, cfg.zh_char_max + 1):
        for i in range(len(s) - n + 1):
            yield s[i : i + n]


def en_grams(text: str, cfg: FeatureConfig, polarity: Mapping[str, float]) -> Iterable[str]:
    """Word 1..n-grams (negation-marked), character n-grams inside words, and polarity tags.

    A tag such as 'N3' (strongly negative lexicon word) or 'NEG_P2' lets 2,400 training
    sentences teach the weight of thousands of lexicon words they never contain.
    """
    toks = en_tokens(text)
    for n in range(1, cfg.en_word_max + 1):
        for i in range(len(toks) - n + 1):
            yield "w" + " ".join(toks[i : i + n])
    for tok in toks:
        word = f"<{tok}>"
        for n in range(cfg.en_char_min, cfg.en_char_max + 1):
            for i in range(len(word) - n + 1):
                yield "c" + word[i : i + n]
        yield from _polarity_tags(tok, polarity)


def _polarity_tags(tok: str, polarity: Mapping[str, float]) -> Iterable[str]:
    negated = tok.startswith("NEG_")
    valence = polarity.get(tok[4:] if negated else tok)
    if not valence:
        return
    sign = "P" if valence > 0 else "N"
    prefix = "tNEG_" if negated else "t"
    yield prefix + sign
    yield f"{prefix}{sign}{min(3, int(abs(valence) + 0.5))}"


def hashed_indices(
    text: str, lang: str, cfg: FeatureConfig, polarity: Mapping[str, float]
) -> np.ndarray:
    """Unique feature buckets of an already normalised text (binary bag of n-grams)."""
    mask = (1 << cfg.bits) - 1
    grams = zh_grams(text, cfg) if lang == "zh" else en_grams(text, cfg, polarity)
    idx = {zlib.crc32(g.encode("utf-8")) & mask for g in grams}
    return np.fromiter(idx, dtype=np.int64, count=len(idx))
