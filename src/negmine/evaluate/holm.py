"""Holm's step-down adjustment of p-values for several comparisons against one baseline (Holm 1979).

With ``m`` runs each tested against the baseline at level ``alpha``, the chance that at least one of them is
marked significant by luck grows with ``m`` (up to ``m * alpha``). Holm's procedure keeps that family-wise
error rate at ``alpha`` and rejects at least what Bonferroni rejects: sort the ``m`` p-values,
``p_(1) <= ... <= p_(m)``, and adjust the ``i``-th smallest (1-based) to

    p~_(i) = min(1, max_{j <= i} (m - j + 1) * p_(j))

A run is then significant when its adjusted p-value is at most ``alpha``. With one comparison it is the raw
p-value. Undefined (NaN) p-values stay NaN and are not counted in ``m``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def holm_adjust(p_values: Sequence[float]) -> np.ndarray:
    """Holm-adjusted p-values, in the order given (float64; NaN where the input is NaN)."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    defined = np.flatnonzero(~np.isnan(p))
    m = len(defined)
    if m == 0:
        return out
    order = defined[np.argsort(p[defined], kind="stable")]
    scaled = (m - np.arange(m)) * p[order]
    out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out
