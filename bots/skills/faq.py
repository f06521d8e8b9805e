"""FAQ answering: the shop's knowledge base in `skills_config/faq.yaml`, matched in Chinese and English.

Confident match: the answer (with its picture or video). Near miss: "did you mean" with the top three
as buttons. No match: the fallback offers a person. Questions nobody could answer are recorded as
knowledge gaps (`bots kb gaps`), so the team knows which entries to add.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bots import Context, Match, Message, Skill, SkillConfig, on_command, on_event, on_scored
from bots.nlp.faq_index import ANSWER_THRESHOLD, SUGGEST_THRESHOLD, FaqDoc, FaqHit, FaqIndex
from bots.nlp.normalize import normalize

Lang = Literal["zh", "en"]
GAP_PREFIX = "gap:"


@lru_cache(maxsize=8)
def _cached_index(docs: tuple[tuple[str, tuple[str, ...]], ...]) -> FaqIndex:
    return FaqIndex.build([FaqDoc(id=doc_id, questions=list(questions)) for doc_id, questions in docs])


def build_index(docs: dict[str, tuple[str, ...]]) -> FaqIndex | None:
    """An index over {id: example phrasings}; the same content is built once per process (restarts, tests)."""
    return _cached_index(tuple(docs.items())) if docs else None


class FaqEntry(BaseModel):
    """One question people ask, with its paraphrases and its answer, in both languages."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    product: str = ""
    questions: dict[Lang, list[str]]
    answer: dict[Lang, str]
    image: str | None = None
    video: str | None = None
    troubleshoot: str | None = None  # a fault tree that walks the customer through this problem

    @model_validator(mode="after")
    def _both_languages(self) -> FaqEntry:
        for field in ("questions", "answer"):
            missing = [lang for lang in ("zh", "en") if not getattr(self, field).get(lang)]
            if missing:
                raise ValueError(f"entry {self.id!r}: {field} needs a {' and '.join(missing)} version")
        return self

    def all_questions(self) -> list[str]:
        return [q for questions in self.questions.values() for q in questions]


class Faq(Skill):
    class Config(SkillConfig):
        entries: list[FaqEntry] = []
        answer_threshold: float = ANSWER_THRESHOLD
        suggest_threshold: float = SUGGEST_THRESHOLD
        suggestions: int = Field(default=3, ge=1, le=5)

        @model_validator(mode="after")
        def _unique_ids(self) -> Faq.Config:
            ids = [e.id for e in self.entries]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"duplicate entry ids: {', '.join(duplicates)}")
            return self

    texts = {
        "did_you_mean": {"zh": "您是想问以下哪个问题？", "en": "Did you mean one of these?"},
        "none_of_these": {"zh": "都不是，转人工", "en": "None of these: talk to a person"},
        "start_troubleshooting": {"zh": "一步步帮我排查", "en": "Walk me through a fix"},
    }

    def __init__(self, config: SkillConfig | None = None) -> None:
        super().__init__(config)
        self.entries = {entry.id: entry for entry in self.config.entries}
        self.index: FaqIndex | None = None

    async def setup(self) -> None:
        self.index = build_index({e.id: tuple(e.all_questions()) for e in self.config.entries})

    def search(self, message: Message) -> Match | None:
        if self.index is None or not message.text.strip() or message.text.startswith("/"):
            return None
        hits = self.index.search(message.text, k=self.config.suggestions)
        if not hits or hits[0].confidence < self.config.suggest_threshold:
            return None
        return Match(hits[0].confidence, hits)

    @on_scored(search)
    async def answer(self, ctx: Context) -> None:
        hits: list[FaqHit] = ctx.match.data
        if hits[0].confidence >= self.config.answer_threshold:
            await self._reply_with(ctx, self.entries[hits[0].id])
            return
        if await ctx.unresolved():
            return
        options = [(self.entries[h.id].questions[ctx.lang][0], f"/faq {h.id}") for h in hits]
        await ctx.reply(ctx.t("did_you_mean"), [*options, (ctx.t("none_of_these"), "/human")])

    @on_command("faq")
    async def by_id(self, ctx: Context) -> None:
        entry = self.entries.get(ctx.match.data)
        if entry is None:
            await ctx.fallback()
            return
        await self._reply_with(ctx, entry)

    async def _reply_with(self, ctx: Context, entry: FaqEntry) -> None:
        buttons = [(ctx.t("start_troubleshooting"), f"/troubleshoot {entry.troubleshoot}")] if entry.troubleshoot else []
        ctx.remember("faq", entry.id)
        await ctx.reply(entry.answer[ctx.lang], buttons, image=entry.image, video=entry.video)

    @on_event("turn.unresolved")
    async def record_gap(self, ctx: Context) -> None:
        """Remember a question the bot could not answer, counted by its normalised text."""
        text = ctx.text.strip()
        if not text or text.startswith("/"):
            return
        key = GAP_PREFIX + normalize(text)[:200]
        gap = await ctx.store.get(key, {"text": text, "lang": ctx.lang, "count": 0})
        gap["count"] += 1
        gap["last"] = ctx.now.isoformat()
        await ctx.store.set(key, gap)
