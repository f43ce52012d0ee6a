"""Export formats by name, and :func:`export_file` that streams a native JSONL file into one of them."""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

from negmine.config_path import path_option, path_setting
from negmine.errors import ConfigError, NegmineWarning, caller_stacklevel, unknown_choice
from negmine.export import sinks
from negmine.export.base import (
    SCORE_SOURCES, ExportShape, Exporter, QueryExporter, check_judge_scored, judge_scored, promoted_once, scan_shape,
    without_flagged,
)
from negmine.export.by_query import rows_by_query
from negmine.export.custom import check_exporter
from negmine.export.flagembedding import FlagEmbeddingExporter, FlagEmbeddingScoresExporter
from negmine.export.labeled_list import LabeledListByQueryExporter, LabeledListExporter
from negmine.export.labeled_pair import LabeledPairExporter
from negmine.export.native import NativeRow, read_native
from negmine.export.ntuple import NTupleExporter, warn_width_beyond_every_row
from negmine.export.shown_name import export_name, named_by_format
from negmine.export.triplet import TripletExporter
from negmine.export.sinks import SUFFIXES, open_sink
from negmine.plugins import Registry, is_name

REGISTRY: Registry[Exporter] = Registry(
    "export format", "negmine.export_formats", "register_export_format",
    {exporter.name: exporter for exporter in (
        TripletExporter(),
        NTupleExporter(),
        LabeledListExporter(),
        LabeledListByQueryExporter(),
        LabeledPairExporter(),
        FlagEmbeddingExporter(),
        FlagEmbeddingScoresExporter(),
    )},
    check_exporter,
)
"""The export formats: the built-ins, those registered by :func:`register_export_format` and those installed
packages declare (entry point group ``negmine.export_formats``), see :mod:`negmine.plugins`."""

EXPORTERS = REGISTRY.builtins
"""The built-in export formats by name (read-only; :func:`export_format_names` lists the plugins too)."""


def register_export_format(exporter: Exporter, replace: bool = False) -> Exporter:
    """Make ``exporter`` (an instance following :class:`~negmine.export.base.Exporter`) writable by its ``name``
    (``OutputConfig(formats=(name,))``, ``AuditConfig(formats=...)``, ``mine_dataset(..., format=name)``), in this
    process; returns it.

    Checked against the protocol (ConfigError naming what is missing). A built-in's name is refused, and so is a
    name already registered or installed as an entry point unless ``replace=True``. The command line sees installed
    formats only: declare yours as an entry point in group ``negmine.export_formats`` (docs/mining.md)."""
    return REGISTRY.register(exporter, replace)


def export_format_names() -> list[str]:
    """Every export format name: the built-ins, the registered ones and the installed ones (not imported)."""
    return REGISTRY.names()


def export_format_origin(fmt: str) -> dict | None:
    """Where the non-built-in export format ``fmt`` came from (:meth:`negmine.plugins.Registry.origin`); None for a
    built-in."""
    return REGISTRY.origin(fmt)


@dataclass(frozen=True)
class ExportStats:
    """What one export wrote: native rows read, records written, rows skipped per reason."""

    format: str
    path: Path
    rows_in: int
    records_out: int
    skipped: dict[str, int] = field(default_factory=dict)
    flagged_left_out: int = 0
    """Negatives the audit marked as false negatives (``--false-negative-policy mark``), not exported."""

    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped.values())


def check_formats(formats: tuple[str, ...] | list[str], file_type: str = "jsonl", scores: bool = False) -> None:
    """ConfigError naming the first unknown format and listing the registry keys, a format its consumers
    cannot read as ``file_type`` files, or (``scores``: ``--export-scores``) one that takes no scores (before any
    expensive work). A format that writes its scores always (``flagembedding-scores``) goes with ``scores`` when
    another format takes them: ``--export n-tuple --export flagembedding-scores --export-scores`` was refused, so
    one audit could not write both; alone it is refused, ``--export-scores`` changing nothing."""
    exporters = [get_exporter(fmt) for fmt in formats]
    others_take = any(exporter.takes_scores for exporter in exporters)
    for fmt, exporter in zip(formats, exporters):
        if scores and not exporter.takes_scores and not (exporter.always_scores and others_take):
            raise scores_refused(fmt)
        if file_type not in exporter.file_types:
            raise ConfigError(
                f"export format {fmt!r} (--export {fmt}) cannot be written as {file_type}: its trainers read "
                f"{', '.join(exporter.file_types)} files only; use "
                f"{path_setting('export_as', 'jsonl', cli=f'drop --export-as {file_type}')} or write the other formats "
                "in a separate run"
            )


