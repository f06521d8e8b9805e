"""Calling the Slack Web API so that a refusal or an outage becomes an outbox retry, never a lost post."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from ..outbox import DeliveryError

API_URL = "https://slack.com/api/"
# Refusals that retrying cannot fix: the item is set aside (outbox_dead) with the reason.
PERMANENT = {
    "channel_not_found",
    "is_archived",
    "msg_too_long",
    "invalid_blocks",
    "invalid_arguments",
    "no_text",
    "cannot_reply_to_message",
}


def make_client(token: str, base_url: str = API_URL) -> AsyncWebClient:
    """No built-in retries: the outbox retries in order and survives restarts, the client would not."""
    return AsyncWebClient(token=token, base_url=base_url, timeout=10, retry_handlers=[])


async def call(request: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
    """Await one Web API call; failures become `DeliveryError` (429 keeps Slack's Retry-After)."""
    try:
        return await request
    except SlackApiError as exc:
        status = exc.response.status_code
        if status == 429:
            raise DeliveryError("Slack rate limit", retry_after=retry_after(exc.response.headers)) from None
        if status >= 500:
            raise DeliveryError(f"Slack answered HTTP {status}") from None
        error = str(exc.response.get("error", f"HTTP {status}"))
        raise DeliveryError(f"Slack refused: {error}", permanent=error in PERMANENT) from None
    except (aiohttp.ClientError, asyncio.TimeoutError, SlackRequestError) as exc:
        raise DeliveryError(f"Slack unreachable ({type(exc).__name__})") from None


def retry_after(headers: dict[str, Any]) -> float:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), "1")
    value = value[0] if isinstance(value, list) else value
    try:
        return max(0.0, float(value))
    except ValueError:
        return 1.0
