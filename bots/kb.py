"""Knowledge-base upkeep: import FAQ entries from a spreadsheet, list knowledge gaps and step statistics.

A spreadsheet (CSV or Excel) has one row per entry and the columns
`id, product, questions_zh, questions_en, answer_zh, answer_en, image, video, troubleshoot`;
several questions in one cell are separated by new lines or `|`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .config import describe
from .skills.faq import GAP_PREFIX, FaqEntry
from .storage import Storage

COLUMNS = ("id", "product", "questions_zh", "questions_en", "answer_zh", "answer_en", "image", "video", "troubleshoot")
REQUIRED = ("id", "questions_zh", "questions_en", "answer_zh", "answer_en")
EXTRA = "(extra cells)"
FAQ_HEADER = "# FAQ knowledge base (the faq skill's settings). Edit by hand or with `bots kb import FILE`.\n"


class KbImportError(ValueError):
    """Rows that cannot become entries; the message names each row and what is wrong."""


def read_rows(path: Path) -> list[dict[str, str]]:
    """The spreadsheet's rows as dicts keyed by lower-cased column names."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _excel_rows(path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [_clean(row) for row in csv.DictReader(fh)]


def _clean(row: dict[str | None, Any]) -> dict[str, str]:
    """Lower-case column names; cells beyond the header (an unquoted comma) are flagged, not dropped."""
    extra = row.pop(None, None)
    cleaned = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
    if extra:
        cleaned[EXTRA] = ", ".join(str(cell) for cell in extra)
    return cleaned


def _excel_rows(path: Path) -> list[dict[str, str]]:
    from openpyxl import load_workbook  # only needed for Excel files

    sheet = load_workbook(path, read_only=True, data_only=True).active
    rows: Iterator[tuple[Any, ...]] = sheet.iter_rows(values_only=True)
    header = [str(cell or "").strip().lower() for cell in next(rows, ())]
    return [{name: str(cell or "").strip() for name, cell in zip(header, row, strict=False)} for row in rows]


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.replace("|", "\n").splitlines() if part.strip()]


def to_entries(rows: Iterable[dict[str, str]], progress: Callable[[int], None] = lambda n: None) -> list[FaqEntry]:
    """Validate every row; all problems are reported together, each with its row number."""
    entries, problems, seen = [], [], {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        progress(1)
        missing = [column for column in REQUIRED if not row.get(column)]
        if EXTRA in row:
            problems.append(f"row {number}: more cells than columns ({row[EXTRA]!r}); quote cells that contain commas")
            continue
        if missing:
            problems.append(f"row {number}: empty {', '.join(missing)}")
            continue
        if row["id"] in seen:
            problems.append(f"row {number}: id {row['id']!r} already used in row {seen[row['id']]}")
            continue
        seen[row["id"]] = number
        try:
            entries.append(
                FaqEntry(
                    id=row["id"],
                    product=row.get("product", ""),
                    questions={"zh": _split(row["questions_zh"]), "en": _split(row["questions_en"])},
                    answer={"zh": row["answer_zh"], "en": row["answer_en"]},
                    image=row.get("image") or None,
                    video=row.get("video") or None,
                    troubleshoot=row.get("troubleshoot") or None,
                )
            )
        except ValidationError as exc:
            problems.append(describe(exc, f"row {number}"))
    if problems:
        raise KbImportError("\n".join(problems))
    return entries


def merge_into(faq_yaml: Path, entries: list[FaqEntry]) -> tuple[int, int]:
    """Add new entries and replace same-id ones in faq.yaml; returns (added, replaced)."""
    data = yaml.safe_load(faq_yaml.read_text(encoding="utf-8")) if faq_yaml.exists() else None
    data = data or {}
    current = {item["id"]: item for item in data.get("entries", [])}
    replaced = sum(1 for entry in entries if entry.id in current)
    for entry in entries:
        current[entry.id] = entry.model_dump(exclude_none=True, exclude_defaults=True)
    data["entries"] = list(current.values())
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
    faq_yaml.write_text(FAQ_HEADER + body, encoding="utf-8")
    return len(entries) - replaced, replaced


async def knowledge_gaps(storage: Storage, limit: int) -> list[dict[str, Any]]:
    """The questions nobody could answer, most frequent first."""
    gaps = [doc["value"] for key, doc in await storage.scan("skill.faq") if key.startswith(GAP_PREFIX)]
    return sorted(gaps, key=lambda gap: (-gap["count"], gap["text"]))[:limit]


async def step_statistics(storage: Storage) -> list[tuple[str, str, dict[str, int]]]:
    """(tree, step, counts of yes / no / solved / escalate) for every step customers went through."""
    rows = []
    for key, doc in await storage.scan("skill.troubleshoot"):
        if key.startswith("stats:"):
            _, tree, step = key.split(":", 2)
            rows.append((tree, step, doc["value"]))
    return rows
