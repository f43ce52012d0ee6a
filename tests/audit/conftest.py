from __future__ import annotations

import json

import pytest

from negmine.export.native import make_row
from negmine.testing.hash_embedder import HashEmbedder

POSITIVE = (
    "Melatonin improves sleep quality in adults. Patients slept longer at night. "
    "The trial measured rest and dream recall over eight weeks."
)
NEAR_COPY = (
    "The trial measured rest and dream recall over eight weeks. Melatonin improves sleep quality in adults. "
    "Patients slept longer at night."
)
SIBLING = "Caffeine at night delays sleep onset and shortens deep sleep in healthy volunteers."
SIBLING_COPY = "Caffeine at night delays sleep onset and shortens deep sleep."


def native_row(query_id, query, positive_id, positive, positive_score, negatives, candidate_score_sd=0.1):
    """``negatives``: list of (id, text, score). ``candidate_score_sd`` 0.1 puts the default sd margin's
    threshold (s_p - 0.05) just below the 95% rule's for these scores, so both flag the same candidates."""
    return make_row(
        query_id=query_id, query=query, positive_id=positive_id, positive=positive, positive_score=positive_score,
        negative_ids=[n[0] for n in negatives], negatives=[n[1] for n in negatives],
        negative_scores=[n[2] for n in negatives], negative_ranks=list(range(2, 2 + len(negatives))),
        candidate_score_sd=candidate_score_sd,
    )


def sample_rows() -> list[dict]:
    return [
        native_row("q1", "does melatonin improve sleep at night", "p1", POSITIVE, 0.80, [
            ("n-copy", NEAR_COPY, 0.70),
            ("n-coffee", "Coffee beans are roasted before brewing espresso in a cup.", 0.30),
            ("n-sib", SIBLING_COPY, 0.40),
            ("n-battery", "Lithium battery cathode voltage and charge cycles.", 0.10),
        ]),
        native_row("q1", "does melatonin improve sleep at night", "p2", SIBLING, 0.60, [
            ("n-coffee", "Coffee beans are roasted before brewing espresso in a cup.", 0.30),
            ("n-battery", "Lithium battery cathode voltage and charge cycles.", 0.10),
        ]),
        native_row("q2", "lithium battery charge", "p3", "Lithium battery charge cycles degrade the cathode.", 0.20, [
            ("n-a", "Lithium battery charge and voltage of a lithium cell during charge.", 0.90),
            ("n-b", "Battery charge of lithium cells at low temperature.", 0.85),
            ("n-c", "Sleep and rest at night.", 0.05),
        ]),
    ]


@pytest.fixture
def rows():
    return sample_rows()


@pytest.fixture
def native_file(tmp_path, rows):
    path = tmp_path / "mined.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def hash_embedder():
    return HashEmbedder(dim=512)


TOPIC_DOCS = {
    "pos": "Coffee drinking raises blood pressure in adults. Caffeine acts on the heart within an hour. "
           "The effect was larger in patients with hypertension.",
    "copy": "The effect was larger in patients with hypertension. Coffee drinking raises blood pressure in adults. "
            "Caffeine acts on the heart within an hour.",
    "title": "Coffee drinking raises blood pressure in adults.",
}
FILLER = [
    "coffee cup roast brew bean", "caffeine tea energy drink study", "blood pressure salt diet trial",
    "heart rate exercise adults", "espresso crema grind roast coffee", "decaf coffee and sleep quality",
    "green tea caffeine and mood", "hypertension drugs in elderly patients", "coffee farming in brazil",
    "caffeine withdrawal headache", "pressure cooker recipes", "adult learning and memory",
]


@pytest.fixture
def topic_beir(tmp_path):
    from negmine.testing.beir import write_beir

    corpus = {**TOPIC_DOCS, **{f"f{i}": t for i, t in enumerate(FILLER)}}
    queries = {"q": "does coffee raise blood pressure in adults", "q2": "caffeine and sleep"}
    return write_beir(tmp_path / "beir", corpus, queries, [("q", "pos", 1), ("q2", "f5", 1)])
