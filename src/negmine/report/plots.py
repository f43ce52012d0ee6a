"""The audit report's figures as base64 PNG strings (matplotlib, Agg canvas, no pyplot global state).

- score histograms: positive vs kept-negative vs flagged-negative mining scores;
- margin distribution: s_pos - s_neg for kept and flagged negatives;
- judge agreement: candidates flagged by each judge and by each pair of judges (a symmetric matrix),
  and how many judges flagged each candidate.
"""

from __future__ import annotations

import base64
import io
import re
from typing import Sequence

import numpy as np

COLORS = {"positive": "#2b8a3e", "kept": "#1c7ed6", "flagged": "#e03131"}


def _figure(width: float = 7.0, height: float = 3.6):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def to_base64_png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _bins(series: Sequence[Sequence[float]], count: int = 40) -> np.ndarray:
    values = np.concatenate([np.asarray(s, dtype=np.float64) for s in series if len(s)] or [np.zeros(1)])
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, count + 1)


def _label(name: str, values: Sequence[float], seen: int | None) -> str:
    """``name (n=N)`` with N the values the run saw; a reservoir sample says how many of them it plots."""
    if seen is None or seen == len(values):
        return f"{name} (n={len(values):,})"
    return f"{name} (n={seen:,}; a sample of {len(values):,} plotted)"


def _histograms(ax, named: dict[str, tuple[Sequence[float], str, int | None]], xlabel: str) -> None:
    bins = _bins([v for v, _, _ in named.values()])
    for label, (values, color, seen) in named.items():
        if len(values):
            ax.hist(values, bins=bins, density=True, histtype="stepfilled", alpha=0.35, color=color,
                    edgecolor=color, linewidth=1.2, label=_label(label, values, seen))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    if any(len(v) for v, _, _ in named.values()):
        ax.legend(fontsize=8)


def score_histograms(positive: Sequence[float], kept: Sequence[float], flagged: Sequence[float],
                     seen: Sequence[int | None] = (None, None, None)) -> str:
    """``seen``: how many values each sample was drawn from (the summary's ``seen``), for the legend."""
    return to_base64_png(score_figure(positive, kept, flagged, seen))


def score_figure(positive, kept, flagged, seen: Sequence[int | None] = (None, None, None)):
    fig = _figure()
    ax = fig.add_subplot()
    _histograms(ax, {"positives": (positive, COLORS["positive"], seen[0]),
                     "kept negatives": (kept, COLORS["kept"], seen[1]),
                     "flagged negatives": (flagged, COLORS["flagged"], seen[2])}, "mining-model score")
    ax.set_title("Positive vs negative scores")
    return fig


def margin_distribution(kept: Sequence[float], flagged: Sequence[float], seen: Sequence[int | None] = (None, None)) -> str:
    return to_base64_png(margin_figure(kept, flagged, seen))


def margin_figure(kept, flagged, seen: Sequence[int | None] = (None, None)):
    fig = _figure()
    ax = fig.add_subplot()
    _histograms(ax, {"kept negatives": (kept, COLORS["kept"], seen[0]),
                     "flagged negatives": (flagged, COLORS["flagged"], seen[1])}, "margin s_pos - s_neg (mining model)")
    ax.axvline(0.0, color="#495057", linestyle="--", linewidth=1)
    ax.set_title("Margin to the positive")
    return fig


def agreement_matrix(judges: Sequence[str], per_judge: dict[str, int], pairs: dict[str, int]) -> np.ndarray:
    """``m[i, i]`` = flags of judge i, ``m[i, j]`` = candidates flagged by both i and j."""
    m = np.zeros((len(judges), len(judges)), dtype=np.int64)
    for i, a in enumerate(judges):
        m[i, i] = per_judge.get(a, 0)
        for j, b in enumerate(judges):
            if i != j:
                m[i, j] = pairs.get(f"{min(a, b)} & {max(a, b)}", 0)
    return m


