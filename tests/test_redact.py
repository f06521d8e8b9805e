"""Logs never carry a full phone number, e-mail address or token."""

from __future__ import annotations

import logging

import pytest

from bots.redact import RedactingFilter, redact


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        ("customer 13812345678 called", "138****5678", "13812345678"),
        ("ring +44 7911 123456 please", "+44 ***56", "7911 123456"),
        ("mail li.wei@example.com", "[email]", "li.wei@example.com"),
        ("token xoxb-1234567890-abcdefghij", "xoxb-[redacted]", "abcdefghij"),
        ("Authorization: Bearer abcdefghijklmnop123", "Bearer [redacted]", "abcdefghijklmnop123"),
        ("order DS100234 shipped", "DS100234", "[redacted]"),
    ],
)
def test_redaction(text: str, kept: str, gone: str) -> None:
    assert kept in redact(text) and gone not in redact(text)


def test_the_filter_redacts_arguments_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("bots.test-redact")
    caplog.handler.addFilter(RedactingFilter())
    try:
        raise ValueError("bad phone 13912345678")
    except ValueError:
        logger.exception("failed for %s", "li.wei@example.com")
    text = caplog.text
    assert "13912345678" not in text and "li.wei@example.com" not in text
    assert "139****5678" in text and "[email]" in text
