"""Integrity of the bundled minifacts demo dataset (plain json/csv on purpose: independent of negmine.io)."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pytest

import negmine.demo
from negmine.demo import DATASETS, demo_path
from negmine.errors import ConfigError

PLANTED_KINDS = {"paraphrase", "same_finding", "near_duplicate"}


def _norm(text: str) -> str:
    """Casefold and collapse whitespace: what a near-duplicate may differ in."""
    return " ".join(text.casefold().split())


def _jsonl(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.endswith(b"\n") and b"\r" not in raw, f"{path.name}: needs LF line ends and a trailing newline"
    rows = []
    for number, line in enumerate(raw.decode("utf-8").splitlines(), start=1):
        row = json.loads(line)
        assert line == json.dumps(row, ensure_ascii=False), f"{path.name}:{number} is not canonical JSON"
        rows.append(row)
    return rows


def _tsv(path: Path, header: list[str]) -> list[dict]:
    raw = path.read_bytes()
    assert raw.endswith(b"\n") and b"\r" not in raw, f"{path.name}: needs LF line ends and a trailing newline"
    lines = raw.decode("utf-8").splitlines()
    assert lines[0].split("\t") == header, f"{path.name}: header {lines[0]!r}"
    rows = list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    for number, row in enumerate(rows, start=2):
        assert None not in row and all(v not in (None, "") for v in row.values()), f"{path.name}:{number}: {row}"
    return rows


@pytest.fixture(scope="module")
def data() -> dict:
    root = demo_path("minifacts")
    corpus = _jsonl(root / "corpus.jsonl")
    queries = _jsonl(root / "queries.jsonl")
    qrels_header = ["query-id", "corpus-id", "score"]
    return {
        "root": root,
        "corpus": corpus,
        "docs": {d["_id"]: d for d in corpus},
        "queries": queries,
        "query_text": {q["_id"]: q["text"] for q in queries},
        "train": _tsv(root / "qrels" / "train.tsv", qrels_header),
        "test": _tsv(root / "qrels" / "test.tsv", qrels_header),
        "planted": _tsv(root / "planted.tsv", ["query-id", "corpus-id", "kind"]),
        "noisy": _tsv(root / "noisy_positives.tsv", ["query-id", "corpus-id", "reason"]),
        "topics": _tsv(root / "topics.tsv", ["id", "topic"]),
    }


def _pairs(rows: list[dict]) -> set[tuple[str, str]]:
    return {(r["query-id"], r["corpus-id"]) for r in rows}


def _positives(data: dict, split: str, clean: bool = False) -> dict[str, set[str]]:
    noisy = _pairs(data["noisy"]) if clean else set()
    out: dict[str, set[str]] = {}
    for row in data[split]:
        if (row["query-id"], row["corpus-id"]) not in noisy:
            out.setdefault(row["query-id"], set()).add(row["corpus-id"])
    return out


def test_demo_path_resolves_to_the_packaged_directory():
    root = demo_path()
    assert root == demo_path("minifacts")
    assert root.is_dir() and root.name == "minifacts"
    assert root.parent == Path(negmine.demo.__file__).resolve().parent
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/train.tsv", "qrels/test.tsv", "planted.tsv",
                 "noisy_positives.tsv", "topics.tsv", "README.md"):
        assert (root / name).is_file(), name


def test_unknown_demo_name_lists_the_available_datasets():
    with pytest.raises(ConfigError, match=r"unknown demo dataset 'scifact'; allowed: minifacts"):
        demo_path("scifact")
    assert "minifacts" in DATASETS


@pytest.mark.parametrize("split", ["train", "test"])
def test_demo_pairs_are_the_splits_judged_texts_as_a_datasets_dataset(data, split):
    """demo_pairs: the (query, positive) texts of the split's relevant judgments, in qrels order, as a
    datasets.Dataset with sentence-transformers' column names; a document reads as title + " " + text."""
    datasets = pytest.importorskip("datasets")
    from negmine.demo import demo_pairs

    pairs = demo_pairs(split)
    assert isinstance(pairs, datasets.Dataset) and pairs.column_names == ["anchor", "positive"]
    docs = data["docs"]
    expected = [{"anchor": data["query_text"][row["query-id"]],
                 "positive": f"{docs[row['corpus-id']]['title']} {docs[row['corpus-id']]['text']}"}
                for row in data[split] if int(row["score"]) > 0]
    assert pairs.to_list() == expected and len(expected) > 20
    with pytest.raises(ConfigError, match=r"unknown demo dataset 'scifact'; allowed: minifacts"):
        demo_pairs(name="scifact")


def test_records_have_the_beir_fields_zero_padded_unique_sorted_ids(data):
    for rows, prefix, keys in ((data["corpus"], "d", ["_id", "title", "text"]), (data["queries"], "q", ["_id", "text"])):
        ids = [r["_id"] for r in rows]
        assert all(list(r) == keys for r in rows)
        assert all(re.fullmatch(prefix + r"\d{3}", i) for i in ids), ids
        assert len(set(ids)) == len(ids)
        assert ids == sorted(ids)
        assert all(isinstance(r[k], str) and r[k] and r[k] == r[k].strip() for r in rows for k in keys)


