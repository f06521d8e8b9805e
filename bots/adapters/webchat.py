"""The web chat: a page at `/`, an embeddable widget, and the public WebSocket behind them.

A browser cannot keep the webhook secret, so a visitor gets a token from `POST /webchat/session`
(an HMAC of a random visitor id under a server key kept in storage: it survives restarts). The page
keeps the token in localStorage, so a reload continues the conversation. Messages and replies travel
over `GET /webchat/ws?token=...`; every reply, including staff and proactive ones, is appended to the
visitor's stored transcript and pushed to their open pages, so a closed page sees it on its next visit.
Origins other than the server's own must be listed in `allowed_origins`; visitors and addresses are
rate limited; bodies and texts have the same limits as the webhook.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections import defaultdict
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from weakref import WeakValueDictionary

from aiohttp import WSMsgType, web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..config import validate
from ..message import Message, Reply, User
from ..server import MAX_BODY, MAX_TEXT, WEBSOCKETS, HttpSettings, error_body, invalid_message, json_error
from .base import Adapter

if TYPE_CHECKING:
    from ..bot import Bot

log = logging.getLogger(__name__)

KEY_NAMESPACE = "webchat"
TRANSCRIPTS = "webchat_transcripts"
TRANSCRIPT_LIMIT = 200
STATIC = files("bots") / "web"


class WebChatSettings(HttpSettings):
    allowed_origins: list[str] = Field(default_factory=list, description="sites that may embed the widget")
    visitor_messages_per_minute: float = Field(default=30, gt=0)
    address_messages_per_minute: float = Field(default=120, gt=0)
    address_sessions_per_minute: float = Field(default=20, gt=0)


class ChatInput(BaseModel):
    """One message from the page; `label` is what the page shows for a pressed button."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    label: str = Field(default="", max_length=200)
    locale: str | None = Field(default=None, max_length=35)


class RateLimiter:
    """A token bucket per key: `rate` per minute, bursts up to `rate / 4` (at least 5)."""

    def __init__(self, per_minute: float) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(5.0, per_minute / 4)
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if len(self._buckets) > 100_000:
            self._buckets.clear()  # a flood of addresses: forget rather than grow without bound
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1, now)
        return True


