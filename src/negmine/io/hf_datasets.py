"""Hugging Face ``datasets`` as pairs input, for users of sentence-transformers' ``mine_hard_negatives(dataset,
model)``, whose data is a ``datasets.Dataset`` rather than a file.

Three ways in, each read as an Arrow row source (:class:`negmine.io.row_source.ArrowRows`) by the pairs reader:

- in Python, a ``datasets.Dataset``, one split of a ``DatasetDict`` or a ``pyarrow.Table``
  (:func:`dataset_rows`, behind :func:`negmine.io.pairs.pairs_from_dataset`);
- a folder written by ``Dataset.save_to_disk`` (:func:`folder_rows`; it holds ``dataset_info.json`` and
  ``state.json``; a ``DatasetDict``'s folder holds ``dataset_dict.json`` and one such folder per split);
- ``hf:NAME``, ``hf:NAME:SPLIT`` or ``hf:NAME:CONFIG:SPLIT`` (:func:`hub_rows`), loaded as
  ``datasets.load_dataset`` loads it (a hub name, or a local folder of Parquet/JSON/CSV files), but downloading and
  preparing only the split named.

Rows are read in Arrow batches of the columns used (``with_format("arrow")``, which honours a ``select`` or
``shuffle``'s index mapping; ``ds.data.table`` would not). ``datasets`` is imported only when one is read.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import shlex
import warnings
from pathlib import Path
from typing import Any, Iterator

from negmine.errors import (ConfigError, DatasetInputError, InputError, NegmineWarning, caller_stacklevel,
                            first_line)
from negmine.io.hf_cache import (cached_copies, cached_reads, damaged_file, damaged_info, is_cache_miss,
                                 missing_rows, split_config_id, split_key)
from negmine.io.row_source import ArrowRows, arrow_table_rows, dataset_label, in_memory_label
from negmine.io.table import BATCH_ROWS

HUB_PREFIX = "hf:"
HUB_FORMS = "hf:NAME, hf:NAME:SPLIT or hf:NAME:CONFIG:SPLIT"
SAVED_FILES = ("dataset_info.json", "state.json")
"""The files ``Dataset.save_to_disk`` writes beside the data, which mark its folder."""
SAVED_DICT_FILE = "dataset_dict.json"
"""The file ``DatasetDict.save_to_disk`` writes, beside one ``Dataset`` folder per split."""
OFFLINE_VARIABLES = ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE")
COMMIT_ID = re.compile(r"[0-9a-f]{40}")
"""A git commit id, as the hub names a dataset repository's commits."""
SPLIT_NAME = re.compile(r"\w+(\.\w+)*")
"""A split's name, as ``datasets`` allows them (``datasets.naming._split_re``); a split argument that is not one
is an expression over splits (``train+test``, ``train[:10%]``)."""


def dataset_rows(ds: Any, split: str | None = None, name: str | None = None) -> ArrowRows:
    """``ds`` (a ``datasets.Dataset``, a ``DatasetDict`` with ``split``, or a ``pyarrow.Table``) as a row source
    named ``name`` (default: the dataset's own name) in messages."""
    import pyarrow as pa

    if isinstance(ds, pa.Table):
        _refuse_split(split, "a pyarrow.Table")
        return arrow_table_rows(ds, name)
    import datasets

    if isinstance(ds, (datasets.IterableDataset, datasets.IterableDatasetDict)):
        raise ConfigError(f"{dataset_label(name)} is a streaming {type(ds).__name__}; negmine reads every pair before "
                          "mining: load it without streaming=True (or save it to disk) and pass that")
    if isinstance(ds, datasets.DatasetDict):
        ds = _split_of(ds, split, name)
    elif isinstance(ds, datasets.Dataset):
        _refuse_split(split, "one datasets.Dataset")
    else:
        raise ConfigError(f"expected a datasets.Dataset, a datasets.DatasetDict (with split=...) or a pyarrow.Table, "
                          f"got {type(ds).__name__}{_conversion(ds)}")
    name, builder = name or own_name(ds), builder_of(ds)
    from_split = loaded_split(ds) if split is None else None  # a split negmine took is the one named
    label = (dataset_label(name, split, from_split) if name else
             in_memory_label(DATASET, ds.num_rows, builder, from_split, split))
    about = {"kind": DATASET, "fingerprint": _fingerprint(ds), **({"split": split} if split else {}),
             **({"from_split": from_split} if from_split else {}), **({"builder": builder} if builder else {})}
    return _rows(ds, label, name or "dataset", about)


