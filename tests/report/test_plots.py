from __future__ import annotations

import base64

import numpy as np
import pytest

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
    agreement = ["a", "near-duplicate"], {"a": 3, "near-duplicate": 1}, {"a & near-duplicate": 1}, {"0": 5, "1": 2}
    assert decode(plots.judge_agreement(*agreement)) == decode(plots.judge_agreement(*agreement))
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
    sizes = [line.get_markersize() for line in lines]  # one size: map's diamond hid most of mrr@10's square
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == 4, sizes
    assert [line.get_ydata()[0] for line in lines] == [0.94, 0.925, 1.0, 0.925]  # no offset: the values as given


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


BUILTIN_JUDGES = ["score", "near-duplicate", "cross-encoder", "teacher"]
LONG_JUDGES = [*BUILTIN_JUDGES, "my_plugin_judge_number_one_alpha", "my_plugin_judge_number_two_alpha"]


def test_judge_names_are_wrapped_at_separators_and_long_ones_shortened_only_while_they_stay_apart():
    assert plots.judge_labels(BUILTIN_JUDGES) == ["score", "near-\nduplicate", "cross-\nencoder", "teacher"]
    assert plots.judge_labels(LONG_JUDGES)[4:] == ["my_plugin_\njudge_\n\u2026one_alpha",
                                                   "my_plugin_\njudge_\n\u2026two_alpha"]
    # shortened, these two would read alike (teacher:/intfloat/.../instruct): both are drawn whole
    same_ends = ["teacher:intfloat/e5-large-instruct", "teacher:intfloat/e5-small-instruct"]
    assert plots.judge_labels(same_ends) == ["teacher:\nintfloat/\ne5-large-\ninstruct",
                                             "teacher:\nintfloat/\ne5-small-\ninstruct"]
    assert plots.judge_labels(["averyveryverylongname"]) == ["averyveryv\nerylongnam\ne"]  # no separator: cut
    assert plots.judge_labels([]) == []


def shown_px(fig, points: float) -> float:
    """``points`` of text as the report shows the figure in its narrowest column (scaled down when wider)."""
    natural = fig.get_size_inches()[0] * fig.dpi
    return points * fig.dpi / 72 * min(1.0, plots.REPORT_COLUMN_PX / natural)


@pytest.mark.parametrize("judges", [BUILTIN_JUDGES, ["score"], ["score", "near-duplicate"], LONG_JUDGES])
def test_the_agreement_figures_text_is_readable_in_the_reports_column_and_nothing_overlaps(judges):
    """Every text of the judge-agreement figure is at least 12 px as the report shows it in the narrowest grid column
    (the old 9 in figure's 10 pt names were 8.6 px, its 11 pt numbers 9.5 px); the names beside the rows and under
    the columns do not overlap each other and none is cut off by the figure's edge. The column width is the report's
    CSS."""
    from matplotlib.text import Text

    from negmine.report.html import CSS

    assert f"minmax({plots.REPORT_COLUMN_PX}px," in CSS
    per_judge = {name: 100 * (i + 1) for i, name in enumerate(judges)}
    fig = plots.agreement_figure(judges, per_judge, {}, {"0": 50, "1": 30, "2": 9})
    renderer = fig.canvas.get_renderer()
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    assert len(texts) > 3 * len(judges)
    assert min(shown_px(fig, t.get_fontsize()) for t in texts) >= 12
    drawn, (width, height) = fig.get_tightbbox(renderer), fig.get_size_inches()  # inches
    assert drawn.x0 >= 0 and drawn.y0 >= 0 and drawn.x1 <= width and drawn.y1 <= height, (drawn, width, height)
    rows = [label.get_window_extent(renderer) for label in fig.axes[0].get_yticklabels()]
    assert len(rows) == len(judges) and not any(a.overlaps(b) for i, a in enumerate(rows) for b in rows[i + 1:])
    columns = fig.axes[0].get_xticklabels()  # one line each, slanted: apart when the slanted lines are a line apart
    assert len(columns) == len(judges) and all("\n" not in label.get_text() for label in columns)
    if len(columns) > 1:
        step = abs(np.diff(fig.axes[0].transData.transform([(0, 0), (1, 0)])[:, 0])[0])
        line = columns[0].get_fontsize() * fig.dpi / 72 * 1.2
        assert step * np.sin(np.radians(columns[0].get_rotation())) >= line
