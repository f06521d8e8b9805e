"""Know when a person must take over: watch every message and escalate with the right urgency.

Triggers (each on/off and tunable in `skills_config/escalation.yaml`): a request for a person; safety
words; dispute and review threats; refund demands made in anger; strongly negative or angry messages,
or a worsening mood over the last messages; the same question asked again; frustration with the bot.
Repeated fallback rounds are counted by the core (`fallback.escalate_after` in bots.yaml).

The customer hears empathy first, then what happens next, in their language and not always in the
same words; staff get the reason and the evidence (the matched phrase, the messages, their scores).
"""

from __future__ import annotations

import re
from statistics import mean
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bots import Context, Message, Skill, SkillConfig, on_command, on_every_message
from bots.conversation import Conversation
from bots.nlp.sentiment import SentimentAnalyzer

from .escalation_rules import PhraseList, is_hypothetical, similar

Severity = Literal["urgent", "regular"]
ULTIMATUM = re.compile(r"(?i)马上|立刻|立即|现在就|赶紧|\bright now\b|\bimmediately\b|\basap\b|[!！]{2,}")
THANKS = re.compile(r"(?i)谢|感谢|\bthanks?\b|thank you|\bthx\b|helpful|appreciate")


class Phrases(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    severity: Severity = "regular"
    zh: list[str] = []
    en: list[str] = []

    def compiled(self) -> PhraseList:
        return PhraseList(self.zh, self.en)


class SentimentTrigger(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    severity: Severity = "regular"
    threshold: float = Field(default=-0.6, le=0, description="one message at or below this score escalates")
    cue_threshold: float = Field(
        default=-0.2, le=0, description="a score counts only with explicit negative words (lexicon) at or below this"
    )
    anger_threshold: float = Field(default=-0.3, le=0, description="an angry message at or below this escalates")
    trend_window: int = Field(default=3, ge=2)
    trend_threshold: float = Field(default=-0.35, le=0, description="mean of the last messages at or below this")


class RepeatTrigger(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    severity: Severity = "regular"
    similarity: float = Field(default=0.6, gt=0, le=1)
    min_length: int = 4  # "ok", "好的" repeated is not a question asked again
    lookback: int = 6  # customer messages compared


class Escalation(Skill):
    priority = 20  # watches before anything else answers

    class Config(SkillConfig):
        human_request: Phrases = Phrases()
        safety: Phrases = Phrases(severity="urgent")
        dispute: Phrases = Phrases(severity="urgent")
        angry_refund: Phrases = Phrases(severity="urgent")  # only counts in a negative message
        fault_persists: Phrases = Phrases(severity="urgent")  # "tried everything", "reset it 3 times"
        frustration: Phrases = Phrases()
        sentiment: SentimentTrigger = SentimentTrigger()
        repeated_question: RepeatTrigger = RepeatTrigger()

    texts = {
        "intro_human_request": {"zh": ["好的，马上为您转接人工客服。", "没问题，这就帮您找同事。"], "en": ["Sure, I'm getting a person for you.", "Of course, let me bring in a colleague."]},
        "intro_safety": {
            "zh": ["为了您的安全，请立即停止使用并拔掉电源，把产品放在远离易燃物的地方。", "安全第一：请马上停止使用、断开电源，并把它放在远离易燃物的地方。"],
            "en": ["For your safety, please stop using it now, unplug it and keep it away from anything flammable.", "Safety first: please stop using it, disconnect it and put it somewhere away from flammable things."],
        },
        "intro_upset": {
            "zh": ["非常抱歉让您有这样的体验，我理解您的心情。", "真的很抱歉给您添了这么多麻烦。", "抱歉让您久等又失望了，这确实不应该。"],
            "en": ["I'm really sorry about this experience, and I understand how frustrating it is.", "I'm sorry for all the trouble this has caused you.", "I'm sorry you've been kept waiting and let down; that shouldn't happen."],
        },
        "intro_going_in_circles": {
            "zh": ["抱歉一直没能解决您的问题。", "抱歉让您反复询问了。"],
            "en": ["Sorry I haven't been able to sort this out for you.", "Sorry you've had to ask more than once."],
        },
    }

    def __init__(self, config: SkillConfig | None = None) -> None:
        super().__init__(config)
        c = self.config
        self.phrases = {
            name: getattr(c, name).compiled()
            for name in ("human_request", "safety", "dispute", "angry_refund", "fault_persists", "frustration")
        }
        self.analyzer: SentimentAnalyzer | None = None

    async def setup(self) -> None:
        self.analyzer = SentimentAnalyzer.load()

    def annotate(self, message: Message, conversation: Conversation) -> None:
        if self.analyzer is None or not message.text.strip() or message.text.startswith("/"):
            return
        found = self.analyzer.analyse(message.text)
        cue = self.config.sentiment.cue_threshold
        message.annotations["sentiment"] = {
            "score": found.score,
            "label": found.label,
            "anger": found.anger,
            "cue": found.cue,
            # what the triggers use: learnt n-grams alone mislead on chat ("太靠谱了"), so a negative
            # score counts only when explicit negative words back it
            "mood": found.score if found.score >= 0 or found.cue <= cue else 0.0,
        }

    @on_command("human")
    async def asked_by_button(self, ctx: Context) -> None:
        await self._escalate(ctx, "asked_for_human", self.config.human_request.severity, "intro_human_request", {})

    @on_every_message
    async def watch(self, ctx: Context) -> None:
        decision = self.decide(ctx.message, ctx.conversation)
        if decision is not None:
            reason, severity, intro, evidence = decision
            await self._escalate(ctx, reason, severity, intro, evidence)

    def decide(self, message: Message | None, conversation: Conversation) -> tuple[str, str, str, dict[str, Any]] | None:
        """The first trigger that fires, most serious first: (reason, severity, intro text, evidence)."""
        if message is None or message.text.startswith("/"):
            return None
        c, text = self.config, message.plain
        mood = message.annotations.get("sentiment", {"score": 0.0, "mood": 0.0, "anger": False})
        negative = mood["mood"] <= c.sentiment.anger_threshold
        grateful = mood["mood"] >= 0.6 and THANKS.search(text) is not None  # "the agent was great, thanks!"
        checks = [  # (reason, trigger, customer intro, applies to this message)
            ("safety", "safety", "intro_safety", True),
            ("dispute_threat", "dispute", "intro_upset", True),
            ("angry_refund", "angry_refund", "intro_upset", negative or mood["anger"] or bool(ULTIMATUM.search(text))),
            ("fault_persists", "fault_persists", "intro_upset", True),
            ("asked_for_human", "human_request", "intro_human_request", not grateful),
            ("frustrated_with_bot", "frustration", "intro_going_in_circles", True),
        ]
        for reason, name, intro, applies in checks:
            trigger: Phrases = getattr(c, name)
            if not (trigger.enabled and applies):
                continue
            hit = self.phrases[name].find(text, hypothetical_ok=name != "safety")
            if hit:
                return reason, trigger.severity, intro, {"phrase": hit.phrase, "message": message.text, "sentiment": mood}
        return self._mood(message, conversation, mood) or self._repeated(message, conversation)

    def _mood(self, message: Message, conversation: Conversation, mood: dict[str, Any]) -> tuple[str, str, str, dict[str, Any]] | None:
        s = self.config.sentiment
        if not s.enabled or is_hypothetical(message.plain, message.plain):
            return None  # "what if it breaks?" is a question, not a mood
        scores = [t.annotations["sentiment"]["mood"] for t in conversation.recent if t.role == "customer" and "sentiment" in t.annotations]
        window = scores[-s.trend_window :]
        evidence = {"message": message.text, "sentiment": mood, "recent_scores": window}
        if mood["mood"] <= s.threshold or (mood["anger"] and mood["mood"] <= s.anger_threshold):
            return "negative_sentiment", s.severity, "intro_upset", evidence
        if len(window) == s.trend_window and mean(window) <= s.trend_threshold and sum(x < 0 for x in window) >= 2:
            return "worsening_sentiment", s.severity, "intro_upset", evidence
        return None

    def _repeated(self, message: Message, conversation: Conversation) -> tuple[str, str, str, dict[str, Any]] | None:
        r = self.config.repeated_question
        text = message.plain
        if not r.enabled or len(text.strip()) < r.min_length:
            return None
        earlier = [t.text for t in conversation.recent[:-1] if t.role == "customer"][-r.lookback :]
        repeats = [e for e in earlier if len(e.strip()) >= r.min_length and similar(text, e) >= r.similarity]
        if repeats:
            return "repeated_question", r.severity, "intro_going_in_circles", {"message": message.text, "asked_before": repeats}
        return None

    async def _escalate(self, ctx: Context, reason: str, severity: str, intro: str, evidence: dict[str, Any]) -> None:
        await ctx.escalate(reason, severity, evidence=evidence, intro=ctx.t(intro))
