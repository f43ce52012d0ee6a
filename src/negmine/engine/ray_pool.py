"""A pool of long-lived Ray actors that share one ``setup()`` state across :meth:`RayEngine.map` calls.

Each actor runs ``setup()`` once (e.g. loads the encoder) and then one task per shard, so the corpus and the
query encoding of a run, which use the same setup, load the model once per actor instead of once per stage
(a Ray Data ``map_batches`` job per stage started new actor processes every time; measured on the demo: 13.5 s
of a 21.8 s query stage were the second stage's model loads). Each actor holds one shard at a time, actors are
started only while there is a shard for them (so never more than there are shards), and results come back as
shards finish, so the driver can checkpoint each one.

The driver, not Ray, restarts a worker that died: actors are created with ``max_restarts=0``, and a shard
whose actor died goes to a fresh actor (which runs ``setup()`` again), at most :data:`TASK_RETRIES` more times;
then the Ray error is raised. Counting per shard here bounds a shard that kills every worker it runs on (Ray
Data's default retried it forever), and an actor that dies while it loads the model counts against the shard
it was started for instead of restarting without end.

The driver's encoding bar moves with each pass of the model in the actors, as it does on the local engine. When the
caller has an :func:`negmine.progress.advancing` block open around the map (a bar is drawn), each task runs in an
``advancing`` block of the actor's that puts the task's passes, tagged with the task, in a Ray queue
(``ray.util.queue.Queue``, an actor of 0 CPUs made by the pool's first such map); the driver, waiting for a shard,
reads the queue every :data:`PASSES_POLL` seconds and hands each pass of a running task to
:func:`negmine.progress.advance` with its shard's key. A shard on Ray stood still on the bar until it came back,
minutes for a large shard. The reports are all in the queue before the task's result (a worker's put waits for
the queue), and the driver reads them before the result; those of a task no longer running (a worker that died, a
map stopped early) are dropped. Progress never fails a shard: a report that cannot be put, or a queue that died,
only leaves the bar to move per shard.
"""

from __future__ import annotations

import functools
import itertools
import pickle
from collections import Counter, deque
from typing import Any, Callable, Iterable, Iterator

from negmine.engine.base import Setup, Task
from negmine.errors import NegmineError
from negmine.progress import advance, advance_wanted, advancing

TASK_RETRIES = 2
"""Times a shard is run again after its worker process died (so at most ``TASK_RETRIES + 1`` runs)."""

PASSES_POLL = 0.5
"""Seconds the driver waits for a shard before it reads the passes the actors reported meanwhile."""

_NONE = object()


class _Actor:
    """Ray actor (made remote by :class:`ActorPool`): state built once, one task per call. Each call returns
    the pickled ``(True, result)``, or ``(False, error)`` for a :class:`~negmine.errors.NegmineError` that
    ``setup`` or the task raised: Ray keeps only the text of a worker's exception, so the error itself travels
    as data and the driver raises it. Payloads and results travel pickled (protocol 5) so the driver gets
    writable arrays of its own, not read-only views pinning Ray's object store."""

    def __init__(self, setup: Setup) -> None:
        self.error: NegmineError | None = None
        try:
            self.state = setup()
        except NegmineError as err:
            self.state, self.error = None, err

    def run(self, task: Task, blob: bytes, report: Callable[[int], None] | None = None) -> bytes:
        """``report``: where the task's passes go (:func:`_report`), or None."""
        return pickle.dumps(self._run(task, pickle.loads(blob), report), protocol=5)

    def _run(self, task: Task, payload: Any, report: Callable[[int], None] | None) -> tuple[bool, Any]:
        if self.error is not None:
            return False, self.error
        try:
            with advancing(report):
                return True, task(self.state, payload)
        except NegmineError as err:
            return False, err


def _report(queue, tag: int, texts: int) -> None:
    """Worker side: a pass of ``texts`` texts of the task ``tag`` finished; put in the driver's ``queue``. A report
    that cannot be put (the queue ended with its pool) is dropped: progress never fails a shard."""
    from ray.exceptions import RayError

    try:
        queue.put_nowait((tag, texts))
    except RayError:
        pass


def setup_key(setup: Setup) -> bytes | None:
    """What makes two setups equal: their pickle (e.g. ``functools.partial(make_embedder, config)`` with equal
    configs); None for a setup pickle cannot take (a lambda), which then equals only itself."""
    try:
        return pickle.dumps(setup, protocol=5)
    except Exception:  # noqa: BLE001 - any pickling failure means "compare by identity"
        return None


