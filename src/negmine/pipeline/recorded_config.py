"""The :class:`MineConfig` a ``negmine mine`` run recorded in its summary JSON (``<name>.summary.json``):
what re-mining during training re-runs."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from pathlib import Path

from negmine.config import MineConfig
from negmine.config_unused import without_unused
from negmine.errors import ConfigError, InputError, field_option
from negmine.io.jsonl import read_json_file

if typing.TYPE_CHECKING:
    from negmine.io.pairs import CheckedPairs


def _unwrap_optional(hint):
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return hint


def config_from_dict(cls, data: dict):
    """Rebuild a (nested) config dataclass from ``asdict`` JSON: paths from strings, tuples from lists."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data or not f.init:
            continue
        value, target = data[f.name], _unwrap_optional(hints[f.name])
        if dataclasses.is_dataclass(target) and isinstance(value, dict):
            value = config_from_dict(target, value)
        elif value is not None and target is Path:
            value = Path(value)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[f.name] = value
    return cls(**kwargs)


@dataclasses.dataclass(frozen=True)
class RecordedMining:
    """A mining summary as re-mining reads it (:func:`read_mine_summary`): the MineConfig it records, and the
    rows of the pairs it records (``data.pairs``, a file or a ``save_to_disk`` folder) as they were checked then,
    which re-mining's load takes (``train(config, remine_pairs=...)``) instead of reading the pairs again; None for
    BEIR data and ``hf:`` datasets."""

    config: MineConfig
    pairs: CheckedPairs | None


def load_mine_config(mined: str | Path, summary: str | Path | None = None) -> MineConfig:
    """The MineConfig recorded by ``negmine mine`` in the summary JSON next to the mined file (or ``summary``).
    Either may be a str, as every path a config takes (``load_mine_config("out/negatives.jsonl")`` failed with
    "'str' object has no attribute 'with_name'"). Its data is checked as it is read (:func:`read_mine_summary`,
    which also returns the pairs rows read, for ``train(..., remine_pairs=)``).

    A summary written before MineConfig refused settings its mode leaves unused (``simans_a`` with the ``top``
    strategy) may hold some: they are set back to their defaults (:func:`negmine.config_unused.without_unused`),
    which re-mines exactly what the recorded run mined, since that run never read them."""
    return read_mine_summary(mined, summary).config


def read_mine_summary(mined: str | Path, summary: str | Path | None = None,
                      show_progress: bool = True) -> RecordedMining:
    """:func:`load_mine_config`'s MineConfig, with the pairs rows its check read (:class:`RecordedMining`).
    ``show_progress``: without it, ``datasets`` draws no bars while a ``save_to_disk`` folder is read
    (:func:`negmine.io.hf_datasets.quiet_datasets`), as re-mining's load follows ``--no-progress``."""
    mined = Path(mined)
    path = Path(summary) if summary is not None else mined.with_name(f"{mined.stem}.summary.json")
    if not path.is_file():
        raise ConfigError(
            f"re-mining needs the mining configuration, but {path} does not exist; pass --mine-summary PATH "
            "(the <name>.summary.json written by `negmine mine`; from Python load_mine_config(mined, summary=PATH)) or "
            f"turn re-mining off ({field_option('remine_every_epoch')}, {field_option('remine_steps')})"
        )
    document = read_json_file(path)  # InputError at the line of invalid UTF-8 or JSON; a byte-order mark is fine
    try:
        config = config_from_dict(MineConfig, document["config"])
    except (KeyError, TypeError) as err:
        raise ConfigError(f"{path}: not a negmine mining summary with a 'config' object ({err})") from None
    check_recorded_input(config, document, path)
    check_recorded_data_paths(config, path)
    return RecordedMining(without_unused(config), check_recorded_pairs(config, show_progress))


DATA_PATH_FIELDS = ("data_dir", "corpus", "queries", "qrels", "pairs")

