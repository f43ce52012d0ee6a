"""``negmine report MODEL_DIR``: an HTML page of a finished ``negmine train`` run from its ``negmine_train.json``.

Loss curve, dev-split metrics per evaluation (with ``--eval-data``), the checkpoint kept (``--keep-best``),
the checkpoint a resumed run went on from (with the logging and checkpoint cadence it changed), re-mining
events, the training data counts and the full configuration. Self-contained, written atomically.
"""

from __future__ import annotations

import html
import json
from pathlib import Path, PurePath
from typing import Mapping, Sequence

from negmine.errors import counted
from negmine.io.atomic import atomic_write
from negmine.io.jsonl import read_json_object
from negmine.report import plots
from negmine.report.html import cards, document, figure, key_value_table
from negmine.train import SUMMARY_NAME

REPORT_NAME = "training_report.html"


def read_train_summary(model_dir: Path) -> dict:
    """The run summary in ``model_dir``; InputError naming the file when it is missing or not one."""
    path = Path(model_dir) / SUMMARY_NAME
    return read_json_object(path, {"result": dict, "config": dict}, _not_found(Path(model_dir)), "this is not a negmine train summary")


def _not_found(model_dir: Path) -> str:
    """Why ``model_dir`` has no summary, and what to do. An interrupted run's folder (``checkpoints/`` and no
    summary), one of its checkpoints and any other folder got the same 'not a finished negmine train output',
    which names neither the interruption, its last checkpoint nor ``--resume``."""
    from negmine.train.preflight import CHECKPOINT_DIR

    head = "not found: not a finished negmine train output (its summary is written last)"
    if (model_dir / CHECKPOINT_DIR).is_dir():
        last = _last_checkpoint(model_dir / CHECKPOINT_DIR)
        if last is None:
            return (f"not found: {model_dir} is the output folder of a negmine train run that stopped before its "
                    "first checkpoint, so there is nothing to report or resume; run the same `negmine train ... "
                    f"-o {model_dir}` command again, without --resume, then negmine report {model_dir}")
        return (f"not found: {model_dir} is the output folder of a negmine train run that did not finish (its last "
                f"checkpoint: {last}); the report needs the summary a finished run writes last: finish the run "
                f"with the same `negmine train ... -o {model_dir}` command and --resume, then negmine report "
                f"{model_dir}")
    run = _run_folder(model_dir)
    if run is not None:
        return f"{head}: {model_dir} is inside the folder of a negmine train run; give that folder, negmine report {run}"
    flags = _audit_flags(model_dir)
    if flags:
        more = f" (also: {', '.join(str(f) for f in flags[1:])})" if len(flags) > 1 else ""
        return (f"{head}: {model_dir} holds the flags of a negmine audit; give the flags file, negmine report "
                f"{flags[0]}{more}")
    mined = _mined_files(model_dir)
    if mined:
        more = f" (also: {', '.join(str(f) for f in mined[1:])})" if len(mined) > 1 else ""
        return (f"{head}: {model_dir} holds a file negmine mine wrote; give it for its mining report, negmine report "
                f"{mined[0]}{more}")
    from negmine.report.sources import SOURCES

    return f"{head}; negmine report takes {SOURCES}"


def _mined_files(folder: Path) -> list[Path]:
    """The mined files in ``folder`` (``X.jsonl`` with the ``X.summary.json`` negmine mine writes last), sorted: the
    quickstart's `negmine report out` (the folder of out/negatives.jsonl) named nothing in it."""
    return [f for f in sorted(folder.glob("*.jsonl")) if f.with_name(f"{f.stem}.summary.json").is_file()]


def _audit_flags(folder: Path) -> list[Path]:
    """The flags files of audits in ``folder`` (``X.flags.jsonl`` with its ``X.audit-summary.json``, which a mine's
    ``--denoise`` flags lack), sorted. The quickstart's `negmine audit ... --out-dir out/audit` left a folder that
    `negmine report out/audit` answered with 'not a finished negmine train output', naming no file in it."""
    suffix = ".flags.jsonl"
    return [f for f in sorted(folder.glob("*" + suffix))
            if (folder / (f.name[:-len(suffix)] + ".audit-summary.json")).is_file()]


