"""Hugging Face ``datasets`` as pairs input, for users of sentence-transformers' ``mine_hard_negatives(dataset,
model)``, whose data is a ``datasets.Dataset`` rather than a file.

Three ways in, each read as an Arrow row source (:class:`negmine.io.row_source.ArrowRows`) by the pairs reader:

- in Python, a ``datasets.Dataset``, one split of a ``DatasetDict`` or a ``pyarrow.Table``
  (:func:`dataset_rows`, behind :func:`negmine.io.pairs.pairs_from_dataset`);
- a folder written by ``Dataset.save_to_disk`` (:func:`folder_rows`; it holds ``dataset_info.json`` and
  ``state.json``; a ``DatasetDict``'s folder holds ``dataset_dict.json`` and one such folder per split);
- ``hf:NAME``, ``hf:NAME:SPLIT`` or ``hf:NAME:CONFIG:SPLIT`` (:func:`hub_rows`), loaded with
  ``datasets.load_dataset`` (a hub name, or a local folder of Parquet/JSON/CSV files).

Rows are read in Arrow batches of the columns used (``with_format("arrow")``, which honours a ``select`` or
``shuffle``'s index mapping; ``ds.data.table`` would not). ``datasets`` is imported only when one is read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from negmine.errors import ConfigError, DatasetInputError, InputError
from negmine.io.row_source import ArrowRows, arrow_table_rows, dataset_label
from negmine.io.table import BATCH_ROWS

HUB_PREFIX = "hf:"
HUB_FORMS = "hf:NAME, hf:NAME:SPLIT or hf:NAME:CONFIG:SPLIT"
SAVED_FILES = ("dataset_info.json", "state.json")
"""The files ``Dataset.save_to_disk`` writes beside the data, which mark its folder."""
SAVED_DICT_FILE = "dataset_dict.json"
"""The file ``DatasetDict.save_to_disk`` writes, beside one ``Dataset`` folder per split."""
OFFLINE_VARIABLES = ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE")


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
                          f"got {type(ds).__name__}")
    name = name or ds.info.dataset_name
    return _rows(ds, dataset_label(name, split), name or "dataset")


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


def _rows(ds: Any, label: str, name: str) -> ArrowRows:
    """A ``datasets.Dataset`` as a row source: its Arrow schema, its rows in Arrow batches of the columns read."""
    def batches(columns: list[str]):
        return ds.select_columns(columns).with_format("arrow").iter(batch_size=BATCH_ROWS)

    return ArrowRows(label, name, ds.data.schema, batches)


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
                         "without them")
    import datasets

    try:
        ds = datasets.load_from_disk(str(folder))
    except (OSError, ValueError) as err:  # a data file missing or damaged
        raise InputError(folder, None, None, f"cannot load the dataset save_to_disk wrote here: {_first_line(err)}; "
                         "save it again") from None
    return _rows(ds, dataset_label(str(folder)), folder.name)


def _saved_splits(folder: Path) -> list[str]:
    try:
        splits = json.loads((folder / SAVED_DICT_FILE).read_text(encoding="utf-8")).get("splits", [])
    except (OSError, ValueError, AttributeError):
        splits = []
    return [s for s in splits if isinstance(s, str)] or sorted(p.name for p in folder.iterdir() if is_saved_dataset(p))


def parse_hub(value: str) -> tuple[str, str | None, str | None]:
    """``(name, config, split)`` of ``hf:NAME``, ``hf:NAME:SPLIT`` or ``hf:NAME:CONFIG:SPLIT``; ConfigError for
    any other form."""
    parts = value[len(HUB_PREFIX):].split(":")
    if len(parts) > 3 or not all(parts):
        raise ConfigError(f"pairs {value!r}: expected {HUB_FORMS} (e.g. "
                          "hf:sentence-transformers/natural-questions:train); a part is empty or there are too many")
    name = parts[0]
    config = parts[1] if len(parts) == 3 else None
    split = parts[-1] if len(parts) > 1 else None
    return name, config, split


def hub_rows(value: str) -> ArrowRows:
    """The dataset ``hf:...`` names (:func:`parse_hub`), loaded with ``datasets.load_dataset``, as a row source."""
    name, config, split = parse_hub(value)
    label = dataset_label(name, split) + (f" (config {config!r})" if config else "")
    ds = _load_hub(name, config, split, label)
    if split is None and hasattr(ds, "keys"):  # a DatasetDict: which split to mine is the user's choice
        splits = list(ds)
        listed = ", ".join(repr(s) for s in splits) or "none"
        example = f"{HUB_PREFIX}{name}:{config + ':' if config else ''}{splits[0] if splits else 'train'}"
        raise DatasetInputError(label, None, None, f"has splits {listed}; name one: --pairs {example}")
    return _rows(ds, label, name.rstrip("/").rsplit("/", 1)[-1])


def _load_hub(name: str, config: str | None, split: str | None, label: str) -> Any:
    """``datasets.load_dataset(name, config, split=split)``; its failures as DatasetInputErrors with the fix."""
    import datasets

    if is_saved_dataset(Path(name)):
        raise DatasetInputError(label, None, None, f"a folder written by save_to_disk, which load_dataset does not "
                                f"read: give it without {HUB_PREFIX!r}: --pairs {name}")
    try:
        return datasets.load_dataset(name, config, split=split)
    except ConnectionError as err:  # offline (OfflineModeIsEnabled) or the hub unreachable, the name not cached
        raise DatasetInputError(label, None, None, _unreachable(name, config, split, err)) from None
    except (FileNotFoundError, ValueError) as err:  # no such dataset, split or config (the message lists them)
        raise DatasetInputError(label, None, None, f"datasets.load_dataset cannot load it: {_first_line(err)}; "
                                f"check the name, config and split ({HUB_FORMS})") from None


def _unreachable(name: str, config: str | None, split: str | None, err: Exception) -> str:
    """Why the hub could not be reached for ``name``, and the two ways to bring its data here."""
    offline = next((f"{v}={os.environ[v]}" for v in OFFLINE_VARIABLES
                    if os.environ.get(v, "").upper() in ("1", "ON", "YES", "TRUE")), None)
    why = f"{offline} is set" if offline else _first_line(err)
    args = ", ".join([repr(name), *([repr(config)] if config else []), f"split={split or 'train'!r}"])
    return (f"the Hugging Face hub could not be reached to load it ({why}) and it is not in the datasets cache; on a "
            f"machine with hub access save it, ds = datasets.load_dataset({args}); ds.save_to_disk('DIR'), copy DIR "
            "here and pass --pairs DIR, or export it to Parquet, ds.to_parquet('pairs.parquet'), and pass --pairs "
            "pairs.parquet")


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
