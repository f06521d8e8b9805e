"""The daily staff report: how the team kept up with escalations, posted to the reports room.

The escalation records already hold when each alert was raised, claimed, first answered and closed;
once a day (``reports`` in bots.yaml) this turns the last 24 hours of them into a short summary for
the team lead: volume by severity and reason, first-human-response times, SLA breaches, what is still
open, and which products keep coming back after troubleshooting (an early sign of a batch defect).
It goes through the outbox like any alert, so a Slack outage delays it but never loses it.
``bots report`` prints the same summary from the data directory.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .config import ReportsConfig
from .rooms import NAMESPACE, Escalation, Status
from .scheduler import Job

if TYPE_CHECKING:
    from .bot import Bot
    from .storage import Storage

REPORT_JOB = "reports.daily"
PERIOD = timedelta(days=1)


@dataclass
class StaffReport:
    """Figures for escalations raised in [start, end), plus what is open at `end`."""

    start: datetime
    end: datetime
    raised: int = 0
    by_severity: Counter[str] = field(default_factory=Counter)
    by_reason: Counter[str] = field(default_factory=Counter)
    response_minutes: list[float] = field(default_factory=list)  # first human reply, per answered alert
    unanswered: int = 0
    breached: int = 0
    resolved: int = 0
    returned: int = 0
    forwarded: Counter[str] = field(default_factory=Counter)  # room -> alerts sent on (e.g. factory)
    fault_products: Counter[str] = field(default_factory=Counter)  # product -> escalated after troubleshooting
    open_now: int = 0
    oldest_open_minutes: float = 0.0


async def collect(storage: Storage, start: datetime, end: datetime) -> StaffReport:
    """Read every escalation record once and count what the report shows."""
    report = StaffReport(start=start, end=end)
    for _, doc in await storage.scan(NAMESPACE):
        escalation = Escalation(**doc)
        if escalation.active and escalation.created_at < end:
            report.open_now += 1
            waited = (end - escalation.created_at).total_seconds() / 60
            report.oldest_open_minutes = max(report.oldest_open_minutes, waited)
        if start <= escalation.created_at < end:
            _count(report, escalation)
    return report


def _count(report: StaffReport, escalation: Escalation) -> None:
    report.raised += 1
    report.by_severity[escalation.severity.value] += 1
    report.by_reason[escalation.reason] += 1
    if escalation.first_response_at is not None:
        report.response_minutes.append((escalation.first_response_at - escalation.created_at).total_seconds() / 60)
    else:
        report.unanswered += 1
    report.breached += escalation.breached
    report.resolved += escalation.status == Status.RESOLVED
    report.returned += escalation.status == Status.RETURNED
    report.forwarded.update(escalation.forwarded_to)
    product = (escalation.facts.get("troubleshooting") or {}).get("product")
    if product:
        report.fault_products[str(product)] += 1


def _percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: a value that really occurred, which reads better in a report."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counter.most_common()) or "none"


def render(report: StaffReport, timezone: str) -> str:
    """The report as plain text (staff-facing, so in the team's working language: English)."""
    zone = ZoneInfo(timezone)
    span = f"{report.start.astimezone(zone):%Y-%m-%d %H:%M} to {report.end.astimezone(zone):%Y-%m-%d %H:%M} ({timezone})"
    lines = [f"Staff report, {span}", f"Escalations raised: {report.raised} ({_counts(report.by_severity)})"]
    if report.raised:
        lines.append(f"Reasons: {_counts(report.by_reason)}")
    if report.response_minutes:
        lines.append(
            f"First human reply: median {_percentile(report.response_minutes, 0.5):.0f} min, "
            f"90% within {_percentile(report.response_minutes, 0.9):.0f} min "
            f"({len(report.response_minutes)} answered, {report.unanswered} not answered yet)"
        )
    elif report.raised:
        lines.append(f"First human reply: none of the {report.raised} answered yet")
    lines.append(f"SLA breached: {report.breached}; resolved: {report.resolved}; handed back to the bot: {report.returned}")
    if report.forwarded:
        lines.append(f"Sent on: {_counts(report.forwarded)}")
    if report.fault_products:
        lines.append(f"Escalated after troubleshooting, by product: {_counts(report.fault_products)}")
    oldest = f", the oldest waiting {report.oldest_open_minutes:.0f} min" if report.open_now else ""
    lines.append(f"Open now: {report.open_now}{oldest}")
    return "\n".join(lines)


class DailyReport:
    """Posts the report once a day. The job is persistent: a report that fell due while the bot was
    down is posted at start-up, for the latest full day (one report, however long the bot was down)."""

    def __init__(self, bot: Bot, config: ReportsConfig) -> None:
        self._bot = bot
        self._config = config
        bot.scheduler.register(REPORT_JOB, self._post)

    def _due_on(self, now: datetime, days_ahead: int) -> datetime:
        local = now.astimezone(ZoneInfo(self._config.timezone))
        return datetime.combine(local.date() + timedelta(days=days_ahead), self._config.at, local.tzinfo)

    def next_time(self, after: datetime) -> datetime:
        """The next `at` o'clock (in the configured zone) strictly after `after`."""
        due = self._due_on(after, 0)
        return due if due > after else self._due_on(after, 1)

    def last_time(self, now: datetime) -> datetime:
        """The latest `at` o'clock at or before `now`: where the report's day ends."""
        due = self._due_on(now, 0)
        return due if due <= now else self._due_on(now, -1)

    async def schedule(self) -> None:
        """One pending report at a time (a fixed job id): restarts do not add more."""
        await self._bot.scheduler.schedule(REPORT_JOB, self.next_time(self._bot.clock.now()), job_id=REPORT_JOB)

    async def _post(self, job: Job) -> None:
        end = self.last_time(self._bot.clock.now())
        report = await collect(self._bot.storage, end - PERIOD, end)
        await self._bot.desk.post_report(self._config.room, render(report, self._config.timezone))
        await self.schedule()
