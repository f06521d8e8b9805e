"""A bot with Slack staff rooms, wired as in production, for tests: the real Bolt app served over real
HTTP on 127.0.0.1, the real slack-sdk client talking to `FakeSlack`, a real TinyDB store and a FakeClock.

`webchat` and `generic` are small in-test customer channels (registered with `bot.register_channel`)
standing for the web chat and generic webhook adapters: they record what their customers receive.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from urllib.parse import urlencode
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bots.bot import Bot
from bots.clock import FakeClock
from bots import Context, Skill, on_keywords, on_regex
from bots.config import BotSettings, ReportsConfig, RoomConfig
from bots.message import Attachment, Message, Reply, User
from bots.rooms import Escalation
from bots.storage import TinyDBStorage
from bots.adapters.slack import SlackAdapter

from .slack_api import FakeSlack, signed_headers

ROOT = Path(__file__).resolve().parents[2]
ROOMS = {"urgent": "CURGENT", "regular": "CREGULAR", "factory": "CFACTORY", "reports": "CREPORTS"}
ONCALL = "<!subteam^SONCALL>"
PHOTO = b"\xff\xd8\xff\xe0 fake jpeg bytes"


class Shop(Skill):
    """A small, fixed shop (the demo shop's skills change under other work): greets, tracks an order
    number as a fact for the alert, and hands over to a person when asked or on a dispute."""

    texts = {
        "hello": {"zh": "欢迎光临！有什么可以帮您？", "en": "Welcome! How can I help?"},
        "order": {"zh": "订单{order}正在配送中。", "en": "Order {order} is on its way."},
    }

    @on_keywords(zh=["你好"], en=["hello", "hi"])
    async def hello(self, ctx: Context) -> None:
        await ctx.reply(ctx.t("hello"), [("Talk to a person", "/human")])

    @on_regex(r"DS\d{6}")
    async def order(self, ctx: Context) -> None:
        ctx.remember("order", ctx.match.data.group(0))
        await ctx.reply(ctx.t("order", order=ctx.match.data.group(0)))

    @on_keywords(zh=["人工"], en=["real person", "human"], interrupts=True)
    async def person(self, ctx: Context) -> None:
        await ctx.escalate("asked_for_human", "regular")

    @on_keywords(zh=["投诉", "退款纠纷"], en=["chargeback"], interrupts=True)
    async def dispute(self, ctx: Context) -> None:
        await ctx.escalate("dispute_keyword", "urgent", evidence={"keyword": ctx.match.data})


def event_callback(event: dict[str, Any], event_id: str = "") -> dict[str, Any]:
    """The Events API envelope Slack wraps an event in (over HTTP, and inside a Socket Mode envelope)."""
    return {
        "token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:8]}", "event_time": int(time.time()), "event": event,
    }


def thread_message(escalation: Escalation, user: str, text: str, **extra: Any) -> dict[str, Any]:
    """A staff member writes in the alert's thread."""
    ref = escalation.ref[escalation.room]
    return {"type": "message", "channel": ref["channel"], "channel_type": "channel", "user": user, "text": text,
            "ts": f"{time.time():.6f}", "thread_ts": ref["ts"], **extra}


def button_click(action_id: str, escalation: Escalation, user: str, response_url: str) -> dict[str, Any]:
    """The interactivity payload of a click on one of an alert's buttons."""
    return {
        "type": "block_actions", "team": {"id": "T1"}, "user": {"id": user, "name": user.lower()},
        "api_app_id": "A1", "token": "legacy", "trigger_id": "1.2.3",
        "channel": {"id": ROOMS[escalation.room]}, "container": {"type": "message"},
        "response_url": f"{response_url}/unused",
        "actions": [{"type": "button", "action_id": action_id, "block_id": f"esc:{escalation.id}",
                     "value": escalation.id, "action_ts": f"{time.time():.6f}"}],
    }


class SlackWorld:
    def __init__(self, data_dir: Path, fake: FakeSlack, clock: FakeClock | None = None, mode: str = "http") -> None:
        self.data_dir = data_dir
        self.mode = mode
        self.fake = fake
        self.clock = clock or FakeClock()
        self.received: list[tuple[str, str, Reply]] = []  # (channel, conversation key, reply)
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.url = ""

    # -- assembly ------------------------------------------------------------------------------

    async def start(self) -> None:
        settings = BotSettings(skills=[], adapters={}, rooms={
                "urgent": RoomConfig(type="slack", channel=ROOMS["urgent"], sla_minutes=5, oncall=ONCALL),
                "regular": RoomConfig(type="slack", channel=ROOMS["regular"], sla_minutes=15, oncall=ONCALL),
                "factory": RoomConfig(type="slack", channel=ROOMS["factory"], sla_minutes=1440),
                "reports": RoomConfig(type="slack", channel=ROOMS["reports"]),
        }, reports=ReportsConfig())
        self.bot = Bot(settings, [Shop()], TinyDBStorage(self.data_dir), clock=self.clock)
        for channel in ("webchat", "generic"):
            self.bot.register_channel(channel, self._receiver(channel))
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        config = {"api_url": self.fake.api_url, "public_url": self.url, "macros": str(ROOT / "skills_config/macros.yaml"),
                  "mode": self.mode}
        self.adapter = SlackAdapter(self.bot, "slack", config)
        self.bot.adapters["slack"] = self.adapter
        await self.bot.start(background=False)
        app = web.Application()
        app.add_routes(self.adapter.routes())
        app.router.add_get("/media/{name}", self._media)  # the customer channel's own media host
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.SockSite(self._runner, listener).start()
        self._http = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.bot.stop()

    async def restart(self) -> None:
        """A new process on the same store (and the same Slack)."""
        await self.stop()
        await self.start()

    def _receiver(self, channel: str) -> Any:
        async def receive(key: str, user_id: str, reply: Reply) -> None:
            self.received.append((channel, key, reply))

        return receive

    async def _media(self, request: web.Request) -> web.Response:
        return web.Response(body=PHOTO, content_type="image/jpeg")

    # -- acting ----------------------------------------------------------------------------------

    async def settle(self) -> None:
        """Let acknowledged work finish, run due timers, deliver what is due: what the loops would do."""
        await self.adapter.idle()
        await self.bot.scheduler.run_due()
        await self.bot.outbox.drain()

    async def advance(self, **delta: float) -> None:
        self.clock.advance(**delta)
        await self.settle()

    async def customer(self, channel: str, key: str, text: str, photo: str = "") -> list[Reply]:
        """A customer writes on an in-test channel; returns what they received meanwhile."""
        before = len(self.received)
        attachments = [Attachment(kind="image", url=f"{self.url}/media/{photo}", name=photo)] if photo else []
        message = Message(
            id=uuid.uuid4().hex, channel=channel, conversation_key=key, user=User(id=f"u-{key}", name=f"Cust {key}"),
            text=text, attachments=attachments, time=self.clock.now(),
        )
        await self.bot.handle(message)
        await self.settle()
        return [reply for ch, k, reply in self.received[before:] if (ch, k) == (channel, key)]

    async def post(self, body: str, content_type: str, headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
        assert self._http is not None
        sent = {"Content-Type": content_type, **(headers if headers is not None else signed_headers(body))}
        async with self._http.post(f"{self.url}/slack/events", data=body.encode(), headers=sent) as response:
            await response.read()
        await self.settle()
        return response

    async def event(self, event: dict[str, Any], *, event_id: str = "", headers: dict[str, str] | None = None) -> int:
        """Slack delivers an Events API callback (signed, unless other headers are given)."""
        body = json.dumps(event_callback(event, event_id))
        return (await self.post(body, "application/json", headers(body) if callable(headers) else headers)).status

    async def staff_says(self, escalation: Escalation, user: str, text: str, **extra: Any) -> int:
        return await self.event(thread_message(escalation, user, text, **extra))

    async def click(self, action_id: str, escalation: Escalation, user: str) -> int:
        body = urlencode({"payload": json.dumps(button_click(action_id, escalation, user, self.url))})
        return (await self.post(body, "application/x-www-form-urlencoded")).status

    async def command(self, text: str, user: str, channel: str) -> str:
        """A slash command; returns what Slack would show the staff member (the acknowledgement)."""
        fields = {"command": "/macro", "text": text, "user_id": user, "channel_id": channel, "team_id": "T1",
                  "token": "legacy", "response_url": f"{self.url}/unused", "trigger_id": "1.2.3"}
        body = urlencode(fields)
        assert self._http is not None
        headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body)}
        async with self._http.post(f"{self.url}/slack/events", data=body.encode(), headers=headers) as response:
            answer = await response.text()
        await self.settle()
        return json.loads(answer)["text"] if answer.startswith("{") else answer

    # -- observing -------------------------------------------------------------------------------

    async def escalation_of(self, conversation_id: str) -> Escalation:
        found = [Escalation(**doc) for _, doc in await self.bot.storage.scan("escalations")]
        return max((e for e in found if e.conversation_id == conversation_id), key=lambda e: e.created_at)

    def alert(self, escalation: Escalation) -> Any:
        ref = escalation.ref[escalation.room]
        return next(m for m in self.fake.messages if m.channel == ref["channel"] and m.ts == ref["ts"])

    def thread(self, escalation: Escalation) -> list[Any]:
        ref = escalation.ref[escalation.room]
        return self.fake.thread(ref["channel"], ref["ts"])
