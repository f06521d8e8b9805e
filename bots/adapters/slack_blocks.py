"""Block Kit for staff alerts, and escaping so customer text can never act as Slack markup.

Customer-authored text (messages, names, facts) only ever appears in `plain_text` objects, which Slack
shows literally: no mrkdwn formatting, no mentions, no links. The notification fallback `text` is sent
with `mrkdwn=False` and is escaped as well, so `<!channel>`, `@here` or `<http://evil|x>` stay inert.
"""

from __future__ import annotations

import re
from typing import Any

from ..rooms import Escalation, Status

WORD_JOINER = "\u2060"
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
PLAIN_LIMIT = 2900  # Slack refuses text objects over 3000 characters
TRANSCRIPT_TURNS = 6

ACTION_CLAIM = "esc_claim"
ACTION_RESOLVE = "esc_resolve"
ACTION_FORWARD = "esc_forward"
ACTION_RETURN = "esc_return"
ACTION_CUSTOMER_BUTTON = "customer_button"

STATUS_LABEL = {
    Status.OPEN: ":hourglass_flowing_sand: waiting for someone to claim it",
    Status.CLAIMED: ":raising_hand: claimed by {who}",
    Status.RESOLVED: ":white_check_mark: resolved by {who}",
    Status.RETURNED: ":robot_face: returned to the bot by {who}",
}


def escape(text: str, limit: int = PLAIN_LIMIT) -> str:
    """Untrusted text made inert in any Slack text field: no mention, broadcast, link or entity."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _BROADCAST.sub(lambda m: "@" + WORD_JOINER + m.group(1), text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str) -> dict[str, Any]:
    """A text object Slack shows literally (customer text goes only here)."""
    return {"type": "plain_text", "text": escape(text) or " ", "emoji": False}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _button(label: str, action_id: str, value: str, style: str = "") -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "text": plain(label), "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


def alert_blocks(e: Escalation, *, forward_room: str, forwarded_from: str = "", macro_command: str = "") -> list[Any]:
    """The alert: who, where, why, what was said, what skills found, and the buttons to act."""
    header = f"{e.severity.value.upper()} escalation {e.id}"
    blocks: list[Any] = [{"type": "header", "text": plain(header)}]
    if forwarded_from:
        blocks.append({"type": "context", "elements": [plain(f"Forwarded from the {forwarded_from} room")]})
    fields = [
        plain(f"Customer: {e.customer.name or e.customer.id}"),
        plain(f"Channel: {e.channel}"),
        plain(f"Language: {e.language}"),
        plain(f"Reason: {e.reason.replace('_', ' ')}"),
        plain(f"Severity: {e.severity.value}"),
    ]
    blocks.append({"type": "section", "fields": fields})
    if e.transcript:
        lines = "\n".join(f"{turn.role}: {turn.text}" for turn in e.transcript[-TRANSCRIPT_TURNS:])
        blocks.append({"type": "section", "text": plain(f"Last messages:\n{lines}")})
    for title, found in (("Facts", e.facts), ("Evidence", e.evidence)):
        if found:
            lines = "\n".join(f"{key}: {value}" for key, value in found.items())
            blocks.append({"type": "section", "text": plain(f"{title}:\n{lines}")})
    blocks.append({"type": "context", "elements": [_mrkdwn(status_line(e, macro_command))]})
    if e.active:
        buttons = [_button("Resolve", ACTION_RESOLVE, e.id, "primary")]
        if e.status == Status.OPEN:
            buttons.insert(0, _button("Claim", ACTION_CLAIM, e.id, "primary"))
        if forward_room and forward_room not in e.forwarded_to and forward_room != e.room:
            buttons.append(_button("Send to factory liaison", ACTION_FORWARD, e.id))
        buttons.append(_button("Return to bot", ACTION_RETURN, e.id))
        blocks.append({"type": "actions", "block_id": f"esc:{e.id}", "elements": buttons})
    return blocks


def status_line(e: Escalation, macro_command: str = "") -> str:
    """The alert's state, in our own words only (staff names are escaped)."""
    line = STATUS_LABEL[e.status].format(who=escape(e.claimed_by or "someone"))
    if e.breached:
        line += "  :rotating_light: *SLA breached*"
    if e.active:
        line += "  Reply in this thread to answer the customer"
        if macro_command:
            line += f"; `{macro_command} NAME {e.id}` sends a saved reply"
    return line


def alert_fallback(e: Escalation) -> str:
    """Notification text (sent with mrkdwn off)."""
    return escape(f"{e.severity.value} escalation {e.id}: {e.reason.replace('_', ' ')} ({e.customer.name or e.customer.id})")


def update_blocks(author: str, text: str) -> list[Any]:
    """One relayed line in an alert's thread."""
    return [{"type": "section", "text": plain(f"{author}: {text}" if text else f"{author} sent:")}]


_SLACK_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def from_slack(text: str) -> str:
    """Staff text as a customer should read it: Slack links and entities turned back into plain text."""

    def link(m: re.Match[str]) -> str:
        target, label = m.group(1), m.group(2)
        if target.startswith(("@", "#", "!")):
            return "@" + (label or target.lstrip("@#!").split("^")[0])
        return f"{label} ({target})" if label and label != target else target

    text = _SLACK_LINK.sub(link, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
