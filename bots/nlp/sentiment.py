"""Chinese + English sentiment for escalating angry customers.

A hashed n-gram logistic regression per language (weights shipped in data/sentiment.npz) is
blended with rule-based cues (bilingual lexicon, negation, intensifiers, anger markers). Inference
is a few dozen dictionary/array look-ups, well under a millisecond, with numpy as the only
dependency. Build the artifact with scripts/build_sentiment_model.py.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bots.nlp.sentiment_features import FeatureConfig, detect_lang, hashed_indices, normalise
from bots.nlp.sentiment_lexicon import Lexicon, LexiconScore

ARTIFACT = Path(__file__).parent / "data" / "sentiment.npz"
LANGS = ("zh", "en")
NEUTRAL_BAND = 0.3  # |score| below this is "neutral"
NO_CUE_SHRINK = 0.5  # without any lexicon cue the model's word evidence alone is weak


@dataclass(frozen=True)
class Sentiment:
    """One message's sentiment: score -1 (very negative) .. +1 (very positive)."""

    score: float
    label: str  # "negative" | "neutral" | "positive"
    anger: bool  # insults, 气死/垃圾/骗子, "ridiculous", or shouting (!!!, ???, CAPS) in a negative message
    lang: str  # "zh" | "en"
    cue: float = 0.0  # the lexicon's score alone (-1 .. 1): explicit sentiment words, not learnt n-grams


@dataclass(frozen=True)
class LangModel:
    """Learned weights for one language: n-gram logit, then a blend with the lexicon score."""

    cfg: FeatureConfig
    weights: np.ndarray  # one weight per hash bucket
    bias: float
    blend: tuple[float, float, float]  # final logit = a * ngram_logit + b * lexicon_score + c

    def ngram_logit(self, indices: np.ndarray) -> float:
        """Logistic-regression logit of an L2-normalised binary bag of buckets."""
        if not len(indices):
            return self.bias
        return float(self.weights[indices].sum(dtype=np.float64)) / math.sqrt(len(indices)) + self.bias

    def logit(self, ngram_logit: float, lexicon_score: float) -> float:
        a, b, c = self.blend
        return a * ngram_logit + b * lexicon_score + c


class SentimentAnalyzer:
    """Scores customer messages; load() once and share, analyse() is thread-safe and pure."""

    def __init__(self, models: dict[str, LangModel], t2s: dict[int, str], lexicon: Lexicon) -> None:
        self._models = models
        self._t2s = t2s
        self._lexicon = lexicon

    @classmethod
    def load(cls, path: Path = ARTIFACT) -> SentimentAnalyzer:
        """Read the shipped artifact (no network, no training)."""
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(str(npz["meta"]))
            models = {
                lang: LangModel(
                    cfg=FeatureConfig(**meta[lang]["cfg"]),
                    weights=npz[f"{lang}_weights"].astype(np.float32),
                    bias=float(meta[lang]["bias"]),
                    blend=tuple(meta[lang]["blend"]),
                )
                for lang in LANGS
            }
        t2s = {int(k): v for k, v in meta["t2s"].items()}
        return cls(models, t2s, Lexicon(meta["en_lexicon"]))

    def analyse(self, text: str) -> Sentiment:
        """Sentiment with a neutral band; a message with no sentiment cue stays close to 0."""
        lang, p, lex = self._score(text)
        score = 2.0 * p - 1.0
        if not lex.hits:
            score *= NO_CUE_SHRINK
        if abs(score) < NEUTRAL_BAND:
            label = "neutral"
        else:
            label = "positive" if score > 0 else "negative"
        anger = lex.insult or (lex.shouting and score < 0)
        return Sentiment(round(score, 4), label, anger, lang, round(lex.score, 4))

    def probability_positive(self, text: str) -> float:
        """P(positive) from the blended model; >= 0.5 reads as positive."""
        return self._score(text)[1]

    def blend_inputs(self, text: str) -> tuple[str, float, float]:
        """(lang, n-gram logit, lexicon score): what the blend sees; the build fits it on these."""
        lang, ngram_logit, lex = self._inputs(text)
        return lang, ngram_logit, lex.score

    def _inputs(self, text: str) -> tuple[str, float, LexiconScore]:
        norm = normalise(text, self._t2s)
        lang = detect_lang(norm)
        model = self._models[lang]
        idx = hashed_indices(norm, lang, model.cfg, self._lexicon.en_polarity)
        return lang, model.ngram_logit(idx), self._lexicon.score(norm, text, lang)

    def _score(self, text: str) -> tuple[str, float, LexiconScore]:
        lang, ngram_logit, lex = self._inputs(text)
        z = self._models[lang].logit(ngram_logit, lex.score)
        return lang, 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z)))), lex