def _last_checkpoint(checkpoints: Path) -> str | None:
    """``checkpoint-N, at step N of M``: the checkpoint ``--resume`` goes on from
    (:func:`negmine.train.preflight.resume_checkpoint`), with the run's planned steps when its state records them;
    None without one. A state that starts with a byte-order mark counts as saved, as for ``--resume``, which refuses
    it: the report says so and how to remove the mark. It read the state as plain UTF-8, skipped the marked
    checkpoint and named the one before, which ``--resume`` does not go on from."""
    from negmine.train.preflight import marked_state, resume_checkpoint

    folder = resume_checkpoint(checkpoints)
    if folder is None:
        return None
    try:
        state = json.loads((folder / "trainer_state.json").read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        state = None
    named = folder.name
    if isinstance(state, dict) and isinstance(state.get("global_step"), int):
        planned = state.get("max_steps")
        of = f" of {planned}" if isinstance(planned, int) and planned > 0 else ""
        named = f"{named}, at step {state['global_step']}{of}"
    marked = marked_state(folder)
    return named if marked is None else f"{named}, which --resume refuses as it is: {marked}"


def _step(folder: Path) -> int:
    suffix = folder.name.rsplit("-", 1)[-1]
    return int(suffix) if suffix.isdigit() else -1


def _run_folder(folder: Path) -> Path | None:
    """The run's output folder when ``folder`` is its ``checkpoints/`` folder or one of its ``checkpoint-N``."""
    from negmine.train.preflight import CHECKPOINT_DIR

    for candidate in (folder, folder.parent):
        if candidate.name == CHECKPOINT_DIR and candidate.is_dir():
            return candidate.parent
    return None


def _rows_table(rows: Sequence[Mapping], columns: Sequence[str]) -> str:
    def cell(column: str, value) -> str:
        return f"<td>{html.escape(_epoch(value) if column == 'epoch' else _cell(value))}</td>"

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(cell(c, row.get(c, "")) for c in columns) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value) -> str:
    """Floats to 4 decimals; ``None``, booleans, lists and mappings as ``negmine_train.json`` writes them (``null``,
    ``true``), not as Python prints them; anything else as its text (a missing field's "" stays an empty cell)."""
    if isinstance(value, float):
        return f"{value:.4f}"
    if value is None or isinstance(value, (bool, list, dict)):
        return _json_value(value)
    return str(value)


