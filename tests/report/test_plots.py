from __future__ import annotations

import base64

import numpy as np

from negmine.report import plots

PNG = b"\x89PNG\r\n\x1a\n"


def decode(b64: str) -> bytes:
    raw = base64.b64decode(b64)
    assert raw.startswith(PNG)
    return raw


def test_every_figure_is_a_png_and_rendering_is_deterministic():
    a = plots.score_histograms([0.8, 0.7], [0.3, 0.4, 0.2], [0.75])
    assert decode(a) == decode(plots.score_histograms([0.8, 0.7], [0.3, 0.4, 0.2], [0.75]))
    decode(plots.margin_distribution([0.3, 0.5], []))
    decode(plots.judge_agreement(["a", "b"], {"a": 3, "b": 1}, {"a & b": 1}, {"0": 5, "1": 2, "2": 1}))
    decode(plots.confidence_histogram([1.0, 0.5]))


def test_empty_samples_still_render():
    decode(plots.score_histograms([], [], []))
    decode(plots.judge_agreement([], {}, {}, {}))


def test_agreement_matrix_is_symmetric_with_per_judge_diagonal():
    m = plots.agreement_matrix(["score", "near-duplicate"], {"score": 4, "near-duplicate": 2}, {"near-duplicate & score": 1})
    assert m.tolist() == [[4, 1], [1, 2]]
    assert np.array_equal(m, m.T)