DATASET = "datasets.Dataset"


def _conversion(data: Any) -> str:
    """For data ``datasets`` makes a Dataset of in one call (a pandas DataFrame, a list of row dicts, a dict of
    columns), which negmine does not read itself: that call; "" for anything else. The refusal named the types
    negmine reads and no way from the data given to one of them."""
    import sys

    pandas = sys.modules.get("pandas")  # a DataFrame's module is loaded when one exists
    if pandas is not None and isinstance(data, pandas.DataFrame):
        return "; make one of a pandas DataFrame df with datasets.Dataset.from_pandas(df, preserve_index=False)"
    if isinstance(data, list) and data and all(isinstance(row, dict) for row in data):
        return "; make one of a list of row dicts with datasets.Dataset.from_list(rows)"
    if isinstance(data, dict):
        return "; make one of a dict of columns with datasets.Dataset.from_dict(columns)"
    return ""


def builder_of(ds: Any) -> str | None:
    """The ``datasets`` builder that made ``ds`` from files or a generator, when ``ds``'s name is that builder's
    (``json``, ``csv``, ``parquet``, ...: ``load_dataset("json", data_files=...)``, ``Dataset.from_json``;
    ``generator``: ``Dataset.from_generator``; ``sql``, ``spark``), not the dataset's own; None otherwise."""
    info = ds.info
    if not info.dataset_name or info.dataset_name != info.builder_name:
        return None
    return info.builder_name if info.builder_name in _builders() else None


def _builders() -> set[str]:
    """The names of ``datasets``' packaged builders: those of data files (``datasets``' table of them) and the
    modules of ``datasets.packaged_modules``, where ``generator``, ``sql`` and ``spark`` are too."""
    import pkgutil

    from datasets import packaged_modules

    modules = {module.name for module in pkgutil.iter_modules(getattr(packaged_modules, "__path__", []))}
    return modules | set(getattr(packaged_modules, "_PACKAGED_DATASETS_MODULES", {}))


def loaded_split(ds: Any) -> str | None:
    """The split ``datasets`` keeps ``ds``'s rows were loaded as (``ds.split``: ``train`` for
    ``load_dataset(..., split="train")``, its ``DatasetDict``'s ``ds["train"]``, ``Dataset.from_json``; a subset
    made of it, by ``select``, ``filter`` or ``train_test_split``, keeps it), None when it keeps none
    (``Dataset.from_dict``, ``from_list``, ``from_pandas``, ``concatenate_datasets``)."""
    split = getattr(ds, "split", None)
    return str(split) if split is not None else None


def own_name(ds: Any) -> str | None:
    """The name ``ds`` carries (``ds.info.dataset_name``: a hub dataset's, a local folder's), or None: for data that
    ``load_dataset("json", data_files="pairs.jsonl")`` read it is the builder's, ``json``, and messages read
    ``dataset 'json', row 2 ...``, as if 'json' were the file or a column. ``datasets`` keeps no path of the files
    read (measured, datasets 5.2: not in ``ds.info``, whose ``download_checksums`` is None and whose
    ``dataset_info.json`` holds none, nor in ``ds.cache_files``, the Arrow files of its cache folder, named by a hash
    of the data files, nor anywhere in the pickled Dataset); :func:`negmine.io.row_source.in_memory_label` names it
    instead, with its builder (:func:`builder_of`)."""
    return None if builder_of(ds) else ds.info.dataset_name


def _refuse_split(split: str | None, what: str) -> None:
    if split is not None:
        raise ConfigError(f"split={split!r} names a split of a datasets.DatasetDict, but the data given is {what}, "
                          "which has no splits: drop split")


