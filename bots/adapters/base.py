"""What every channel adapter provides, and how a reply degrades on a plain-text channel."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..message import Reply

if TYPE_CHECKING:
    from ..bot import Bot


class Adapter(ABC):
    """One customer channel. Inbound: build a `Message`, call `bot.handle`. Outbound: `send`."""

    supports_buttons: bool = True

    def __init__(self, bot: Bot, name: str, config: dict[str, Any]) -> None:
        self.bot = bot
        self.name = name
        self.config = config
        bot.register_channel(name, self.send)

    def routes(self) -> list[web.RouteDef]:
        """HTTP routes (webhooks, pages) the shared aiohttp server mounts for this adapter."""
        return []

    async def start(self) -> None:
        """Connect (polling, sockets); called once the bot has started."""

    async def stop(self) -> None:
        """Finish in-flight work and disconnect."""

    @abstractmethod
    async def send(self, conversation_key: str, user_id: str, reply: Reply) -> None:
        """Deliver one reply; raise `DeliveryError` (with retry_after on 429) when the platform refuses."""


def plain_text(reply: Reply) -> str:
    """A reply for channels without buttons or images: numbered options and links in the text."""
    lines = [reply.text] if reply.text else []
    lines += [f"{a.kind}: {a.url}" for a in reply.attachments]
    lines += [f"  {number}. {button.label}" for number, button in enumerate(reply.buttons, 1)]
    return "\n".join(lines)