MINE_DATASET_KEYWORDS = ("num_negatives", "output_format", "output_scores", "sampling_strategy", "relative_margin",
                         "absolute_margin", "query_column", "positive_column")
"""``mine_dataset``'s keywords that set a setting, in its signature's order, as a refusal of its summary lists them."""


def check_recorded_input(config: MineConfig, document: Mapping, summary: Path) -> None:
    """ConfigError when the summary's config names no data to read (no data folder, files or pairs) while it
    records the data mined (``pairs_input``, ``beir_input``) or a ``mine_dataset`` call: the run mined data handed
    to it in memory, by ``mine_dataset(..., summary_path=...)`` (the summary's ``mine_dataset`` key) or
    ``mine(config, dataset=...)``, which re-mining cannot read again. ``load_mine_config`` returned a config
    naming no input (the columns a ``mine_dataset`` summary records dropped as unused), which every use refused
    later with "no input given; pass a BEIR directory ...", naming neither the summary nor why; ``negmine train
    --remine-steps`` with such a summary did too. The message says where the summary comes from and what to do
    instead: call ``mine_dataset`` again with the keywords listed (:func:`_mine_dataset_keywords`), or mine the
    data from files, whose summary re-mining reads."""
    from negmine.io.row_source import recorded_label
    from negmine.pipeline.given_data import named_inputs

    given = document.get("pairs_input") or document.get("beir_input")
    in_memory = isinstance(document.get("mine_dataset"), Mapping)
    if named_inputs(config.data) or not (in_memory or isinstance(given, Mapping)):
        return  # a summary recording no data at all is the load's to refuse (DataConfig.validate: "no input given")
    what = recorded_label(given) if isinstance(given, Mapping) and "rows" in given else "a dataset"
    start = f"{summary}: this summary names no data to re-mine: it records"
    files = ("to re-mine while training, mine the data from files, whose summary re-mining reads (pairs in a "
             "datasets.Dataset ds: ds.to_json('pairs.jsonl'), then negmine mine --pairs pairs.jsonl"
             f"{_pairs_options(document)})")
    if in_memory:
        raise ConfigError(
            f"{start} a mine_dataset() call, which mined {what} given in memory, not files; to mine that data again "
            f"with the same settings, call mine_dataset(data, model, {_mine_dataset_keywords(document)}) with the data "
            f"and model that call was given (and config= for the other settings this summary's config records); "
            f"{files}")
    raise ConfigError(f"{start} a run of negmine.mine(config, dataset=...), which mined {what} given in memory, not "
                      f"files; {files}")


def _pairs_options(document: Mapping) -> str:
    """The ``negmine mine --pairs`` options for the data the summary records: ``--query-column`` and
    ``--positive-column`` for the columns its ``config.data`` names (none for a column detected), ``--corpus`` for
    the corpus file its ``pairs_input`` records (``pairs_from_dataset(ds, corpus=...)``); quoted for a shell."""
    import shlex

    data = document["config"].get("data") or {}
    options = [(f"--{name.replace('_', '-')}", data[name]) for name in ("query_column", "positive_column")
               if isinstance(data.get(name), str)]
    given = document.get("pairs_input")
    corpus = given.get("corpus") if isinstance(given, Mapping) else None
    if isinstance(corpus, Mapping) and isinstance(corpus.get("path"), str):
        options.append(("--corpus", corpus["path"]))
    return "".join(f" {option} {shlex.quote(value)}" for option, value in options)


def _mine_dataset_keywords(document: Mapping) -> str:
    """``mine_dataset``'s keywords (:data:`MINE_DATASET_KEYWORDS`) with the values the summary records:
    ``output_format`` from its ``mine_dataset`` key, the others from its config's fields
    (:data:`~negmine.pipeline.keyword_fields.KEYWORD_FIELDS`)."""
    from negmine.pipeline.keyword_fields import KEYWORD_FIELDS

    config = document["config"]

    def value(keyword: str) -> object:
        if keyword == "output_format":
            return document["mine_dataset"].get("format")
        part, name = KEYWORD_FIELDS[keyword].split(".")
        return (config.get(part) or {}).get(name)

    return ", ".join(f"{keyword}={value(keyword)!r}" for keyword in MINE_DATASET_KEYWORDS)


