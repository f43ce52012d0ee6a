"""Encode texts into an :class:`~negmine.engine.store.EmbeddingStore`, shard by shard, on any engine.

Distinct texts (by blake2b key, in order of first appearance) are cut into shards of at most ``shard_size``, fewer
for a store of under 8 x ``shard_size`` texts (:mod:`negmine.engine.encode_shards`).
For each unfinished shard the driver first serves what the embedding cache holds, sends the rest to the
engine as one task (``embed_texts`` on the worker's embedder), writes the returned vectors to every row
holding those texts, adds them to the cache and marks the shard done. Finished shards of an earlier,
killed run are skipped, so the run resumes at the first unfinished shard.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Iterator, NamedTuple, Sequence

import numpy as np

from negmine.encode.embed import _plan, _Plan
from negmine.encode.inflight import InFlight
from negmine.engine.base import Engine, Setup
from negmine.engine.encode_shards import EncodeShards, EncodingStopped
from negmine.engine.store import EmbeddingStore
from negmine.progress import advancing


class EncodeResult(NamedTuple):
    store: EmbeddingStore
    n_encoded: int  # distinct texts encoded in this run
    n_cached: int  # distinct texts served by the embedding cache (or by shards another run finished meanwhile)
    n_resumed: int = 0  # distinct texts of shards an earlier, stopped run finished (read from the store)


def encode_task(embedder, payload: tuple[str, list[str], str, str]) -> np.ndarray:
    """Worker side: float32 vectors of ``payload = (prompt, texts, fingerprint, desc)``.

    The fingerprint is the driver's embedder's: a worker whose embedder differs (another precision on a
    node without bf16, other weights) refuses instead of mixing vectors of two models in one store. ``desc`` (the
    driver's bar's, e.g. ``encode corpus``) labels the embedder's own bar of texts, which said plain ``encode``.
    """
    from negmine.encode.embed import embed_texts
    from negmine.errors import EngineError

    prompt, texts, fingerprint, desc = payload
    if embedder.fingerprint != fingerprint:
        raise EngineError(
            f"worker embedder {embedder.fingerprint!r} differs from the driver's {fingerprint!r}; "
            "use the same model files and an explicit --precision on every node"
        )
    return embed_texts(embedder, texts, prompt=prompt, cache=None, desc=desc, show_progress=False).vectors


def rows_of(plan: _Plan, uids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, which)``: all input rows whose text is one of ``uids`` (sorted), and the position in ``uids`` of each."""
    uids = np.asarray(uids, dtype=np.int64)
    starts, counts = plan.bounds[uids], plan.bounds[uids + 1] - plan.bounds[uids]
    total = int(counts.sum())
    step = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    rows = plan.rows_by_unique[np.repeat(starts, counts) + step]
    which = np.repeat(np.arange(len(uids)), counts)
    order = np.argsort(rows, kind="stable")
    return rows[order], which[order]


def _write(store: EmbeddingStore, plan: _Plan, uids: np.ndarray, vectors: np.ndarray) -> None:
    rows, which = rows_of(plan, uids)
    store.write_rows(rows, vectors[which])


