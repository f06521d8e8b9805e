"""Every customer-facing text exists in Chinese and English."""

from __future__ import annotations

import pytest

from bots.i18n import Catalogue, CatalogueError
from bots.registry import BUILTIN_SKILLS, skill_class


def test_every_builtin_text_has_both_languages() -> None:
    catalogue = Catalogue.builtin()
    for key in catalogue.keys():
        assert catalogue.text(key, "zh") and catalogue.text(key, "en")
        assert catalogue.text(key, "zh") != catalogue.text(key, "en")


@pytest.mark.parametrize("name", sorted(BUILTIN_SKILLS))
def test_every_builtin_skill_text_has_both_languages(name: str) -> None:
    Catalogue(skill_class(name).texts, source=name)  # raises on a missing language


def test_a_missing_language_is_refused_with_its_key() -> None:
    with pytest.raises(CatalogueError, match="'thanks' has no zh version"):
        Catalogue({"thanks": {"en": "Thanks!"}}, source="x")


def test_variants_are_all_used() -> None:
    catalogue = Catalogue({"hi": {"zh": ["你好", "您好"], "en": ["hi", "hello"]}})
    seen = {catalogue.text("hi", "en") for _ in range(100)}
    assert seen == {"hi", "hello"}
