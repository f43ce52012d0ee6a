from __future__ import annotations

import pytest

from negmine.engine.processes import ordered_process_map


def test_results_come_back_in_input_order_from_worker_processes():
    items = list(range(-20, 20))
    assert list(ordered_process_map(abs, iter(items), workers=3)) == [abs(i) for i in items]
    assert list(ordered_process_map(abs, [], workers=2)) == []


def test_a_worker_error_reaches_the_caller():
    with pytest.raises(TypeError):
        list(ordered_process_map(abs, ["not a number"], workers=2))


def test_workers_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="workers must be a positive integer, got 0"):
        list(ordered_process_map(abs, [1], workers=0))
