"""Load the input a :class:`DataConfig` describes: a BEIR directory, explicit BEIR files, or a pairs file."""

from __future__ import annotations

from pathlib import Path

from negmine.config import DataConfig
from negmine.config_path import path_option
from negmine.io.beir import (
    CORPUS_FILE, QUERIES_FILE, check_beir_dir, load_beir_files, qrels_path, require_beir_files,
)
from negmine.io.hf_datasets import quiet_datasets
from negmine.io.pairs import CheckedPairs, load_pairs
from negmine.io.records import Dataset


def beir_files(config: DataConfig) -> tuple[Path, Path, Path]:
    """Corpus, queries and qrels paths; explicit files win over those of ``config.data_dir``.

    Call after ``config.validate()``, which guarantees a directory or all three files.
    """
    if config.data_dir is None:
        return Path(config.corpus), Path(config.queries), Path(config.qrels)  # type: ignore[arg-type]
    folder = check_beir_dir(config.data_dir, path_option("pairs"))
    corpus = Path(config.corpus) if config.corpus is not None else folder / CORPUS_FILE
    queries = Path(config.queries) if config.queries is not None else folder / QUERIES_FILE
    qrels = Path(config.qrels) if config.qrels is not None else qrels_path(folder, config.split)
    return corpus, queries, qrels


def check_beir_layout(config: DataConfig) -> None:
    """InputError when the BEIR data ``config`` names (no ``pairs``) is not laid out as :func:`load_data` reads it:
    the directory a file or missing, no ``qrels/`` or no ``qrels/<split>.tsv`` in it, a corpus, queries or qrels file
    missing or a directory (:func:`beir_files`, :func:`negmine.io.beir.require_beir_files`). No file is read: the
    check of a recorded mining run's data before training starts
    (:func:`negmine.pipeline.recorded_config.check_recorded_data_paths`)."""
    require_beir_files(*beir_files(config))


def load_data(config: DataConfig, show_progress: bool = True, checked: CheckedPairs | None = None) -> Dataset:
    """Validate ``config`` and load its data as a validated Dataset.

    With ``pairs`` set: :func:`negmine.io.pairs.load_pairs` (a file, a ``save_to_disk`` folder or ``hf:NAME...``;
    ``corpus`` optional). Otherwise BEIR data from
    ``data_dir`` (qrels of ``split``), where any of ``corpus``/``queries``/``qrels`` given explicitly replaces
    the directory's file (an explicit ``qrels`` with a ``split`` other than the default is refused: no split is
    read then), and ``unknown_qrels`` decides what judgments of documents missing from the corpus
    do (``error`` or ``skip``; see DataConfig). Column options without a pairs file are a ConfigError rather
    than ignored (``DataConfig.validate``). Without ``show_progress``, ``datasets`` draws no progress bars and the
    hub logs no retries while it loads ``pairs`` (:func:`negmine.io.hf_datasets.quiet_datasets`). ``checked``: the
    rows of ``pairs`` that :func:`negmine.io.pairs.check_pairs` read (as a mining summary was read for re-mining:
    :func:`negmine.pipeline.recorded_config.read_mine_summary`), which the load takes instead of reading them again.
    """
    config.validate()
    if config.pairs is not None:
        with quiet_datasets(config.pairs, show_progress):
            return load_pairs(config.pairs, config.corpus, config.query_column, config.positive_column, checked)
    corpus, queries, qrels = beir_files(config)
    name = check_beir_dir(config.data_dir).resolve().name if config.data_dir is not None else None
    return load_beir_files(corpus, queries, qrels, name=name, unknown_qrels=config.unknown_qrels)
