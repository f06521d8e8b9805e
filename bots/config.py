"""Reading `bots.yaml` and the per-skill files in `skills_config/`.

A mistake fails at start-up with the file, the field and what was expected, never later mid-conversation.
Secrets are not read from here: adapters take them from environment variables.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

T = TypeVar("T", bound=BaseModel)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or wrong; the message says where and why."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShopConfig(Strict):
    name: str = "Demo Shop"
    default_language: Literal["zh", "en"] = "zh"


def _known_zone(value: str) -> str:
    """A time-zone setting must name a zone the system knows, or start-up fails with the name."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (expected e.g. Asia/Shanghai)") from None
    return value


class BusinessHours(Strict):
    """When people answer in a room; outside, the customer is told when to expect a reply."""

    timezone: str = "Asia/Shanghai"
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = list(WEEKDAYS)
    open: time = time(9, 0)
    close: time = time(21, 0)

    _zone = field_validator("timezone")(_known_zone)

    def next_opening(self, now: datetime) -> datetime | None:
        """None while open; else the next moment the room opens (in the room's time zone)."""
        local = now.astimezone(ZoneInfo(self.timezone))
        for offset in range(8):
            day = local.date() + timedelta(days=offset)
            if WEEKDAYS[day.weekday()] not in self.days:
                continue
            opening = datetime.combine(day, self.open, local.tzinfo)
            closing = datetime.combine(day, self.close, local.tzinfo)
            if offset == 0 and opening <= local < closing:
                return None
            if local < opening:
                return opening
        return None


class RoomConfig(Strict):
    """A staff room: where alerts of one kind go and how fast someone must take them."""

    type: str = "console"
    channel: str = ""  # the room's address on its platform (e.g. a Slack channel id)
    sla_minutes: float = Field(default=15, gt=0)
    oncall: str = ""  # who is mentioned when the SLA is breached
    hours: BusinessHours | None = None


def _default_rooms() -> dict[str, RoomConfig]:
    return {
        "urgent": RoomConfig(sla_minutes=5),
        "regular": RoomConfig(sla_minutes=15),
        "factory": RoomConfig(sla_minutes=24 * 60),
    }


class StorageConfig(Strict):
    engine: Literal["tinydb"] = "tinydb"
    path: str = "data"


class FallbackConfig(Strict):
    escalate_after: int = Field(default=3, ge=1, description="fallback rounds in a row before a person is called")


class ReportsConfig(Strict):
    """The daily staff report: posted to `room` at `at` (local time in `timezone`), covering the day before."""

    room: str = "reports"
    at: time = time(9, 0)
    timezone: str = "Asia/Shanghai"

    _zone = field_validator("timezone")(_known_zone)


class BotSettings(Strict):
    shop: ShopConfig = ShopConfig()
    skills: list[str] = Field(default_factory=lambda: ["escalation", "greeting"])
    adapters: dict[str, dict[str, Any]] = Field(default_factory=lambda: {"console": {}})
    rooms: dict[str, RoomConfig] = Field(default_factory=_default_rooms)
    storage: StorageConfig = StorageConfig()
    fallback: FallbackConfig = FallbackConfig()
    reports: ReportsConfig | None = None

    @field_validator("rooms")
    @classmethod
    def _severity_rooms(cls, rooms: dict[str, RoomConfig]) -> dict[str, RoomConfig]:
        missing = [name for name in ("urgent", "regular") if name not in rooms]
        if missing:
            raise ValueError(f"rooms {', '.join(missing)} must be defined (escalations go to them by severity)")
        return rooms

    @model_validator(mode="after")
    def _report_room_exists(self) -> BotSettings:
        if self.reports is not None and self.reports.room not in self.rooms:
            raise ValueError(f"reports.room: no room {self.reports.room!r} (rooms: {', '.join(self.rooms)})")
        return self


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from a file; an absent file is an empty mapping."""
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level, got {type(data).__name__}")
    return data


def validate(model: type[T], data: dict[str, Any], source: Path | str) -> T:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe(exc, source)) from None


def describe(exc: ValidationError, source: Path | str) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        got = "" if error["type"] == "missing" else f" (got {error['input']!r})"
        lines.append(f"{source}: {where}: {error['msg']}{got}")
    return "\n".join(lines)


def load_settings(config_dir: Path) -> BotSettings:
    path = config_dir / "bots.yaml"
    if not config_dir.is_dir():
        raise ConfigError(f"{config_dir}: no such configuration directory")
    return validate(BotSettings, read_yaml(path), path)


def load_skill_config(config_dir: Path, skill_name: str, model: type[T]) -> T:
    path = config_dir / f"{skill_name}.yaml"
    return validate(model, read_yaml(path), path)
