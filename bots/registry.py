"""Finding skills and adapters by name: built-ins first, then installed plugins (entry points).

A third-party package exposes a skill with, in its pyproject.toml:

    [project.entry-points."bots.skills"]
    loyalty = "my_shop_skills.loyalty:Loyalty"
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from .config import ConfigError

BUILTIN_SKILLS = {
    "greeting": "bots.skills.greeting:Greeting",
    "escalation": "bots.skills.escalation:Escalation",
    "order_status": "bots.skills.order_status:OrderStatus",
    "faq": "bots.skills.faq:Faq",
    "troubleshoot": "bots.skills.troubleshoot:Troubleshoot",
}
BUILTIN_ADAPTERS = {
    "console": "bots.adapters.console:ConsoleAdapter",
    "generic": "bots.adapters.generic:GenericWebhookAdapter",
    "webchat": "bots.adapters.webchat:WebChatAdapter",
    "slack": "bots.adapters.slack:SlackAdapter",
}
BUILTIN_ROOMS = {
    "console": "bots.rooms:ConsoleRoom",
    "slack": "bots.adapters.slack_room:SlackRoom",
}


def _import(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(import_module(module), attr)


def _find(kind: str, name: str, builtins: dict[str, str], group: str) -> Any:
    if name in builtins:
        return _import(builtins[name])
    plugins = {ep.name: ep for ep in entry_points(group=group)}
    if name in plugins:
        return plugins[name].load()
    known = sorted(set(builtins) | set(plugins))
    raise ConfigError(f"bots.yaml: unknown {kind} {name!r} (known: {', '.join(known)})")


def skill_class(name: str) -> Any:
    """A skill by built-in or plugin name, or a local one as `package.module:Class`."""
    if ":" in name:
        try:
            return _import(name)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"bots.yaml: skills: cannot load {name!r}: {exc}") from None
    return _find("skill", name, BUILTIN_SKILLS, "bots.skills")


def skill_name(reference: str) -> str:
    """The name a skill goes by (and its config file): `shop.loyalty:Loyalty` is `loyalty`."""
    return reference.partition(":")[0].rsplit(".", 1)[-1]


def adapter_class(name: str) -> Any:
    return _find("adapter", name, BUILTIN_ADAPTERS, "bots.adapters")


def room_class(kind: str) -> Any:
    return _find("room type", kind, BUILTIN_ROOMS, "bots.rooms")
