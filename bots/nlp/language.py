"""Which language a customer writes: Chinese (Simplified or Traditional) or English.

Short or ambiguous messages ("1", "ok?", an emoji) say nothing; the conversation keeps its language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import zhconv

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
    return zhconv.convert(text, "zh-hant")


def to_simplified(text: str) -> str:
    return zhconv.convert(text, "zh-hans")