def _split_of(ds: Any, split: str | None, name: str | None) -> Any:
    """The ``split`` of the ``DatasetDict`` ``ds``; DatasetInputError listing its splits when none or another is
    given (mining every split together would mine test queries into training data)."""
    splits = list(ds)
    if split in splits:
        return ds[split]
    listed = ", ".join(repr(s) for s in splits) or "none"
    problem = "a DatasetDict, not one dataset" if split is None else f"no split {split!r}"
    example = splits[0] if splits else "train"
    raise DatasetInputError(dataset_label(name), None, None,
                            f"{problem}; its splits: {listed}; pass one: split={example!r} (or ds[{example!r}])")


def _rows(ds: Any, label: str, name: str, about: dict[str, Any]) -> ArrowRows:
    """A ``datasets.Dataset`` as a row source: its Arrow schema, its rows in Arrow batches of the columns read,
    ``about`` identifying it in the mining summary."""
    def batches(columns: list[str]):
        return ds.select_columns(columns).with_format("arrow").iter(batch_size=BATCH_ROWS)

    return ArrowRows(label, name, ds.data.schema, batches, about, list_fix, keep_matching)


def _fingerprint(ds: Any) -> str | None:
    """``datasets``' fingerprint of ``ds``: a hash of how it was built (the source data and each transform), which
    ``datasets`` makes random for a transform it cannot hash (it warns then); None if the attribute is gone."""
    return getattr(ds, "_fingerprint", None)


def keep_matching(column: str) -> str:
    """How to keep the matching pairs of a ``datasets.Dataset`` whose rows carry pair labels, in ``datasets``
    terms."""
    return (f"mine those (e.g. ds = ds.filter(lambda row: row[{column!r}] == MATCH).remove_columns({column!r}), "
            "MATCH being the dataset's value for a match; for negmine mine --pairs, save it with "
            "ds.save_to_disk(DIR) and give DIR)")


def list_fix(column: str, others: list[str]) -> str:
    """The fix for a column of lists in a ``datasets.Dataset``: one row per text with a batched ``map`` that repeats
    the other columns read (``others``) per text and drops the rest (tests/io/test_hf_datasets.py runs it)."""
    repeated = "".join(f"{c!r}: [v for v, texts in zip(b[{c!r}], b[{column!r}]) for _ in texts], " for c in others)
    snippet = (f"ds = ds.map(lambda b: {{{repeated}{column!r}: [t for texts in b[{column!r}] for t in texts]}}, "
               "batched=True, remove_columns=ds.column_names)")
    return ("; give one text per row: a row with a list of texts (as FlagEmbedding's 'pos') becomes one row per text, "
            f"e.g. {snippet} (for negmine mine --pairs, then ds.save_to_disk(DIR) and give DIR)")


def is_saved_dataset(folder: Path) -> bool:
    """Whether ``folder`` was written by ``Dataset.save_to_disk`` (:data:`SAVED_FILES`)."""
    return all((folder / file).is_file() for file in SAVED_FILES)


def folder_rows(folder: Path) -> ArrowRows:
    """The dataset ``Dataset.save_to_disk`` wrote to ``folder`` as a row source; InputError for a ``DatasetDict``'s
    folder (naming its splits' folders) and for a folder that holds no saved dataset."""
    if (folder / SAVED_DICT_FILE).is_file():
        splits = _saved_splits(folder)
        listed = ", ".join(repr(s) for s in splits) or "none"
        example = folder / (splits[0] if splits else "train")
        raise InputError(folder, None, None, f"a DatasetDict saved by save_to_disk (splits: {listed}), not one "
                         f"dataset; give one split's folder, e.g. --pairs {example}")
    if not is_saved_dataset(folder):
        raise InputError(folder, None, None, "expected a pairs file (JSONL, CSV/TSV, Parquet) or a folder written by "
                         f"datasets' Dataset.save_to_disk (holding {' and '.join(SAVED_FILES)}), found a folder "
                         f"without them{beir_folder_hint(folder)}")
    import datasets

    try:
        ds = datasets.load_from_disk(str(folder))
    except (OSError, ValueError) as err:  # a data file missing or damaged
        raise InputError(folder, None, None, f"cannot load the dataset save_to_disk wrote here: {first_line(err)}; "
                         "save it again") from None
    about = {"kind": "save_to_disk", "path": str(folder.resolve()), "fingerprint": _saved_fingerprint(folder)}
    return _rows(ds, dataset_label(str(folder)), folder.name, about)