REPORT_COLUMN_PX = 560
"""The narrowest a figure of the audit report is shown (CSS px): ``.plots`` lays figures out in grid columns of
at least this width (:data:`negmine.report.html.CSS`), each image at ``max-width:100%``, so a figure wider than
its column is shown scaled down. At 1,280 px a column is ~600 px."""

AGREEMENT_WIDTH = 7.0
"""The judge-agreement figure's width (in, at 100 dpi): shown at 0.8 of its size in the narrowest column (the old
9 in at 0.62, so its 10 pt labels read as 8.6 px text)."""

AGREEMENT_FONTS = {"judge": 13, "cell": 14, "title": 12, "axis": 12}
"""Font sizes (pt) of the judge-agreement figure: judge names, the matrix's numbers, titles, the bar chart's
labels and ticks; at least 12 px of text as shown in the narrowest column."""

LABEL_WIDTH = 10
"""Characters per line of a judge name in the figure: ``near-duplicate`` is drawn as ``near-`` over
``duplicate``."""

LABEL_LINES = 3
"""Lines a judge name may take; a longer one keeps its first lines and its last, joined by an ellipsis, unless that
would give two judges the same label (then every name is drawn whole)."""


def judge_labels(judges: Sequence[str], width: int = LABEL_WIDTH, lines: int = LABEL_LINES) -> list[str]:
    """Each judge's name as the agreement figure draws it: wrapped after ``-``, ``_``, ``:``, ``/``, ``.`` or a space
    (mid-word only when a part is longer than ``width``), at most ``lines`` lines while the labels stay distinct."""
    wrapped = [_wrap(name, width) for name in judges]
    short = ["\n".join(parts if len(parts) <= lines else [*parts[:lines - 1], "\u2026" + parts[-1]])
             for parts in wrapped]
    return short if len(set(short)) == len(short) else ["\n".join(parts) for parts in wrapped]


def _wrap(name: str, width: int) -> list[str]:
    """``name`` in lines of at most ``width`` characters, broken after a separator where one is."""
    lines, line = [], ""
    for part in re.split(r"(?<=[-_:/. ])", name):
        if line and len(line) + len(part) > width:
            lines.append(line)
            line = ""
        line += part
        while len(line) > width:  # a part longer than a line is cut
            lines.append(line[:width])
            line = line[width:]
    return [kept for kept in (text.rstrip() for text in [*lines, line]) if kept]


def agreement_size(labels: Sequence[str]) -> tuple[float, float]:
    """The figure's size (in) for the judges' ``labels`` (:func:`judge_labels`): a fixed width; a height that gives
    each row of the matrix room for its name's lines, and the columns room for their names, slanted on one line."""
    line = AGREEMENT_FONTS["judge"] * 1.2 / 72  # a line of a name, in inches
    row = max(0.55, 0.12 + line * max((label.count("\n") + 1 for label in labels), default=1))
    slanted = 0.08 * max((len(label.replace("\n", "")) for label in labels), default=0)  # 13 pt at 45 degrees
    return AGREEMENT_WIDTH, round(max(3.4, 1.0 + slanted + row * len(labels)), 2)


def judge_agreement(judges: Sequence[str], per_judge: dict[str, int], pairs: dict[str, int], votes: dict[str, int]) -> str:
    return to_base64_png(agreement_figure(judges, per_judge, pairs, votes))


