"""A terminal chat with the bot (`bots chat`): the customer side, plus `/staff` commands for the staff side.

Buttons are shown as numbered options; typing the number presses the button.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from typing import TYPE_CHECKING, Any, TextIO

from ..message import Button, Message, Reply, User
from .base import Adapter, plain_text

if TYPE_CHECKING:
    from ..bot import Bot

HELP = """Type as a customer would (中文或英文). Numbers press the buttons shown.
Staff side:  /staff list | /staff claim ID | /staff reply ID text | /staff resolve ID
             /staff return ID | /staff forward ID ROOM      Quit: /quit"""


class ConsoleAdapter(Adapter):
    supports_buttons = False

    def __init__(self, bot: Bot, name: str, config: dict[str, Any], out: TextIO | None = None) -> None:
        super().__init__(bot, name, config)
        self.out = out or sys.stdout
        self.staff_name = str(config.get("staff_name", "console-staff"))
        self.customer = User(id=str(config.get("customer_id", "local")), name=str(config.get("customer_name", "You")))
        self._buttons: list[Button] = []

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def send(self, conversation_key: str, user_id: str, reply: Reply) -> None:
        self._buttons = reply.buttons or self._buttons
        who = "bot" if reply.author == "bot" else f"staff {reply.author}"
        self._print(f"{who}> {plain_text(reply)}")

    async def say(self, line: str) -> None:
        """One line typed at the prompt: a staff command, a button number, or a customer message."""
        line = line.strip()
        if not line:
            return
        if line.startswith("/staff"):
            await self._staff(line)
        else:
            if line.isdigit() and 0 < int(line) <= len(self._buttons):
                line = self._buttons[int(line) - 1].value
            self._buttons = []
            message = Message(
                id=uuid.uuid4().hex, channel=self.name, conversation_key=self.customer.id, user=self.customer, text=line
            )
            await self.bot.handle(message)
        await self.bot.outbox.drain()

    async def _staff(self, line: str) -> None:
        args = line.split()[1:]
        desk = self.bot.desk
        try:
            match args:
                case ["list"]:
                    for e in await desk.open_escalations():
                        self._print(f"  {e.id} [{e.room}] {e.status} {e.reason} — {e.customer.name or e.customer.id}")
                case ["claim", esc]:
                    await desk.claim(esc, self.staff_name)
                case ["reply", esc, *words] if words:
                    await desk.staff_reply(esc, self.staff_name, " ".join(words))
                case ["resolve", esc]:
                    await desk.resolve(esc, self.staff_name)
                case ["return", esc]:
                    await desk.resolve(esc, self.staff_name, returned=True)
                case ["forward", esc, room]:
                    await desk.forward(esc, room, self.staff_name)
                case _:
                    self._print(HELP)
        except (KeyError, ValueError) as exc:
            self._print(f"staff command failed: {exc}")

    async def run(self, stdin: TextIO | None = None) -> None:
        """Read lines until end of input or /quit."""
        stdin = stdin or sys.stdin
        self._print(HELP)
        while True:
            self.out.write("you> ")
            self.out.flush()
            line = await asyncio.to_thread(stdin.readline)
            if not line or line.strip() in ("/quit", "/exit"):
                return
            await self.say(line)
