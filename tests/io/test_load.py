from __future__ import annotations

import json
import re

import pytest

from negmine.config import DataConfig
from negmine.errors import ConfigError, InputError, NegmineWarning
from negmine.io.load import load_data
from negmine.testing.beir import write_beir


@pytest.fixture
def beir(tmp_path):
    folder = write_beir(
        tmp_path / "toy",
        corpus={"d1": "one", "d2": "two", "d3": "three"},
        queries={"q1": "first", "q2": "second"},
        qrels=[("q1", "d1", 1), ("q2", "d2", 1)],
    )
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq2\td3\t1\n")
    return folder


def test_beir_directory_and_split(beir):
    train = load_data(DataConfig(data_dir=beir))
    assert train.name == "toy" and train.pairs() == [("q1", "d1"), ("q2", "d2")]
    assert load_data(DataConfig(data_dir=beir, split="test")).pairs() == [("q2", "d3")]


def test_a_pairs_file_given_as_the_beir_directory_is_told_to_be_pairs(tmp_path):
    """`negmine mine pairs.jsonl` said only 'expected a BEIR directory ..., found a file'."""
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"query": "q", "positive": "p"}\n')
    with pytest.raises(InputError) as err:
        load_data(DataConfig(data_dir=pairs))
    assert str(err.value) == (f"{pairs}: expected a BEIR directory (corpus.jsonl, queries.jsonl, qrels/), found a file; "
                              f"a file of (query, positive) pairs is given as pairs (--pairs): negmine mine --pairs {pairs}")


def test_a_file_of_a_beir_directory_given_as_the_directory_is_told_its_folder(beir):
    """`negmine mine DEMO/corpus.jsonl` said only 'found a file'; told to give it as --pairs it would fail on columns."""
    with pytest.raises(InputError) as err:
        load_data(DataConfig(data_dir=beir / "corpus.jsonl"))
    assert str(err.value) == (f"{beir / 'corpus.jsonl'}: expected a BEIR directory (corpus.jsonl, queries.jsonl, "
                              f"qrels/), found a file; corpus.jsonl is a file of the BEIR directory {beir}: give the "
                              "directory")


def test_explicit_files(beir):
    config = DataConfig(corpus=beir / "corpus.jsonl", queries=beir / "queries.jsonl", qrels=beir / "qrels" / "test.tsv")
    data = load_data(config)
    assert data.pairs() == [("q2", "d3")] and len(data.corpus) == 3


def test_explicit_file_overrides_the_directory_file(beir, tmp_path):
    qrels = tmp_path / "mine.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\nq1\td3\t1\n")
    data = load_data(DataConfig(data_dir=beir, qrels=qrels))  # not qrels/train.tsv: q1-d1, q2-d2
    assert data.name == "toy" and data.pairs() == [("q1", "d3")]


@pytest.mark.parametrize("files", [{}, {"corpus": "corpus.jsonl", "queries": "queries.jsonl"}])
def test_an_explicit_qrels_file_with_a_split_is_refused(beir, tmp_path, files):
    """The split was read by no loader: ``split="test"`` with a qrels file mined the file's judgments, and the
    summary recorded split test."""
    qrels = tmp_path / "mine.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\nq1\td3\t1\n")
    paths = {name: beir / file for name, file in files.items()}
    with pytest.raises(ConfigError) as info:
        load_data(DataConfig(data_dir=None if files else beir, split="test", qrels=qrels, **paths))
    assert str(info.value) == (
        "DataConfig split='test' would be ignored: the judgments come from the --qrels file, not from a "
        "qrels/<split>.tsv; to mine a split of the BEIR directory, drop qrels (--qrels), or leave it at its default "
        "(split='train')")


