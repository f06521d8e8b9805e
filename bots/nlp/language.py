"""Which language a customer writes: Chinese (Simplified or Traditional) or English.

Short or ambiguous messages ("1", "ok?", an emoji) say nothing; the conversation keeps its language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import opencc

# OpenCC (Apache-2.0) conversions: script only for telling and answering Traditional writers
# (Taiwan's character forms: 為, 裡), and script plus Taiwan wording (滑鼠 → 鼠标) for matching.
_T2S = opencc.OpenCC("t2s")
_S2TW = opencc.OpenCC("s2tw")
_TW2SP = opencc.OpenCC("tw2sp")

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2,}(?![A-Za-z0-9])")  # not codes like DS100234


@dataclass(frozen=True)
class Language:
    code: str  # "zh" or "en"
    traditional: bool = False


def detect_language(text: str) -> Language | None:
    """Chinese if the text has Han characters (Traditional if converting to Simplified changes it).

    Commands and button values (`/hours`) and order numbers say nothing about the customer's language.
    """
    if text.lstrip().startswith("/"):
        return None
    han = _HAN.findall(text)
    if han:
        chars = "".join(han)
        return Language("zh", traditional=to_simplified(chars) != chars)
    if sum(len(word) for word in _LATIN_WORD.findall(text)) >= 3:
        return Language("en")
    return None


def to_traditional(text: str) -> str:
    """Render a Simplified Chinese text for a customer who writes Traditional."""
    return _S2TW.convert(text)


def to_simplified(text: str) -> str:
    """Simplified characters, words unchanged: a Simplified text stays exactly as it is."""
    return _T2S.convert(text)


def to_mainland(text: str) -> str:
    """Simplified characters and mainland wording, so a Taiwanese phrasing matches the shop's texts."""
    return _TW2SP.convert(text)