def test_counts_are_within_the_documented_ranges(data):
    train, test = _positives(data, "train"), _positives(data, "test")
    clean = {**_positives(data, "train", clean=True), **_positives(data, "test", clean=True)}
    multi = [q for q, docs in clean.items() if len(docs) >= 2]
    assert 280 <= len(data["corpus"]) <= 320
    assert 75 <= len(data["queries"]) <= 85
    assert 55 <= len(train) <= 65 and 15 <= len(test) <= 25
    assert 8 <= len(multi) <= 12 and all(len(clean[q]) <= 3 for q in multi)
    assert 10 <= len(data["planted"]) <= 14
    assert 2 <= len(data["noisy"]) <= 4


def test_texts_are_short_ascii_abstracts_and_distinct(data):
    planted_dups = {r["corpus-id"] for r in data["planted"] if r["kind"] == "near_duplicate"}
    for doc in data["corpus"]:
        words = len(doc["text"].split())
        assert 40 <= words <= 90, (doc["_id"], words)
        assert doc["title"] and doc["title"].isascii() and doc["text"].isascii(), doc["_id"]
    for query in data["queries"]:
        assert query["text"].isascii() and 3 <= len(query["text"].split()) <= 30, query["_id"]
    normalised = Counter(_norm(d["title"] + " " + d["text"]) for d in data["corpus"] if d["_id"] not in planted_dups)
    assert max(normalised.values()) == 1
    assert len({_norm(q["text"]) for q in data["queries"]}) == len(data["queries"])


def test_qrels_reference_existing_ids_and_splits_are_disjoint(data):
    for split in ("train", "test"):
        rows = data[split]
        assert all(r["score"] == "1" for r in rows)
        assert all(r["query-id"] in data["query_text"] and r["corpus-id"] in data["docs"] for r in rows)
        assert len(_pairs(rows)) == len(rows), f"duplicate pairs in {split}"
        keys = [(r["query-id"], r["corpus-id"]) for r in rows]
        assert keys == sorted(keys)
    train, test = set(_positives(data, "train")), set(_positives(data, "test"))
    assert not train & test
    assert train | test == set(data["query_text"]), "every query is labelled in exactly one split"


def test_planted_false_negatives_are_unlabelled_train_pairs(data):
    train = _positives(data, "train")
    labelled = _pairs(data["train"]) | _pairs(data["test"])
    kinds = Counter(r["kind"] for r in data["planted"])
    assert set(kinds) == PLANTED_KINDS and kinds["near_duplicate"] == 1
    for row in data["planted"]:
        query, doc = row["query-id"], row["corpus-id"]
        assert query in train and doc in data["docs"], row
        assert (query, doc) not in labelled
        assert doc not in {d for _, d in labelled}, f"planted {doc} is a labelled positive elsewhere"
    keys = [(r["query-id"], r["corpus-id"]) for r in data["planted"]]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_near_duplicate_differs_from_a_positive_only_in_case_and_whitespace(data):
    train = _positives(data, "train")
    (row,) = [r for r in data["planted"] if r["kind"] == "near_duplicate"]
    dup = data["docs"][row["corpus-id"]]
    originals = [data["docs"][d] for d in train[row["query-id"]]]
    matches = [o for o in originals if (_norm(o["title"]), _norm(o["text"])) == (_norm(dup["title"]), _norm(dup["text"]))]
    assert len(matches) == 1 and (matches[0]["title"], matches[0]["text"]) != (dup["title"], dup["text"])


def test_noisy_positives_are_train_labels_next_to_a_correct_positive(data):
    train = _positives(data, "train")
    train_pairs = _pairs(data["train"])
    for row in data["noisy"]:
        assert (row["query-id"], row["corpus-id"]) in train_pairs, row
        assert len(train[row["query-id"]]) >= 2, "noisy query keeps a correct positive"
    topic = {r["id"]: r["topic"] for r in data["topics"]}
    off_topic = [r for r in data["noisy"] if topic[r["query-id"]] != topic[r["corpus-id"]]]
    assert off_topic, "at least one noisy positive is off-topic"


def test_topics_cover_every_id_once(data):
    ids = [r["id"] for r in data["topics"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert set(ids) == set(data["docs"]) | set(data["query_text"])
    per_topic = Counter(r["topic"] for r in data["topics"] if r["id"].startswith("d"))
    assert len(per_topic) >= 20 and min(per_topic.values()) >= 5


def test_readme_states_source_licence_and_lists_planted_and_noisy_pairs(data):
    readme = (data["root"] / "README.md").read_text(encoding="utf-8")
    assert "written for negmine, 2026-11-23" in readme and "CC0-1.0" in readme
    for row in data["planted"] + data["noisy"]:
        assert f"| {row['query-id']} | {row['corpus-id']} |" in readme, row


def _word_ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_no_text_is_copied_from_scifact(data, scifact_dir):
    """Original prose: no 10-word sequence is shared with SciFact's corpus or queries (skips without SciFact)."""
    ours = set()
    for record in data["corpus"] + data["queries"]:
        ours |= _word_ngrams(record.get("title", "") + " " + record["text"], 10)
    shared = set()
    for name in ("corpus.jsonl", "queries.jsonl"):
        with open(scifact_dir / name, encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                shared |= ours & _word_ngrams(record.get("title", "") + " " + record["text"], 10)
    assert not shared, sorted(shared)[:5]