def test_unknown_qrels_policy_reaches_the_loader(beir, tmp_path):
    qrels = tmp_path / "gaps.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\tmissing\t1\nq2\tmissing\t1\n")
    with pytest.raises(InputError, match=r"gaps\.tsv:3: field 'corpus-id': unknown corpus id 'missing'.*--unknown-qrels skip"):
        load_data(DataConfig(data_dir=beir, qrels=qrels))
    data = load_data(DataConfig(data_dir=beir, qrels=qrels, unknown_qrels="skip"))
    assert data.pairs() == [("q1", "d1")]
    assert data.skipped_qrels()["skipped"] == 2 and data.skipped_qrels()["example_queries"] == ["q2"]


def test_unknown_qrels_policy_is_validated(beir):
    with pytest.raises(ConfigError, match=r"unknown unknown-qrels policy 'ignore'; allowed: error, skip"):
        load_data(DataConfig(data_dir=beir, unknown_qrels="ignore"))


def test_pairs_file_with_and_without_corpus(beir, tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"question": "first", "answer": "two"}) + "\n" + json.dumps({"question": "q", "answer": "new"}) + "\n")
    alone = load_data(DataConfig(pairs=pairs))
    assert alone.corpus.ids == ["d1", "d2"] and alone.pairs() == [("q1", "d1"), ("q2", "d2")]
    with pytest.warns(NegmineWarning, match=re.escape(
            f"{pairs}: 1 of 2 distinct positives is not in the corpus {beir / 'corpus.jsonl'} (exact text match;")):
        with_corpus = load_data(DataConfig(pairs=pairs, corpus=beir / "corpus.jsonl"))
    assert with_corpus.corpus.ids == ["d1", "d2", "d3", "p2"]
    assert with_corpus.pairs() == [("q1", "d2"), ("q2", "p2")]


def test_pairs_columns_are_passed_through(tmp_path):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("a,b\nx,y\n")
    data = load_data(DataConfig(pairs=pairs, query_column="b", positive_column="a"))
    assert (data.queries.texts, data.corpus.texts) == (["y"], ["x"])


def test_config_is_validated_first(beir):
    with pytest.raises(ConfigError, match="no input given"):
        load_data(DataConfig())
    with pytest.raises(ConfigError, match=r"^corpus \(--corpus\) given without queries \(--queries\), qrels \(--qrels\); "
                                          r"pass a BEIR directory"):
        load_data(DataConfig(corpus=beir / "corpus.jsonl"))
    with pytest.raises(ConfigError, match=r"^corpus \(--corpus\) and qrels \(--qrels\) given without queries \(--queries\); "):
        load_data(DataConfig(corpus=beir / "corpus.jsonl", qrels=beir / "qrels" / "train.tsv"))
    with pytest.raises(ConfigError, match=r"^pairs \(--pairs\) cannot be combined with a BEIR directory \(data_dir\)"):
        load_data(DataConfig(data_dir=beir, pairs=beir / "corpus.jsonl"))


@pytest.mark.parametrize("option", ["query_column", "positive_column"])
def test_column_options_without_pairs_are_rejected(beir, option):
    with pytest.raises(ConfigError, match=rf"^DataConfig {option}='x' would be ignored: the input is not a pairs file; "
                                          r"give the pairs file, pairs \(--pairs FILE\), or leave it at its default"):
        load_data(DataConfig(data_dir=beir, **{option: "x"}))


def test_bad_directory_and_split_errors(beir, tmp_path):
    with pytest.raises(InputError, match="BEIR directory not found"):
        load_data(DataConfig(data_dir=tmp_path / "missing"))
    with pytest.raises(InputError, match="split 'dev' not found; available splits: test, train"):
        load_data(DataConfig(data_dir=beir, split="dev"))


@pytest.mark.slow
def test_scifact_through_config(scifact_dir):
    data = load_data(DataConfig(data_dir=scifact_dir, split="train"))
    assert (len(data.corpus), len(data.queries), len(data.pairs()), len(data.qrels.query_ids())) == (5183, 1109, 919, 809)
    assert len(load_data(DataConfig(data_dir=scifact_dir, split="test")).qrels) == 339
