"""Saved replies ("macros") staff send with one command, in the customer's language, fields filled in.

They live in `skills_config/macros.yaml`; every reply needs a zh and an en version, and a template that
cannot be filled (unknown placeholder in the file, or a fact the conversation lacks) is refused with a
message saying which field is missing, so nothing half-filled ever reaches a customer.
"""

from __future__ import annotations

import string
from pathlib import Path

from pydantic import Field, field_validator

from .config import ConfigError, Strict, read_yaml, validate


class MacroError(ValueError):
    """A saved reply cannot be sent as asked; the message says why (shown to the staff member)."""


def _fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


class Macro(Strict):
    title: str = ""
    zh: str
    en: str

    @field_validator("zh", "en")
    @classmethod
    def _well_formed(cls, template: str) -> str:
        try:
            _fields(template)
        except ValueError as exc:
            raise ValueError(f"bad placeholder: {exc} (write {{order}}, and {{{{ for a literal brace)") from None
        return template


class MacroFile(Strict):
    macros: dict[str, Macro] = Field(default_factory=dict)


class Macros:
    def __init__(self, macros: dict[str, Macro]) -> None:
        self.macros = macros

    @classmethod
    def load(cls, path: Path) -> Macros:
        """The saved replies of a shop; an absent file means none (the command then says so)."""
        if path.exists() and not path.is_file():
            raise ConfigError(f"{path}: expected a YAML file of saved replies")
        return cls(validate(MacroFile, read_yaml(path), path).macros)

    def render(self, name: str, language: str, fields: dict[str, object]) -> str:
        """The reply in `language` (zh or en) with its placeholders filled from `fields`."""
        macro = self.macros.get(name)
        if macro is None:
            known = ", ".join(sorted(self.macros)) or "none are configured in skills_config/macros.yaml"
            raise MacroError(f"no saved reply {name!r} (saved replies: {known})")
        template = macro.zh if language == "zh" else macro.en
        missing = [field for field in _fields(template) if fields.get(field) in (None, "")]
        if missing:
            raise MacroError(
                f"saved reply {name!r} needs {', '.join(missing)}, which this conversation has not given; "
                "answer in the thread instead"
            )
        return template.format_map(fields)
