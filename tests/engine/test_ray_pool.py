"""Which Ray errors :func:`negmine.engine.ray_pool.died` reads as a worker process gone (the shard runs again on a
fresh actor) and which as an error to raise (no Ray runs here: the errors are Ray's own types, built as Ray builds
them; the pool's retries run on a local Ray in test_ray_engine.py)."""

from __future__ import annotations

import pytest

from negmine.engine.ray_pool import died

exceptions = pytest.importorskip("ray.exceptions")


def _raised_by_task(cause: BaseException):
    """What ``ray.get`` raises for a task that raised ``cause``: a RayTaskError that is also of ``cause``'s class."""
    return exceptions.RayTaskError("_Actor.run", "Traceback ...", cause).as_instanceof_cause()


def test_a_worker_process_gone_is_a_death():
    assert died(exceptions.ActorDiedError())  # killed (SIGKILL, the OOM killer), or a task sent to a dead actor
    assert died(exceptions.ActorUnavailableError("the connection to the actor was lost", None))
    assert died(exceptions.WorkerCrashedError())
    assert died(exceptions.OutOfMemoryError("the node ran low on memory"))
    assert died(exceptions.NodeDiedError("node 10.0.0.2 is gone"))


def test_an_error_the_task_or_setup_raised_is_not_a_death():
    """A task whose own Ray call failed (``RayTaskError(ActorDiedError)``) was read as its worker's death: the shard
    ran 3 times and the error said a worker process died, suggesting a lower memory budget."""
    nested = _raised_by_task(exceptions.ActorDiedError())
    assert isinstance(nested, exceptions.RayActorError) and not died(nested)
    assert not died(_raised_by_task(exceptions.WorkerCrashedError()))
    assert not died(_raised_by_task(ValueError("corrupt vector in shard 3")))
    init = exceptions.ActorDiedError(exceptions.RayTaskError("_Actor.__init__", "Traceback ...", OSError("no model")))
    assert init.actor_init_failed and not died(init), "setup() raised: every fresh actor would raise it again"


def test_errors_not_from_ray_are_not_a_death():
    from negmine.errors import ConfigError, InputError

    assert not died(ConfigError("bad value"))
    assert not died(InputError("corpus.jsonl", 7, "text", "empty text"))
    assert not died(MemoryError())
