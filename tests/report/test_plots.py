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


def test_training_step_axes_tick_whole_steps_only():
    loss = [{"step": 1, "loss": 0.9}, {"step": 2, "loss": 0.7}, {"step": 3, "loss": 0.6}]
    dev = [{"step": 0, "ndcg@10": 0.5}, {"step": 3, "ndcg@10": 0.6}]
    fig = plots.training_figure(loss, dev)
    for ax in fig.axes:
        fig.canvas.draw()
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
    decode(plots.training_curves(loss, dev))


def test_dev_curves_of_equal_scores_stay_apart_by_marker_and_line_style():
    # the demo's mrr@10 and map are 0.925 at every evaluation: the map line covered the mrr@10 one, which the
    # legend still named
    dev = [{"step": s, "ndcg@10": 0.94, "mrr@10": 0.925, "recall@100": 1.0, "map": 0.925} for s in (0, 2, 4)]
    lines = plots.training_figure([{"step": 2, "loss": 1.0}], dev).axes[1].get_lines()
    assert [line.get_label() for line in lines] == ["ndcg@10", "mrr@10", "recall@100", "map"]
    styles = {(line.get_marker(), line.get_linestyle()) for line in lines}
    assert len(styles) == 4 and all(line.get_markerfacecolor() == "none" for line in lines)


def test_a_one_step_run_and_a_single_dev_point_still_tick_whole_steps_only():
    for loss, dev in (([{"step": 1, "loss": 7.69}], []), ([{"step": 1, "loss": 7.69}], [{"step": 1, "ndcg@10": 0.5}]),
                      ([], [])):
        fig = plots.training_figure(loss, dev)
        fig.canvas.draw()
        for ax in fig.axes:
            lo, hi = ax.get_xlim()
            ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
            assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), (loss, dev, ticks)
            assert all(lo < p[0] < hi for line in ax.get_lines() for p in line.get_xydata()), "every point in view"
        decode(plots.training_curves(loss, dev))


def test_re_mining_steps_are_dashed_lines_named_in_the_legend_on_each_curve():
    """The curves showed no sign of when a run re-mined its negatives (the loss moves when they change)."""
    loss = [{"step": s, "loss": 1.0 / s} for s in range(1, 7)]
    for dev, steps, label in (([], [3], "re-mined (step 3)"), ([{"step": 0, "ndcg@10": 0.5}, {"step": 6, "ndcg@10": 0.6}],
                                                             [2, 4], "re-mined (steps 2, 4)"),
                              ([], list(range(1, 7)), "re-mined (6 times)")):
        fig = plots.training_figure(loss, dev, steps)
        for ax in fig.axes:
            vertical = sorted(line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == "--")
            assert vertical == steps
            assert label in [t.get_text() for t in ax.get_legend().get_texts()]
        decode(plots.training_curves(loss, dev, steps))
    assert plots.training_figure(loss, []).axes[0].get_legend() is None, "no legend for one unlabelled curve"


def test_resume_steps_are_dotted_lines_named_in_the_legend():
    loss = [{"step": s, "loss": 1.0 / s} for s in range(1, 13)]
    fig = plots.training_figure(loss, [{"step": 0, "ndcg@10": 0.5}, {"step": 12, "ndcg@10": 0.6}], [6], [4, 8])
    for ax in fig.axes:
        assert sorted(line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == ":") == [4, 8]
        texts = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "resumed (steps 4, 8)" in texts and "re-mined (step 6)" in texts
    decode(plots.training_curves(loss, [], [], [4]))


def test_the_dev_curves_have_every_metric_of_the_dev_table():
    dev = [{"step": s, "ndcg@10": 0.5, "mrr@10": 0.4, "recall@100": 0.9, "map": 0.3} for s in (0, 6)]
    ax = plots.training_figure([{"step": 6, "loss": 1.0}], dev).axes[1]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["ndcg@10", "mrr@10", "recall@100", "map"]


def test_the_dev_curves_are_titled_with_the_split_evaluated():
    dev = [{"step": s, "ndcg@10": 0.5} for s in (0, 6)]
    fig = plots.training_figure([{"step": 6, "loss": 1.0}], dev, dev_title="Dev: test split of minifacts")
    assert fig.axes[1].get_title() == "Dev: test split of minifacts"
    assert plots.training_figure([{"step": 6, "loss": 1.0}], dev).axes[1].get_title() == "Dev split"
    decode(plots.training_curves([{"step": 6, "loss": 1.0}], dev, dev_title="Dev: test split of minifacts"))


def test_a_distilling_runs_loss_parts_are_curves_beside_the_total_named_in_the_legend():
    loss = [{"step": s, "loss": 1.0 / s, "contrastive_loss": 0.8 / s, "distill_loss": 0.2 / s} for s in range(1, 5)]
    ax = plots.training_figure(loss, []).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["total", "contrastive", "distillation (weighted)"]
    assert [line.get_ydata()[0] for line in ax.get_lines()] == [1.0, 0.8, 0.2]
    decode(plots.training_curves(loss, []))
