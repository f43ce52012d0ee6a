"""Write small BEIR-layout directories for tests and examples."""

from __future__ import annotations

import json
from pathlib import Path


def write_beir(
    folder: str | Path,
    corpus: dict[str, str | tuple[str, str]],
    queries: dict[str, str],
    qrels: list[tuple[str, str, int]],
    split: str = "train",
) -> Path:
    """``corpus`` maps id -> text or (title, text); ``qrels`` rows are (query_id, doc_id, score)."""
    folder = Path(folder)
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    with open(folder / "corpus.jsonl", "w", encoding="utf-8") as f:
        for doc_id, value in corpus.items():
            title, text = value if isinstance(value, tuple) else ("", value)
            f.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with open(folder / "queries.jsonl", "w", encoding="utf-8") as f:
        for query_id, text in queries.items():
            f.write(json.dumps({"_id": query_id, "text": text}) + "\n")
    with open(folder / "qrels" / f"{split}.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for q, d, s in qrels:
            f.write(f"{q}\t{d}\t{s}\n")
    return folder
