"""Fault-tree troubleshooting: from a symptom, Yes/No steps to a solution, or to a person.

Trees live in `skills_config/troubleshoot.yaml`. A tree starts from a symptom message ("耳机连不上",
"my earbuds won't pair") or from an FAQ entry's button. Each step gives an instruction and asks whether
it helped. When the tree runs out, or the customer is still unresolved ten minutes after starting, the
conversation goes to the urgent room with the steps already tried. Every answer is counted per step, so
the team sees which step solves how many cases (`bots kb stats`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bots import Context, Match, Message, Skill, SkillConfig, on_command, on_event, on_scored, on_step
from bots.nlp.faq_index import ANSWER_THRESHOLD, FaqIndex
from bots.skills.faq import build_index

Lang = Literal["zh", "en"]
SOLVED, ESCALATE = "solved", "escalate"
STEP = "troubleshoot"
TIMEOUT_EVENT = "troubleshoot.timeout"

_NO_ZH = ("不", "没", "否", "无法", "还是")
_YES_ZH = ("是", "好了", "可以", "能", "行", "解决", "对", "嗯", "有")
_NO_EN = re.compile(r"(?i)\b(no|nope|nah|not|n't|still|never)\b|n't")
_YES_EN = re.compile(r"(?i)\b(yes|yeah|yep|y|ok|okay|works?|worked|fixed|solved|sure|it did)\b")


def read_answer(text: str) -> bool | None:
    """Yes (True), No (False), or unclear (None) in a customer's own words or a button value."""
    text = text.strip().lower()
    if any(word in text for word in _NO_ZH) or _NO_EN.search(text):
        return False
    if any(word in text for word in _YES_ZH) or _YES_EN.search(text):
        return True
    return None


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    ask: dict[Lang, str]
    image: str | None = None
    video: str | None = None
    yes: str
    no: str
    solution: dict[Lang, str] | None = None