def beir_folder_hint(folder: Path) -> str:
    """For a BEIR directory given as pairs (``negmine mine --pairs DEMO``): that it is one and how to mine it;
    else "". The message said only that the folder held no saved dataset."""
    from negmine.io.beir import CORPUS_FILE, QRELS_DIR, QUERIES_FILE

    if not all((folder / name).is_file() for name in (CORPUS_FILE, QUERIES_FILE)):
        return ""
    return (f": it is a BEIR directory ({CORPUS_FILE}, {QUERIES_FILE}, {QRELS_DIR}/), which is mined as the data "
            f"directory, without --pairs: negmine mine {folder} --split train (from Python, "
            f"DataConfig(data_dir=...))")


def _saved_fingerprint(folder: Path) -> str | None:
    """The fingerprint ``save_to_disk`` recorded in ``state.json``: the saved dataset's (``load_from_disk`` gives the
    loaded one another)."""
    try:
        value = json.loads((folder / "state.json").read_text(encoding="utf-8")).get("_fingerprint")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _saved_splits(folder: Path) -> list[str]:
    try:
        splits = json.loads((folder / SAVED_DICT_FILE).read_text(encoding="utf-8")).get("splits", [])
    except (OSError, ValueError, AttributeError):
        splits = []
    return [s for s in splits if isinstance(s, str)] or sorted(p.name for p in folder.iterdir() if is_saved_dataset(p))


_OUTSIDE_BRACKETS_COLON = re.compile(r":(?![^\[\]]*\])")
"""A colon not inside ``[...]`` (a split slice such as ``train[:10%]`` holds one)."""


def parse_hub(value: str) -> tuple[str, str | None, str | None]:
    """``(name, config, split)`` of ``hf:NAME``, ``hf:NAME:SPLIT`` or ``hf:NAME:CONFIG:SPLIT``; ConfigError for
    any other form. A colon inside brackets belongs to a split's slice (``hf:NAME:train[:10%]``, datasets' slicing
    syntax), not between parts: such a value was refused as having too many parts."""
    parts = _OUTSIDE_BRACKETS_COLON.split(value[len(HUB_PREFIX):])
    if len(parts) > 3 or not all(parts):
        raise ConfigError(f"pairs {value!r}: expected {HUB_FORMS} (e.g. "
                          "hf:sentence-transformers/natural-questions:train); a part is empty or there are too many"
                          f"{local_path_note(value)}")
    name = parts[0]
    config = parts[1] if len(parts) == 3 else None
    split = parts[-1] if len(parts) > 1 else None
    return name, config, split


def local_path_note(value: str) -> str:
    """For an ``hf:`` value that could not be loaded from the hub: that a local file or folder has that very name
    (``hf:`` always names a Hugging Face dataset, whatever the folder holds, so that ``--pairs`` means the same in
    any folder) and how to read it instead; empty when none has."""
    what = _local_kind(value)
    if what is None:
        return ""
    return (f"; a local {what} named {value!r} exists, but a value starting with {HUB_PREFIX!r} always names a Hugging "
            f"Face dataset: to read the {what}, {_path_form(value)}")


def _path_form(value: str) -> str:
    """How to name the local file or folder ``value`` (``hf:...``) as a path: its absolute path. ``./hf:...`` does
    not do: ``--pairs`` and ``DataConfig.pairs`` are Paths, and a Path drops the leading ``./``, so it named the
    dataset again (the fix this message gave until 2026-12-06)."""
    return (f"give its absolute path, {Path(value).resolve()} (a path drops a leading ./, so ./{value} names the "
            "dataset too)")


def _local_kind(value: str) -> str | None:
    """``"file"`` or ``"folder"`` when a local path named ``value`` exists, else None."""
    try:
        path = Path(value)
        return None if not path.exists() else "folder" if path.is_dir() else "file"
    except (OSError, ValueError):  # a name no path can have (a NUL)
        return None


