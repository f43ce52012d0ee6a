"""Small demo datasets shipped inside the package (BEIR layout), for the quickstart, demos and tests.

``minifacts`` is an original CC0-1.0 set of 300 short science/health/technology abstracts and 80 claims
or questions written for negmine, with train/test qrels, deliberately planted unlabelled relevant
documents (``planted.tsv``) and deliberately wrong positives (``noisy_positives.tsv``); see its README.md.

    from negmine.demo import demo_path
    data_dir = demo_path()              # .../negmine/demo/minifacts
    corpus = data_dir / "corpus.jsonl"
    pairs = demo_pairs()                # the train split's (anchor, positive) texts, a datasets.Dataset
"""

from __future__ import annotations

from pathlib import Path

from negmine.errors import InputError, unknown_choice

DATASETS: dict[str, str] = {
    "minifacts": "300 original abstracts, 80 queries (60 train / 20 test), 12 planted false negatives",
}


def demo_path(name: str = "minifacts") -> Path:
    """Directory of the bundled demo dataset ``name`` (BEIR layout: corpus.jsonl, queries.jsonl, qrels/).

    The data ship as package data next to this module, so the path is a plain directory both for
    editable and for wheel installs. Unknown names raise :class:`negmine.errors.ConfigError` listing
    the available datasets; an install without the data files raises :class:`negmine.errors.InputError`.
    """
    if name not in DATASETS:
        raise unknown_choice("demo dataset", name, DATASETS)
    folder = Path(__file__).resolve().parent / name
    if not (folder / "corpus.jsonl").is_file():
        raise InputError(folder, None, None, "demo data files are missing; reinstall negmine (package data demo/**/*)")
    return folder


def demo_pairs(split: str = "train", name: str = "minifacts"):
    """The judged (query, positive) pairs of the demo's ``split`` as a Hugging Face ``datasets.Dataset`` with text
    columns ``anchor`` and ``positive``, in qrels order: the layout of sentence-transformers training sets (what
    ``mine_hard_negatives(dataset, model)`` and :func:`negmine.mine_dataset` take), for examples and tests without
    the hub. A document reads as BEIR's title + " " + text; the pairs carry no corpus of their own (mining them
    draws negatives from the positives, as the reference does without ``corpus``)."""
    import datasets

    from negmine.config import DataConfig
    from negmine.io.load import load_data

    data = load_data(DataConfig(data_dir=demo_path(name), split=split), show_progress=False)
    rows = [{"anchor": data.queries.text(pair.query_id), "positive": data.corpus.text(pair.positive_id)}
            for pair in data.pairs()]
    return datasets.Dataset.from_list(rows)


__all__ = ["DATASETS", "demo_path", "demo_pairs"]