class WebChatAdapter(Adapter):
    def __init__(self, bot: Bot, name: str, config: dict[str, Any]) -> None:
        super().__init__(bot, name, config)
        self.settings = validate(WebChatSettings, config, f"bots.yaml: adapters.{name}")
        self._key = b""
        self._sockets: defaultdict[str, set[web.WebSocketResponse]] = defaultdict(set)
        self._transcript_locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()
        self._visitor_limit = RateLimiter(self.settings.visitor_messages_per_minute)
        self._address_limit = RateLimiter(self.settings.address_messages_per_minute)
        self._session_limit = RateLimiter(self.settings.address_sessions_per_minute)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self.page),
            web.get("/webchat/widget.js", self._static("widget.js", "text/javascript")),
            web.get("/webchat/chat.js", self._static("chat.js", "text/javascript")),
            web.get("/webchat/chat.css", self._static("chat.css", "text/css")),
            web.post("/webchat/session", self.new_session),
            web.get("/webchat/ws", self.socket),
        ]

    async def start(self) -> None:
        """Load (or create once) the key that signs visitor tokens."""
        stored = await self.bot.storage.get(KEY_NAMESPACE, "token_key")
        if stored is None:
            await self.bot.storage.put_if_absent(KEY_NAMESPACE, "token_key", {"key": secrets.token_hex(32)})
            stored = await self.bot.storage.get(KEY_NAMESPACE, "token_key")
        assert stored is not None
        self._key = bytes.fromhex(stored["key"])

    # -- page and widget -----------------------------------------------------------------------

    def _frame_policy(self) -> str:
        return "frame-ancestors 'self' " + " ".join(self.settings.allowed_origins)

    async def page(self, request: web.Request) -> web.Response:
        html = (STATIC / "index.html").read_text(encoding="utf-8")
        return web.Response(text=html, content_type="text/html",
                            headers={"Content-Security-Policy": self._frame_policy(), "Cache-Control": "no-cache"})

    def _static(self, name: str, content_type: str) -> Any:
        async def serve(request: web.Request) -> web.Response:
            return web.Response(text=(STATIC / name).read_text(encoding="utf-8"), content_type=content_type,
                                headers={"Cache-Control": "no-cache"})
        return serve

    # -- visitors ------------------------------------------------------------------------------

    def _token(self, visitor: str) -> str:
        return f"{visitor}.{hmac.new(self._key, visitor.encode(), hashlib.sha256).hexdigest()[:32]}"

    def _visitor(self, token: str) -> str | None:
        visitor, _, _ = token.partition(".")
        return visitor if visitor and hmac.compare_digest(token, self._token(visitor)) else None

    def _origin_allowed(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser cross-site request (curl, tests); the token still applies
        return origin == f"{request.scheme}://{request.host}" or origin in self.settings.allowed_origins

    async def new_session(self, request: web.Request) -> web.Response:
        """Confirm the visitor's token, or issue one; the page stores it and presents it on every connection."""
        if not self._origin_allowed(request):
            return json_error(403, "forbidden_origin")
        try:
            presented = (await request.json()).get("token", "")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            presented = ""
        if isinstance(presented, str) and self._visitor(presented):
            return web.json_response({"token": presented})  # a returning visitor keeps the conversation
        if not self._session_limit.allow(request.remote or ""):
            return json_error(429, "rate_limited", headers={"Retry-After": "10"})
        visitor = secrets.token_urlsafe(16).replace(".", "_")
        return web.json_response({"token": self._token(visitor)})

    # -- the socket ----------------------------------------------------------------------------

    async def socket(self, request: web.Request) -> web.StreamResponse:
        if not self._origin_allowed(request):
            return json_error(403, "forbidden_origin")
        visitor = self._visitor(request.query.get("token", ""))
        if visitor is None:
            return json_error(401, "unauthorized")
        ws = web.WebSocketResponse(max_msg_size=MAX_BODY, heartbeat=30)
        await ws.prepare(request)
        request.app[WEBSOCKETS].add(ws)
        self._sockets[visitor].add(ws)
        try:
            await ws.send_json({"type": "history", "items": await self._transcript(visitor)})
            async for frame in ws:
                if frame.type == WSMsgType.TEXT:
                    await ws.send_json(await self._on_message(request, visitor, frame.data))
                elif frame.type == WSMsgType.ERROR:
                    break
        finally:
            self._sockets[visitor].discard(ws)
            if not self._sockets[visitor]:
                del self._sockets[visitor]
        return ws

    async def _on_message(self, request: web.Request, visitor: str, data: str) -> dict[str, Any]:
        """Handle one message from the page; the ack means it is stored and will not be lost."""
        try:
            chat = ChatInput.model_validate(json.loads(data))
        except json.JSONDecodeError:
            return {"type": "error", **error_body("bad_json")}
        except ValidationError as exc:
            code, detail = invalid_message(exc)
            return {"type": "error", "id": _id_of(data), **error_body(code, detail)}
        if not (self._visitor_limit.allow(visitor) and self._address_limit.allow(request.remote or "")):
            return {"type": "error", "id": chat.id, **error_body("rate_limited")}
        message = Message(id=chat.id, channel=self.name, conversation_key=visitor, user=User(id=visitor),
                          text=chat.text, locale=chat.locale)
        await self._record(visitor, {"role": "customer", "id": chat.id, "text": chat.label or chat.text})
        await self.bot.handle(message)
        return {"type": "ack", "id": chat.id}

    async def send(self, conversation_key: str, user_id: str, reply: Reply) -> None:
        """Store the reply in the visitor's transcript, then push it to their open pages."""
        item = {"role": "bot" if reply.author == "bot" else "staff", **reply.model_dump(mode="json")}
        await self._record(conversation_key, item)
        for ws in list(self._sockets.get(conversation_key, ())):
            try:
                await ws.send_json({"type": "reply", **item})
            except (ConnectionError, RuntimeError):
                pass  # the page is going away; it reloads the transcript when it comes back

    async def _transcript(self, visitor: str) -> list[dict[str, Any]]:
        doc = await self.bot.storage.get(TRANSCRIPTS, visitor)
        return doc["items"] if doc else []

    async def _record(self, visitor: str, item: dict[str, Any]) -> None:
        lock = self._transcript_locks.get(visitor)
        if lock is None:
            lock = self._transcript_locks[visitor] = asyncio.Lock()
        async with lock:
            items = await self._transcript(visitor)
            if any(existing.get("id") == item["id"] for existing in items):
                return  # a redelivered reply: shown once
            items = [*items, item][-TRANSCRIPT_LIMIT:]
            await self.bot.storage.put(TRANSCRIPTS, visitor, {"items": items})


def _id_of(data: str) -> str:
    try:
        value = json.loads(data).get("id", "")
    except (json.JSONDecodeError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""
