from __future__ import annotations

import numpy as np

from negmine.audit.items import item_from_row
from negmine.audit.judges.teacher import Teacher, TeacherJudge
from negmine.audit.vectors import TextVectors
from negmine.testing.hash_embedder import HashEmbedder

from ..conftest import native_row


def teacher(name: str, embedder) -> Teacher:
    return Teacher(name, TextVectors(embedder), TextVectors(embedder))


class Table:
    """A teacher embedder with fixed vectors per text."""

    dim = 2
    fingerprint = "table"

    def __init__(self, vectors: dict[str, list[float]]):
        self.vectors = vectors

    def encode(self, texts, prompt=""):
        return np.array([self.vectors[t] for t in texts], dtype=np.float32)


def item():
    return item_from_row(native_row("q", "coffee caffeine cup", "p", "coffee caffeine cup study", 0.5, [
        ("same", "coffee caffeine cup", 0.3), ("other", "lithium battery", 0.2)]))


def test_teacher_flags_a_candidate_it_scores_above_the_positive():
    j = TeacherJudge([teacher("hash", HashEmbedder())], relative_margin=0.05).judge([item()])[0]
    assert j.flags.tolist() == [True, False]
    pos, cand = j.relevance["teacher:hash"]
    assert cand[0] > pos > cand[1]
    assert "1/1 teachers" in j.reasons[0] and "hash" in j.reasons[0]


def test_all_teachers_must_agree_by_default_and_min_votes_relaxes_it():
    text = item()
    agree = teacher("hash", HashEmbedder())
    # candidate 'same' has the query's text; the table teacher scores both candidates 1.0 > positive 0.8
    disagree = teacher("table", Table({text.query: [1.0, 0.0], text.positive: [0.8, 0.6], "lithium battery": [1.0, 0.0]}))
    both = TeacherJudge([agree, disagree]).judge([text])[0]
    assert both.flags.tolist() == [True, False]
    one = TeacherJudge([agree, disagree], min_votes=1).judge([text])[0]
    assert one.flags.tolist() == [True, True]
    assert set(one.evidence) == {"teacher:hash", "teacher:table"}
    assert "1/2 teachers" in one.reasons[1]


def test_each_text_is_encoded_once_per_batch():
    emb = HashEmbedder()
    judge = TeacherJudge([teacher("hash", emb)])
    judge.judge([item(), item()])
    assert emb.texts_encoded == 1 + 3, "one query, the positive and two candidates"
    judge.judge([item()])
    assert emb.texts_encoded == 4, "memoised across batches"
