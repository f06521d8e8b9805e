"""Log redaction: no phone number, e-mail address or token reaches a log file in full.

Installed on the root logger's handlers by the `bots` command; a defence in depth, since the code
already avoids logging customer text.
"""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    (re.compile(r"\b(xox[abpr]|xapp)-[A-Za-z0-9-]{8,}"), r"\1-[redacted]"),  # Slack tokens
    (re.compile(r"(?i)\b(bearer|token|secret|signature)([=:\s]+)[A-Za-z0-9._~+/=-]{12,}"), r"\1\2[redacted]"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
    (re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)"), r"\1****\2"),  # mainland mobile numbers
    (re.compile(r"(?<![\w])(\+\d{1,3}[\s-]?)\d[\d\s-]{5,}(\d{2})(?!\d)"), r"\1***\2"),  # international
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message (arguments merged in) before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = redact(record.exc_text or logging.Formatter().formatException(record.exc_info))
            record.exc_info = None  # formatters print exc_text; the raw traceback would not be redacted
        return True


def install() -> None:
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
