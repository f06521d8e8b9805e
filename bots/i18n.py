"""The zh/en message catalogue: every customer-facing text exists in both languages.

An entry is `key: {zh: ..., en: ...}`; a language may hold a list of variants, one picked at random,
so the bot does not repeat the same sentence to an upset customer. Texts use `str.format` fields.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("zh", "en")
Texts = Mapping[str, Mapping[str, str | list[str]]]


class CatalogueError(ValueError):
    """A catalogue entry misses a language or is not text."""


class Catalogue:
    def __init__(self, entries: Texts, source: str = "catalogue") -> None:
        for key, by_lang in entries.items():
            missing = [lang for lang in LANGUAGES if not by_lang.get(lang)]
            if missing:
                raise CatalogueError(f"{source}: text {key!r} has no {' / '.join(missing)} version")
        self._entries = {key: dict(value) for key, value in entries.items()}

    @classmethod
    def builtin(cls) -> Catalogue:
        text = resources.files("bots.locales").joinpath("messages.yaml").read_text(encoding="utf-8")
        return cls(yaml.safe_load(text), source="bots/locales/messages.yaml")

    def keys(self) -> set[str]:
        return set(self._entries)

    def overlay(self, entries: Texts, source: str) -> Catalogue:
        """A catalogue where `entries` (a skill's or a seller's own texts) win over these."""
        return Catalogue({**self._entries, **Catalogue(entries, source)._entries}, source)

    def text(self, key: str, lang: str, **fields: Any) -> str:
        try:
            by_lang = self._entries[key]
        except KeyError:
            raise KeyError(f"no text {key!r} in the catalogue") from None
        chosen = by_lang.get(lang) or by_lang["en"]
        if isinstance(chosen, list):
            chosen = random.choice(chosen)
        return chosen.format(**fields) if fields else chosen
