"""FAQ retrieval: match a user message to the FAQ entry it asks about, with a calibrated confidence.

How it works:

* Every question (and paraphrase) of the KB is normalised (:mod:`bots.nlp.normalize`) and
  represented by sentence embeddings (:mod:`bots.nlp.faq_encoder`: a multilingual one for every
  text, an English one for texts without Chinese; they catch paraphrases with no word in common)
  and by TF-IDF over words and character n-grams (exact wording, product names, typos).
* The similarity of two texts is a weighted sum of two cosines: TF-IDF, and the English embedding
  when both texts are English, else the multilingual one. The scorer is kernel ridge
  regression over the KB questions with the kernel ``exp(GAMMA * (sim - 1))`` and one-hot entry
  targets: with many paraphrases per entry it is a classifier trained on them (Banking77 val:
  0.94 top-1 vs 0.93 for logistic regression on the same features), with one question per entry
  it is nearest-neighbour retrieval with near-duplicate entries decorrelated. Training is one
  linear solve over the questions: about 1 s for 500 one-question entries and 4 s for 2,000
  questions on 2 busy cores (plus about 1 s to load the encoder once per process).
* The confidence is a logistic calibration (:mod:`bots.nlp.faq_calibration`) of the top score,
  its margin over the runner-up and the best raw similarity to the entry's own questions, fitted
  on validation data so that it reads as the probability the top entry is right.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from threadpoolctl import ThreadpoolController

from bots.nlp.faq_calibration import ANSWER_THRESHOLD, SUGGEST_THRESHOLD, confidence
from bots.nlp.faq_encoder import embed, embed_english, embed_english_one, embed_one
from bots.nlp.normalize import has_chinese, normalize, tokenize

__all__ = ["ANSWER_THRESHOLD", "SUGGEST_THRESHOLD", "FaqDoc", "FaqHit", "FaqIndex", "Signals"]

# Weight of the TF-IDF cosine in the similarity (the embedding cosine gets 1 - this).
LEXICAL_WEIGHT = 0.2
# Weight of the English embedding next to the multilingual one when both texts are English: the dense
# similarity is the cosine of [USE, sqrt(w) * MiniLM] vectors (MiniLM part zero for Chinese texts), so
# the kernel stays positive definite for a KB that mixes languages. Banking77 10-shot top-1: 0.836 / 0.843 /
# 0.842 at 1 / 3 / 9 (MiniLM alone 0.840, USE alone 0.788).
ENGLISH_WEIGHT = 3.0
# Kernel sharpness and ridge regulariser, chosen on Banking77 val (flat optimum around these).
GAMMA = 3.0
RIDGE = 0.1

# A query is a handful of small matrix-vector products: BLAS threads only add wake-up latency
# (measured: 8 ms instead of 0.3 ms on 2 busy cores), so searches run on one thread.
_THREADS = ThreadpoolController()


@dataclass
class FaqDoc:
    """One FAQ entry: its id and the example questions / paraphrases that ask for it."""

    id: str
    questions: list[str]


@dataclass
class Signals:
    """Uncalibrated evidence for one entry: ridge score, margin to the best other, best cosine, and
    how many example questions the entry has (its scores run lower when it has few)."""

    id: str
    score: float
    margin: float
    best_sim: float
    support: int


@dataclass
class FaqHit:
    """A candidate entry for a message; ``confidence`` estimates P(this entry is right)."""

    id: str
    confidence: float
    similarity: float = 0.0  # best raw similarity to one of the entry's own example questions


class _Lexical:
    """TF-IDF over jieba/latin words (1-2 grams) and character 2-4 grams, one L2 row per text."""

    def __init__(self, texts: list[str]) -> None:
        self._words = TfidfVectorizer(
            tokenizer=tokenize, token_pattern=None, lowercase=False,
            ngram_range=(1, 2), sublinear_tf=True,
        )
        self._chars = TfidfVectorizer(
            analyzer="char_wb", lowercase=False, ngram_range=(2, 4), sublinear_tf=True,
        )
        self._words.fit(texts)
        self._chars.fit(texts)
        # (analyzer, vocabulary, idf, column offset) per part, for the per-message fast path.
        self._parts = [
            (vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_, offset)
            for vectorizer, offset in ((self._words, 0), (self._chars, len(self._words.vocabulary_)))
        ]

    def transform(self, texts: list[str]) -> csr_matrix:
        """Rows whose dot products are the mean of the word and character cosines."""
        both = hstack([self._words.transform(texts), self._chars.transform(texts)])
        return (both.tocsr() / np.sqrt(2.0)).astype(np.float32)

    def terms(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """One text's row of :meth:`transform` as (columns, values), computed directly: scikit-learn's
        input checks cost about 0.6 ms per call, more than the whole search of a small FAQ."""
        columns: list[int] = []
        values: list[float] = []
        for analyze, vocabulary, idf, offset in self._parts:
            counts = Counter(vocabulary[t] for t in analyze(text) if t in vocabulary)
            if not counts:
                continue
            cols = np.fromiter(counts, dtype=np.int64, count=len(counts))
            weights = (np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts))) + 1.0) * idf[cols]
            columns.extend((cols + offset).tolist())
            values.extend((weights / np.linalg.norm(weights) / np.sqrt(2.0)).tolist())
        return np.asarray(columns, dtype=np.int64), np.asarray(values, dtype=np.float32)


class FaqIndex:
    """Searchable FAQ knowledge base; build once, then call :meth:`search` per message."""

    def __init__(
        self,
        ids: list[str],
        owner: np.ndarray,
        embeddings: np.ndarray,
        english: np.ndarray,
        lexical: _Lexical,
        lexical_rows: csr_matrix,
        weights: np.ndarray,
    ) -> None:
        self._ids = ids
        # owner (entry index of each question) is non-decreasing: entry runs start here.
        self._starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        self._support = np.diff(np.r_[self._starts, len(owner)])  # example questions per entry
        self._embeddings = embeddings
        self._english = english  # MiniLM rows; all zero for questions with Chinese in them
        self._english_rows = english.any(axis=1)
        self._has_english = bool(self._english_rows.any())  # a Chinese-only KB never needs the English encoder
        self._lexical = lexical
        self._postings = lexical_rows.T.tocsr()  # feature -> questions, read per query term
        self._weights = weights

    @classmethod
    def build(cls, docs: list[FaqDoc]) -> FaqIndex:
        """Index the entries; entries without any non-blank question are skipped."""
        ids: list[str] = []
        texts: list[str] = []
        owner: list[int] = []
        for doc in docs:
            questions = [q for q in (normalize(q) for q in doc.questions) if q]
            if not questions:
                continue
            texts.extend(questions)
            owner.extend([len(ids)] * len(questions))
            ids.append(doc.id)
        if not texts:
            raise ValueError("FaqIndex needs at least one entry with a question")
        embeddings = embed(texts)
        english = _english_embeddings(texts)
        lexical = _Lexical(texts)
        lexical_rows = lexical.transform(texts)
        owners = np.asarray(owner)
        weights = _fit_ridge(embeddings, english, lexical_rows, owners, len(ids))
        return cls(ids, owners, embeddings, english, lexical, lexical_rows, weights)

    def search(self, text: str, k: int = 3) -> list[FaqHit]:
        """Up to ``k`` entries, best first; an empty or unusable message gives no hit.

        Confidences never increase down the list, so a runner-up never looks surer than the top.
        """
        hits: list[FaqHit] = []
        ceiling = 1.0
        for s in self.rank(text, k):
            ceiling = min(ceiling, confidence(s.score, s.margin, s.best_sim, s.support))
            hits.append(FaqHit(id=s.id, confidence=ceiling, similarity=s.best_sim))
        return hits

    def rank(self, text: str, k: int = 3) -> list[Signals]:
        """Raw signals of the ``k`` best entries, best first (what ``search`` calibrates)."""
        query = normalize(text)
        if not query or k <= 0:
            return []
        with _THREADS.limit(limits=1, user_api="blas"):
            scores, best_sim = self._scores(query)
        order = np.argsort(-scores)[:k]
        top = float(scores[order[0]])
        runner_up = float(scores[order[1]]) if len(order) > 1 else 0.0
        return [
            Signals(
                id=self._ids[entry],
                score=float(scores[entry]),
                margin=float(scores[entry]) - (runner_up if rank == 0 else top),
                best_sim=float(best_sim[entry]),
                support=int(self._support[entry]),
            )
            for rank, entry in enumerate(order)
        ]

    def _scores(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """(ridge score per entry, best raw similarity to each entry's own questions)."""
        dense = self._embeddings @ embed_one(query)
        if self._has_english and not has_chinese(query):
            # English to English: the cosine of [USE, sqrt(w) * MiniLM], as in the kernel. A Chinese
            # question keeps the plain USE cosine, so English customers still find Chinese-only entries.
            blended = (dense + ENGLISH_WEIGHT * (self._english @ embed_english_one(query))) / (1.0 + ENGLISH_WEIGHT)
            dense = np.where(self._english_rows, blended, dense)
        sim = _similarity(dense, self._lexical_cosines(query))
        scores = np.exp(GAMMA * (sim - 1.0)) @ self._weights
        return scores, np.maximum.reduceat(sim, self._starts)


    def _lexical_cosines(self, query: str) -> np.ndarray:
        """TF-IDF cosine of the query with every question, reading only the postings of its terms."""
        columns, values = self._lexical.terms(query)
        postings = self._postings
        starts = postings.indptr[columns]
        lengths = postings.indptr[columns + 1] - starts
        # Positions of every posting of every query term, without a Python loop over the terms.
        positions = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        weights = postings.data[positions] * np.repeat(values, lengths)
        cosines = np.bincount(postings.indices[positions], weights=weights, minlength=postings.shape[1])
        return cosines.astype(np.float32)  # float64 here would turn every later product into float64


def _similarity(dense_cos: np.ndarray, lexical_cos: np.ndarray) -> np.ndarray:
    """Blend of embedding and TF-IDF cosines, in [-1, 1]."""
    return (1.0 - LEXICAL_WEIGHT) * dense_cos + LEXICAL_WEIGHT * lexical_cos


def _dense_scale(english_rows: np.ndarray) -> np.ndarray:
    """1 / norm of each text's [USE, sqrt(w) * MiniLM] vector (both parts are unit vectors)."""
    return (1.0 / np.sqrt(1.0 + ENGLISH_WEIGHT * english_rows)).astype(np.float32)


def _english_embeddings(texts: list[str]) -> np.ndarray:
    """MiniLM embeddings of the questions without Chinese; zero rows for the others."""
    english = np.zeros((len(texts), 384), dtype=np.float32)
    rows = [i for i, text in enumerate(texts) if not has_chinese(text)]
    if rows:
        english[rows] = embed_english([texts[i] for i in rows])
    return english


def _fit_ridge(
    embeddings: np.ndarray, english: np.ndarray, lexical_rows: csr_matrix, owner: np.ndarray, n_docs: int
) -> np.ndarray:
    """Dual kernel ridge weights (questions x entries) for one-hot entry targets."""
    dense = embeddings @ embeddings.T
    dense += ENGLISH_WEIGHT * (english @ english.T)
    scale = _dense_scale(english.any(axis=1))
    dense *= scale[:, None]
    dense *= scale[None, :]
    sim = _similarity(dense, (lexical_rows @ lexical_rows.T).toarray())
    del dense
    kernel = np.exp(GAMMA * (sim - 1.0), dtype=np.float32)
    del sim
    kernel[np.diag_indices_from(kernel)] += RIDGE
    targets = np.zeros((len(owner), n_docs), dtype=np.float32)
    targets[np.arange(len(owner)), owner] = 1.0
    return solve(kernel, targets, assume_a="pos", overwrite_a=True, check_finite=False).astype(np.float32)