def check_scores_from(value: str) -> str:
    """``value`` when it is one of :data:`SCORE_SOURCES` (``--export-scores-from``), else a ConfigError."""
    if value not in SCORE_SOURCES:
        raise unknown_choice(path_option("export_scores_from"), value, SCORE_SOURCES)
    return value


def writes_scores(formats: tuple[str, ...] | list[str], export_scores: bool) -> bool:
    """Some export of ``formats`` writes scores, whose ``--export-scores-from`` decides: ``--export-scores`` is set
    (with a format), or a format writes them always (``flagembedding-scores``). Unknown formats count as none
    (:func:`check_formats` names them)."""
    exporters = [exporter for exporter in map(REGISTRY.find, formats) if exporter is not None]
    return bool(formats) and (export_scores or any(exporter.always_scores for exporter in exporters))


def score_formats() -> tuple[list[str], list[str]]:
    """``(takes, unloadable)``: the formats that write scores with ``--export-scores`` (the built-ins, the registered
    ones and the installed plugins), and the installed ones that fail to load, so their ``takes_scores`` is not
    known. It imports every installed plugin format: only the refusal of ``--export-scores`` asks, once, and a
    plugin not imported yet was left out of the list it gave. A plugin that fails to load raises its ConfigError
    (:meth:`negmine.plugins.Registry.find`) only where it is chosen (``--export NAME``), not in another's message."""
    takes, unloadable = [], []
    for name in REGISTRY.names():
        try:
            exporter = REGISTRY.find(name)
        except ConfigError:
            unloadable.append(name)
            continue
        if exporter is not None and exporter.takes_scores:
            takes.append(name)
    return takes, unloadable


def scores_refused(fmt: str) -> ConfigError:
    """The error for ``--export-scores`` with ``fmt``, a format that takes no scores. The FlagEmbedding formats
    are such: ``flagembedding-scores`` writes its scores always, in FlagEmbedding's own fields."""
    takers = score_formats_listed("--export NAME")  # loads the installed formats, so a plugin's NAME-scores is found
    drop = path_setting("export_scores", False, cli="drop --export-scores")
    sibling = scored_sibling(fmt)
    if sibling is not None:
        fix = f"for its scores use --export {sibling} instead"
    elif fmt.endswith("-scores"):
        fix = (f"it writes its scores always, in its own fields ({path_option('export_scores_from')} alone chooses "
               f"whose): {drop}")
    else:
        fix = drop
    return ConfigError(
        f"export format {fmt!r} (--export {fmt}) takes no {path_option('export_scores')}; the formats that do: "
        f"{takers}; {fix}, or write {fmt} in a separate run"
    )


def score_formats_listed(choose: str) -> str:
    """The formats that take scores (:func:`score_formats`), comma-separated, and those that fail to load, whose
    own error ``choose`` (how the caller picks a format: ``--export NAME``) shows."""
    takes, unloadable = score_formats()
    broken = (f" (installed but failing to load, so not checked: {', '.join(unloadable)}; {choose} says why)"
              if unloadable else "")
    return f"{', '.join(takes)}{broken}"


def scored_sibling(fmt: str) -> str | None:
    """``NAME-scores`` when that format exists for ``fmt`` (``flagembedding`` -> ``flagembedding-scores``, which
    writes the scores ``fmt`` has no field for); else None. Call after :func:`score_formats` has loaded the
    installed formats, so a plugin's is found."""
    sibling = f"{fmt}-scores"
    return sibling if sibling in {*EXPORTERS, *dict(REGISTRY.added())} else None


def export_path(native: Path, fmt: str, file_type: str = "jsonl") -> Path:
    """``out/negatives.jsonl`` + ``triplet`` -> ``out/negatives.triplet.jsonl`` (``.parquet`` for Parquet)."""
    return native.with_name(f"{native.stem}.{fmt}{SUFFIXES[file_type]}")


