"""Slack: the staff side (thread replies, alert buttons, saved replies) and a customer channel (DMs, mentions).

Built on slack-bolt's `AsyncApp`. Over HTTP (`POST /slack/events` on the shared aiohttp server) Bolt checks
the signing secret and timestamp; with `mode: socket` it connects out with `SLACK_APP_TOKEN` instead.
Listeners acknowledge at once and do the work in a task (Slack wants an answer within 3 s), and each Slack
message is handled once whatever Slack's retries (`X-Slack-Retry-Num`) redeliver.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import re
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from ..config import ConfigError
from ..message import Attachment, Message, Reply, User
from ..rooms import Escalation, Status
from ..slack_macros import MacroError, Macros
from .base import Adapter
from .slack_blocks import (
    ACTION_CLAIM,
    ACTION_CUSTOMER_BUTTON,
    ACTION_FORWARD,
    ACTION_RESOLVE,
    ACTION_RETURN,
    from_slack,
    plain,
)
from .slack_client import API_URL, call, make_client
from .slack_room import MAX_UPLOAD_BYTES, SlackRoom, escalation_for_thread

if TYPE_CHECKING:
    from ..bot import Bot

log = logging.getLogger(__name__)

SEEN = "slack_seen"
# Slack gives up redelivering an event within the hour; a day of seen message ids is plenty.
SEEN_KEEP = timedelta(days=1)
PRUNE_JOB = "slack.prune_seen"
EVENTS_PATH = "/slack/events"
FILES_PATH = "/slack/files/{file_id}"
_MENTION = re.compile(r"^\s*<@[A-Z0-9]+>\s*")
STAFF_ACTIONS = (ACTION_CLAIM, ACTION_RESOLVE, ACTION_FORWARD, ACTION_RETURN)


def _env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"adapters.slack: set the environment variable {name} (see docs/slack.md)")
    return value


class SlackAdapter(Adapter):
    """Settings (bots.yaml `adapters.slack`): mode (http|socket), note_prefix, macro_command, macros,
    forward_room, public_url (where customers can fetch staff photos), api_url (tests only)."""

    def __init__(self, bot: Bot, name: str, config: dict[str, Any]) -> None:
        super().__init__(bot, name, config)
        self.mode = str(config.get("mode", "http"))
        if self.mode not in ("http", "socket"):
            raise ConfigError(f"adapters.{name}.mode: expected http or socket, got {self.mode!r}")
        self._token = _env("SLACK_BOT_TOKEN")
        self._app_token = _env("SLACK_APP_TOKEN") if self.mode == "socket" else ""
        secret = _env("SLACK_SIGNING_SECRET") if self.mode == "http" else os.environ.get("SLACK_SIGNING_SECRET")
        self.note_prefix = str(config.get("note_prefix", "#note"))
        self.macro_command = str(config.get("macro_command", "/macro"))
        self.forward_room = str(config.get("forward_room", "factory"))
        self.public_url = str(config.get("public_url", "")).rstrip("/")
        default_macros = (bot.config_dir or Path("skills_config")) / "macros.yaml"
        self.macros = Macros.load(Path(str(config.get("macros", default_macros))))
        self.client = make_client(self._token, str(config.get("api_url", API_URL)))
        self.app = AsyncApp(
            client=self.client,
            signing_secret=secret,
            process_before_response=True,  # we ack ourselves and hand the work to a task we can wait for
            request_verification_enabled=self.mode == "http",
            logger=log,
        )
        self.app.event("message")(self._on_message)
        self.app.event("app_mention")(self._on_mention)
        self.app.action(re.compile("^(" + "|".join(STAFF_ACTIONS) + ")$"))(self._on_staff_action)
        self.app.action(re.compile(f"^{ACTION_CUSTOMER_BUTTON}:"))(self._on_customer_button)
        self.app.command(self.macro_command)(self._on_macro)
        self._tasks: set[asyncio.Task[None]] = set()
        self._names: dict[str, str] = {}
        self._socket: Any = None
        bot.scheduler.register(PRUNE_JOB, self._prune_seen)

    # -- lifecycle and HTTP ------------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """Events only in HTTP mode: Socket Mode skips signature checks, so it must not take HTTP events."""
        files = [web.get(FILES_PATH, self._file)]
        return [web.post(EVENTS_PATH, self._events), *files] if self.mode == "http" else files

    async def start(self) -> None:
        await self._schedule_prune()
        if self.mode == "socket":
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.app, self._app_token, web_client=self.client)
            await self._socket.connect_async()

    async def stop(self) -> None:
        await self.idle()
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None

    async def idle(self) -> None:
        """Wait for the work handed off after acknowledging (tests, and a clean stop)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _events(self, request: web.Request) -> web.Response:
        return await to_aiohttp_response(await self.app.async_dispatch(await to_bolt_request(request)))

    def _spawn(self, work: Coroutine[Any, Any, None], what: str) -> None:
        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("slack: %s failed", what)

        task = asyncio.create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _first_time(self, channel: str, ts: str) -> bool:
        """Slack redelivers an event it thinks we missed; a message is acted on once."""
        return await self.bot.storage.put_if_absent(SEEN, f"{channel}:{ts}", {"at": self.bot.clock.now().isoformat()})

    async def _schedule_prune(self) -> None:
        """One pending prune at a time (a fixed job id), so restarts do not pile them up."""
        await self.bot.scheduler.schedule(PRUNE_JOB, self.bot.clock.now() + SEEN_KEEP / 4, job_id=PRUNE_JOB)

    async def _prune_seen(self, job: Any) -> None:
        """Forget message ids older than SEEN_KEEP: without this the store grows with every Slack message."""
        cutoff = self.bot.clock.now() - SEEN_KEEP
        for key, doc in await self.bot.storage.scan(SEEN):
            if datetime.fromisoformat(doc["at"]) < cutoff:
                await self.bot.storage.delete(SEEN, key)
        await self._schedule_prune()

    # -- files: staff photos reach customers through a signed link to this server --------------------

    def _file_signature(self, file_id: str) -> str:
        return hmac.new(self._token.encode(), file_id.encode(), hashlib.sha256).hexdigest()[:32]

    def _attachments(self, files: list[dict[str, Any]]) -> list[Attachment]:
        if files and not self.public_url:
            log.warning("slack: files cannot reach customers: set adapters.slack.public_url")
        return [
            Attachment(
                kind="image" if str(f.get("mimetype", "")).startswith("image/") else "file",
                url=f"{self.public_url}{FILES_PATH.format(file_id=f['id'])}?sig={self._file_signature(f['id'])}",
                name=str(f.get("name", "")),
            )
            for f in files
            if f.get("id")
        ]

    async def _file(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        if not hmac.compare_digest(request.query.get("sig", ""), self._file_signature(file_id)):
            raise web.HTTPForbidden(text="bad signature")
        try:
            info = (await self.client.files_info(file=file_id))["file"]
            headers = {"Authorization": f"Bearer {self._token}"}
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
                async with session.get(info["url_private_download"], headers=headers) as upstream:
                    body = await upstream.content.read(MAX_UPLOAD_BYTES + 1)
                    if upstream.status != 200 or len(body) > MAX_UPLOAD_BYTES:
                        raise web.HTTPBadGateway(text="file unavailable")
        except SlackApiError:
            raise web.HTTPNotFound(text="no such file") from None
        except (aiohttp.ClientError, TimeoutError):
            raise web.HTTPBadGateway(text="Slack unreachable") from None
        return web.Response(body=body, content_type=str(info.get("mimetype") or "application/octet-stream"))

    # -- who is who ------------------------------------------------------------------------------

    async def _name(self, user_id: str) -> str:
        """A person's display name (what the customer sees when staff join); cached."""
        if user_id not in self._names:
            try:
                user = (await self.client.users_info(user=user_id))["user"]
                profile = user.get("profile", {})
                self._names[user_id] = profile.get("display_name") or user.get("real_name") or user.get("name") or user_id
            except SlackApiError as exc:
                log.warning("slack: users.info failed (HTTP %s)", exc.response.status_code)
                return user_id
        return self._names[user_id]

    def _room_channels(self) -> set[str]:
        return {room.config.channel for room in self.bot.rooms.values() if isinstance(room, SlackRoom)}

    # -- events ----------------------------------------------------------------------------------

    async def _on_message(self, event: dict[str, Any]) -> None:
        if event.get("bot_id") or event.get("subtype") not in (None, "file_share") or not event.get("user"):
            return  # our own posts, edits, joins
        if event.get("channel_type") == "im":
            self._spawn(self._customer_message(event, event["channel"]), "customer message")
        elif event.get("thread_ts") and event["channel"] in self._room_channels():
            self._spawn(self._staff_message(event), "staff reply")

    async def _on_mention(self, event: dict[str, Any]) -> None:
        if event.get("bot_id") or event["channel"] in self._room_channels():
            return
        self._spawn(self._customer_message(event, f"{event['channel']}:{event['user']}"), "customer mention")

    async def _customer_message(self, event: dict[str, Any], key: str) -> None:
        if not await self._first_time(event["channel"], event["ts"]):
            log.info("slack: redelivered message %s ignored", event["ts"])
            return
        message = Message(
            id=event.get("client_msg_id") or event["ts"],
            channel=self.name,
            conversation_key=key,
            user=User(id=event["user"], name=await self._name(event["user"])),
            text=from_slack(_MENTION.sub("", event.get("text", ""))),
            attachments=self._attachments(event.get("files", [])),
            time=datetime.fromtimestamp(float(event["ts"]), UTC),
        )
        await self.bot.handle(message)

    async def _staff_message(self, event: dict[str, Any]) -> None:
        escalation_id = await escalation_for_thread(self.bot.storage, event["channel"], event["thread_ts"])
        text = event.get("text", "")
        if escalation_id is None or text.lstrip().startswith(self.note_prefix):
            return  # not an alert thread, or an internal note
        if not await self._first_time(event["channel"], event["ts"]):
            log.info("slack: redelivered staff reply %s ignored", event["ts"])
            return
        staff = await self._name(event["user"])
        try:
            await self.bot.desk.staff_reply(escalation_id, staff, from_slack(text), self._attachments(event.get("files", [])))
        except (KeyError, ValueError) as exc:
            await self._tell(event["channel"], event["user"], f"Not sent to the customer: {exc}", event["thread_ts"])

    async def _tell(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> None:
        """A note only this staff member sees."""
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread_ts)
        except SlackApiError as exc:
            log.warning("slack: could not tell staff (HTTP %s)", exc.response.status_code)

    # -- interactivity ---------------------------------------------------------------------------

    async def _on_staff_action(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        self._spawn(self._staff_action(body, action), f"button {action['action_id']}")

    async def _staff_action(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        escalation_id, user = action["value"], body["user"]["id"]
        staff = await self._name(user)
        desk = self.bot.desk
        try:
            match action["action_id"]:
                case "esc_claim":
                    await desk.claim(escalation_id, staff)
                case "esc_resolve":
                    await desk.resolve(escalation_id, staff)
                case "esc_return":
                    await desk.resolve(escalation_id, staff, returned=True)
                case "esc_forward":
                    await desk.forward(escalation_id, self.forward_room, staff)
        except (KeyError, ValueError) as exc:
            await self._tell(body["channel"]["id"], user, f"{escalation_id}: {exc}")

    async def _on_customer_button(self, ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A Slack customer pressed a quick-reply button: the same as typing its value."""
        await ack()
        channel, user = body["channel"]["id"], body["user"]["id"]
        key = channel if channel.startswith("D") else f"{channel}:{user}"
        event = {"channel": channel, "user": user, "ts": action["action_ts"], "text": action["value"]}
        self._spawn(self._customer_message(event, key), "customer button")

    # -- saved replies ---------------------------------------------------------------------------

    async def _on_macro(self, ack: Any, command: dict[str, Any]) -> None:
        """`/macro NAME [ESCALATION]`: checked before acknowledging, so a mistake is answered at once."""
        name, _, rest = command.get("text", "").strip().partition(" ")
        if not name:
            await ack(text=f"Usage: {self.macro_command} NAME ESCALATION_ID (saved replies: {', '.join(self.macros.macros)})")
            return
        staff = await self._name(command["user_id"])
        try:
            escalation = await self._macro_target(rest.strip(), staff, command["channel_id"])
            text = self.macros.render(name, escalation.language, self._macro_fields(escalation, staff))
        except MacroError as exc:
            await ack(text=str(exc))
            return
        await ack(text=f"Sending {name!r} to {escalation.customer.name or escalation.customer.id} ({escalation.id})")
        self._spawn(self._send_macro(escalation, staff, name, text), f"saved reply {name}")

    async def _macro_target(self, given: str, staff: str, channel: str) -> Escalation:
        if given:
            try:
                return await self.bot.desk.get(given.upper())
            except KeyError:
                raise MacroError(f"no escalation {given!r}") from None
        mine = [
            e for e in await self.bot.desk.open_escalations()
            if e.status == Status.CLAIMED and e.claimed_by == staff and any(r.get("channel") == channel for r in e.ref.values())
        ]
        if len(mine) != 1:
            raise MacroError(f"say which escalation: {self.macro_command} NAME ESCALATION_ID (its id is on the alert)")
        return mine[0]

    def _macro_fields(self, escalation: Escalation, staff: str) -> dict[str, object]:
        return {
            **escalation.facts,
            "customer": escalation.customer.name,
            "staff": staff,
            "shop": self.bot.settings.shop.name,
            "escalation": escalation.id,
        }

    async def _send_macro(self, escalation: Escalation, staff: str, name: str, text: str) -> None:
        await self.bot.desk.staff_reply(escalation.id, staff, text)
        room = self.bot.rooms.get(escalation.room)
        ref = escalation.ref.get(escalation.room)
        if isinstance(room, SlackRoom) and ref:  # the rest of the team sees what was sent
            await call(
                self.client.chat_postMessage(
                    channel=ref["channel"], thread_ts=ref["ts"], text=f"{staff} sent saved reply {name}",
                    blocks=[{"type": "section", "text": plain(f"{staff} sent saved reply {name!r}:\n{text}")}],
                )
            )

    # -- Slack as a customer channel -------------------------------------------------------------

    async def send(self, conversation_key: str, user_id: str, reply: Reply) -> None:
        channel = conversation_key.partition(":")[0]
        blocks: list[Any] = [{"type": "section", "text": {"type": "mrkdwn", "text": _as_slack_text(reply.text) or " "}}]
        blocks += [
            {"type": "image", "image_url": a.url, "alt_text": a.name or "image"} for a in reply.attachments if a.kind == "image"
        ]
        others = [f"<{a.url}|{_as_slack_text(a.name or a.kind)}>" for a in reply.attachments if a.kind != "image"]
        if others:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(others)}})
        if reply.buttons:
            blocks.append(
                {
                    "type": "actions",
                    "elements": [
                        {"type": "button", "text": plain(b.label), "action_id": f"{ACTION_CUSTOMER_BUTTON}:{i}", "value": b.value}
                        for i, b in enumerate(reply.buttons[:25])
                    ],
                }
            )
        await call(
            self.client.chat_postMessage(
                channel=channel, text=_as_slack_text(reply.text) or " ", blocks=blocks,
                username=reply.author if reply.author != "bot" else None,
            )
        )


def _as_slack_text(text: str) -> str:
    """Our own text for Slack mrkdwn: only the three characters Slack requires escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
