from __future__ import annotations

import numpy as np
import pytest

from negmine.evaluate.holm import holm_adjust


def test_holm_worked_example():
    """Sorted 0.01, 0.03, 0.04 times 3, 2, 1 is 0.03, 0.06, 0.04; step-down keeps the running maximum."""
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_one_comparison_is_the_raw_p_value_and_nothing_exceeds_one():
    assert holm_adjust([0.012]) == pytest.approx([0.012])
    assert holm_adjust([0.6, 0.7]) == pytest.approx([1.0, 1.0])


def test_undefined_p_values_stay_undefined_and_are_not_counted():
    adjusted = holm_adjust([0.02, float("nan"), 0.01])
    assert np.isnan(adjusted[1])
    assert adjusted[[0, 2]] == pytest.approx([0.02, 0.02])  # m = 2: 0.01 * 2, then max(0.02 * 1, 0.02)
    assert np.isnan(holm_adjust([float("nan")])).all()


def test_matches_bonferroni_for_the_smallest_and_never_exceeds_it():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 0.2, size=7)
    adjusted = holm_adjust(p)
    bonferroni = np.minimum(1.0, 7 * p)
    assert adjusted[np.argmin(p)] == pytest.approx(bonferroni[np.argmin(p)])
    assert np.all(adjusted <= bonferroni + 1e-12) and np.all(adjusted >= p)