def hub_spec(value: str) -> tuple[str, str | None, str | None]:
    """``(name, config, split)`` of the ``hf:`` value ``value`` (:func:`parse_hub`), with what can be told of it
    without ``datasets`` or the hub: ConfigError for a malformed value, DatasetInputError for a folder written by
    ``save_to_disk`` named with ``hf:`` (which ``load_dataset`` does not read). :func:`hub_rows` starts with it, and
    so does the check of the pairs a mining summary records
    (:func:`negmine.pipeline.recorded_config.check_recorded_pairs`), which cannot load a hub dataset offline."""
    name, config, split = parse_hub(value)
    if is_saved_dataset(Path(name)):
        raise DatasetInputError(_hub_label(name, config, split), None, None, "a folder written by save_to_disk, "
                                f"which load_dataset does not read: give it without {HUB_PREFIX!r}: --pairs {name}")
    return name, config, split


def hub_rows(value: str) -> ArrowRows:
    """The dataset ``hf:...`` names (:func:`hub_spec`), loaded with ``datasets.load_dataset``, as a row source."""
    name, config, split = hub_spec(value)
    ds, about = _load_hub(value, name, config, split)
    what = _local_kind(value)
    if what is not None:  # read what hf: names, but the user may have meant the path: say which was read
        warnings.warn(f"pairs {value!r}: read the Hugging Face dataset {name!r}, not the local {what} of that name "
                      f"(a value starting with {HUB_PREFIX!r} always names a dataset); to read the {what}, "
                      f"{_path_form(value)}", NegmineWarning, stacklevel=caller_stacklevel())
    return _rows(ds, _hub_label(name, config, about["split"]), name.rstrip("/").rsplit("/", 1)[-1],
                 {**about, "fingerprint": _fingerprint(ds)})


def _hub_label(name: str, config: str | None, split: str | None) -> str:
    return dataset_label(name, split) + (f" (config {config!r})" if config else "")


def _load_hub(value: str, name: str, config: str | None, split: str | None) -> tuple[Any, dict]:
    """What ``datasets.load_dataset(name, config, split=split)`` loads, through its builder (the same three steps),
    whose config and hash identify the data (:func:`_hub_identity`), but downloading and preparing only the splits
    ``split`` reads where they can be isolated (:func:`_split_builder`; a builder prepares every split). Without
    ``split``, a dataset's only split; one with several, or without the split named, is refused before any data is
    downloaded or prepared, from the split names its builder knows (:func:`_split_names`). ``datasets``' failures
    as DatasetInputErrors with the fix, and with :func:`local_path_note`; ``name`` is no ``save_to_disk`` folder
    (:func:`hub_spec`)."""
    import datasets
    from datasets.exceptions import DatasetGenerationError

    label = _hub_label(name, config, split)
    try:
        builder = _hub_builder(name, config, split)
        known = _split_names(builder)
        if known is not None:
            split = _chosen_split(known, name, config, split, label)
        builder = _split_builder(builder, config, split)
        builder.download_and_prepare()
        ds = _as_dataset(builder, split)
    except InputError:
        raise
    except _NotCached as err:  # offline, the cache holds other copies than the one asked for
        problem = _not_cached(name, split, err.reads)
    except _Damaged as err:  # a file of the copy in the cache missing or cut short
        problem = _damaged(name, err)
    except ConnectionError as err:  # offline (OfflineModeIsEnabled) or the hub unreachable, the name not cached
        problem = _unreachable(name, config, split, err)
    except (FileNotFoundError, ValueError) as err:  # no such dataset, split or config (the message lists them)
        problem = _damaged_info(name, err) or (f"datasets.load_dataset cannot load it: {first_line(err)}; check the "
                                               f"name, config and split ({HUB_FORMS})")
    except DatasetGenerationError as err:  # a data file of the split read that datasets cannot parse
        problem = (f"datasets cannot read a data file of it: {first_line(err.__cause__ or err)} (datasets logs "
                   "which file); fix that file, or read another split or config")
    else:
        if split is None:  # the split names were known only once prepared: ds is a DatasetDict
            split = _chosen_split(list(ds), name, config, split, label)
            ds = ds[split]
        return ds, _hub_identity(builder, name, split)
    raise DatasetInputError(label, None, None, problem + local_path_note(value)) from None


class _NotCached(Exception):
    """Offline, no cached copy of what ``hf:`` names, while the cache holds others: ``reads``, the
    ``(config, split)`` of the ``hf:`` values that read them (:func:`negmine.io.hf_cache.cached_reads`)."""

    def __init__(self, reads: list[tuple[str | None, str]]) -> None:
        super().__init__(reads)
        self.reads = reads


