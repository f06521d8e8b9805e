"""The generic webhook: any shop system talks to the bot with signed JSON over HTTP.

Inbound `POST /webhook/generic` (schema in docs/webhook.md), signed with
`X-Bots-Signature: sha256=HEX(HMAC-SHA256(secret, f"{timestamp}." + body))` and `X-Bots-Timestamp`;
a timestamp more than 5 minutes away is refused, so a captured request cannot be replayed later.
Replies come back in the HTTP response (`reply_mode: sync`) or are POSTed, signed the same way, to
the seller's `callback_url` through the outbox (retried, in order). Staff and proactive replies of a
sync-mode conversation also go to the callback URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..config import validate
from ..message import Attachment, Message, Reply, User
from ..outbox import DeliveryError
from ..server import MAX_BODY, MAX_TEXT, HttpSettings, dumps, invalid_message, json_error
from .base import Adapter

if TYPE_CHECKING:
    from ..bot import Bot

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Bots-Signature"
TIMESTAMP_HEADER = "X-Bots-Timestamp"
MAX_SKEW_SECONDS = 300
ANSWERED_MEMORY = 10_000


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value of a request or callback body."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(secret: str, timestamp: float, body: bytes) -> dict[str, str]:
    stamp = str(int(timestamp))
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(secret, stamp, body), "Content-Type": "application/json"}


class GenericSettings(HttpSettings):
    secret_env: str = "BOTS_WEBHOOK_SECRET"
    reply_mode: Literal["sync", "callback"] = "sync"
    callback_url: str = ""
    callback_timeout: float = Field(default=10.0, gt=0)


class InboundUser(BaseModel):
    id: str = Field(min_length=1, max_length=200)
    name: str = Field(default="", max_length=200)


class InboundMessage(BaseModel):
    """The documented request body; unknown fields are ignored so sellers can send more."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=200, description="the seller's message id; resend = same id")
    conversation_id: str = Field(min_length=1, max_length=200)
    user: InboundUser
    text: str = Field(default="", max_length=MAX_TEXT)
    attachments: list[Attachment] = Field(default_factory=list, max_length=10)
    locale: str | None = Field(default=None, max_length=35)


class GenericWebhookAdapter(Adapter):
    def __init__(self, bot: Bot, name: str, config: dict[str, Any]) -> None:
        super().__init__(bot, name, config)
        self.settings = validate(GenericSettings, config, f"bots.yaml: adapters.{name}")
        self.path = f"/webhook/{name}"
        self._session: aiohttp.ClientSession | None = None
        self._in_flight: dict[str, list[asyncio.Event]] = {}
        self._answered: OrderedDict[str, None] = OrderedDict()

    @property
    def secret(self) -> str:
        """Read at each request so a rotated secret needs no restart; never logged."""
        return os.environ.get(self.settings.secret_env, "")

    def routes(self) -> list[web.RouteDef]:
        return [web.post(self.path, self.receive)]

    async def start(self) -> None:
        if not self.secret:
            log.warning("%s: %s is not set; %s refuses every request until it is",
                        self.name, self.settings.secret_env, self.path)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.callback_timeout))

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- inbound -------------------------------------------------------------------------------

    def _authentic(self, request: web.Request, body: bytes) -> bool:
        stamp = request.headers.get(TIMESTAMP_HEADER, "")
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not stamp.isdigit() or abs(self.bot.clock.now().timestamp() - int(stamp)) > MAX_SKEW_SECONDS:
            return False
        return hmac.compare_digest(given, sign(self.secret, stamp, body))

    async def receive(self, request: web.Request) -> web.Response:
        """Verify, parse, handle; the 200/202 means the message is durably stored."""
        if request.content_length is not None and request.content_length > MAX_BODY:
            return json_error(413, "too_large")
        body = await request.read()  # over the size limit: 413 through the server's error middleware
        if not self.secret:
            return json_error(503, "not_configured")
        if not self._authentic(request, body):
            return json_error(401, "unauthorized")
        try:
            inbound = InboundMessage.model_validate(json.loads(body))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return json_error(400, "bad_json")
        except ValidationError as exc:
            return json_error(422, *invalid_message(exc))
        message = Message(
            id=inbound.id, channel=self.name, conversation_key=inbound.conversation_id,
            user=User(id=inbound.user.id, name=inbound.user.name), text=inbound.text,
            attachments=inbound.attachments, locale=inbound.locale,
        )
        if self.settings.reply_mode == "callback":
            result = await self.bot.handle(message)
            return web.json_response({"accepted": True, "duplicate": result.duplicate}, status=202)
        done = asyncio.Event()
        self._in_flight.setdefault(message.conversation_key, []).append(done)
        try:
            result = await self.bot.handle(message)
            for reply in result.replies:
                self._remember_answered(reply.id)
        finally:
            done.set()
            waiting = self._in_flight[message.conversation_key]
            waiting.remove(done)
            if not waiting:
                del self._in_flight[message.conversation_key]
        replies = [reply.model_dump(mode="json") for reply in result.replies]
        return web.json_response({"accepted": True, "duplicate": result.duplicate, "replies": replies}, dumps=dumps)

    def _remember_answered(self, reply_id: str) -> None:
        self._answered[reply_id] = None
        while len(self._answered) > ANSWERED_MEMORY:
            self._answered.popitem(last=False)

    # -- outbound ------------------------------------------------------------------------------

    async def send(self, conversation_key: str, user_id: str, reply: Reply) -> None:
        """Deliver to the callback URL, except replies already returned in a sync HTTP response."""
        await asyncio.gather(*(event.wait() for event in self._in_flight.get(conversation_key, [])))
        if reply.id in self._answered:
            del self._answered[reply.id]
            return
        if not self.settings.callback_url:
            raise DeliveryError(f"{self.name}: no callback_url configured for replies after the turn", permanent=True)
        body = json.dumps(
            {"conversation_id": conversation_key, "user_id": user_id, "reply": reply.model_dump(mode="json")},
            ensure_ascii=False,
        ).encode()
        headers = signed_headers(self.secret, self.bot.clock.now().timestamp(), body)
        assert self._session is not None, "send before start"
        try:
            async with self._session.post(self.settings.callback_url, data=body, headers=headers) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"callback unreachable: {type(exc).__name__}") from None
        if response.status == 429 or response.status >= 500:
            raise DeliveryError(f"callback answered {response.status}", retry_after=_retry_after(response))
        if response.status >= 300:
            raise DeliveryError(f"callback refused with {response.status}", permanent=True)


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
