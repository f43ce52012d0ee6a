from __future__ import annotations

import functools

import numpy as np
import pytest

from negmine.encode.cache import EmbeddingCache
from negmine.encode.embed import embed_texts
from negmine.engine.encode import encode_to_store, rows_of
from negmine.engine.local import LocalEngine
from negmine.testing.gated_run import finished, wait_started
from negmine.testing.hash_embedder import HashEmbedder

TEXTS = [f"text {i % 13} word{i % 5}" for i in range(40)]  # 40 rows, 13*5 -> repeats


def _same(embedder):
    return embedder


def run(embedder, path, shard=4, cache=None, texts=TEXTS):
    shelf = cache.shelf(embedder.fingerprint, "p: ") if cache is not None else None
    return encode_to_store(
        LocalEngine(), functools.partial(_same, embedder), texts, "p: ", path, (embedder.fingerprint, embedder.dim),
        shard, shelf,
    )


def test_store_matches_embed_texts_and_each_distinct_text_is_encoded_once(tmp_path):
    embedder = HashEmbedder(32)
    result = run(embedder, tmp_path / "s.npy")
    expected = embed_texts(HashEmbedder(32), TEXTS, prompt="p: ").vectors
    assert np.array_equal(result.store.memmap(), expected)
    distinct = len(set(TEXTS))
    assert (result.n_encoded, result.n_cached) == (distinct, 0)
    assert embedder.texts_encoded == distinct


def test_rerun_skips_finished_shards(tmp_path):
    run(HashEmbedder(32), tmp_path / "s.npy")
    store_dir = tmp_path / "s.npy.done"
    (store_dir / "1").unlink()  # as if killed while shard 1 was being written
    embedder = HashEmbedder(32)
    again = run(embedder, tmp_path / "s.npy")
    assert embedder.texts_encoded == 4 and again.n_encoded == 4
    assert again.n_resumed == len(set(TEXTS)) - 4 and again.n_cached == 0  # no cache: read from the store
    assert np.array_equal(again.store.memmap(), embed_texts(HashEmbedder(32), TEXTS, prompt="p: ").vectors)


def test_a_resumed_run_s_bar_counts_the_finished_shards(tmp_path, capsys):
    """A run resumed at shard 5 of 10 showed 'encode corpus: 0/5': the bar gave no sign of the finished half, and
    its percentage was of what was left. It now starts at the finished shards' texts, out of all the texts (the bar
    counts texts since 2026-12-05: tests/engine/test_encode_progress.py)."""
    embedder = HashEmbedder(32)
    encode_to_store(LocalEngine(), functools.partial(_same, embedder), TEXTS, "p: ", tmp_path / "s.npy",
                    (embedder.fingerprint, embedder.dim), 4)
    (tmp_path / "s.npy.done" / "1").unlink()  # as if killed while shard 1 was being written
    capsys.readouterr()
    encode_to_store(LocalEngine(), functools.partial(_same, embedder), TEXTS, "p: ", tmp_path / "s.npy",
                    (embedder.fingerprint, embedder.dim), 4, show_progress=True, desc="encode corpus")
    bar = capsys.readouterr().err.replace("\r", "\n").splitlines()
    texts = len(set(TEXTS))
    assert any(line.startswith(f"encode corpus:  {100 * (texts - 4) // texts}%") and f"| {texts - 4}/{texts} ["
               in line for line in bar), bar
    assert f"| {texts}/{texts} [" in bar[-1] or f"| {texts}/{texts} [" in bar[-2], bar



class _StoppedInShard(HashEmbedder):
    """Encodes ``whole`` calls (shards), then reports a pass of 5 texts of the next and is stopped (Ctrl-C)."""

    def __init__(self, whole: int) -> None:
        super().__init__(32)
        self.whole = whole

    def encode(self, texts, prompt=""):
        from negmine.progress import advance

        if self.calls == self.whole:
            advance(5)
            raise KeyboardInterrupt
        return super().encode(texts, prompt)


