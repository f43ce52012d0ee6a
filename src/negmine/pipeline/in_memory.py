"""``mine_dataset``: hard negatives for a Hugging Face ``datasets.Dataset`` of (query, positive) pairs, returned as a
``datasets.Dataset``, as sentence-transformers' ``mine_hard_negatives(dataset, model, ...)`` returns them.

It is :func:`negmine.pipeline.mine.mine` with the data and the one export format given: the pairs are read by
:func:`negmine.io.pairs.pairs_from_dataset` (its checks, ids and messages), ``mine`` runs with the config (the same
validation, embedding cache, warnings and selection) and writes its native file, summary and the format's export
into a temporary folder, removed whatever happens (so a warning about the export names its format, not its file:
:mod:`negmine.export.shown_name`), and the export is read back into memory: a Parquet file, whose
columns and types are the exporter's own (the FlagEmbedding formats, which their trainer reads as JSON Lines only,
are read from their JSONL file with the exporter's schema). So the rows are those of the file ``negmine mine
--export FORMAT`` writes for the same data and options. With ``summary_path`` the run's summary is written there
(:func:`summary_for_dataset`), the caller's one way to its skip counts: the Dataset returned is the reference's.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from negmine.config import DataConfig, MineConfig
from negmine.errors import ConfigError
from negmine.pipeline.keyword_fields import (COLUMN_KEYWORDS, KEYWORD_FIELDS, KeywordColumns, named_by_keyword,
                                             renamed_keywords, with_fields)

if TYPE_CHECKING:
    import datasets

DEFAULT_FORMAT = "triplet"
"""The format returned when neither ``output_format`` nor the config's ``output.formats`` names one: the
reference's default ``output_format``."""

def mine_dataset(
    data: Any,
    model: Any = None,
    *,
    num_negatives: int | None = None,
    output_format: str | None = None,
    output_scores: bool | None = None,
    sampling_strategy: str | None = None,
    relative_margin: float | None = None,
    absolute_margin: float | None = None,
    query_column: str | None = None,
    positive_column: str | None = None,
    config: MineConfig | None = None,
    summary_path: str | os.PathLike | None = None,
) -> "datasets.Dataset":
    """Mine hard negatives for the pairs of ``data`` and return them as a ``datasets.Dataset`` whose columns are
    exactly those of the export format ``output_format`` (``triplet``: anchor, positive, negative; ``n-tuple``:
    anchor, positive, negative_1..N; ...; see ``negmine mine --export``).

    ``data``: a ``datasets.Dataset`` of (query, positive) text columns (detected, or named by ``query_column`` and
    ``positive_column``), or anything else :func:`negmine.io.pairs.pairs_from_dataset` takes (a ``pyarrow.Table``;
    a ``DatasetDict``'s split, ``ds["train"]``); or the negmine Dataset it returns, to add a corpus file. ``model``:
    a model name or path, a loaded ``SentenceTransformer`` or a negmine :class:`~negmine.encode.base.Embedder`;
    None: the config's (``bundled:all-MiniLM-L6-v2`` by default). ``config``: a :class:`~negmine.config.MineConfig`
    for everything else; each keyword given replaces its field (:data:`~negmine.pipeline.keyword_fields.KEYWORD_FIELDS`;
    ``output_format`` -> ``output.formats``; without it the config's one format, else ``triplet``). The config's
    output path, summary path and ``export_as`` are not used. ``summary_path``: a file to write the run's summary
    JSON to, atomically, after the Dataset is read (the summary ``negmine mine`` writes; :func:`summary_for_dataset`
    says what differs); checked before the data is read.

    Options are checked before the data is read, and the data before any model loads; warnings are NegmineWarnings.
    A run that keeps no pair returns an empty Dataset with the format's columns, as ``mine`` does. The same data and
    options give equal Datasets; a second call encodes nothing (the embedding cache, as for ``mine``).
    """
    from negmine.config import check_config_type
    from negmine.export.shown_name import exports_named_by_format
    from negmine.pipeline.mine import mine, write_summary_json

    config_given = config is not None
    config = MineConfig() if config is None else config
    check_config_type(config, MineConfig, "mine_dataset")
    refuse_named_inputs(config.data)
    fmt = output_format if output_format is not None else only_format(config.output.formats)
    if output_format is not None:
        check_output_format(output_format)
    keywords = {"num_negatives": num_negatives, "sampling_strategy": sampling_strategy,
                "relative_margin": relative_margin, "absolute_margin": absolute_margin, "output_scores": output_scores,
                "query_column": query_column, "positive_column": positive_column}
    with tempfile.TemporaryDirectory(prefix="negmine-mine_dataset-") as folder, named_by_keyword(keywords, config_given):
        run, columns = checked_run(config, Path(folder), fmt, model, keywords, output_format is not None)
        summary_file = checked_summary_path(summary_path)
        dataset = as_pairs(data, columns, KeywordColumns(renamed_keywords(keywords, config_given)))
        with exports_named_by_format():  # the temporary file is gone when the caller reads a warning
            result = mine(run, embedder=as_embedder(model, run), dataset=dataset)
        returned = read_export(Path(result.summary["exports"][fmt]), fmt, run)
    if summary_file is not None:
        write_summary_json(summary_file, summary_for_dataset(result.summary, summary_file, fmt, returned.num_rows,
                                                             columns))
    return returned


