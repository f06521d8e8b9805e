"""Text normalisation and tokenisation shared by FAQ indexing and querying.

Both sides of a match must see the same form of a text, so every FAQ question and every user
message goes through :func:`normalize` first: full-width and half-width forms, Traditional and
Simplified Chinese, and letter case then compare equal.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

import jieba

from bots.nlp.language import to_mainland

jieba.setLogLevel(logging.WARNING)

_SPACE = re.compile(r"\s+")
# A run of CJK ideographs, or a latin word (letters/digits, inner apostrophes allowed).
_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\W_]+(?:'[^\W_]+)*")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def normalize(text: str) -> str:
    """NFKC (full-width → half-width), Traditional → Simplified, lower case, collapsed spaces."""
    text = unicodedata.normalize("NFKC", text)
    if _CJK.search(text):
        text = to_mainland(text)
    return _SPACE.sub(" ", text.lower()).strip()


def has_chinese(text: str) -> bool:
    """Whether a text has any Han character (otherwise the English encoder can read it)."""
    return _CJK.search(text) is not None


def tokenize(text: str) -> list[str]:
    """Words of a normalised text: jieba segments Chinese runs, latin words stay whole."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(text):
        run = match.group()
        if _CJK.match(run):
            tokens.extend(_segment(run))
        else:
            tokens.append(run)
    return tokens


@lru_cache(maxsize=4096)
def _segment(run: str) -> tuple[str, ...]:
    """jieba segmentation of one Chinese run; cached because FAQ messages repeat a lot."""
    return tuple(w for w in jieba.lcut(run) if w.strip())