def remove_stale_exports(native: Path, summary: Path, *others: Path) -> None:
    """Delete every export of ``native`` an earlier run may have left (each format, either file type), ``summary``
    and ``others``: called before new rows are written, so a stopped or differently configured run leaves no export
    that describes another run's rows. The formats: every one known now (installed plugins listed, not imported)
    and those the earlier run's ``summary`` records (a format registered by a call in that run only)."""
    formats = [*REGISTRY.names(), *_recorded_formats(summary, native)]
    for path in [summary, *others, *(export_path(native, fmt, kind) for fmt in formats for kind in SUFFIXES)]:
        path.unlink(missing_ok=True)


def _recorded_formats(summary: Path, native: Path) -> list[str]:
    """The formats whose exports of ``native`` the summary ``summary`` records (``exports``: {format: path}); none
    if it is missing or unreadable. Only a path named as that format's export of ``native`` counts, so no other
    file is ever deleted for what a summary says."""
    import json

    try:
        exports = json.loads(summary.read_text(encoding="utf-8")).get("exports") or {}
    except (OSError, ValueError, AttributeError):
        return []
    return [fmt for fmt, path in exports.items() if isinstance(fmt, str) and isinstance(path, str)
            and is_name(fmt) and any(Path(path) == export_path(native, fmt, kind) for kind in SUFFIXES)]


def export_all(
    native: Path, formats: tuple[str, ...], file_type: str = "jsonl", ntuple_negatives: int | None = None,
    scores: bool = False, scores_from: str = "mining",
) -> dict[str, ExportStats]:
    """Write every format of ``formats`` next to ``native`` (:func:`export_path`); ``{format: stats}``. ``scores``
    (``--export-scores``) goes to the formats that take it; one that writes its scores always gets them anyway."""
    return {fmt: export_file(native, fmt, export_path(native, fmt, file_type), ntuple_negatives,
                             scores and get_exporter(fmt).takes_scores, scores_from)
            for fmt in formats}


def export_summary(stats: dict[str, ExportStats]) -> dict[str, dict]:
    """The summary keys of :func:`export_all`'s result: ``exports`` ({format: path}), ``export_skipped``
    ({format: {reason: rows}} for the formats that could not take every row; a format's shape can refuse rows
    the native file keeps, e.g. n-tuple rows shorter than the file's width under --keep-partial) and
    ``export_flagged_left_out`` (negatives marked as false negatives, left out of the exports; the same count
    for every format, 0 when none were marked)."""
    return {
        "exports": {fmt: str(st.path) for fmt, st in stats.items()},
        "export_skipped": {fmt: dict(st.skipped) for fmt, st in stats.items() if st.rows_skipped},
        "export_flagged_left_out": max((st.flagged_left_out for st in stats.values()), default=0),
    }


def get_exporter(fmt: str) -> Exporter:
    """The exporter registered as ``fmt`` (an installed plugin's imported now); unknown names raise ConfigError
    listing :func:`export_format_names`."""
    from negmine.config_path import field_path

    return REGISTRY.get(fmt, field_path("formats"), "--export", many=True)


def export_file(
    native_path: str | Path, fmt: str, out_path: str | Path, ntuple_negatives: int | None = None,
    scores: bool = False, scores_from: str = "mining",
) -> ExportStats:
    """Stream ``native_path`` (validated) into ``fmt`` records at ``out_path``, atomically: Parquet when
    ``out_path`` ends in ``.parquet``, else JSONL (see :mod:`negmine.export.sinks`).

    Memory stays bounded by one row (one Parquet row group) plus the ids of promoted documents; formats that need the file's shape (n-tuple
    width) read it twice, and so do those with one record per query (FlagEmbedding's: a first pass counts each
    query's rows, see :mod:`negmine.export.by_query`; memory one query's rows).
    Negatives marked as false negatives (``negative_flags``) are left out and counted; a row left without
    negatives is then skipped like any other. Promoted documents (``extra_positives``) are positives, each once
    per query: with the first row of the query that is written and promoted it (:func:`promoted_once`), or in the
    query's one record.
    A bad row raises InputError naming the native file and line, and leaves ``out_path`` untouched.
    ``ntuple_negatives``: the n-tuple width (None: the file's widest row). ``scores``: also write the rows' mining
    scores (``--export-scores``; ConfigError for a format that takes none, :func:`check_formats`); ``scores_from``
    ``"judge"``: the relevance judge's scores the rows hold instead, in these and in a format that writes scores
    always (``flagembedding-scores``, without ``scores``; InputError for a row without them:
    :func:`negmine.export.base.check_judge_scored`).
    """
    exporter = get_exporter(fmt)
    if scores and not exporter.takes_scores:
        raise scores_refused(fmt)
    if Path(out_path).resolve() == Path(native_path).resolve():
        raise ConfigError(f"export target {out_path} is the native file itself; choose another output path")
    shape = scan_shape(read_native(native_path)) if exporter.needs_scan else ExportShape()
    judge = check_scores_from(scores_from) == "judge" and (scores or exporter.always_scores)
    shape = replace(shape, ntuple_negatives=ntuple_negatives, scores=scores, scores_from="judge" if judge else "mining")
    warned = fmt == NTupleExporter.name and warn_width_beyond_every_row(shape, Path(out_path))
    tally = _Tally(Path(native_path))
    with open_sink(out_path, exporter.arrow_schema(shape)) as write:
        if exporter.per_query:
            _write_queries(cast(QueryExporter, exporter), native_path, shape, write, tally)
        else:
            _write_rows(exporter, native_path, shape, write, tally)
    skipped = dict(sorted(tally.skipped.items()))
    stats = ExportStats(fmt, Path(out_path), tally.rows_in, tally.records_out, skipped, tally.flagged)
    if not warned:
        warn_if_every_row_left_out(stats)
    return stats