def encode_to_store(
    engine: Engine, setup: Setup, texts: Sequence[str], prompt: str, path: str | Path, embedder_id: tuple[str, int],
    shard_size: int, shelf=None, plan: _Plan | None = None, show_progress: bool = False, desc: str = "encode",
    inflight: InFlight | None = None,
) -> EncodeResult:
    """Embeddings of ``prompt + texts[i]`` in row ``i`` of the store at ``path``.

    ``embedder_id`` is the driver's embedder's ``(fingerprint, dim)``; ``shelf`` the cache shelf of
    (fingerprint, prompt) or None. With a shelf, texts another live run is encoding into it are left aside
    and read from the cache once that run has stored them (:mod:`negmine.encode.inflight`; ``inflight``
    overrides its wait bounds): each pass over the unfinished shards encodes what nobody else is encoding,
    and the next pass, after a pause when nothing was left to encode, picks up what arrived meanwhile.
    """
    plan = plan if plan is not None else _plan(texts)
    store = EmbeddingStore.open(path, (len(texts), embedder_id[1]))
    shards = EncodeShards(store, len(plan.first), shard_size)
    inflight = inflight if inflight is not None or shelf is None else InFlight(shelf)
    job = _Job(texts, prompt, embedder_id[0], shards, plan, shelf, inflight, desc)
    job.counts["resumed"] = sum(u1 - u0 for s, (u0, u1) in job.spans.items() if shards.is_done(s))
    with _bar(show_progress, len(plan.first), job.counts["resumed"], desc) as bar:
        try:
            written = -1
            while True:
                job.run_pass(engine, setup, bar, desc)
                if not job.waiting:
                    break
                # all that is left is being encoded elsewhere: wait for it to reach the cache (the wait bound
                # runs while no text is written, by this run or through the cache)
                inflight.pause(arrived=written != job.counts["cached"] + job.counts["encoded"])
                written = job.counts["cached"] + job.counts["encoded"]  # (resumed shards arrive before any pass)
        except KeyboardInterrupt as err:
            err.negmine_encoding = job.stopped()  # type: ignore[attr-defined]
            raise
        finally:
            if inflight is not None:
                inflight.release_all()
    return EncodeResult(store, job.counts["encoded"], job.counts["cached"], job.counts["resumed"])