def checked_run(config: MineConfig, folder: Path, fmt: str, model: Any, keywords: dict[str, Any],
                format_given: bool) -> tuple[MineConfig, dict[str, str | None]]:
    """The config ``mine`` runs, writing into ``folder`` (:func:`with_keywords`, each keyword given replacing its
    field), checked as ``mine`` checks it, before the (possibly large) data is read; and the columns to read the
    data with (:func:`without_columns`)."""
    run = with_fields(with_keywords(config, folder / "negatives.jsonl", fmt, model), keywords)
    check_format_scores(run, fmt, format_given, keywords["output_scores"] is not None)
    run, columns = without_columns(run)
    run.validate(dataset_given=True)
    return run, columns


SUMMARY_OPTION = "mine_dataset() summary_path"


def checked_summary_path(path: str | os.PathLike | None) -> Path | None:
    """``summary_path`` as a Path (None: no summary file); ConfigError, naming the keyword, unless a file can be
    written there (as ``mine`` checks ``--summary-json`` before any work)."""
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigError(f"{SUMMARY_OPTION} takes a file path (str or pathlib.Path), got {type(path).__name__} "
                          f"{path!r:.80}; e.g. summary_path='out/negatives.summary.json'")
    from negmine.io.outputs import check_output_file

    path = Path(path)
    check_output_file(path, SUMMARY_OPTION, "negatives.summary.json")
    return path


def summary_for_dataset(summary: dict, path: Path, fmt: str, rows: int,
                        columns: dict[str, str | None] | None = None) -> dict:
    """``mine``'s summary of the run as ``mine_dataset`` writes it: every count, statistic and setting as ``mine``
    recorded them, without the files of the temporary folder (removed when the call returned): ``output`` and
    ``exports`` are left out, ``config.output.path`` is null and ``config.output.summary_path`` is ``path``;
    ``config.data`` holds the ``columns`` the data was read with (``query_column``, ``positive_column``: given, or
    null when detected), which ``mine``, given the data read, did not see; and ``mine_dataset``: the ``format`` and
    the ``rows`` of the Dataset returned."""
    kept = {key: value for key, value in summary.items() if key not in ("output", "exports")}
    config = dict(summary["config"])
    config["output"] = {**config["output"], "path": None, "summary_path": str(path)}
    config["data"] = {**config["data"], **(columns or {})}
    return {**kept, "config": config, "mine_dataset": {"format": fmt, "rows": rows}}


def refuse_named_inputs(data: DataConfig) -> None:
    """ConfigError when the config's ``data`` names files or a folder: ``mine_dataset`` mines the data it is given,
    and ``mine`` would not read them (a corpus meant for the pairs would be left out without a word)."""
    from negmine.pipeline.given_data import refuse_named_inputs as refuse

    refuse(data, "mine_dataset()", "leave MineConfig.data unset (a corpus for the pairs: "
           "negmine.io.pairs.pairs_from_dataset(ds, corpus=PATH), passed as the data), or mine the files with "
           "negmine.mine(config)")


def only_format(formats: tuple[str, ...]) -> str:
    """The config's one export format (:data:`DEFAULT_FORMAT` when it names none); ConfigError for several."""
    if not formats:
        return DEFAULT_FORMAT
    if len(formats) > 1:
        raise ConfigError(
            f"mine_dataset() returns one Dataset, in one format, but the config's output.formats names "
            f"{len(formats)}: {', '.join(formats)}; pick one with output_format={formats[0]!r}, or write them all "
            "with negmine.mine(config)"
        )
    return formats[0]


