from __future__ import annotations

import numpy as np
import pytest

from negmine.errors import NegmineWarning
from negmine.retrieve.bm25 import BM25Retriever, TokenIds
from negmine.retrieve.bm25_sharded import ShardedBM25, document_frequencies


def _corpus(n_docs: int = 1200, seed: int = 0) -> tuple[list[str], list[str]]:
    """Skewed word frequencies and lengths 0-40 (some documents empty), so shard statistics differ."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(300)]
    p = np.r_[np.full(30, 0.02), np.full(270, 0.4 / 270)]
    texts = [" ".join(rng.choice(words, rng.integers(0, 40), p=p)) for _ in range(n_docs)]
    texts[5] = "the and of"  # stopwords only: an empty document
    queries = [" ".join(rng.choice(words, 5)) for _ in range(40)] + ["zebra", "the"]
    return texts, queries


# the warning of _corpus's last two queries ("zebra", "the"), checked in test_shards_give_the_bits_of_one_global_index
TOKENLESS = ("2 of 42 queries have no BM25 token (no word of two or more letters or digits that the corpus has), "
             "e.g. 'zebra': BM25 retrieves no document for them (mining with method='bm25' (--retriever bm25) gives "
             "their pairs no negatives; method='dense' or 'hybrid' (--retriever dense or hybrid) does)")
pytestmark = pytest.mark.filterwarnings("ignore:2 of 42 queries have no BM25 token:negmine.errors.NegmineWarning")


def test_document_frequencies_count_documents_not_occurrences():
    ids = TokenIds.from_stream([[0, 0, 1], [1, 2], [], [2, 2, 2, 0]])
    assert document_frequencies(ids, 4, chunk=3).tolist() == [2, 2, 2, 0]


def test_document_frequencies_match_a_count_of_token_sets_whatever_the_repetition():
    rng = np.random.default_rng(3)
    docs = [rng.integers(0, 50, rng.integers(0, 400)).tolist() for _ in range(300)]
    docs[7] = [4] * 1000  # one token repeated more often than any small integer type holds
    want = np.zeros(60, dtype=np.int64)
    for doc in docs:
        want[sorted(set(doc))] += 1
    for chunk in (1, 7, 1000):
        np.testing.assert_array_equal(document_frequencies(TokenIds.from_stream(docs), 60, chunk=chunk), want)


@pytest.mark.parametrize("shard_size", [1, 97, 400, 5000])
def test_shards_give_the_bits_of_one_global_index(shard_size):
    texts, queries = _corpus()
    whole = BM25Retriever.from_texts(texts)
    sharded = ShardedBM25.from_texts(texts, shard_size=shard_size)
    assert len(sharded.shards) == -(-len(texts) // shard_size) and sharded.n_docs == len(texts)
    rows = np.arange(0, len(texts), 3)
    for query in queries[:8] + queries[-2:]:
        np.testing.assert_array_equal(sharded.score(query, rows), whole.score(query, rows))
    with pytest.warns(NegmineWarning) as caught:
        got, want = sharded.search(queries, depth=15), whole.search(queries, depth=15)
    assert [str(w.message) for w in caught] == [TOKENLESS, TOKENLESS]  # the sharded index warns as the whole one
    np.testing.assert_array_equal(got.scores, want.scores)
    np.testing.assert_array_equal(got.indices, want.indices)  # ties too: equal bits, lower index first
    assert (got.indices[-2:] == -1).all()  # unknown word, stopword-only query: no candidates


def test_ties_and_padding_follow_the_single_index_rules():
    sharded = ShardedBM25.from_texts(["kiwi lime", "lime kiwi", "kiwi lime", "mango"], shard_size=2)
    result = sharded.search(["kiwi", "mango"], depth=3)
    assert result.indices.tolist() == [[0, 1, 2], [3, -1, -1]]
    assert result.indices.dtype == np.int64 and result.scores.dtype == np.float32


def test_token_files_live_in_a_temporary_folder_under_workdir(tmp_path):
    sharded = ShardedBM25.from_texts(["alpha beta", "beta gamma", "gamma"], shard_size=2, workdir=tmp_path / "w")
    (folder,) = (tmp_path / "w").iterdir()
    assert folder.name.startswith("negmine-bm25-") and sorted(p.name for p in folder.iterdir()) == [
        "shard-0.ids.npy", "shard-0.offsets.npy", "shard-1.ids.npy", "shard-1.offsets.npy"]
    assert sharded.search(["gamma"], depth=2).indices.tolist() == [[2, 1]]
    del sharded
    assert not folder.exists()



def test_token_folders_of_killed_processes_are_removed_by_the_next_index(tmp_path):
    """``kill -9`` runs no cleanup: the token folder a killed process left under the work folder is deleted when
    the next index is built there; a folder of a process still running stays."""
    import os
    import signal
    import subprocess
    import sys

    work = tmp_path / "w"
    killed = subprocess.run([sys.executable, "-c",
        "import os, signal\n"
        "from negmine.retrieve.bm25_sharded import ShardedBM25\n"
        f"index = ShardedBM25.from_texts(['alpha beta', 'beta gamma', 'gamma'], shard_size=2, workdir={str(work)!r})\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"], capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    (left,) = work.iterdir()
    running = work / f"{left.name.split('.')[0]}.{os.getppid()}.abc"  # a live process's folder (this one's parent)
    running.mkdir()
    sharded = ShardedBM25.from_texts(["alpha beta", "beta gamma", "gamma"], shard_size=2, workdir=work)
    assert sorted(p.name for p in work.iterdir()) == sorted([running.name, sharded.shards[0][0].parent.name])


def test_shards_run_as_tasks_of_the_given_engine_in_any_order():
    texts, queries = _corpus(300)

    class Reversed:
        """An engine that runs every task but yields the results last shard first."""

        name, workers, tasks = "reversed", 1, 0

        def map(self, setup, task, items, desc=""):
            state, done = setup(), []
            for key, payload in items:
                self.tasks += 1
                done.append((key, task(state, payload)))
            yield from reversed(done)

    engine = Reversed()
    got = ShardedBM25.from_texts(texts, shard_size=70, engine=engine).search(queries, depth=10)
    want = BM25Retriever.from_texts(texts).search(queries, depth=10)
    assert engine.tasks == 5
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.scores, want.scores)


def test_bad_input_errors():
    with pytest.raises(ValueError, match="shard_size must be a positive integer, got 0"):
        ShardedBM25.from_texts(["a b"], shard_size=0)
    with pytest.raises(ValueError, match="empty corpus"):
        ShardedBM25.from_texts([], shard_size=10)
    sharded = ShardedBM25.from_texts(["alpha", "beta"], shard_size=1)
    with pytest.raises(ValueError, match="depth must be a positive integer"):
        sharded.search(["alpha"], depth=0)
    with pytest.raises(IndexError, match=r"out of range \[0, 2\)"):
        sharded.score("alpha", np.array([2]))


def test_a_stemmer_gives_the_same_bits_as_one_index():
    texts, queries = _corpus(300, seed=1)
    stem = lambda word: word[:2]  # noqa: E731 - merges w10..w19 and so on into one stem
    whole = BM25Retriever.from_texts(texts, stemmer=stem)
    sharded = ShardedBM25.from_texts(texts, shard_size=70, stemmer=stem)
    got, want = sharded.search(queries, depth=10), whole.search(queries, depth=10)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.scores, want.scores)
    np.testing.assert_array_equal(sharded.score(queries[0], np.arange(300)), whole.score(queries[0], np.arange(300)))


class _Counting:
    """Local engine that counts tasks and can die (like a killed job) after ``die_after`` of them."""

    name, workers = "counting", 1

    def __init__(self, die_after: int | None = None) -> None:
        self.tasks, self.die_after = 0, die_after

    def map(self, setup, task, items, desc=""):
        state = setup()
        for key, payload in items:
            if self.die_after is not None and self.tasks == self.die_after:
                raise KeyboardInterrupt
            self.tasks += 1
            yield key, task(state, payload)


def _killed_after(texts, queries, results, shards: int) -> None:
    """A search over shards of 70 documents killed (like Ctrl-C) after ``shards`` finished shards."""
    with pytest.raises(KeyboardInterrupt):
        ShardedBM25.from_texts(texts, shard_size=70, engine=_Counting(die_after=shards), results_dir=results).search(
            queries, depth=10)


def _assert_same(got, texts, queries) -> None:
    want = BM25Retriever.from_texts(texts).search(queries, depth=10)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.scores, want.scores)


def test_a_killed_search_resumes_from_the_saved_shards(tmp_path):
    texts, queries = _corpus(300)
    results = tmp_path / "bm25-run"
    _killed_after(texts, queries, results, 3)
    assert sorted(p.name for p in results.iterdir()) == ["0.npz", "1.npz", "2.npz", "layout.json"]  # no partial file
    again = _Counting()
    got = ShardedBM25.from_texts(texts, shard_size=70, engine=again, results_dir=results).search(queries, depth=10)
    assert again.tasks == 2  # shards 3 and 4 only
    _assert_same(got, texts, queries)


def test_a_resumed_search_s_bar_counts_the_saved_shards(tmp_path, capsys):
    """Resumed with 3 of 5 shards saved, the bar showed '0/2': no sign of the saved ones. Now '3/5' to '5/5'."""
    texts, queries = _corpus(300)
    results = tmp_path / "bm25-run"
    _killed_after(texts, queries, results, 3)
    capsys.readouterr()
    ShardedBM25.from_texts(texts, shard_size=70, results_dir=results).search(queries, depth=10, show_progress=True)
    bar = capsys.readouterr().err.replace("\r", "\n")
    assert "bm25 shards:  60%" in bar and "| 3/5 [" in bar and "| 5/5 [" in bar, bar


def test_saved_shards_record_their_layout_and_are_never_merged_into_another(tmp_path):
    from negmine.retrieve.bm25_sharded import saved_shard_size

    texts, queries = _corpus(300)
    results = tmp_path / "bm25-run"
    assert saved_shard_size(results) is None
    _killed_after(texts, queries, results, 1)
    assert saved_shard_size(results) == 70
    other = ShardedBM25.from_texts(texts, shard_size=50, results_dir=results)
    with pytest.raises(ValueError, match=r"bm25-run holds the top-k of shards of 70 documents, this index has "
                                         r"shards of 50: build it with shard_size=70 to resume"):
        other.search(queries, depth=10)


@pytest.mark.parametrize(("content", "problem"), [
    ('{"shard_size": 70, "n_d', ":1: invalid JSON: Unterminated string starting at"),  # cut short
    ("[70]", ": must hold a JSON object, got array"),
    ('{"shard_size": "70", "n_docs": 300, "words": 1}', ": field 'shard_size': must be a positive integer, got \"70\""),
])
def test_a_saved_layout_negmine_cannot_read_is_named_with_the_way_out(tmp_path, content, problem):
    """A JSONDecodeError (or AttributeError) traceback before, as the resumed search started."""
    from negmine.errors import InputError
    from negmine.retrieve.bm25_sharded import saved_shard_size

    texts, queries = _corpus(300)
    results = tmp_path / "bm25-run"
    _killed_after(texts, queries, results, 1)
    (results / "layout.json").write_text(content, encoding="utf-8")
    want = (f"{results / 'layout.json'}{problem}; negmine wrote this file to resume a BM25 search it was stopped in, "
            f"so it was cut short or edited: delete the folder {results} (its saved shards are searched again)")
    with pytest.raises(InputError) as info:
        saved_shard_size(results)
    assert str(info.value) == want
    with pytest.raises(InputError) as info:
        ShardedBM25.from_texts(texts, shard_size=70, results_dir=results).search(queries, depth=10)
    assert str(info.value) == want


def test_local_worker_processes_search_shards_with_the_same_bits():
    texts, queries = _corpus(300)
    sharded = ShardedBM25.from_texts(texts, shard_size=70, search_workers=2)
    assert sharded.search_workers == 2
    _assert_same(sharded.search(queries, depth=10), texts, queries)


def test_search_workers_resume_from_saved_shards_and_save_the_rest(tmp_path):
    texts, queries = _corpus(300)
    results = tmp_path / "bm25-run"
    _killed_after(texts, queries, results, 2)
    saved = {p.name: p.stat().st_ino for p in results.iterdir()}
    parallel = ShardedBM25.from_texts(texts, shard_size=70, results_dir=results, search_workers=2)
    got = parallel.search(queries, depth=10)
    assert sorted(p.name for p in results.iterdir()) == ["0.npz", "1.npz", "2.npz", "3.npz", "4.npz", "layout.json"]
    assert {name: (results / name).stat().st_ino for name in saved} == saved  # read, not searched and rewritten
    _assert_same(got, texts, queries)


def test_a_distributed_engine_gets_the_shards_whatever_search_workers_says():
    texts, queries = _corpus(300)
    engine = _Counting()
    ShardedBM25.from_texts(texts, shard_size=70, engine=engine, search_workers=4).search(queries, depth=10)
    assert engine.tasks == 5


def test_search_workers_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="search_workers must be a positive integer, got 0"):
        ShardedBM25.from_texts(["a b", "c d"], shard_size=1, search_workers=0)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"search_workers": 0}, "search_workers must be a positive integer, got 0"),
    ({"workers": 0}, "workers must be a positive integer, got 0"),
    ({"shard_size": 0}, "shard_size must be a positive integer, got 0"),
])
def test_bad_arguments_are_refused_before_the_token_folder_is_made(tmp_path, kwargs, message):
    """A bad search_workers was refused only after the whole corpus was tokenised into a temporary folder, which was
    left to the garbage collector (ResourceWarning 'Implicitly cleaning up' under python -W default); workers=0
    tokenised in one process without a word."""
    import gc
    import warnings

    work = tmp_path / "w"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match=message):
            ShardedBM25.from_texts(["alpha beta", "beta gamma"], **{"shard_size": 1, "workdir": work, **kwargs})
        gc.collect()
    assert not work.exists(), "nothing was made"
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


@pytest.mark.parametrize(("texts", "error", "message"), [
    ([], ValueError, "cannot build a BM25 index over an empty corpus"),
    (["x + y = 1", "😀 😀"], "ConfigError", "BM25 cannot index this corpus: none of its 2 documents has a word"),
])
def test_a_corpus_refused_once_tokenised_removes_its_token_folder_at_once(tmp_path, texts, error, message):
    """The token folder of an empty or tokenless corpus was left to the garbage collector (ResourceWarning
    'Implicitly cleaning up' under python -W default): it is removed before the error propagates."""
    import gc
    import warnings

    from negmine.errors import ConfigError

    work = tmp_path / "w"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ConfigError if error == "ConfigError" else error, match=message) as info:
            ShardedBM25.from_texts(texts, shard_size=1, workdir=work)
        assert list(work.iterdir()) == [], "removed while the error (and its traceback) is still held"
        del info
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_a_stop_while_tokenising_removes_the_shards_written_so_far_at_once(tmp_path):
    """A run stopped midway (Ctrl-C, a text that fails) left its token files until the garbage collector came."""
    def texts():
        yield from ("alpha beta", "beta gamma", "gamma delta")
        raise KeyboardInterrupt

    work = tmp_path / "w"
    with pytest.raises(KeyboardInterrupt) as info:
        ShardedBM25.from_texts(texts(), shard_size=1, workdir=work)
    assert list(work.iterdir()) == [], "removed while the error (and its traceback) is still held"
    del info


def test_spawned_workers_as_on_macos_and_windows_give_the_same_bits_and_close_cleanly(tmp_path):
    from negmine.testing.scripts import SPAWN_WORKERS, indented, run_script

    out = run_script(tmp_path / "spawned.py",
        "import numpy as np\n"
        "from negmine.retrieve.bm25 import BM25Retriever\n"
        "from negmine.retrieve.bm25_sharded import ShardedBM25\n"
        "if __name__ == '__main__':\n"
        + indented(SPAWN_WORKERS)
        + "    rng = np.random.default_rng(0)\n"
        "    words = [f'w{i}' for i in range(200)]\n"
        "    texts = [' '.join(rng.choice(words, rng.integers(1, 30))) for _ in range(500)]\n"
        "    queries = [' '.join(rng.choice(words, 4)) for _ in range(30)]\n"
        "    got = ShardedBM25.from_texts(texts, shard_size=100, search_workers=2).search(queries, 10)\n"
        "    want = BM25Retriever.from_texts(texts).search(queries, 10)\n"
        "    print(np.array_equal(got.indices, want.indices) and np.array_equal(got.scores, want.scores))\n")
    assert out.stdout.strip() == "True"
    assert "leaked" not in out.stderr, out.stderr  # the pool was shut down, not its workers killed


def test_chinese_text_gives_the_bits_of_one_index():
    rng = np.random.default_rng(1)
    chars = list("机器学习是人工智能的一个分支它使计算机能够从数据中东京日本首都世界")
    texts = ["".join(rng.choice(chars, rng.integers(1, 30))) for _ in range(200)]
    queries = ["".join(rng.choice(chars, 4)) for _ in range(20)]
    _assert_same(ShardedBM25.from_texts(texts, shard_size=70).search(queries, depth=10), texts, queries)


def test_a_corpus_without_any_word_is_refused_with_the_fix():
    from negmine.errors import ConfigError

    with pytest.raises(ConfigError, match="BM25 cannot index this corpus: none of its 3 documents has a word"):
        ShardedBM25.from_texts(["x + y = 1", "😀 😀", "？！。"], shard_size=2)


def test_shards_saved_with_other_tokens_are_searched_again(tmp_path):
    """Shards saved before the tokens changed (no ``words`` version in their layout) are not merged."""
    import json

    from negmine.retrieve.bm25_sharded import saved_shard_size

    texts, queries = _corpus(300)
    results = tmp_path / "bm25-run"
    _killed_after(texts, queries, results, 2)
    layout = results / "layout.json"
    layout.write_text(json.dumps({"shard_size": 70, "n_docs": 300}), encoding="utf-8")  # as the old version wrote
    np.savez(results / "0.npz", indices=np.zeros((len(queries), 10), np.int64), scores=np.ones((len(queries), 10), np.float32))
    assert saved_shard_size(results) is None
    again = _Counting()
    got = ShardedBM25.from_texts(texts, shard_size=70, engine=again, results_dir=results).search(queries, depth=10)
    assert again.tasks == 5  # every shard, none read back
    _assert_same(got, texts, queries)
    assert saved_shard_size(results) == 70
