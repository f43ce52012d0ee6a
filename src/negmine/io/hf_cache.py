"""The copies of a hub dataset that ``datasets``' cache holds, as ``hf:NAME`` reads them when the hub cannot be
reached (offline: ``HF_HUB_OFFLINE=1``; or no network), for :mod:`negmine.io.hf_datasets`.

``datasets.load_dataset_builder`` then falls back to its cache builder, which reads the latest copy in
``CACHE/NAMESPACE___NAME/CONFIG_ID/VERSION/HASH`` whose ``CONFIG_ID`` is the one asked for: a copy of every split of
the config (``default``, ``pair``), or a copy of some splits alone, which ``hf:NAME:SPLIT`` prepares in a folder
of its own (``default-split=train``: :func:`split_config_id`). Finding none, it raises a plain ``ValueError``
("Couldn't find cache for NAME", in datasets 5.2), the type it raises for other faults too.
:func:`is_cache_miss` tells that one apart without relying on its text: raised through the cache builder's module,
while the cache holds no copy of every split of the config asked for (:func:`cached_copies`, read with
``datasets.DatasetInfo.from_directory``); the text is the fallback should that module move. :func:`cached_reads`
says which ``hf:`` values read the copies the cache does hold, for the message naming them.

A copy whose Arrow file was deleted, cut short (a full disk, a copy of the cache interrupted) or overwritten fails
as ``datasets`` reads it, with pyarrow's words (``Expected to be able to read 2096 bytes for message body, got
764``, an ``OSError`` that came out as a traceback; ``Failed to open local file``), which named neither the dataset
nor the cache. :func:`damaged_file` finds which file of the copy read is missing or cannot be read whole, so the
message names it, the copy's folder and the fix (delete that folder and read the dataset again). A file cut short
between two batches of rows reads without an error, with fewer rows (measured: 1,000 of a split's 2,500, the
first batch): :func:`missing_rows` compares the rows read with the count the copy's ``dataset_info.json`` records.
A ``dataset_info.json`` that is not JSON fails as a builder of the copy is made, with a bare ``JSONDecodeError``
(passed on as "cannot load it ...; check the name"): :func:`damaged_info` finds the copy's folder.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any, NamedTuple

from negmine.errors import counted, first_line

CACHE_BUILDER_MODULE = "datasets.packaged_modules.cache.cache"
"""The module of ``datasets``' cache builder (``Cache``), which raises when it finds no cached copy."""
CACHE_MISS_TEXT = "Couldn't find cache"
"""How datasets 5.2's cache builder's error for no cached copy starts: the fallback of :func:`is_cache_miss`."""


class CachedCopy(NamedTuple):
    """A copy in ``datasets``' cache: its folder's config id, the config it holds (its info's ``config_name``)
    and the splits it holds."""

    folder: str
    config: str | None
    splits: tuple[str, ...]

    @property
    def whole(self) -> bool:
        """Whether it is a copy of every split of its config (its folder named by the config alone), which the
        cache builder finds by the config's name."""
        return self.folder == self.config


def split_key(bases: list[str]) -> str:
    """The ``split`` config keyword of a copy of the splits ``bases`` (sorted): ``test+train``."""
    return "+".join(bases)


def split_config_id(config: str | None, bases: list[str]) -> str:
    """The config id (cache folder) of a copy of the splits ``bases`` alone: what ``datasets``' cache builder looks
    for when given the config keyword ``split`` (``default-split=train``), so that it is found offline."""
    import datasets

    return datasets.BuilderConfig(config or "default").create_config_id({"split": split_key(bases)})


def cached_copies(name: str) -> list[CachedCopy]:
    """The copies of the hub dataset ``name`` in ``datasets``' cache, in the folders its cache builder searches
    (``datasets.config.HF_DATASETS_CACHE``); a folder without a readable ``dataset_info.json`` is no copy."""
    import datasets

    copies = set()
    for folder in cache_root(name).glob("*/*/*"):
        try:
            info = datasets.DatasetInfo.from_directory(str(folder))
        except (OSError, ValueError, TypeError, AttributeError):  # no copy, or a damaged one
            continue
        copies.add(CachedCopy(folder.parts[-3], info.config_name, tuple(sorted(info.splits or ()))))
    return sorted(copies, key=lambda c: (c.folder, c.config or "", c.splits))


def cache_root(name: str, local: bool = False) -> Path:
    """The folder of ``datasets``' cache (``datasets.config.HF_DATASETS_CACHE``) that holds the copies of the dataset
    ``name``: ``NAMESPACE___NAME`` for a hub name, the folder's own name for a ``local`` folder of files, the last
    part in snake case (as ``datasets`` names it)."""
    import datasets
    from datasets.naming import camelcase_to_snakecase

    parts = [Path(name).name] if local else name.split("/")
    parts[-1] = camelcase_to_snakecase(parts[-1])
    return Path(datasets.config.HF_DATASETS_CACHE, "___".join(parts))


