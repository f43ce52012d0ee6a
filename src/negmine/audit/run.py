"""``negmine audit FILE``: stream a native JSONL file through the judges in batches.

Writes (atomically) the flags JSONL (one record per finding), the cleaned native rows with the audit keys
(when ``output`` is set), their exports (``formats``) and the summary JSON. Three passes over the input: the first
collects every positive of each query (ids and texts), so near-duplicates of sibling positives are found; the
second judges the rows and writes the flags; the third applies the policies with every false negative of the
row's query (found in any of its rows), so all rows of a query treat a flagged document alike. Query ids whose
texts are the same after mining's normalisation are one query here, as in mining and training.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from itertools import islice
from pathlib import Path
from typing import Any, Iterator, Sequence

from negmine.audit.findings import find
from negmine.audit.judge_scores import (RowJudgeScores, relevance_judge, row_judge_scores, scale_settings, scorer_key,
                                        scorer_summary)
from negmine.audit.items import item_from_row
from negmine.audit.judges.base import Judge
from negmine.audit.policy import (
    QueryFalseNegatives, RowVerdict, apply_policy, earlier_only, flag_records, labelled_positives,
    sibling_false_negatives,
)
from negmine.audit.stats import AuditStats
from negmine.config import AuditConfig, resolve_workers
from negmine.export.native import dumps_row, read_native
from negmine.export.registry import export_all, export_summary, remove_stale_exports
from negmine.plugins import plugin_record
from negmine.io.atomic import atomic_write
from negmine.io.files import hashed_identity
from negmine.select.exclude import normalize_text


def summary_path(config: AuditConfig) -> Path:
    """``config.summary``, else ``<stem>.audit-summary.json`` next to the flags file ``<stem>.flags.jsonl``."""
    return config.summary or default_summary_path(config.flags)


def default_summary_path(flags: Path) -> Path:
    return flags.with_name(f"{flags_stem(flags)}.audit-summary.json")


def candidates_path(config: AuditConfig) -> Path:
    """``config.candidates``, else :func:`default_candidates_path` of the flags file (a BEIR input's candidates)."""
    return config.candidates or default_candidates_path(config.flags)


def default_candidates_path(flags: Path) -> Path:
    """Where an audit of a BEIR directory writes the candidates it mines: ``<stem>.candidates.jsonl`` next to the
    flags file ``<stem>.flags.jsonl``, as ``negmine audit DIR --out-dir`` puts it with the flags."""
    return flags.with_name(f"{flags_stem(flags)}.candidates.jsonl")


def flags_stem(path: Path) -> str:
    name = path.name
    for suffix in (".flags.jsonl", ".jsonl"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def query_group(query: str) -> str:
    """The key a query's rows share: its text after mining's normalisation, which pools the positives of query ids
    with the same text (a query asked twice, or re-typed in capitals), so the audit treats them as one query too."""
    return normalize_text(query)


def collect_positives(path: Path) -> dict[str, tuple[tuple[str, str], ...]]:
    """``query_id -> ((positive_id, text), ...)`` over the whole file, in first-seen order, pooled over the query
    ids of one :func:`query_group`."""
    return _scan_positives(path)[0]


def _scan_positives(path: Path, digest: Any = None) -> tuple[dict[str, tuple[tuple[str, str], ...]], int]:
    """:func:`collect_positives` and the number of rows read (the rows the audit judges: the judging bar's total,
    counted in this pass rather than in a pass of its own); ``digest`` is fed the file's bytes in this pass, for
    the summary's ``input_file`` (``input`` is a path, which may hold another file by the time someone reads the
    summary)."""
    found: dict[str, dict[str, str]] = {}
    group_of: dict[str, str] = {}
    rows = 0
    for row in read_native(path, warn_repeats=False, digest=digest):  # warned about by the input check
        rows += 1
        group = group_of.get(row["query_id"])
        if group is None:
            group = group_of[row["query_id"]] = query_group(row["query"])
        found.setdefault(group, {}).setdefault(row["positive_id"], row["positive"])
    return {q: tuple(found[group].items()) for q, group in group_of.items()}, rows


def document_sample(path: Path, limit: int = 2000) -> list[str]:
    """The first ``limit`` distinct documents (positives and negatives) of the file, in file order."""
    seen: dict[str, None] = {}
    for row in read_native(path, warn_repeats=False):
        for text in (row["positive"], *row["negatives"]):
            seen.setdefault(text)
            if len(seen) >= limit:
                return list(seen)
    return list(seen)


PREFETCH_ROWS = 4096
"""Rows read ahead so judges with a ``prefetch`` step (near-duplicate signatures) work on many at once, in
worker processes; the rows are then judged ``batch_size`` at a time as before."""


def _batches(rows, size: int) -> Iterator[list]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def audit_file(
    config: AuditConfig, judges: Sequence[Judge], names: Sequence[str], extra: dict | None = None
) -> dict:
    """Audit ``config.input``; return the summary (also written to :func:`summary_path`), with ``extra``
    (e.g. the qrels rows skipped while mining a BEIR directory's candidates) merged in."""
    digest = hashlib.sha256()
    positives, n_rows = _scan_positives(config.input, digest)
    input_file = hashed_identity(config.input, digest)  # as read, before any output is written
    stale = [summary_path(config), *([config.report] if config.report else [])]  # an earlier run's, from here on
    if config.output:
        remove_stale_exports(config.output, *stale)
    else:
        for path in stale:
            path.unlink(missing_ok=True)
    stats = AuditStats(list(names), config.sample_size, config.seed)
    key = scorer_key(config.judges, names)
    scorer = JudgeScorer(judges, key, scale_settings(config.judges, key, config.encoder) if key is not None else None)
    with atomic_write(config.flags) as flags_out, _maybe_write(config.output) as rows_out:
        verdicts, query_fns = _judge_file(config, judges, positives, stats, flags_out, n_rows, scorer.key)
        _write_rows(config, verdicts, query_fns, positives, stats, rows_out, scorer)
    exports = export_summary(export_all(config.output, config.formats, config.export_as, config.ntuple_negatives,
                                        config.export_scores, config.export_scores_from) if config.output else {})
    summary = {
        "input": str(config.input),
        "input_file": input_file,
        "flags": str(config.flags),
        "output": str(config.output) if config.output else None,
        **exports,
        **plugin_record(None, config.formats if config.output else ()),
        "policies": {"false_negative": config.false_negative_policy, "positive": config.positive_policy},
        "depth": config.depth,
        "model_usage": {judge.name: judge.usage() for judge in judges if hasattr(judge, "usage")},
        "judge_scores": scorer.summary(),
        **stats.summary(),
        **(extra or {}),
    }
    with atomic_write(summary_path(config)) as handle:
        json.dump(summary, handle, indent=2, sort_keys=True)
        handle.write("\n")
    return summary


class JudgeScorer:
    """The cleaned rows' judge scores (:mod:`negmine.audit.judge_scores`): the audit's relevance judge's (``key``),
    else the input rows' own; counts what it did for the summary."""

    def __init__(self, judges: Sequence[Judge], key: str | None, settings: dict | None = None) -> None:
        self.judges, self.key, self.settings = judges, key, settings
        self.judge = relevance_judge(judges, key) if key is not None else None
        self.after, self.kept = 0, 0

    def scores(self, row, verdict: RowVerdict) -> RowJudgeScores | None:
        found = row_judge_scores(row, verdict.judge, self.judge, self.key)
        if self.key is not None:  # the pairs scored after the verdicts: the negatives below the judged head and the
            judged = -1 if verdict.judge is None else len(verdict.judge[1])  # earlier promotions; -1: the positive too
            self.after += len(row["negatives"]) - judged + len(row.get("extra_positives") or ())
        elif found is not None:
            self.kept += 1
        return found

    def summary(self) -> dict | None:
        """The scorer, model and fingerprint; ``{"scorer": "input", "rows": n}`` for rows that kept the input's."""
        if self.key is not None:
            return scorer_summary(self.judges, self.key, self.after, self.settings)
        return {"scorer": "input", "rows": self.kept} if self.kept else None


def _judge_file(
    config: AuditConfig, judges: Sequence[Judge], positives: dict, stats: AuditStats, flags_out, n_rows: int,
    scorer: str | None = None,
) -> tuple[list[RowVerdict], QueryFalseNegatives]:
    """Judge every row (writing its flag records); each row's verdict in file order (with the relevance judge
    ``scorer``'s scores, if any) and every query's false negatives. A bar counts the ``n_rows`` rows judged: the
    judges' own encoding bars are one batch of rows each (and vanish when done), so an audit showed no progress
    through the file."""
    verdicts: list[RowVerdict] = []
    query_fns = QueryFalseNegatives()
    workers = resolve_workers(config.workers)
    with _rows_bar(config.encoder.show_progress, n_rows) as bar:
        for block in _batches(read_native(config.input, warn_repeats=False), PREFETCH_ROWS):
            items = [item_from_row(r, positives.get(r["query_id"], ())).head(config.depth) for r in block]
            for judge in judges:
                if workers > 1 and hasattr(judge, "prefetch"):
                    judge.prefetch(items, workers)
            for batch in _batches(items, config.batch_size):
                for item, verdict in zip(batch, _audit_batch(batch, judges, config, stats, flags_out, scorer)):
                    query_fns.add(query_group(item.query), verdict)
                    verdicts.append(verdict)
                bar.update(len(batch))
    return verdicts, query_fns


def _rows_bar(show: bool, total: int):
    """The judging bar (``judge``, in rows); opened by :func:`negmine.progress.progress_bar`."""
    from negmine.progress import progress_bar

    return progress_bar(total=total, desc="judge", unit="row", show=show)


def _audit_batch(items, judges, config: AuditConfig, stats: AuditStats, flags_out,
                 scorer: str | None = None) -> list[RowVerdict]:
    """Judge a batch, write its flag records and count its findings; the rows' verdicts."""
    verdicts = [judge.judge(items) for judge in judges]
    out = []
    for i, item in enumerate(items):
        findings = find(item, [v[i] for v in verdicts], config.judges)
        for record in flag_records(findings, config.false_negative_policy, config.positive_policy):
            flags_out.write(dumps_row(record))
        verdict = RowVerdict.of(findings, scorer)
        stats.add(findings, not verdict.dropped(config.positive_policy))
        out.append(verdict)
    return out


def _write_rows(
    config: AuditConfig, verdicts: list[RowVerdict], query_fns: QueryFalseNegatives, positives: dict,
    stats: AuditStats, rows_out, scorer: JudgeScorer | None = None,
) -> None:
    """Apply the policies to every row with its query's false negatives and positives (``positives``: as
    :func:`collect_positives`); count the negatives removed as labelled positives, those a sibling row found and
    those only an earlier audit had marked."""
    for row, verdict in zip(read_native(config.input, warn_repeats=False), verdicts, strict=True):
        if verdict.dropped(config.positive_policy):
            continue
        found = query_fns.of(query_group(row["query"]))
        labelled = {doc_id for doc_id, _ in positives.get(row["query_id"], ())}
        stats.add_labelled_positives(labelled_positives(row, labelled))
        stats.add_sibling_false_negatives(sibling_false_negatives(row, verdict, found, labelled))
        stats.add_earlier_false_negatives(earlier_only(row, verdict, found, labelled))
        if rows_out is not None:
            judge_scores = scorer.scores(row, verdict) if scorer is not None else None
            rows_out.write(dumps_row(apply_policy(row, verdict, config.false_negative_policy,
                                                  config.positive_policy, found, labelled, judge_scores)))


def _maybe_write(path: Path | None):
    return atomic_write(path) if path is not None else contextlib.nullcontext()
