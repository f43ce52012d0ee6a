from __future__ import annotations

import json
from pathlib import Path

import pytest
from transformers import TrainerCallback


def mined_row(i: int, n_neg: int = 2, **extra) -> dict:
    """Row i: texts of distinct lengths per pair (i + 1 words), so even a crude tokenizer tells them apart."""
    words = ("cell gene protein cancer risk study patients effect blood brain heart disease virus "
             "infection immune response level high low model").split()
    span = words[i % len(words) : i % len(words) + i % 7 + 1]
    query = " ".join(span)
    row = {
        "query_id": f"q{i}", "query": query, "positive_id": f"d{i}", "positive": query + " increase",
        "positive_score": 0.9,
        "negative_ids": [f"n{i}-{k}" for k in range(n_neg)],
        "negatives": [" ".join(words[(i + 5 * (k + 1)) % 20 : (i + 5 * (k + 1)) % 20 + k + 2]) + " decrease"
                      for k in range(n_neg)],
        "negative_scores": [0.5 - 0.1 * k for k in range(n_neg)],
        "negative_ranks": list(range(1, n_neg + 1)),
    }
    row.update(extra)
    return row


def toy_row(i: int) -> dict:
    """Row i of a learnable toy set: every text has its own length, so the tiny tokenizer tells them apart."""
    words = "cell gene protein cancer risk study patients effect blood brain heart disease virus immune".split()
    text = lambda n, offset: " ".join(words[(offset + j) % len(words)] for j in range(n))  # noqa: E731
    return {"query_id": f"q{i}", "query": text(i + 1, i), "positive_id": f"p{i}", "positive": text(5 + 2 * i, i),
            "positive_score": 0.9, "negative_ids": [f"n{i}"], "negatives": [text(13 + 2 * i, i + 3)],
            "negative_scores": [0.5], "negative_ranks": [1]}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def mined_file(tmp_path) -> Path:
    return write_jsonl(tmp_path / "mined.jsonl", [mined_row(i) for i in range(12)])


@pytest.fixture
def make_row():
    """Factory for native rows: ``make_row(i, n_neg=2, **extra_keys)``."""
    return mined_row


@pytest.fixture
def write_mined():
    """``write_mined(path, rows) -> path`` writes native JSONL."""
    return write_jsonl


class InterruptAt(TrainerCallback):
    """Raises KeyboardInterrupt (a Ctrl-C) at the end of training step ``step``."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt


@pytest.fixture
def dev_dir(tmp_path):
    """A BEIR dev split over the training rows' texts: queries q0..q5, each judged against its positive."""
    from negmine.testing.beir import write_beir

    rows = [mined_row(i) for i in range(12)]
    corpus = {r["positive_id"]: r["positive"] for r in rows}
    corpus.update({r["negative_ids"][k]: r["negatives"][k] for r in rows for k in range(2)})
    queries = {r["query_id"]: r["query"] for r in rows[:6]}
    return write_beir(tmp_path / "dev", corpus, queries, [(r["query_id"], r["positive_id"], 1) for r in rows[:6]],
                      split="dev")