def warn_if_every_row_left_out(stats: ExportStats) -> None:
    """A NegmineWarning when the native file had rows but the export holds none (e.g. an audit that dropped every
    row's negatives): the summary's "left out" line gave the count only, and the trainer then failed far from the
    cause: ``datasets.load_dataset("json", ...)`` raises a bare StopIteration on the empty JSONL file (not said of
    an export named by its format, :mod:`negmine.export.shown_name`: its caller loads no file)."""
    if stats.records_out or not stats.rows_in:
        return
    reasons = "; ".join(f"{reason} ({n})" for reason, n in stats.skipped.items())
    loader = ("; datasets.load_dataset(\"json\", ...) fails on the empty file (StopIteration)"
              if sinks.file_type(stats.path) == "jsonl" and not named_by_format() else "")
    rows = "the native file's one row was" if stats.rows_in == 1 else f"every one of the native file's {stats.rows_in} rows was"
    warnings.warn(f"export {export_name(stats.format, stats.path)} holds no records: {rows} "
                  f"left out ({reasons}), so a trainer has nothing to read{loader}", NegmineWarning,
                  stacklevel=caller_stacklevel())


@dataclass
class _Tally:
    """What :func:`export_file` counts while it writes."""

    native_path: Path | None = None
    rows_in: int = 0
    records_out: int = 0
    flagged: int = 0
    skipped: Counter = field(default_factory=Counter)

    def admit(self, native_row: NativeRow, exporter: Exporter, shape: ExportShape) -> NativeRow | None:
        """The row without its marked false negatives, or None (counted) when the format cannot take it."""
        self.rows_in += 1
        if shape.scores_from == "judge":  # an always_scores format reads them itself (see ExportShape.scores_from)
            check_judge_scored(native_row, self.native_path)
            native_row = native_row if exporter.always_scores else judge_scored(native_row, self.native_path)
        row, left_out = without_flagged(native_row)
        self.flagged += left_out
        reason = exporter.skip_reason(row, shape)
        if reason is not None:
            self.skipped[reason] += 1
            return None
        return row


def _write_rows(exporter: Exporter, native_path, shape: ExportShape, write, tally: _Tally) -> None:
    """Row by row: each promoted document with the first row of its query that is written (:func:`promoted_once`)."""
    promoted: set[tuple[str, str]] = set()
    for native_row in read_native(native_path):
        row = tally.admit(native_row, exporter, shape)
        if row is None:
            continue
        for record in exporter.convert(promoted_once(row, promoted), shape):
            write(record)
            tally.records_out += 1


def _write_queries(exporter: QueryExporter, native_path, shape: ExportShape, write, tally: _Tally) -> None:
    """Query by query (:func:`negmine.export.by_query.rows_by_query`), for a format with one record per query; a
    query the format cannot take counts its written rows under the format's reason."""
    for group in rows_by_query(native_path):
        rows = [row for row in (tally.admit(native_row, exporter, shape) for native_row in group) if row is not None]
        if not rows:
            continue
        reason = exporter.query_skip_reason(rows, group)
        if reason is not None:
            tally.skipped[reason] += len(rows)
            continue
        for record in exporter.convert_query(rows, group, shape):
            write(record)
            tally.records_out += 1