def check_output_format(fmt: str) -> None:
    """ConfigError for an ``output_format`` no export format has, listing them and naming the keyword: the
    registry's own message ended ``did you mean 'n-tuple' in formats (--export n-tuple)?``, a field and an option
    ``mine_dataset`` does not take."""
    from negmine.errors import closest_name
    from negmine.export.registry import REGISTRY, export_format_names

    if not isinstance(fmt, str) or REGISTRY.find(fmt) is not None:
        return
    names = sorted(export_format_names())
    close = closest_name(fmt, names)
    fix = f"did you mean output_format={close!r}?" if close else f"pick one with output_format, e.g. {DEFAULT_FORMAT!r}"
    raise ConfigError(f"unknown export format {fmt!r}; allowed: {', '.join(names)}; {fix}")


def check_format_scores(run: MineConfig, fmt: str, format_given: bool, scores_given: bool) -> None:
    """ConfigError for scores asked of the format ``fmt``, which takes none, naming what ``mine_dataset``'s caller
    set (the keyword given, else the config's field) and passes instead: ``mine``'s own message named ``--export
    flagembedding`` and ``use --export flagembedding-scores instead``, options ``mine_dataset`` does not take."""
    from negmine.export.registry import REGISTRY, score_formats_listed, scored_sibling

    exporter = REGISTRY.find(fmt)
    if run.output.export_scores is not True or exporter is None or exporter.takes_scores:
        return
    takers = score_formats_listed("output_format=NAME")  # loads the installed formats: a plugin's NAME-scores too
    named = f"output_format={fmt!r}" if format_given else "the config's output.formats"
    asked = "output_scores=True" if scores_given else "the config's output.export_scores=True"
    drop = "drop output_scores=True" if scores_given else "pass output_scores=False"
    sibling = scored_sibling(fmt)
    if sibling is not None:
        fix = f"for its scores use output_format={sibling!r} instead, or {drop}"
    elif fmt.endswith("-scores"):
        fix = f"it writes its scores always, in its own fields: {drop}"
    else:
        fix = drop
    raise ConfigError(f"export format {fmt!r} ({named}) takes no scores ({asked}); the formats that do: {takers}; {fix}")


def with_keywords(config: MineConfig, path: Path, fmt: str, model: Any) -> MineConfig:
    """``config`` writing ``path`` and the export ``fmt`` (Parquet when its consumers read it, else JSONL);
    ``model`` goes to ``encoder.model`` when it is a name or path. The other keywords:
    :func:`negmine.pipeline.keyword_fields.with_fields`."""
    from negmine.export.registry import get_exporter

    # an unknown format raises the registry's error here, as mine's validation would
    export_as = "parquet" if "parquet" in get_exporter(fmt).file_types else "jsonl"

    def fields(**values: Any) -> dict[str, Any]:
        return {name: value for name, value in values.items() if value is not None}

    named_model = model if isinstance(model, (str, os.PathLike)) else None
    return replace(
        config,
        encoder=replace(config.encoder, **fields(model=named_model)),
        output=replace(config.output, path=path, summary_path=None, formats=(fmt,), export_as=export_as),
    )


def without_columns(run: MineConfig) -> tuple[MineConfig, dict[str, str | None]]:
    """``run`` without the data's column fields (:data:`~negmine.pipeline.keyword_fields.COLUMN_KEYWORDS`), and
    their values: ``mine_dataset`` reads its data with them (:func:`as_pairs`), and ``mine``, handed the data read,
    would refuse them as unused (``the input is not a pairs file``). Their types are checked first, as ``mine``'s
    validation checks them (``MineConfig.data.query_column must be a str or None``: a keyword's named so)."""
    from negmine.config import check_field_types
    from negmine.config_path import within

    with within(run, "data"):
        check_field_types(run.data)
    fields = {keyword: KEYWORD_FIELDS[keyword].split(".")[1] for keyword in COLUMN_KEYWORDS}
    columns = {keyword: getattr(run.data, field) for keyword, field in fields.items()}
    return replace(run, data=replace(run.data, **dict.fromkeys(fields.values()))), columns