class _Job:
    """The shards of one :func:`encode_to_store` call and what each pass over them did."""

    def __init__(self, texts: Sequence[str], prompt: str, fingerprint: str, shards: EncodeShards, plan: _Plan,
                 shelf, inflight: InFlight | None, desc: str = "encode") -> None:
        self.texts, self.prompt, self.fingerprint, self.plan = texts, prompt, fingerprint, plan
        self.store, self.shards, self.desc = shards.store, shards, desc
        self.spans, self.shelf, self.inflight = shards.spans, shelf, inflight
        self.counts = {"cached": 0, "encoded": 0, "resumed": 0}
        self.waiting: set[int] = set()  # shards holding texts another run is encoding (this pass)
        self._missing: dict[int, tuple[np.ndarray, int | None]] = {}
        self._deferred: dict[int, np.ndarray] = {}  # per shard, the texts left aside in the last pass
        self._shown = {s: u1 - u0 for s, (u0, u1) in self.spans.items() if shards.is_done(s)}  # per shard, texts on the bar
        self._passed: dict[int, int] = {}  # per shard sent out, texts of its task the model's passes moved the bar by
        self._running: int | None = None  # the shard sent out last: the one a task run in this process works on

    def run_pass(self, engine: Engine, setup: Setup, bar, desc: str) -> None:
        """Serve the cache, leave aside the texts another run claims and encode the rest of every unfinished
        shard; a shard is marked done once all its texts are written."""
        self.waiting = set()
        # no bar drawn, no passes asked for: Ray's actors then report none (a message each)
        with advancing(None if bar.disable else functools.partial(self._advance, bar)):
            for s, vectors in engine.map(setup, encode_task, self._pending(bar), desc):
                uids, token = self._missing.pop(s)
                _write(self.store, self.plan, uids, vectors)
                if self.shelf is not None:
                    self.shelf.put(self.plan.keys[self.plan.first[uids]], vectors)
                    self.inflight.release(token)
                self._move(s, len(uids) - self._passed.pop(s, 0), bar)
                self._finish(s, bar)
                self.counts["encoded"] += len(uids)

    def stopped(self) -> EncodingStopped:
        """Where the job stands when it is stopped: its shards finished and the texts encoded in the others."""
        done = sum(1 for s in self.spans if self.shards.is_done(s))
        return EncodingStopped(self.desc, len(self.spans), done, self.shards.size, sum(self._passed.values()))

    def _advance(self, bar, texts: int, shard: int | None = None) -> None:
        """A pass of the model over ``texts`` texts finished (:func:`negmine.progress.advance`): of shard ``shard``,
        reported by a worker in another process (Ray's actors, :mod:`negmine.engine.ray_pool`, which moved the bar
        only when a shard came back, minutes for a large one), else of the shard sent out last, reported in this
        process (the local engine runs each task here, one at a time, between sending it and taking its result).
        Never past the texts of the shard's task."""
        s = self._running if shard is None else shard
        if s is None or s not in self._missing:
            return
        texts = min(texts, len(self._missing[s][0]) - self._passed.get(s, 0))
        self._passed[s] = self._passed.get(s, 0) + texts
        self._move(s, texts, bar)

    def _move(self, s: int, texts: int, bar) -> None:
        """Move the bar by ``texts`` texts of shard ``s``, never past the shard's distinct texts."""
        u0, u1 = self.spans[s]
        texts = min(texts, u1 - u0 - self._shown.get(s, 0))
        if texts > 0:
            self._shown[s] = self._shown.get(s, 0) + texts
            bar.update(texts)

    def _pending(self, bar) -> Iterator[tuple[int, tuple[str, list[str], str, str]]]:
        for s, (u0, u1) in self.spans.items():
            if self.shards.is_done(s):  # e.g. finished meanwhile by a run sharing this work folder
                self.counts["cached"] += len(self._deferred.pop(s, ()))
                self._move(s, u1 - u0, bar)
                continue
            uids = self._uncached(s, self._deferred.pop(s, np.arange(u0, u1)), bar)
            if not len(uids):
                self._finish(s, bar)
                continue
            token, uids = self._claim(s, uids)
            if not len(uids):
                continue
            self._missing[s], self._running = (uids, token), s
            yield s, (self.prompt, [self.texts[int(self.plan.first[u])] for u in uids], self.fingerprint, self.desc)

    def _claim(self, s: int, uids: np.ndarray) -> tuple[int | None, np.ndarray]:
        """Claim ``uids`` of shard ``s`` for this run; those a run claiming them at the same moment keeps are
        left aside for the next pass. Returns the claim's token and the texts to encode."""
        if self.inflight is None:
            return None, uids
        token, clash = self.inflight.claim(self.plan.keys[self.plan.first[uids]])
        if clash.any():
            self.waiting.add(s)
            self._deferred[s] = np.sort(np.concatenate([self._deferred.get(s, uids[:0]), uids[clash]]))
        return token, uids[~clash]

    def _uncached(self, s: int, uids: np.ndarray, bar) -> np.ndarray:
        """Write what the cache holds of ``uids`` (texts of shard ``s`` not written yet); return the rest but
        what another run is encoding, which is kept for the next pass."""
        if self.shelf is None:
            return uids
        keys = self.plan.keys[self.plan.first[uids]]
        elsewhere = self.inflight.claimed_elsewhere(keys)  # looked at before the cache: a claim goes after its put
        found, cached = self.shelf.get(keys)
        if found.any():
            _write(self.store, self.plan, uids[found], cached)
            self.counts["cached"] += int(found.sum())
            self._move(s, int(found.sum()), bar)
        if (elsewhere & ~found).any():
            self.waiting.add(s)
            self._deferred[s] = uids[elsewhere & ~found]
        return uids[~found & ~elsewhere]

    def _finish(self, s: int, bar) -> None:
        if s not in self.waiting:
            self.shards.mark_done(s)
            self._move(s, self.spans[s][1] - self.spans[s][0], bar)


def _bar(show: bool, total: int, finished: int, desc: str):
    """Progress over all ``total`` distinct texts, from the ``finished`` ones of the shards a stopped run left (a
    resumed run showed ``0/5`` of what was left, with no sign of the 5 done); tqdm's rate and ETA count this run's
    texts only. Texts, not shards: a bar of shards of 8192 texts stood at ``0/1`` in a log file for the whole
    encoding of a corpus that small (the model's own bar, which moves each pass, is nested and not drawn there)."""
    from negmine.progress import progress_bar

    return progress_bar(total=total, initial=finished, desc=desc, unit="text", show=show)