@pytest.mark.parametrize("show_progress, lost", [(True, 5), (False, 0)])
def test_a_stopped_encoding_says_which_shards_finished_and_what_it_loses(tmp_path, show_progress, lost):
    """SciFact's mine stopped by Ctrl-C at 1,992 of 5,183 documents said the shards it finished were kept, while the
    one shard (8,192 texts) had not finished and the rerun encoded every document again. The interruption now
    carries where it stopped (the texts the model had encoded in the unfinished shard are counted from the bar's
    passes, so without a bar they are not known)."""
    from negmine.engine.encode import EncodingStopped

    embedder = _StoppedInShard(whole=2)
    with pytest.raises(KeyboardInterrupt) as info:
        encode_to_store(LocalEngine(), functools.partial(_same, embedder), TEXTS, "p: ", tmp_path / "s.npy",
                        (embedder.fingerprint, embedder.dim), 8, show_progress=show_progress, desc="encode corpus")
    assert info.value.negmine_encoding == EncodingStopped("encode corpus", 5, 2, 8, lost)

def test_cache_serves_a_new_store(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    run(HashEmbedder(32), tmp_path / "a.npy", cache=cache)
    embedder = HashEmbedder(32)
    second = run(embedder, tmp_path / "b.npy", shard=7, cache=cache)
    assert embedder.texts_encoded == 0 and second.n_cached == len(set(TEXTS))
    assert np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))


def test_worker_with_another_embedder_is_refused(tmp_path):
    with pytest.raises(RuntimeError, match="differs from the driver's"):
        encode_to_store(
            LocalEngine(), functools.partial(_same, HashEmbedder(32)), TEXTS, "", tmp_path / "s.npy",
            ("other-model", 32), 8,
        )


def test_rows_of_lists_every_row_of_each_text():
    from negmine.encode.embed import _plan

    plan = _plan(["a", "b", "a", "c", "b", "a"])
    rows, which = rows_of(plan, np.array([0, 2]))
    assert rows.tolist() == [0, 2, 3, 5] and which.tolist() == [0, 0, 1, 0]


# ---- two runs encoding the same texts at the same time ------------------------------------------------------
def _start_gated_run(tmp_path, name: str, gate, shard: int = 64, delay: float = 0.0):
    from negmine.testing.gated_run import start_gated_run

    return start_gated_run(tmp_path, tmp_path / "cache", tmp_path / f"{name}.npy", gate, TEXTS, "p: ", shard, delay)


def _in_thread(function):
    import threading

    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", function()), daemon=True)
    thread.start()
    return thread, box


def test_a_run_reads_what_a_concurrent_run_is_encoding_instead_of_encoding_it_again(tmp_path):
    """Run A (another process) is encoding every text; run B, started meanwhile with another shard size, waits
    for A's vectors in the cache instead of encoding them too, and its store is byte-identical."""
    gate = tmp_path / "gate"
    other = _start_gated_run(tmp_path, "a", gate)
    wait_started(gate)
    embedder = HashEmbedder(32)
    thread, box = _in_thread(lambda: run(embedder, tmp_path / "b.npy", shard=5, cache=EmbeddingCache(tmp_path / "cache")))
    thread.join(1.0)  # the old code encoded everything at once and was done here
    gate.touch()
    thread.join(60)
    assert finished(other) == {"encoded": len(set(TEXTS)), "cached": 0}
    assert embedder.texts_encoded == 0 and (box["result"].n_encoded, box["result"].n_cached) == (0, len(set(TEXTS)))
    expected = embed_texts(HashEmbedder(32), TEXTS, prompt="p: ").vectors
    assert np.array_equal(np.load(tmp_path / "b.npy"), expected) and np.array_equal(np.load(tmp_path / "a.npy"), expected)
    assert not list((tmp_path / "cache").rglob("encoding/*")), "claims are withdrawn"