def _epoch(value) -> str:
    """An epoch as a count, to at most 2 decimals (0, 0.5, 1.25): formatted as a metric, the evaluation before
    the first step read "0" (an int) and the others "0.5000", "1.0000"."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


def _overview(result: Mapping, config: Mapping) -> str:
    dev = result.get("dev") or []
    values = {"steps": result["global_step"], "epochs": round(float(result["epochs"]), 2),
              final_loss_label(result.get("loss_history") or []): _round(result.get("final_loss")), "rows trained on": _rows_trained(result.get("data", {})),
              "precision": result.get("precision", "-"), "attention dropout": attention_dropout_trained(result, config)}
    if dev:
        values["best dev nDCG@10"] = _round(max(entry["ndcg@10"] for entry in dev))
    return cards(values)


def attention_dropout_trained(result: Mapping, config: Mapping) -> str:
    """The attention dropout the run trained with: the summary's resolved ``attention_dropout`` (``auto`` resolved
    by the run), or for a summary written before it was recorded the configured number (None then meant the
    model's own); ``model's own`` for the model's own."""
    value = result.get("attention_dropout", config.get("attention_dropout") if "attention_dropout" in config else "-")
    if value is None or value == "model":
        return "model's own"
    return _json_value(value) if not isinstance(value, str) else value


def final_loss_label(history: Sequence[Mapping]) -> str:
    """The final loss card's label, naming the steps it averages: the summary's ``final_loss`` is the trainer's last
    log entry, the mean loss of the steps since the entry before (``final loss (mean of steps 21-24)``); the card
    said "final loss", read as the last step's."""
    if not history:
        return "final loss"
    first, last = (history[-2]["step"] + 1 if len(history) > 1 else 1), history[-1]["step"]
    return f"final loss (step {last})" if first == last else f"final loss (mean of steps {first}-{last})"


def _rows_trained(data: Mapping) -> object:
    """The rows an epoch trains on: the file's kept rows plus the pairs their promoted documents added. The card
    showed ``rows_kept`` alone, so an audited file's run read e.g. 38 rows and 6 steps at batch size 8 (its 44 rows
    take 6 batches; 38 take 5)."""
    if "rows_kept" not in data:
        return "-"
    return data["rows_kept"] + data.get("promoted_pairs", 0)


def _resumed(result: Mapping) -> str:
    """The checkpoint a resumed run went on from, and the cadence it changed (its loss log then has two)."""
    changes = result.get("resume_changes") or []
    where = result.get("resumed_from") or "-"
    return f"{where} (then {'; '.join(changes)})" if changes else where


def _timings(result: Mapping) -> dict[str, object]:
    """The seconds per stage; for a resumed run, whose summary sums its parts (``timings_parts``), labelled as
    the whole run (or as the parts recorded, when a part's checkpoint predates the record) and with each part
    listed: the report's ``total`` was the resumed part's alone, with nothing to say so."""
    timings, parts = result.get("timings", {}), result.get("timings_parts") or []
    if not parts:
        return {"timings (s)": timings}
    recorded = sum(part is not None for part in parts)
    label = (f"timings (s), whole run ({len(parts)} parts)" if recorded == len(parts)
             else f"timings (s), the {recorded} of {len(parts)} parts recorded")
    return {label: timings, "timings per part (s)": "; ".join(_part(i, p) for i, p in enumerate(parts, start=1))}


def _part(number: int, part: Mapping | None) -> str:
    if part is None:
        return f"part {number}: not recorded (its checkpoint was saved by an older negmine)"
    seconds = ", ".join(f"{stage} {value}" for stage, value in part.get("seconds", {}).items())
    return f"part {number}, to step {part.get('until_step')}: {seconds}"


def _dev_data(dev: Mapping | None, short: bool = False) -> str:
    """The split and data the dev evaluations scored (``test split of minifacts``, the folder's name when
    ``short``, for the plot's title), and the sample's size when one was drawn: the plot was titled "Dev split"
    and the table named neither, though a run can evaluate any split of any folder (``--eval-data``)."""
    if not isinstance(dev, Mapping) or not dev.get("data_dir"):
        return "the dev split (not recorded)"
    folder = str(dev["data_dir"])
    if short:
        name = Path(folder).name or folder
        folder = name if len(name) <= 40 else name[:39] + "…"
    where = f"{dev.get('split', 'dev')} split of {folder}"
    sample = dev.get("max_documents")
    if isinstance(sample, int) and not isinstance(sample, bool):
        return f"{where} (a sample of at most {counted(sample, 'document', spec=',')})"
    return where


DEV_COLUMNS = ("ndcg@10", "mrr@10", "recall@100", "map", "judged@10")
"""The dev table's metric columns, as each evaluation records them (:data:`negmine.train.dev_eval.DEV_METRICS`);
one no evaluation of the summary has (judged@10 before 2026-12-07) is left out."""


def _dev_section(dev: Sequence[Mapping], settings: Mapping | None, queries: object) -> str:
    """The dev evaluations' note (the split and data scored, how many queries each evaluation scored, what a low
    judged@10 means) and table. The count and judged@10 say whether the figures hold on partial qrels; a summary
    written before they were recorded shows neither."""
    from negmine.evaluate.compare import judged_note

    note = _dev_data(settings)
    if isinstance(queries, int) and not isinstance(queries, bool):
        counted = "1 query" if queries == 1 else f"{queries:,} queries"
        note += f": {counted} scored at each evaluation (those with a relevant judgment)"
    columns = [m for m in DEV_COLUMNS if any(m in entry for entry in dev)]
    judged = [m for m in columns if m.startswith("judged@")]
    notes = [note] + ([judged_note(judged)] if judged else [])
    return ("".join(f'<p class="note">{html.escape(line)}</p>' for line in notes)
            + _rows_table(dev, ["step", "epoch", *columns]))


def _remine_steps(result: Mapping) -> list[int]:
    """The steps the run re-mined after (a restored event re-read a file an interrupted part had mined: same step)."""
    return sorted({event["step"] for event in result.get("remine") or [] if isinstance(event.get("step"), int)})


def _resume_steps(result: Mapping) -> list[int]:
    """The checkpoints a resumed run went on from: where each part but the last ended (``timings_parts``), and
    the ``checkpoint-N`` of ``resumed_from`` (the last resume, also when an older negmine recorded no parts)."""
    steps = {part["until_step"] for part in (result.get("timings_parts") or [])[:-1]
             if isinstance(part, Mapping) and isinstance(part.get("until_step"), int)}
    suffix = Path(result.get("resumed_from") or "").name.rsplit("-", 1)[-1]
    return sorted(steps | ({int(suffix)} if suffix.isdigit() else set()))


def _round(value) -> object:
    return round(value, 4) if isinstance(value, float) else ("-" if value is None else value)


def flat_config(config: Mapping, prefix: str = "") -> dict[str, str]:
    """``config`` with nested sections as dotted keys (``mine.filters.sd_margin``), sorted within each level;
    one row per setting instead of a JSON blob for the re-mining configuration. Values as ``negmine_train.json``
    writes them (``null``, ``true``, ``["query_to_doc"]``), texts and paths without quotes: the table showed
    Python's ``None`` and ``True``, which the user neither wrote nor finds in the file."""
    flat: dict[str, str] = {}
    for key, value in sorted(config.items()):
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flat_config(value, name + "."))
        else:
            flat[name] = _json_value(value)
    return flat