def agreement_figure(judges: Sequence[str], per_judge: dict[str, int], pairs: dict[str, int], votes: dict[str, int]):
    """The Figure of :func:`judge_agreement`: the agreement matrix (judges' names wrapped, :func:`judge_labels`)
    and the bar chart of the judges flagging each candidate, sized for the report's column
    (:data:`AGREEMENT_FONTS`, :func:`agreement_size`)."""
    labels = judge_labels(judges)  # wrapped beside the rows; on one line, slanted, under the columns
    fig = _figure(*agreement_size(labels))
    fig.get_layout_engine().set(wspace=0.06)
    left, right = fig.subplots(1, 2, width_ratios=[1.3, 1.0])
    m = agreement_matrix(judges, per_judge, pairs)
    top = max(int(m.max()), 1) if m.size else 1
    left.imshow(m if m.size else np.zeros((1, 1)), cmap="Reds", vmin=0, vmax=top, aspect="auto")
    left.set_xticks(range(len(judges)), [label.replace("\n", "") for label in labels], rotation=45, ha="right",
                    rotation_mode="anchor", fontsize=AGREEMENT_FONTS["judge"])
    left.set_yticks(range(len(judges)), labels, fontsize=AGREEMENT_FONTS["judge"])
    for (i, j), value in np.ndenumerate(m):
        left.text(j, i, str(value), ha="center", va="center", fontsize=AGREEMENT_FONTS["cell"],
                  color="white" if value > top / 2 else "black")
    left.set_title("Candidates flagged (diagonal)\nand by both (off-diagonal)", fontsize=AGREEMENT_FONTS["title"])
    _votes_bars(right, votes)
    fig.canvas.draw()  # the constrained layout settles on the second pass: one left the slanted names cut off
    return fig


def _votes_bars(ax, votes: dict[str, int]) -> None:
    """Candidates per number of judges flagging them (log scale when the counts span more than 50x)."""
    keys = sorted(votes, key=int)
    ax.bar([int(k) for k in keys], [votes[k] for k in keys], color=COLORS["kept"])
    ax.set_yscale("log" if keys and max(votes.values()) > 50 * max(min(votes.values()), 1) else "linear")
    ax.set_xlabel("judges flagging it", fontsize=AGREEMENT_FONTS["axis"])
    ax.set_ylabel("candidates", fontsize=AGREEMENT_FONTS["axis"])
    ax.set_xticks([int(k) for k in keys] or [0])
    ax.tick_params(labelsize=AGREEMENT_FONTS["axis"], which="both")
    ax.set_title("Judge agreement", fontsize=AGREEMENT_FONTS["title"])


def confidence_histogram(confidence: Sequence[float]) -> str:
    fig = _figure(7.0, 3.0)
    ax = fig.add_subplot()
    ax.hist(confidence, bins=np.linspace(0, 1, 21), color=COLORS["positive"], alpha=0.7)
    ax.set_xlabel("pair confidence (share of negatives the positive outscores, mean over scorers)")
    ax.set_ylabel("pairs")
    ax.set_title("Per-pair confidence")
    return to_base64_png(fig)


DEV_CURVES = {"ndcg@10": "#1c7ed6", "mrr@10": "#2b8a3e", "recall@100": "#f08c00", "map": "#7048e8"}
"""Every score the report's dev table has (map was in the table, not on the curves); its judged@10, the share of
the top 10 with any judgment, says how far to trust them and is in the table only."""

DEV_STYLES = {"ndcg@10": ("o", "-", 8), "mrr@10": ("s", "--", 7), "recall@100": ("^", "-.", 6), "map": ("D", ":", 5)}
"""Marker, line style and marker size of each dev curve, hollow markers: metrics with equal scores (the demo's
mrr@10 and map, 0.925 at every evaluation) drew one line over the other, and the legend named a curve the plot did
not show. The sizes shrink in drawing order, so a curve drawn later nests its markers inside an equal earlier one's
rather than covering them: with one size, map's diamond hid most of mrr@10's square (the demo's screenshot)."""


LOSS_PARTS = (("contrastive_loss", "#1971c2", "contrastive"), ("distill_loss", "#e8590c", "distillation (weighted)"))
"""The parts a distilling run logs beside its loss: key, color, legend label."""


