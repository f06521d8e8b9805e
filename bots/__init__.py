"""aftersales-bots: an after-sales customer-service bot framework.

What a skill author imports lives here.
"""

from .context import Context
from .message import Attachment, Button, Message, Reply, User
from .rooms import Severity
from .skill import (
    Match,
    Skill,
    SkillConfig,
    on_command,
    on_event,
    on_every_message,
    on_fallback,
    on_keywords,
    on_regex,
    on_scored,
    on_step,
)

__all__ = [
    "Attachment",
    "Button",
    "Context",
    "Match",
    "Message",
    "Reply",
    "Severity",
    "Skill",
    "SkillConfig",
    "User",
    "on_command",
    "on_event",
    "on_every_message",
    "on_fallback",
    "on_keywords",
    "on_regex",
    "on_scored",
    "on_step",
]