def as_remined(config: Mapping) -> Mapping:
    """``config`` with its ``mine`` section (the mined file's recorded configuration) as re-mining ran it: without
    the mining run's progress bars, which re-mining does not draw, and on the run's ``device`` for a torch encoder,
    as :meth:`negmine.config.TrainConfig.remine_config` sets it (an onnx encoder's is the CPU). The table showed the
    mining run's values, e.g. ``mine.encoder.show_progress true`` for a run trained and re-mined with
    ``--no-progress``. Records written since leave out these and the other settings that say how the mining run
    ran (:data:`negmine.pipeline.recorded_config.RUN_ONLY_FIELDS`); the device row is shown for them too."""
    from negmine.pipeline.recorded_config import without_run_only

    remined = without_run_only(config)
    mine = remined.get("mine")
    encoder = mine.get("encoder") if isinstance(mine, Mapping) else None
    if not isinstance(encoder, Mapping):
        return config
    device = config.get("device") if encoder.get("backend", "torch") == "torch" else "cpu"
    encoder = {**encoder, **({"device": device} if device is not None else {})}
    return {**remined, "mine": {**mine, "encoder": encoder}}


def _remining_note(config: Mapping) -> str:
    if not isinstance(config.get("mine"), Mapping):
        return ""
    note = ("mine.*: the settings re-mining ran with, the mined file's mining configuration on this run's device "
            "(an onnx encoder's stays on the CPU); its one progress bar, the corpus encoding, follows show_progress; "
            "the mining run's workers, cache and work folders and output files, which change no mined row, are left out")
    return f'<p class="note">{html.escape(note)}</p>'


def _json_value(value: object) -> str:
    if isinstance(value, (str, PurePath)) and str(value):
        return str(value)  # an empty text as "" (an empty cell read as a missing value)
    return json.dumps(value, ensure_ascii=False, default=str)


def render_training_report(summary: Mapping, out: Path) -> Path:
    """Write the training report to ``out`` atomically and return the path (a Path, also for a str ``out``)."""
    result, config = summary["result"], summary["config"]
    dev = result.get("dev") or []
    sections = [("Overview", _overview(result, config) + key_value_table({
        "output": result.get("output_dir"), "training file": config.get("train_file"), "model": config.get("model"),
        "data": result.get("data", {}), **_timings(result),
        "checkpoint kept": result.get("best_checkpoint") or "the last (no --keep-best)",
        "resumed from": _resumed(result),
    }))]
    curves = plots.training_curves(result.get("loss_history", []), dev, _remine_steps(result), _resume_steps(result),
                                   dev_title=f"Dev: {_dev_data(config.get('dev'), short=True)}")
    sections.append(("Curves", '<div class="plots">' + figure(curves, "training curves") + "</div>"))
    if dev:
        sections.append(("Dev evaluations", _dev_section(dev, config.get("dev"), result.get("dev_queries_evaluated"))))
    if result.get("remine"):
        columns = sorted({key for event in result["remine"] for key in event})
        sections.append(("Re-mining", _rows_table(result["remine"], columns)))
    sections.append(("Configuration", _remining_note(config) + key_value_table(flat_config(as_remined(config)))))
    steps = result["global_step"]
    subtitle = f"{steps} step{'' if steps == 1 else 's'} on {config.get('train_file')}"
    with atomic_write(out) as handle:
        handle.write(document("negmine train", subtitle, sections))
    return Path(out)


def training_report(model_dir: Path, out: Path | None = None) -> Path:
    """Read ``model_dir``'s summary and render the report (default ``<model_dir>/training_report.html``)."""
    from negmine.report.render import check_report_output

    out = out or Path(model_dir) / REPORT_NAME
    check_report_output(Path(out), [Path(model_dir) / SUMMARY_NAME])
    return render_training_report(read_train_summary(model_dir), out)