def check_recorded_data_paths(config: MineConfig, summary: Path) -> None:
    """ConfigError when a data path the summary records is not found from here: typed relative, to the folder
    ``negmine mine`` ran in, re-mining failed with only ``pairs.csv: pairs file not found``, which named neither the
    summary it came from nor the fix; absolute, and moved or deleted since, it failed at the data's load with
    ``BEIR directory not found, given as mine.data.data_dir (the DATA_DIR argument of negmine mine)``, though
    ``negmine train`` was given no DATA_DIR: the path came from the summary (:func:`recorded_path_error`). A hub
    dataset (``pairs='hf:NAME'``) is no path: refused as one not found, re-mining from its summary could not run.
    Found, its BEIR layout is checked too (:func:`check_recorded_layout`)."""
    from negmine.io.hf_datasets import HUB_PREFIX

    for name in DATA_PATH_FIELDS:
        value = getattr(config.data, name)
        if value is None or Path(value).exists() or str(value).startswith(HUB_PREFIX):  # --pairs hf:NAME: no path
            continue
        if Path(value).is_absolute():
            raise ConfigError(recorded_path_error(summary, name, value, GONE))
        raise ConfigError(
            f"{summary}: re-mining reads data.{name} {str(value)!r} as the mining run recorded it, relative to "
            f"the folder that run started in, and {Path.cwd()} has no such path; run negmine train from that "
            "folder, or pass --mine-summary (load_mine_config(mined, summary=...)) with a copy of the summary "
            "whose data paths are absolute"
        )
    check_recorded_layout(config, summary)


def check_recorded_pairs(config: MineConfig, show_progress: bool = True) -> CheckedPairs | None:
    """The pairs loader's error (:func:`negmine.io.pairs.check_pairs`: ``file:line: field 'positive': missing``,
    an invalid JSON line, a column not found, a folder ``save_to_disk`` did not write or whose data files are
    damaged) for pairs the summary records that exist but are broken; else the rows read, which re-mining's load
    takes rather than read them again (a 200,000-row file was read twice: 2.0-5.3 s more). The error came from that
    load, once ``negmine train`` had imported the trainer (a 40-row file: 16 s to the same error, now 1.1-1.7 s; a
    40-row save_to_disk folder: 9.8-10.1 s, now 2.5 s; a malformed ``hf:``: 9.9 s, now 0.8 s). Of a hub
    dataset (``hf:``), which needs the hub or its cache to load, only what needs neither is checked
    (:func:`negmine.io.hf_datasets.hub_spec`: its form, a ``save_to_disk`` folder named with ``hf:``); None then."""
    from negmine.io.hf_datasets import HUB_PREFIX, hub_spec, quiet_datasets
    from negmine.io.pairs import check_pairs

    data = config.data
    if data.pairs is None:
        return None
    if str(data.pairs).startswith(HUB_PREFIX):
        hub_spec(str(data.pairs))
        return None
    with quiet_datasets(data.pairs, show_progress):
        return check_pairs(data.pairs, data.query_column, data.positive_column)


GONE = "does not exist now (moved or deleted since it ran)"