class _Damaged(Exception):
    """The copy in ``datasets``' cache (``folder``) the read needs is damaged: ``problem`` says how (a file missing or
    cut short: :func:`negmine.io.hf_cache.damaged_file`, :func:`negmine.io.hf_cache.missing_rows`)."""

    def __init__(self, folder: Path, problem: str) -> None:
        super().__init__(folder, problem)
        self.folder, self.problem = folder, problem


def _as_dataset(builder: Any, split: str | None) -> Any:
    """``builder.as_dataset(split=split)``, the copy prepared in ``builder.cache_dir`` read; :class:`_Damaged` when
    that fails with a file of it missing or unreadable (:func:`negmine.io.hf_cache.damaged_file`, looked for once it
    failed; any other failure as it is), or when a split named reads fewer or more rows than the copy records
    (:func:`negmine.io.hf_cache.missing_rows`). Reading a prepared copy maps its files: this comes before any row
    is read, and before the mining starts."""
    try:
        ds = builder.as_dataset(split=split)
    except (OSError, ValueError) as err:
        found = damaged_file(builder, _base_splits(split))
        if found is None:
            raise
        raise _Damaged(Path(builder.cache_dir), f"{found[0].name} {found[1]}") from err
    short = missing_rows(builder, split, ds.num_rows) if split and SPLIT_NAME.fullmatch(split) else None
    if short is not None:
        raise _Damaged(Path(builder.cache_dir), short)
    return ds


def _damaged_info(name: str, err: Exception) -> str | None:
    """For ``datasets``' bare ``JSONDecodeError`` while a builder of ``name`` is made: :func:`_damaged` for the copy
    whose ``dataset_info.json`` does not parse (:func:`negmine.io.hf_cache.damaged_info`); None otherwise."""
    found = damaged_info(name) if isinstance(err, json.JSONDecodeError) else None
    return None if found is None else _damaged(name, _Damaged(*found))


def _damaged(name: str, err: _Damaged) -> str:
    """Why ``hf:`` could not read the copy of ``name`` in the cache and the fix: that folder deleted, then prepared
    again from the dataset's files (a local folder's), or downloaded again (a hub dataset's: with hub access)."""
    offline = _offline_setting()
    if Path(name).exists():
        again = "the next read prepares it again from the dataset's files"
    else:
        access = f" (unset {' and '.join(_offline_variables())})" if offline else ""
        again = f"then read it with hub access{access}, which downloads and prepares it again"
    return (f"its copy in the datasets cache is damaged: {err.problem}; delete that copy's folder, "
            f"rm -r {shlex.quote(str(err.folder))}, and {again}")


def _hub_builder(name: str, config: str | None, split: str | None) -> Any:
    """``datasets.load_dataset_builder(name, config)``; when that finds, offline, no cached copy of every split
    (:func:`negmine.io.hf_cache.is_cache_miss`), the copy :func:`_split_builder` prepared of the splits ``split``
    reads, if the cache holds one (``datasets``' cache builder finds it by the config id it was written under:
    :func:`negmine.io.hf_cache.split_config_id`, given as the config keyword ``split``). Neither cached:
    :class:`_NotCached` with the copies the cache holds, or ``datasets``' error when it holds none of them."""
    import datasets

    try:
        return datasets.load_dataset_builder(name, config)
    except ValueError as err:
        if not is_cache_miss(err, name, config):
            raise
        missed = err
    bases = _base_splits(split)
    if bases is not None:
        try:
            return datasets.load_dataset_builder(name, config, split=split_key(bases))
        except ValueError as err:
            if not is_cache_miss(err, name, config):
                raise
    reads = cached_reads(cached_copies(name))
    if not reads:
        raise missed
    raise _NotCached(reads)


