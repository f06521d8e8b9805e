"""What a skill author writes: a `Skill` subclass with decorated async handlers.

    class OpeningHours(Skill):
        class Config(SkillConfig):
            hours: str = "9:00-22:00"

        texts = {"hours": {"zh": "营业时间：{hours}", "en": "We are open {hours}."}}

        @on_regex(r"(?i)opening hours|营业时间|几点")
        async def hours(self, ctx: Context) -> None:
            await ctx.reply(ctx.t("hours", hours=self.config.hours))

Triggers say when a handler wants a message and how sure it is (a score in 0..1); the router picks
by skill priority, then score, then the order of skills in bots.yaml, then handler order. Triggers see
`message.plain`: full-width characters folded and Traditional Chinese converted, so a pattern written
in Simplified Chinese also matches a customer who types Traditional.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from .i18n import Texts

if TYPE_CHECKING:
    from .context import Context
    from .conversation import Conversation
    from .message import Message

Handler = Callable[[Any, "Context"], Awaitable[None]]


class SkillConfig(BaseModel):
    """Base of every skill's settings, read from `skills_config/<skill>.yaml`. Unknown fields are errors."""

    model_config = ConfigDict(extra="forbid")

    priority: int | None = None
    texts: dict[str, dict[str, str | list[str]]] = {}


@dataclass(frozen=True)
class Match:
    """How well a handler fits a message; `data` carries what the trigger found (a regex match, an FAQ id)."""

    score: float
    data: Any = None


class Trigger:
    """Decides whether a handler wants a message."""

    interrupts: bool = False  # may cut into another skill's open dialogue

    def match(self, skill: Skill, message: Message) -> Match | None:
        raise NotImplementedError


@dataclass
class RegexTrigger(Trigger):
    pattern: re.Pattern[str]
    score: float = 1.0
    interrupts: bool = False

    def match(self, skill: Skill, message: Message) -> Match | None:
        found = self.pattern.search(message.plain)
        return Match(self.score, found) if found else None


@dataclass
class CommandTrigger(Trigger):
    """`/name args`: what buttons send, and what power users type."""

    name: str
    score: float = 1.0
    interrupts: bool = True

    def match(self, skill: Skill, message: Message) -> Match | None:
        head, _, args = message.plain.strip().partition(" ")
        return Match(self.score, args.strip()) if head.lower() == f"/{self.name}" else None


@dataclass
class KeywordTrigger(Trigger):
    """Keyword lists per language; English words match whole words, Chinese ones as substrings."""

    keywords: dict[str, list[str]]
    score: float = 0.8
    interrupts: bool = False
    _english: re.Pattern[str] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        words = [w for lang, ws in self.keywords.items() if lang != "zh" for w in ws]
        if words:
            alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
            self._english = re.compile(rf"(?i)(?<![a-z])(?:{alternatives})(?![a-z])")

    def match(self, skill: Skill, message: Message) -> Match | None:
        text = message.plain
        found = next((w for w in self.keywords.get("zh", []) if w in text), None)
        if found is None and self._english is not None:
            hit = self._english.search(text)
            found = hit.group(0) if hit else None
        return Match(self.score, found) if found else None


@dataclass
class ScoredTrigger(Trigger):
    """Calls the skill's own scorer, for skills that rank candidates (FAQ)."""

    scorer: Callable[[Any, Message], Match | float | None]
    interrupts: bool = False

    def match(self, skill: Skill, message: Message) -> Match | None:
        result = self.scorer(skill, message)
        if result is None or isinstance(result, Match):
            return result
        return Match(float(result)) if result > 0 else None


def _attach(kind: str, value: Any) -> Callable[[Handler], Handler]:
    def decorate(fn: Handler) -> Handler:
        fn.__dict__.setdefault("_bots_marks", []).append((kind, value))
        return fn

    return decorate


def on_regex(pattern: str, *, score: float = 1.0, interrupts: bool = False) -> Callable[[Handler], Handler]:
    """Handle messages matching a regular expression; `ctx.match.data` is the `re.Match`."""
    return _attach("trigger", RegexTrigger(re.compile(pattern), score, interrupts))


def on_command(name: str, *, interrupts: bool = True) -> Callable[[Handler], Handler]:
    """Handle `/name args`; `ctx.match.data` is the argument string."""
    return _attach("trigger", CommandTrigger(name.lstrip("/"), interrupts=interrupts))


def on_keywords(
    *, zh: list[str] | None = None, en: list[str] | None = None, score: float = 0.8, interrupts: bool = False
) -> Callable[[Handler], Handler]:
    """Handle messages containing one of the keywords; `ctx.match.data` is the keyword found."""
    return _attach("trigger", KeywordTrigger({"zh": zh or [], "en": en or []}, score, interrupts))


def on_scored(scorer: Callable[[Any, Message], Match | float | None]) -> Callable[[Handler], Handler]:
    """Handle messages the skill's `scorer(self, message)` rates above 0; the best score wins."""
    return _attach("trigger", ScoredTrigger(scorer))


def on_fallback(fn: Handler) -> Handler:
    """Handle what no trigger of any skill wanted."""
    return _attach("fallback", None)(fn)


def on_event(name: str) -> Callable[[Handler], Handler]:
    """Handle a named event: scheduled with `ctx.schedule`, or sent by a shop system (`order.shipped`)."""
    return _attach("event", name)


def on_step(name: str) -> Callable[[Handler], Handler]:
    """Handle the customer's answer to `ctx.ask(..., step=name)`: the next turn of a dialogue."""
    return _attach("step", name)


def on_every_message(fn: Handler) -> Handler:
    """Watch every customer message before routing (sentiment, escalation triggers).

    A watcher that replies or escalates ends the turn; one that does neither lets routing go on.
    """
    return _attach("watch", None)(fn)


@dataclass(frozen=True)
class Registration:
    kind: str
    value: Any
    handler_name: str


class Skill:
    """Base class of every skill. Subclasses declare `Config`, `texts`, `priority` and handlers."""

    name: str = ""  # set to the name it is enabled under in bots.yaml
    priority: ClassVar[int] = 0
    Config: ClassVar[type[SkillConfig]] = SkillConfig
    texts: ClassVar[Texts] = {}
    registrations: ClassVar[list[Registration]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.registrations = [
            Registration(kind, value, attr)
            for attr, fn in vars(cls).items()
            if callable(fn)
            for kind, value in getattr(fn, "_bots_marks", [])
        ]
        for base in cls.__mro__[1:]:
            inherited = getattr(base, "registrations", [])
            cls.registrations += [r for r in inherited if r.handler_name not in vars(cls)]

    def __init__(self, config: SkillConfig | None = None) -> None:
        self.config = config if config is not None else self.Config()
        self.name = self.name or re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()

    @property
    def effective_priority(self) -> int:
        return self.config.priority if self.config.priority is not None else self.priority

    def annotate(self, message: Message, conversation: Conversation) -> None:
        """Add annotations to every inbound message before routing (e.g. a sentiment score)."""

    async def setup(self) -> None:
        """Build indexes or load data once at start-up (override when needed)."""

    def handler(self, name: str) -> Handler:
        return getattr(self, name)

    def registered(self, kind: str) -> list[Registration]:
        return [r for r in self.registrations if r.kind == kind]
