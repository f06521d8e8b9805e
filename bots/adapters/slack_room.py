"""A staff room that is a Slack channel: alerts as Block Kit messages, one thread per escalation.

Rooms are built before adapters, so the Slack client is looked up at post time from the running Slack
adapter. Every call raises `DeliveryError` on 429/5xx/outage, so the outbox keeps alerts in order until
Slack is back. Each alert's (channel, ts) is stored so thread replies find their escalation.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import aiohttp

from ..config import ConfigError, RoomConfig
from ..message import Attachment
from ..outbox import DeliveryError
from ..rooms import Escalation, StaffRoom
from ..storage import Storage
from .slack_blocks import alert_blocks, alert_fallback, escape, update_blocks
from .slack_client import call

if TYPE_CHECKING:
    from ..bot import Bot
    from .slack import SlackAdapter

log = logging.getLogger(__name__)

THREADS = "slack_threads"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def thread_key(channel: str, ts: str) -> str:
    return f"{channel}:{ts}"


async def escalation_for_thread(storage: Storage, channel: str, thread_ts: str) -> str | None:
    """The escalation whose alert starts this thread, if any."""
    doc = await storage.get(THREADS, thread_key(channel, thread_ts))
    return doc["id"] if doc else None


class SlackRoom(StaffRoom):
    def __init__(self, name: str, config: RoomConfig, bot: Bot) -> None:
        super().__init__(name, config)
        self.bot = bot

    @classmethod
    def create(cls, name: str, config: RoomConfig, bot: Bot) -> StaffRoom:
        if not config.channel:
            raise ConfigError(f"bots.yaml: rooms.{name}.channel: a Slack room needs its channel id (e.g. C0123ABCD)")
        return cls(name, config, bot)

    def _slack(self) -> SlackAdapter:
        from .slack import SlackAdapter  # the adapter module imports this one

        for adapter in self.bot.adapters.values():
            if isinstance(adapter, SlackAdapter):
                return adapter
        raise DeliveryError("room is a Slack room but no slack adapter is enabled in bots.yaml")

    def _ref(self, escalation: Escalation) -> dict[str, Any]:
        ref = escalation.ref.get(self.name)
        if not ref:
            raise DeliveryError(f"the alert for {escalation.id} is not in #{self.name} yet")
        return ref

    def _blocks(self, escalation: Escalation) -> list[Any]:
        slack = self._slack()
        forwarded_from = escalation.room if escalation.room != self.name else ""
        return alert_blocks(
            escalation, forward_room=slack.forward_room, forwarded_from=forwarded_from, macro_command=slack.macro_command
        )

    async def post_alert(self, escalation: Escalation) -> dict[str, Any]:
        client = self._slack().client
        posted = await call(
            client.chat_postMessage(
                channel=self.config.channel,
                text=alert_fallback(escalation),
                blocks=self._blocks(escalation),
                mrkdwn=False,
                unfurl_links=False,
                unfurl_media=False,
            )
        )
        ref = {"channel": posted["channel"], "ts": posted["ts"]}
        await self.bot.storage.put(THREADS, thread_key(ref["channel"], ref["ts"]), {"id": escalation.id})
        return ref

    async def post_update(self, escalation: Escalation, author: str, text: str, attachments: list[Attachment]) -> None:
        ref = self._ref(escalation)
        client = self._slack().client
        who = (escalation.customer.name or "customer") if author == "customer" else author
        blocks = update_blocks(who, text)
        fallback = escape(f"{who}: {text}")
        uploads = [upload for upload in [await self._fetch(a) for a in attachments] if upload]
        if uploads:  # one completeUploadExternal posts the files and the text together: a retry never doubles it
            await call(
                client.files_upload_v2(
                    file_uploads=uploads, channel=ref["channel"], thread_ts=ref["ts"], blocks=json.dumps(blocks)
                )
            )
            return
        missing = [a.name or a.kind for a in attachments]
        if missing:
            blocks = update_blocks(who, f"{text}\n[{', '.join(missing)}: could not be fetched]".strip())
        await call(
            client.chat_postMessage(
                channel=ref["channel"], thread_ts=ref["ts"], text=fallback, blocks=blocks, mrkdwn=False,
                unfurl_links=False, unfurl_media=False,
            )
        )

    async def _fetch(self, attachment: Attachment) -> dict[str, Any] | None:
        """The attachment's bytes for an upload; None if its host refuses it for good (4xx)."""
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
                async with session.get(attachment.url) as response:
                    if 400 <= response.status < 500:
                        log.warning("attachment of %s refused by its host (HTTP %s)", self.name, response.status)
                        return None
                    if response.status != 200:
                        raise DeliveryError(f"attachment host answered HTTP {response.status}")
                    data = await response.content.read(MAX_UPLOAD_BYTES + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"attachment host unreachable ({type(exc).__name__})") from None
        if len(data) > MAX_UPLOAD_BYTES:
            log.warning("attachment over %d bytes not uploaded", MAX_UPLOAD_BYTES)
            return None
        name = attachment.name or attachment.url.rsplit("/", 1)[-1].split("?")[0] or attachment.kind
        return {"file": data, "filename": name, "title": name}

    async def refresh_alert(self, escalation: Escalation) -> None:
        ref = self._ref(escalation)
        await call(
            self._slack().client.chat_update(
                channel=ref["channel"], ts=ref["ts"], text=alert_fallback(escalation), blocks=self._blocks(escalation)
            )
        )

    async def announce_breach(self, escalation: Escalation) -> None:
        """Mark the alert first (idempotent), then re-announce: a retry never announces twice."""
        await self.refresh_alert(escalation)
        ref = self._ref(escalation)
        minutes = f"{self.config.sla_minutes:g}"
        await call(
            self._slack().client.chat_postMessage(
                channel=ref["channel"],
                thread_ts=ref["ts"],
                reply_broadcast=True,
                text=f"{self.config.oncall} :rotating_light: SLA breached: {escalation.id} has waited {minutes} "
                f"minutes without anyone claiming it".strip(),
            )
        )

    async def post_report(self, text: str) -> None:
        """Escaped like customer text: product names and reasons come from files, not from Slack users."""
        await call(
            self._slack().client.chat_postMessage(
                channel=self.config.channel, text=escape(text), unfurl_links=False, unfurl_media=False
            )
        )