def _split_builder(builder: Any, config: str | None, split: str | None) -> Any:
    """A builder like ``builder`` that downloads and prepares only the splits ``split`` reads (``train`` and
    ``test`` for ``train+test``), in a cache folder of its own (:func:`negmine.io.hf_cache.split_config_id`);
    ``builder`` itself when the splits cannot be isolated (its config has no data files per split, as the cache
    builder that reads a copy prepared before; a split it has no files for, e.g. ``all``), when ``split`` reads
    every split, or when ``builder``'s copy of every split is already prepared. Its hash, config and so the
    identity recorded are ``builder``'s."""
    from datasets.data_files import DataFilesDict

    files = getattr(builder.config, "data_files", None)
    bases = _base_splits(split)
    if not isinstance(files, DataFilesDict) or bases is None or _is_prepared(builder):
        return builder
    names = [str(key) for key in files]
    if not set(bases) <= set(names) or set(bases) == set(names):
        return builder
    kept = DataFilesDict({key: value for key, value in files.items() if str(key) in bases})
    return type(builder)(
        dataset_name=builder.dataset_name, config_name=builder.config.name, hash=builder.hash,
        base_path=builder.base_path, info=_info_of(builder.info, bases), token=builder.token,
        repo_id=builder.repo_id, storage_options=builder.storage_options, data_files=kept,
        config_id=split_config_id(config, bases),
        **{k: v for k, v in builder.config_kwargs.items() if k != "data_files"})


def _base_splits(split: str | None) -> list[str] | None:
    """The splits a split or split expression reads, sorted (``test``, ``train`` for ``train[:10%]+test``); None
    without a split or for an expression not of that form (``datasets`` reads it, or says what is wrong)."""
    if split is None:
        return None
    parts = [SPLIT_NAME.match(part) for part in re.split(r"\s*\+\s*", split.strip())]
    return sorted({part.group(0) for part in parts}) if all(parts) else None


def _is_prepared(builder: Any) -> bool:
    """Whether ``builder``'s cache folder holds a prepared copy (of every split: read it rather than prepare the
    split again)."""
    import datasets

    return Path(builder.cache_dir, datasets.config.DATASET_INFO_FILENAME).is_file()


def _info_of(info: Any, bases: list[str]) -> Any:
    """A copy of ``info`` (features and split sizes from the dataset card) listing the splits ``bases`` only, which
    ``datasets`` checks the prepared splits against."""
    import datasets

    info = copy.deepcopy(info)
    if info.splits:
        kept = datasets.SplitDict(dataset_name=info.splits.dataset_name)
        for split in bases:
            if split in info.splits:
                kept.add(info.splits[split])
        info.splits = kept
    return info


def _split_names(builder: Any) -> list[str] | None:
    """The splits ``builder`` would prepare, known before it downloads anything, as
    ``datasets.get_dataset_split_names`` finds them: the dataset's info (a hub dataset card's ``dataset_info``, or
    the cached copy's), else the split keys of its data files (a folder of files, a hub dataset without that
    info); None when neither is known."""
    splits = builder.info.splits
    if splits:
        return [str(s) for s in splits]
    data_files = getattr(builder.config, "data_files", None)
    return [str(s) for s in data_files] if isinstance(data_files, dict) and data_files else None


def _chosen_split(splits: list[str], name: str, config: str | None, split: str | None, label: str) -> str:
    """``split`` when the dataset has it (or it is an expression over splits, e.g. ``train+test``, which ``datasets``
    checks), the only split when none is given; DatasetInputError listing the splits otherwise (mining every split
    together would mine test queries into training data)."""
    if split in splits or (split is not None and not SPLIT_NAME.fullmatch(split)):
        return split
    if split is None and len(splits) == 1:
        return splits[0]
    listed = ", ".join(repr(s) for s in splits) or "none"
    example = f"{HUB_PREFIX}{name}:{config + ':' if config else ''}{splits[0] if splits else 'train'}"
    problem = f"has splits {listed}" if split is None else f"no such split; its splits: {listed}"
    raise DatasetInputError(label, None, None, f"{problem}; name one: --pairs {example}")