class Tree(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    product: str = ""
    symptoms: dict[Lang, list[str]]
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _well_formed(self) -> Tree:
        ids = {step.id for step in self.steps}
        for step in self.steps:
            for lang in ("zh", "en"):
                if not step.ask.get(lang) or (step.yes == SOLVED and not (step.solution or {}).get(lang)):
                    raise ValueError(f"tree {self.id!r}, step {step.id!r}: ask/solution needs a {lang} text")
            for target in (step.yes, step.no):
                if target not in ids | {SOLVED, ESCALATE}:
                    raise ValueError(f"tree {self.id!r}, step {step.id!r}: unknown next step {target!r}")
        for lang in ("zh", "en"):
            if not self.symptoms.get(lang):
                raise ValueError(f"tree {self.id!r}: symptoms need {lang} phrasings")
        self._check_no_loop()
        return self

    def _check_no_loop(self) -> None:
        steps = {step.id: step for step in self.steps}

        def visit(step_id: str, path: tuple[str, ...]) -> None:
            if step_id in (SOLVED, ESCALATE):
                return
            if step_id in path:
                raise ValueError(f"tree {self.id!r} loops: {' → '.join((*path, step_id))}")
            for target in (steps[step_id].yes, steps[step_id].no):
                visit(target, (*path, step_id))

        visit(self.steps[0].id, ())

    def step(self, step_id: str) -> Step:
        return next(step for step in self.steps if step.id == step_id)


class Troubleshoot(Skill):
    """Competes with the FAQ on equal terms: the better-matching of a symptom and a question wins."""

    class Config(SkillConfig):
        trees: list[Tree] = []
        timeout_minutes: float = Field(default=10, gt=0)
        match_threshold: float = ANSWER_THRESHOLD
        # A handful of trees make a small index whose confidence alone is easily fooled ("the weather
        # is nice" → the closest of five symptoms), so the message must also resemble a symptom phrasing.
        min_similarity: float = Field(default=0.7, ge=0, le=1)

    texts = {
        "yes": {"zh": "是", "en": "Yes"},
        "no": {"zh": "否", "en": "No"},
        "unclear": {"zh": "请回答“是”或“否”：", "en": 'Please answer "Yes" or "No":'},
        "unknown_tree": {"zh": "抱歉，没有找到这个排查流程。", "en": "Sorry, I can't find that troubleshooting guide."},
    }

    def __init__(self, config: SkillConfig | None = None) -> None:
        super().__init__(config)
        self.trees = {tree.id: tree for tree in self.config.trees}
        self.index: FaqIndex | None = None

    async def setup(self) -> None:
        self.index = build_index(
            {tree.id: tuple(s for phrasings in tree.symptoms.values() for s in phrasings) for tree in self.config.trees}
        )

    def symptom(self, message: Message) -> Match | None:
        if self.index is None or message.text.startswith("/"):
            return None
        hits = self.index.search(message.text, k=1)
        if hits and hits[0].confidence >= self.config.match_threshold and hits[0].similarity >= self.config.min_similarity:
            return Match(hits[0].confidence, hits[0].id)
        return None

    @on_scored(symptom)
    async def from_symptom(self, ctx: Context) -> None:
        await self._begin(ctx, self.trees[ctx.match.data])

    @on_command("troubleshoot")
    async def from_button(self, ctx: Context) -> None:
        tree = self.trees.get(ctx.match.data)
        if tree is None:
            await ctx.reply(ctx.t("unknown_tree"))
            return
        await self._begin(ctx, tree)

    async def _begin(self, ctx: Context, tree: Tree) -> None:
        started = ctx.now.isoformat()
        job = await ctx.schedule(
            TIMEOUT_EVENT,
            delay=timedelta(minutes=self.config.timeout_minutes),
            payload={"tree": tree.id, "started": started},
            job_id=f"{TIMEOUT_EVENT}:{ctx.conversation.id}:{started}",
        )
        ctx.end_dialog()
        await self._ask(ctx, tree, tree.steps[0], {"tree": tree.id, "tried": [], "started": started, "job": job})

    async def _ask(self, ctx: Context, tree: Tree, step: Step, slots: dict, prefix: str = "") -> None:
        slots = {**slots, "step": step.id}
        buttons = [(ctx.t("yes"), "yes"), (ctx.t("no"), "no")]
        await ctx.ask(prefix + step.ask[ctx.lang], step=STEP, buttons=buttons, slots=slots, image=step.image, video=step.video)

    @on_step(STEP)
    async def answered(self, ctx: Context) -> None:
        tree = self.trees[ctx.slots["tree"]]
        step = tree.step(ctx.slots["step"])
        answer = read_answer(ctx.text)
        if answer is None:
            await self._ask(ctx, tree, step, ctx.slots, prefix=ctx.t("unclear") + "\n")
            return
        tried = [*ctx.slots["tried"], step.ask[ctx.lang]]
        target = step.yes if answer else step.no
        await self._count(ctx, tree, step, "yes" if answer else "no")
        if target == SOLVED:
            await self._count(ctx, tree, step, SOLVED)
            await self._finish(ctx)
            await ctx.reply(step.solution[ctx.lang] if step.solution else "")
        elif target == ESCALATE:
            await self._count(ctx, tree, step, ESCALATE)
            await self._escalate(ctx, tree, tried, "troubleshooting_failed")
        else:
            await self._ask(ctx, tree, tree.step(target), {**ctx.slots, "tried": tried})

    @on_event(TIMEOUT_EVENT)
    async def timed_out(self, ctx: Context) -> None:
        dialog = ctx.conversation.dialog
        if dialog is None or dialog.step != STEP or dialog.slots.get("started") != ctx.payload["started"]:
            return  # solved, escalated or restarted meanwhile
        await self._escalate(ctx, self.trees[dialog.slots["tree"]], dialog.slots["tried"], "troubleshooting_timeout")

    async def _finish(self, ctx: Context) -> None:
        await ctx.cancel(ctx.slots["job"])
        ctx.end_dialog()

    async def _escalate(self, ctx: Context, tree: Tree, tried: list[str], reason: str) -> None:
        await self._finish(ctx)
        ctx.remember("troubleshooting", {"tree": tree.id, "product": tree.product, "steps_tried": tried})
        await ctx.escalate(reason, "urgent", evidence={"tree": tree.id, "steps_tried": tried})

    async def _count(self, ctx: Context, tree: Tree, step: Step, outcome: str) -> None:
        key = f"stats:{tree.id}:{step.id}"
        stats = await ctx.store.get(key, {})
        stats[outcome] = stats.get(outcome, 0) + 1
        await ctx.store.set(key, stats)