def check_recorded_layout(config: MineConfig, summary: Path) -> None:
    """ConfigError when the BEIR data the summary records exists but no longer as mining read it: the directory a
    file now, a folder without ``qrels/``, the split's qrels file, ``corpus.jsonl`` or ``queries.jsonl``. Re-mining
    failed at the data's load with the loader's message, ``..., given as mine.data.data_dir (the DATA_DIR argument of
    negmine mine)``, though ``negmine train`` was given no DATA_DIR. The loader's own check
    (:func:`negmine.io.load.check_beir_layout`, no file read) runs at the summary's config's place (``data.`` of a
    MineConfig), so its words name the summary's fields; the field named is the one whose path failed (``corpus``
    given as a file of its own), else ``data_dir``."""
    from negmine.config_path import at, where, within
    from negmine.io.beir import field_named_by_caller
    from negmine.io.load import check_beir_layout

    data = config.data
    if data.pairs is not None or (data.data_dir is None and None in (data.corpus, data.queries, data.qrels)):
        return  # a pairs file's checks read it; a summary of no BEIR input is the load's to refuse (DataConfig.validate)
    try:
        with at(where(MineConfig)), within(MineConfig, "data"), field_named_by_caller():
            check_beir_layout(data)
    except InputError as err:
        given = {str(getattr(data, name)): name for name in ("corpus", "queries", "qrels")}
        name = given.get(err.path, "data_dir")
        value = getattr(data, name)
        raise ConfigError(recorded_path_error(summary, name, value,
                                              f"has changed since it ran ({_words_within(err, value)})")) from None


def _words_within(err: InputError, value: str | Path) -> str:
    """The loader's words for the data at ``value``, said once within the refusal that names the field and its
    path: the path the error names left out when it is ``value``, relative to it when inside it (``qrels: qrels
    directory not found``). Refusals showed the path and the field twice: ``... 'demo' has changed since it ran
    (demo: expected a BEIR directory ..., found a file, given as data.data_dir (the DATA_DIR argument))``."""
    if err.path is None:
        return str(err)
    path, root = Path(err.path), Path(value)
    if path == root:
        return err.problem
    where = path.relative_to(root) if path.is_relative_to(root) else path
    return f"{where}: {err.problem}"


def recorded_path_error(summary: Path, name: str, value: Path, now: str) -> str:
    """The message for data path ``name`` of the mining config ``summary`` records, ``now`` saying what is wrong
    with it (:data:`GONE`, or the loader's words for the data found there): the field named as the summary holds
    it, with the mining command's option (:func:`negmine.config_path.path_option` at a MineConfig's ``data``:
    ``data.data_dir (the DATA_DIR argument)``), and the fixes: the data back at that path, a summary naming where
    it is now, or a new mining."""
    from negmine.config_path import at, field_path, path_option, where, within

    with at(where(MineConfig)), within(MineConfig, "data"):
        field, setting = field_path(name), path_option(name)
    return (
        f"{summary}: re-mining repeats the negmine mine run this summary records, whose {setting} {str(value)!r} "
        f"{now}; put it back at that path, pass --mine-summary "
        f"(load_mine_config(mined, summary=...)) with a copy of the summary whose {field} names where it is now, or "
        "mine the data again (negmine mine) and train on that file"
    )


