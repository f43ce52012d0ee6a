from __future__ import annotations

import pytest

from negmine.engine.local import LocalEngine


def counting_setup(log: list):
    def setup():
        log.append("setup")
        return {"offset": 100}

    return setup


def add_offset(state, payload):
    return state["offset"] + payload


def test_results_come_back_in_input_order_with_their_keys():
    engine = LocalEngine()
    items = [(7, 1), (3, 2), (5, 3)]
    assert list(engine.map(counting_setup([]), add_offset, items)) == [(7, 101), (3, 102), (5, 103)]
    assert (engine.name, engine.workers) == ("local", 1)


def test_setup_runs_once_for_all_items_and_never_for_no_items():
    log = []
    assert list(LocalEngine().map(counting_setup(log), add_offset, iter([(0, 1), (1, 2), (2, 3)]))) == [
        (0, 101), (1, 102), (2, 103)]
    assert log == ["setup"]
    log.clear()
    assert list(LocalEngine().map(counting_setup(log), add_offset, [])) == []
    assert log == [], "no model is loaded for an empty job"


def test_a_setup_that_returns_none_still_runs_once():
    """A state of None (a setup run for its side effects, e.g. thread settings) is still built once, as on Ray."""
    calls = []
    items = [(0, "a"), (1, "b"), (2, "c")]
    results = list(LocalEngine().map(lambda: calls.append(1), lambda state, p: (state, p), items))
    assert results == [(0, (None, "a")), (1, (None, "b")), (2, (None, "c"))]
    assert calls == [1]


def test_items_are_consumed_lazily_one_at_a_time():
    pulled = []

    def items():
        for key in range(3):
            pulled.append(key)
            yield key, key

    log = []
    results = LocalEngine().map(counting_setup(log), add_offset, items())
    assert pulled == [] and log == [], "nothing runs before the first result is asked for"
    assert next(results) == (0, 100)
    assert pulled == [0] and log == ["setup"]
    assert next(results) == (1, 101)
    assert pulled == [0, 1]


def test_a_task_error_reaches_the_caller_and_stops_the_run():
    done = []

    def task(state, payload):
        if payload == 2:
            raise ValueError(f"bad payload {payload}")
        done.append(payload)
        return payload

    with pytest.raises(ValueError, match="bad payload 2"):
        list(LocalEngine().map(lambda: None, task, [(0, 1), (1, 2), (2, 3)]))
    assert done == [1], "items after the failing one are not run"


def test_close_is_harmless_and_repeatable():
    engine = LocalEngine()
    assert engine.close() is None
    engine.close()
    assert list(engine.map(lambda: 1, lambda s, p: s + p, [(0, 1)])) == [(0, 2)]
