"""What the embedding cache already holds must not change the mined bytes (with the bundled MiniLM: the tiny test model does not show the effect)."""

from __future__ import annotations

import csv
import json
from pathlib import Path


from negmine.config import DataConfig, EncoderConfig, MineConfig, OutputConfig
from negmine.pipeline.mine import mine
from negmine.testing.beir import write_beir

DEMO = Path(__file__).parents[2] / "src" / "negmine" / "demo" / "minifacts"


def _half_of_the_demo(folder: Path) -> Path:
    """The demo's first 150 documents with the train queries whose positives are all among them."""
    rows = [json.loads(line) for line in (DEMO / "corpus.jsonl").read_text(encoding="utf-8").splitlines()][:150]
    corpus = {r["_id"]: (r.get("title") or "", r["text"]) for r in rows}
    queries = {json.loads(line)["_id"]: json.loads(line)["text"]
               for line in (DEMO / "queries.jsonl").read_text(encoding="utf-8").splitlines()}
    with open(DEMO / "qrels" / "train.tsv", encoding="utf-8") as handle:
        qrels = [(q, d, int(s)) for q, d, s in list(csv.reader(handle, delimiter="\t"))[1:]]
    outside = {q for q, d, _ in qrels if d not in corpus}
    kept = [(q, d, s) for q, d, s in qrels if q not in outside]
    return write_beir(folder, corpus, {q: queries[q] for q in {q for q, _, _ in kept}}, kept)


def _mine(data_dir: Path, out: Path, cache: Path) -> bytes:
    mine(MineConfig(data=DataConfig(data_dir=data_dir), encoder=EncoderConfig(cache_dir=cache, show_progress=False),
                    output=OutputConfig(path=out)))
    return out.read_bytes()


def test_a_cache_filled_by_another_corpus_gives_the_cold_runs_bytes(tmp_path):
    cold = _mine(DEMO, tmp_path / "cold.jsonl", tmp_path / "cache-cold")
    shared = tmp_path / "cache-shared"
    _mine(_half_of_the_demo(tmp_path / "half"), tmp_path / "half.jsonl", shared)  # half the documents cached
    assert _mine(DEMO, tmp_path / "after-half.jsonl", shared) == cold