def _hub_identity(builder: Any, name: str, split: str | None) -> dict[str, Any]:
    """The mining summary's ``pairs_input`` for ``hf:``: the config and split read and the builder's hash. For a hub
    dataset that is the commit its files were read at (datasets 5.2: the commit it resolves the name to before
    reading anything, and reads the files at; offline, the commit of the cached copy read, which names its cache
    folder), recorded as ``revision``; as ``datasets`` documents the hash only as its cache key, one that is not a
    commit id (a cache written by an older ``datasets``) is recorded as ``builder_hash`` instead. For a local folder
    of files, ``data_files_hash``: a hash of their paths and modification times. Download checksums are not
    recorded: datasets computes them only when asked to verify every file."""
    local = Path(name).exists()
    key = "data_files_hash" if local else "revision" if COMMIT_ID.fullmatch(builder.hash or "") else "builder_hash"
    config = builder.info.config_name or builder.config.name  # a cached copy's folder, read offline, may be named
    return {"kind": "hub", "name": str(Path(name).resolve()) if local else name, "config": config,
            "split": split, key: builder.hash}


def _offline_variables() -> list[str]:
    """The offline variables set (to ``1``, ``ON``, ``YES`` or ``TRUE``)."""
    return [v for v in OFFLINE_VARIABLES if os.environ.get(v, "").upper() in ("1", "ON", "YES", "TRUE")]


def _offline_setting() -> str | None:
    """The first offline variable set, as set (``HF_HUB_OFFLINE=1``), if any."""
    return next((f"{v}={os.environ[v]}" for v in _offline_variables()), None)


def _not_cached(name: str, split: str | None, reads: list[tuple[str | None, str]]) -> str:
    """Why ``hf:`` could not be read offline while the cache holds other copies of ``name``: which (as the ``hf:``
    values that read them, ``reads``) and the fix: name one, or reach the hub. Without ``split`` no copy of every
    split is cached, only splits prepared alone by ``hf:NAME:SPLIT``, which it does for a dataset of several splits
    only: online, ``hf:NAME`` would be refused too, so none is read in its place."""
    offline = _offline_setting()
    values = [f"{HUB_PREFIX}{name}:{c + ':' if c else ''}{s}" for c, s in reads]
    example = next((v for v in values if v.endswith(":train")), values[0])
    what = "it" if split else "all its splits, which would tell what they are"
    fix = "read one of those" if split else "name the split"
    hub = f"unset {' and '.join(_offline_variables())}" if offline else "check the network"
    rest = "to load this split once (then cached)" if split else "to read another"
    return (f"the Hugging Face hub could not be reached to load it{f' ({offline} is set)' if offline else ''} and "
            f"the datasets cache holds no copy of {what}, only copies read offline by {', '.join(values)}; {fix}: "
            f"--pairs {example}, or reach the hub ({hub}) {rest}")


def _unreachable(name: str, config: str | None, split: str | None, err: Exception) -> str:
    """Why the hub could not be reached for ``name``, and the two ways to bring its data here."""
    offline = _offline_setting()
    why = f"{offline} is set" if offline else first_line(err)
    args = ", ".join([repr(name), *([repr(config)] if config else []), f"split={split or 'train'!r}"])
    return (f"the Hugging Face hub could not be reached to load it ({why}) and it is not in the datasets cache; on a "
            f"machine with hub access save it, ds = datasets.load_dataset({args}); ds.save_to_disk('DIR'), copy DIR "
            "here and pass --pairs DIR, or export it to Parquet, ds.to_parquet('pairs.parquet'), and pass --pairs "
            "pairs.parquet")


def reads_datasets(pairs: str | Path | None) -> bool:
    """Whether ``--pairs`` ``pairs`` is read through ``datasets`` (``hf:...`` or a folder), not as a file."""
    return pairs is not None and (str(pairs).startswith(HUB_PREFIX) or Path(pairs).is_dir())


@contextlib.contextmanager
def quiet_datasets(pairs: str | Path | None, show_progress: bool) -> Iterator[None]:
    """With ``pairs`` read through ``datasets`` and progress not shown on a terminal (``--no-progress``, or stderr
    a log file): ``datasets``' and the hub's progress bars off and, with ``--no-progress``, the hub's warnings (its
    retry lines, 5 over about 23 s without network) dropped while the block runs, then each put back as it was
    (:func:`negmine.library_bars.library_bars`, which says why). ``datasets``' own warnings (e.g. "Using the latest
    cached version") are kept."""
    if not reads_datasets(pairs):
        yield
        return
    from negmine.library_bars import library_bars

    with library_bars(show_progress, hub_retries=True):
        yield