RUN_ONLY_FIELDS: dict[str, tuple[str, ...]] = {
    "encoder": ("show_progress", "device", "cache_dir", "use_cache"),
    "engine": ("work_dir", "keep_work", "workers"),
    "output": ("path", "formats", "summary_path", "export_as", "ntuple_negatives", "export_scores",
               "export_scores_from"),
}
"""Settings of a recorded mining configuration (section -> fields) that say how that mining run ran, not which
rows it mined: copied into ``negmine_train.json`` and ``checkpoints/negmine_run_settings.json``, they made the
records of two runs on the same data and settings differ, so model reuse by record (``benchmarks/train_scifact.py``)
retrained and ``--resume`` with a mining summary rewritten by such a run was refused. Why each:

- ``encoder.show_progress``: progress bars only; re-mining draws none
  (:func:`negmine.train.pipeline_miner.pipeline_miner`).
- ``encoder.device``: re-mining runs a torch encoder's judges on the training run's ``device``
  (:meth:`negmine.config.TrainConfig.remine_config`; an onnx encoder runs on the CPU), which the record holds at
  its top level.
- ``encoder.cache_dir``, ``encoder.use_cache``: where vectors (and a ``--denoise`` cross-encoder's scores) are
  kept between runs, and whether. On the CPU a text's vector does not depend on the texts encoded with it, so a
  warm cache gives the cold run's bytes (docs/mining.md "What stays byte-identical";
  ``tests/pipeline/test_mine_cache_history.py``), and re-mining's model is new at every step (its fingerprint
  holds the step and the weights), so its vectors are never found in a cache. Not settings, and in no record:
  what a cache holds (a cross-encoder's score does not depend on its batch either on the CPU:
  :mod:`negmine.audit.judges.pair_passes`); on a GPU vectors or scores cached from other batches may differ in
  their last bits, whatever the path.
- ``engine.work_dir``, ``engine.keep_work``: where the embedding stores and finished search shards of a run
  are kept, and whether after it; not part of the work folder's key (:func:`negmine.engine.dense.run_key`),
  and a run resumed from them writes the uninterrupted run's bytes.
- ``engine.workers``: local processes for BM25 and MinHash; the mined file is byte-identical for any number
  (README; ``tests/pipeline/test_mine.py``: a BM25 index split into one shard per worker keeps the whole
  corpus' statistics). The dense search's shard size reads the engine's actor count, never this.
- ``output.*``: where the native file, its summary and its exports go and their file type, n-tuple width and scores;
  no native row reads any of them (:func:`negmine.pipeline.mine.mine` writes the rows it selected), and
  re-mining replaces the whole section with its own file (:func:`~negmine.train.pipeline_miner.pipeline_miner`).

Not run-only, though they only tune speed or memory: ``engine.name`` and the ``ray_*`` settings (under
``memory_budget`` the search shard shrinks by the Ray actor count: another layout for an ANN index);
``engine.encode_shard_size`` (on a GPU the texts encoded together); ``engine.memory_budget``, ``shard_size``
and ``retrieve.block_size`` (an ANN index per shard); ``retrieve.query_batch_size`` (its invariance is tested for
the exact search only); ``denoise.judges.cross_encoder_batch_size`` (scores batch-independent on the CPU only);
``denoise.until_filled`` (which candidates are judged: not traced to the rows)."""


def without_run_only(config: Mapping) -> dict:
    """A :class:`~negmine.config.TrainConfig` as JSON (``asdict``), or the ``config`` of a ``negmine_train.json``
    or the run settings a checkpoint folder records, with its ``mine`` section's :data:`RUN_ONLY_FIELDS` left
    out (a section left empty goes too): what those records hold. Records written before they were left out
    compare equal through it too."""
    mine = config.get("mine")
    if not isinstance(mine, Mapping):
        return dict(config)
    kept = dict(mine)
    for section, names in RUN_ONLY_FIELDS.items():
        part = mine.get(section)
        if isinstance(part, Mapping):
            kept[section] = {key: value for key, value in part.items() if key not in names}
            if not kept[section]:
                del kept[section]
    return {**config, "mine": kept}


def recorded_train_config(config) -> dict:
    """A :class:`~negmine.config.TrainConfig` as ``negmine_train.json`` records it (``config``): its fields as JSON
    (``asdict``; paths and other values as ``str``), the re-mining configuration (``mine``) without the
    :data:`RUN_ONLY_FIELDS`. The one serialisation of a run's settings that a key or comparison of trained models
    may read: a config rebuilt from the record (:func:`config_from_dict`) gives the same record back, while the full
    ``asdict`` does not (the mining run's cache folder, progress and output file come back at their defaults).
    ``benchmarks/train_scifact.py`` named its model folders by the full ``asdict``, so the re-mining variant's model
    mapped to another folder when its config was rebuilt from its record, or when ``--work`` moved. Light to import
    (no torch), unlike :mod:`negmine.train.api`, which writes the record with it."""
    return without_run_only(json.loads(json.dumps(dataclasses.asdict(config), default=str)))