def damaged_info(name: str) -> tuple[Path, str] | None:
    """The first copy folder of the dataset ``name`` in ``datasets``' cache whose ``dataset_info.json`` is not JSON
    (cut short, overwritten), with what is wrong; None when each one parses. ``datasets`` raises a bare
    ``JSONDecodeError`` for it as a builder of that copy is made."""
    import json

    for info in sorted(cache_root(name, local=Path(name).exists()).glob("*/*/*/dataset_info.json")):
        try:
            json.loads(info.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            return info.parent, f"dataset_info.json cannot be read ({str(err).strip() or type(err).__name__})"
    return None


def is_cache_miss(err: Exception, name: str, config: str | None) -> bool:
    """Whether ``err``, from ``datasets.load_dataset_builder(name, config, ...)``, is its cache builder finding no
    copy to read: raised through that builder's module (:data:`CACHE_BUILDER_MODULE`, or, should it move, with
    :data:`CACHE_MISS_TEXT`) while the cache holds no copy of every split of ``config`` (any config when None),
    which that builder would have read (it also refuses several cached configs when none is named: not a miss)."""
    if not isinstance(err, ValueError):
        return False
    if not (_raised_through(err, CACHE_BUILDER_MODULE) or str(err).startswith(CACHE_MISS_TEXT)):
        return False
    return not any(cached.whole and config in (None, cached.config) for cached in cached_copies(name))


def _raised_through(err: BaseException, module: str) -> bool:
    """Whether code of ``module`` is on ``err``'s traceback (it raised ``err``, or called what did)."""
    return any(frame.f_globals.get("__name__") == module for frame, _ in traceback.walk_tb(err.__traceback__))


def cached_reads(copies: list[CachedCopy]) -> list[tuple[str | None, str]]:
    """The ``(config, split)`` of each ``hf:NAME:SPLIT`` (config None) or ``hf:NAME:CONFIG:SPLIT`` that reads one
    of ``copies`` offline, sorted: a copy of every split of a config by that config and each split; a copy of
    some splits alone by their ``split_key`` (``train``, ``test+train``), without a config when it is the one
    ``hf:NAME:SPLIT`` prepares. A copy ``datasets`` made with other settings (another folder) is read by none."""
    reads: set[tuple[Any, str]] = set()
    for cached in copies:
        splits = list(cached.splits)
        if cached.whole:
            reads.update((cached.config, split) for split in splits)
        elif splits:
            typed = [c for c in (None, cached.config) if split_config_id(c, splits) == cached.folder]
            reads.update((c, split_key(splits)) for c in typed[:1])
    return sorted(reads, key=lambda read: (read[0] or "", read[1]))


def damaged_file(builder: Any, splits: list[str] | None) -> tuple[Path, str] | None:
    """The first Arrow file of the copy ``builder`` (a ``datasets`` builder whose copy is prepared in
    ``builder.cache_dir``) prepared of ``splits`` (None: every split its info lists) that is missing or cannot be
    read whole as ``datasets`` reads it (an Arrow stream, memory-mapped: its batches' headers read, not their
    data), with what is wrong; None when each one reads. The files are named as ``datasets`` names them
    (``NAME-SPLIT.arrow``, ``NAME-SPLIT-00000-of-00002.arrow`` for a split in shards)."""
    from datasets.naming import filenames_for_dataset_split

    infos = builder.info.splits or {}
    for split in sorted(infos) if splits is None else splits:
        if split not in infos:
            continue
        shards = getattr(infos[split], "shard_lengths", None)
        for name in filenames_for_dataset_split(builder.cache_dir, builder.dataset_name, split, "arrow", shards):
            problem = unreadable_arrow(Path(name))
            if problem is not None:
                return Path(name), problem
    return None


def unreadable_arrow(path: Path) -> str | None:
    """What is wrong with the Arrow stream file ``path`` (``is missing``, ``cannot be read whole (...)``), None when
    it reads to its end."""
    import pyarrow as pa

    if not path.is_file():
        return "is missing"
    try:
        with pa.memory_map(str(path)) as source:
            pa.ipc.open_stream(source).read_all()
    except (OSError, ValueError, pa.ArrowException) as err:
        return f"cannot be read whole ({first_line(err)})"
    return None


def missing_rows(builder: Any, split: str, rows: int) -> str | None:
    """What is wrong when the split ``split`` (a split's name) read from ``builder``'s prepared copy has ``rows``
    rows while the copy's info (its ``dataset_info.json``, written as it was prepared) records another count: a
    file cut short between two batches of rows; None when they agree or no count is recorded."""
    info = (builder.info.splits or {}).get(split)
    expected = getattr(info, "num_examples", None)
    if not expected or expected == rows:
        return None
    return (f"split {split!r} reads as {counted(rows, 'row')}, and the copy's dataset_info.json records {expected} (a file cut "
            "short between two batches of rows)")