class ActorPool:
    """Up to ``size`` actors of ``cpus`` CPUs each, all built by ``setup``; killed by :meth:`close`."""

    def __init__(self, setup: Setup, size: int, cpus: float) -> None:
        import ray

        self.setup, self.key, self.size = setup, setup_key(setup), size
        self._class = ray.remote(num_cpus=cpus, max_restarts=0, max_task_retries=0)(_Actor)
        self._actors: list = []  # alive as far as the driver knows
        self._idle: deque = deque()
        self._passes = None  # the queue the actors put their passes in, made by the first map that wants them
        self._tags = itertools.count()  # one per task sent, so a report names the task it is of

    def serves(self, setup: Setup) -> bool:
        """Whether this pool's actors were built by a setup equal to ``setup``."""
        return setup is self.setup or (self.key is not None and self.key == setup_key(setup))

    def run(self, task: Task, items: Iterable[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
        """Yield ``(key, task(state, payload))`` for every item as shards finish. Items are read (and pickled)
        only when an actor is free for them. A NegmineError of a worker is raised as itself, a Ray error
        (a worker that died a shard's last time, a setup that failed otherwise) as Ray raised it."""
        import ray

        items, retry, attempts, pending = iter(items), deque(), Counter(), {}
        passes = self._open_passes()
        while True:
            while len(pending) < self.size:
                key, blob = retry.popleft() if retry else _next_blob(items)
                if blob is _NONE:
                    break
                actor, tag = self._idle.popleft() if self._idle else self._start(), next(self._tags)
                report = None if passes is None else functools.partial(_report, passes, tag)
                pending[actor.run.remote(task, blob, report)] = (actor, key, blob, tag)
            if not pending:
                return
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=PASSES_POLL if passes is not None else None)
            if passes is not None:
                passes = self._read_passes({t: k for _, k, _, t in pending.values()})
            if not ready:
                continue
            actor, key, blob, _ = pending.pop(ready[0])
            try:
                ok, value = pickle.loads(ray.get(ready[0]))
            except Exception as err:
                if not died(err):
                    raise
                self._drop(actor)
                attempts[key] += 1
                if attempts[key] > TASK_RETRIES:
                    raise
                retry.append((key, blob))
                continue
            self._idle.append(actor)
            if not ok:
                raise value
            yield key, value

    def _open_passes(self):
        """The queue the actors put their passes in when the caller's bar wants them
        (:func:`negmine.progress.advance_wanted`), made on first use; None otherwise."""
        if not advance_wanted():
            return None
        if self._passes is None:
            from ray.util.queue import Queue

            self._passes = Queue(actor_options={"num_cpus": 0})  # a CPU each would leave none for an actor
        return self._passes

    def _read_passes(self, running: dict[int, int]):
        """Move the caller's bar by the passes reported so far of the tasks ``running`` (tag: key); the queue, or None
        when it died (the bar then moves per shard)."""
        from ray.exceptions import RayError

        try:
            size = self._passes.qsize()
            reports = self._passes.get_nowait_batch(size) if size else []
        except RayError:
            self._passes = None
            return None
        for tag, texts in reports:
            if tag in running:
                advance(texts, shard=running[tag])
        return self._passes

    def _start(self):
        actor = self._class.remote(self.setup)
        self._actors.append(actor)
        return actor

    def _drop(self, actor) -> None:
        import ray

        self._actors.remove(actor)
        ray.kill(actor)

    @property
    def busy(self) -> bool:
        """Whether an actor may still be running a task (one of a map its caller stopped reading)."""
        return len(self._idle) != len(self._actors)

    def close(self) -> None:
        """Kill every actor (at once, running tasks included), which frees their CPUs and memory."""
        import ray

        for actor in self._actors:
            ray.kill(actor)
        if self._passes is not None:
            self._passes.shutdown(force=True)
        self._actors, self._idle, self._passes = [], deque(), None


def _next_blob(items: Iterator[tuple[int, Any]]) -> tuple[int, Any]:
    for key, payload in items:
        return int(key), pickle.dumps(payload, protocol=5)
    return -1, _NONE


def died(err: BaseException) -> bool:
    """Whether a Ray error says the worker process running the task died (killed, out of memory, a crash in
    native code, its node gone) or can no longer be reached (Ray's ``ActorUnavailableError``: the pool's actors are
    never restarted, so the driver drops it and runs the shard on a fresh one). Not an actor whose ``setup()``
    raised an exception, nor an exception the task raised: Ray passes that on as a ``RayTaskError``, also an
    instance of the exception's own class (``RayTaskError(ActorDiedError)`` for a task whose own Ray call failed),
    and the process that raised it lived to report it, so running the shard again would raise it again. (A
    NegmineError of the task or setup never gets here: the actor returns it as data, :class:`_Actor`.)"""
    if not type(err).__module__.startswith("ray."):
        return False
    from ray import exceptions

    if isinstance(err, exceptions.RayTaskError):
        return False
    if isinstance(err, exceptions.RayActorError):  # ActorDiedError, ActorUnavailableError
        return not err.actor_init_failed
    return isinstance(err, (exceptions.WorkerCrashedError, exceptions.OutOfMemoryError, exceptions.NodeDiedError))
