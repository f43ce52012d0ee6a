from __future__ import annotations

import numpy as np
import pytest

from negmine.testing.beir import write_beir

WORDS = ["sleep", "coffee", "battery", "river", "violin", "garden", "planet", "bread", "engine", "winter",
         "castle", "forest", "silver", "doctor", "market", "ocean"]


def word_corpus(n_docs: int = 120, n_queries: int = 12) -> tuple[dict, dict, list]:
    """Docs of 4 words each (a few exact duplicates), queries of 2 words, one positive per query."""
    corpus = {}
    for i in range(n_docs):
        words = [WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(4)]
        corpus[f"d{i}"] = " ".join(words) + f" item {i % 9}"
    corpus["dup"] = corpus["d5"]
    queries = {f"q{i}": f"{WORDS[i % len(WORDS)]} {WORDS[(i + 5) % len(WORDS)]}" for i in range(n_queries)}
    qrels = [(f"q{i}", f"d{(i * 11) % n_docs}", 1) for i in range(n_queries)]
    return corpus, queries, qrels


@pytest.fixture
def word_beir(tmp_path):
    corpus, queries, qrels = word_corpus()
    return write_beir(tmp_path / "beir", corpus, queries, qrels)


def normed(n: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)