def as_pairs(data: Any, columns: dict[str, str | None], options: KeywordColumns):
    """``data`` as the negmine Dataset ``mine`` takes: itself when it is one (ConfigError with ``columns`` given:
    its pairs were read already), else read as :func:`negmine.io.pairs.pairs_from_dataset` reads it (which refuses
    what it cannot read, naming the types it takes), with the ``columns`` (keyword -> column, None: detected) and
    messages naming them as ``options`` says."""
    from negmine.io.records import Dataset

    if isinstance(data, Dataset):
        refuse_columns_of_read(columns, options)
        return data
    refuse_dataset_dict(data)
    from negmine.io.hf_datasets import dataset_rows
    from negmine.io.pairs import read_pairs_from, warned

    return warned(read_pairs_from(dataset_rows(data, None, None), None, columns["query_column"],
                                  columns["positive_column"], options), None)


def refuse_columns_of_read(columns: dict[str, str | None], options: KeywordColumns) -> None:
    """ConfigError for columns named for a negmine Dataset: its pairs were read already, so they would name
    nothing read."""
    given = [options.setting(keyword, column) for keyword, column in columns.items() if column is not None]
    if given:
        raise ConfigError(
            f"mine_dataset() names a datasets.Dataset's columns by {' and '.join(given)}, but data is a negmine "
            "Dataset, whose pairs were read already (by pairs_from_dataset); pass the datasets.Dataset, or name the "
            "columns to pairs_from_dataset(ds, query_column=..., positive_column=...) and drop them here")


def refuse_dataset_dict(data: Any) -> None:
    """ConfigError for a ``datasets.DatasetDict``, naming its splits and the call that mines one: pairs_from_dataset's
    own message says ``split='train'``, a keyword ``mine_dataset`` does not take (it raised a TypeError)."""
    import sys

    library = sys.modules.get("datasets")
    if library is None or not isinstance(data, library.DatasetDict):
        return
    splits = list(data)
    example = splits[0] if splits else "train"
    raise ConfigError(f"mine_dataset() takes one dataset, and data is a datasets.DatasetDict (splits: "
                      f"{', '.join(repr(s) for s in splits) or 'none'}); pass one split: mine_dataset(ds[{example!r}], "
                      "...) (mining every split together would mine test queries into training data)")


def as_embedder(model: Any, config: MineConfig):
    """The embedder ``mine`` is given: None for a model name or path (``mine`` loads ``encoder.model``), a negmine
    Embedder as it is, a loaded ``SentenceTransformer`` wrapped (its fingerprint, from its weights, keys the cache
    as the same model loaded by path does); ConfigError for anything else."""
    import sys

    if model is None or isinstance(model, (str, os.PathLike)):
        return None
    if hasattr(model, "encode") and hasattr(model, "fingerprint"):
        return model
    library = sys.modules.get("sentence_transformers")
    if library is not None and isinstance(model, library.SentenceTransformer):
        from negmine.encode.sentence_transformer import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder.from_model(model, config.encoder)
    raise ConfigError(
        f"mine_dataset() takes model as a name or path (e.g. 'bundled:all-MiniLM-L6-v2'), a loaded "
        f"sentence_transformers.SentenceTransformer or a negmine Embedder, got {type(model).__name__} {model!r:.80}"
    )


def read_export(path: Path, fmt: str, config: MineConfig) -> "datasets.Dataset":
    """The export file ``path`` (format ``fmt``) as an in-memory ``datasets.Dataset`` (nothing left referring to
    the file); with no records, an empty one with the columns the format's rows have under ``config``."""
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    from negmine.export.base import ExportShape
    from negmine.export.registry import get_exporter

    exporter = get_exporter(fmt)
    shape = ExportShape(max_negatives=config.select.num_negatives, ntuple_negatives=config.output.ntuple_negatives,
                        scores=config.output.export_scores and exporter.takes_scores)
    schema = exporter.arrow_schema(shape)  # None: a JSONL-only format of one's own (types read from the records)
    if path.suffix == ".parquet":
        table = pq.read_table(path, memory_map=False)
    else:
        with path.open(encoding="utf-8") as handle:
            table = pa.Table.from_pylist([json.loads(line) for line in handle], schema=schema)
    if table.num_rows == 0 and schema is not None:
        table = schema.empty_table()
    return datasets.Dataset(table)