def test_texts_a_killed_run_was_encoding_are_taken_over(tmp_path):
    """Run A is killed (SIGKILL) while run B waits for the texts A claimed: B encodes them itself."""
    import signal

    gate = tmp_path / "gate"  # never created: A stays in its first encode until killed
    other = _start_gated_run(tmp_path, "a", gate)
    wait_started(gate)
    embedder = HashEmbedder(32)
    thread, box = _in_thread(lambda: run(embedder, tmp_path / "b.npy", cache=EmbeddingCache(tmp_path / "cache")))
    thread.join(1.0)
    assert thread.is_alive(), "B waits for the texts A is encoding"
    other.send_signal(signal.SIGKILL)
    other.wait(30)
    thread.join(30)
    assert not thread.is_alive() and box["result"].n_encoded == len(set(TEXTS)) == embedder.texts_encoded
    assert np.array_equal(np.load(tmp_path / "b.npy"), embed_texts(HashEmbedder(32), TEXTS, prompt="p: ").vectors)
    assert not list((tmp_path / "cache").rglob("encoding/*")), "the dead run's claim is removed"


def test_a_hung_run_is_waited_for_at_most_the_wait_bound(tmp_path):
    import time

    from negmine.encode.inflight import InFlight

    gate = tmp_path / "gate"
    other = _start_gated_run(tmp_path, "a", gate)  # alive, but never gets past its first encode
    try:
        wait_started(gate)
        cache, embedder = EmbeddingCache(tmp_path / "cache"), HashEmbedder(32)
        shelf = cache.shelf(embedder.fingerprint, "p: ")
        t0 = time.monotonic()
        result = encode_to_store(LocalEngine(), functools.partial(_same, embedder), TEXTS, "p: ", tmp_path / "b.npy",
                                 (embedder.fingerprint, 32), 8, shelf, inflight=InFlight(shelf, 1.0, 0.05))
        assert 1.0 <= time.monotonic() - t0 < 30 and result.n_encoded == len(set(TEXTS))
    finally:
        other.kill()
        other.wait(30)


def test_two_runs_started_together_share_the_work_and_both_finish(tmp_path):
    """Each run leaves aside the shards the other is encoding, then reads them: neither waits on the other
    forever (a run waits only once it holds no claim), every text is encoded once or twice, never more, and both
    stores are byte-identical to a run alone."""
    gate = tmp_path / "gate"
    gate.touch()
    runs = [_start_gated_run(tmp_path, name, gate, shard=5, delay=0.3) for name in ("a", "b")]
    counts = [finished(proc) for proc in runs]
    distinct = len(set(TEXTS))
    assert all(c["encoded"] + c["cached"] == distinct for c in counts), counts
    assert distinct <= sum(c["encoded"] for c in counts) < 2 * distinct, counts
    expected = embed_texts(HashEmbedder(32), TEXTS, prompt="p: ").vectors
    assert all(np.array_equal(np.load(tmp_path / f"{name}.npy"), expected) for name in ("a", "b"))


def test_the_shard_bar_inside_another_bar_is_not_drawn_on_a_log_file(capfd):
    """The rule of negmine.progress for the engine's shard bars (mining's "encode queries", the model's text bar
    inside it): nested on a stream that is no terminal, a bar is opened disabled."""
    from negmine.engine.encode import _bar

    with _bar(True, 3, 1, "encode queries") as bar:
        assert not bar.disable
        with _bar(True, 3, 0, "nested") as nested:
            assert nested.disable
    err = capfd.readouterr().err
    assert "encode queries" in err and "nested" not in err and "\x1b[" not in err


class _LabelSeen(HashEmbedder):
    """Records the label an embedder's own bar would get at each encode call."""

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self.labels: list[str] = []

    def encode(self, texts, prompt=""):
        from negmine.progress import encode_desc

        self.labels.append(encode_desc())
        return super().encode(texts, prompt)


def test_the_embedders_bar_on_the_worker_is_labelled_as_the_drivers(tmp_path):
    """The worker's embedder drew its text bar as plain 'encode' under the driver's 'encode corpus' shard bar."""
    embedder = _LabelSeen(32)
    encode_to_store(LocalEngine(), functools.partial(_same, embedder), TEXTS, "p: ", tmp_path / "s.npy",
                    (embedder.fingerprint, embedder.dim), 4, desc="encode queries")
    assert embedder.labels and set(embedder.labels) == {"encode queries"}
