"""Prometheus metrics of the bot, served at `/metrics` by the HTTP server.

The core records into these with one-line calls, so operators see traffic, latency, escalations,
the outbox backlog and errors without any adapter having to count anything itself.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

MESSAGES_IN = Counter("bots_messages_in_total", "Customer messages handled, by channel", ["channel"])
MESSAGES_OUT = Counter("bots_messages_out_total", "Outbox items delivered, by channel or staff room", ["channel"])
HANDLE_SECONDS = Histogram(
    "bots_handle_seconds", "Time to handle one customer message (routing, skills, durable storage)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
ESCALATIONS = Counter("bots_escalations_total", "Conversations handed to staff, by severity", ["severity"])
ERRORS = Counter("bots_errors_total", "Failures: skill errors, delivery failures, rejected requests", ["kind"])
T = TypeVar("T")
OUTBOX_BACKLOG = Gauge("bots_outbox_backlog", "Replies and staff posts stored but not yet delivered")


def watch_backlog(backlog: Callable[[], int]) -> None:
    """Read the backlog from the running bot's outbox at every scrape."""
    OUTBOX_BACKLOG.set_function(backlog)


def exposition() -> tuple[bytes, str]:
    """The text format Prometheus scrapes, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def counted_turn(handle: Callable[[Any, Any], Awaitable[T]]) -> Callable[[Any, Any], Awaitable[T]]:
    """Wrap `Bot.handle`: count the message by channel and time the whole turn."""

    @functools.wraps(handle)
    async def wrapper(bot: Any, message: Any) -> T:
        MESSAGES_IN.labels(message.channel).inc()
        with HANDLE_SECONDS.time():
            return await handle(bot, message)

    return wrapper