def training_curves(loss_history: Sequence[dict], dev: Sequence[dict], remine_steps: Sequence[int] = (),
                    resume_steps: Sequence[int] = (), dev_title: str = "Dev split") -> str:
    """Training loss per logged step (left) and, when the run had a dev split, its metrics per evaluation
    (right, titled ``dev_title``: the split and data evaluated; the step-0 point is where the model started), as
    a base64 PNG; a dashed line at each re-mining step, a dotted one at each checkpoint a resumed run went on from."""
    return to_base64_png(training_figure(loss_history, dev, remine_steps, resume_steps, dev_title))


def training_figure(loss_history: Sequence[dict], dev: Sequence[dict], remine_steps: Sequence[int] = (),
                    resume_steps: Sequence[int] = (), dev_title: str = "Dev split"):
    """The Figure of :func:`training_curves`; step axes have whole-number ticks only (a short run's
    default ticks would read 0.5, 1.5...)."""
    from matplotlib.ticker import MaxNLocator

    fig = _figure(9.0 if dev else 7.0, 3.4)
    axes = fig.subplots(1, 2 if dev else 1, squeeze=False)[0]
    steps = [entry["step"] for entry in loss_history]
    marker = "." if len(steps) < 50 else None
    parted = any(key in entry for entry in loss_history for key, _, _ in LOSS_PARTS)
    axes[0].plot(steps, [entry["loss"] for entry in loss_history], color="#495057", marker=marker,
                 label="total" if parted else None)
    for key, color, label in LOSS_PARTS:  # a distilling run's two parts (negmine.train.losses.distill)
        points = [(entry["step"], entry[key]) for entry in loss_history if key in entry]
        if points:
            axes[0].plot(*zip(*points), color=color, marker=marker, linewidth=1, label=label)
    axes[0].set_xlabel("step")
    axes[0].set_ylabel("training loss")
    axes[0].set_title("Loss", fontsize=9)
    if dev:
        for metric, color in DEV_CURVES.items():
            points = [(entry["step"], entry[metric]) for entry in dev if metric in entry]
            if points:
                marker_shape, style, size = DEV_STYLES[metric]
                axes[1].plot(*zip(*points), color=color, marker=marker_shape, markersize=size, markerfacecolor="none",
                             linestyle=style, label=metric)
        axes[1].set_xlabel("step")
        axes[1].set_ylabel("dev score")
        axes[1].set_title(dev_title, fontsize=9)
    for ax in axes:
        _event_lines(ax, remine_steps, "re-mined", "#ae3ec9", "--")
        _event_lines(ax, resume_steps, "resumed", "#868e96", ":")
        if remine_steps or resume_steps or (len(axes) > 1 and ax is axes[1]) or (parted and ax is axes[0]):
            ax.legend(fontsize=8)
        _whole_steps(ax, MaxNLocator)
    return fig


def _event_lines(ax, steps: Sequence[int], what: str, color: str, style: str) -> None:
    """A vertical line at each step of an event (the run re-mined its negatives after it, or a resumed run went
    on from its checkpoint), one legend entry naming the steps: the loss moves when the negatives change, and a
    resumed run's log can change cadence there; the page's curves showed no sign of either."""
    named = (f"step {steps[0]}" if len(steps) == 1 else f"steps {', '.join(map(str, steps))}" if len(steps) <= 4
             else f"{len(steps)} times")
    for i, step in enumerate(steps):
        ax.axvline(step, color=color, linestyle=style, linewidth=1, label=f"{what} ({named})" if i == 0 else None)


def _whole_steps(ax, locator) -> None:
    """Integer step ticks; an axis whose points span fewer than 2 steps (a 1-step run) is widened to one step
    either side, where the integer locator would otherwise fall back to fractions (0.945, 0.96...)."""
    ax.xaxis.set_major_locator(locator(integer=True))
    xs = [x for line in ax.get_lines() for x in line.get_xdata()]
    if not xs or max(xs) - min(xs) < 2:
        lo, hi = (min(xs), max(xs)) if xs else (0, 0)
        ax.set_xlim(lo - 1, hi + 1)
