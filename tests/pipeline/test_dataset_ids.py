from __future__ import annotations

import pytest

from negmine.config import DataConfig, EncoderConfig, FilterConfig, MineConfig, OutputConfig, SelectConfig
from negmine.errors import InputError
from negmine.io.load import load_data
from negmine.io.records import Corpus, Dataset, Qrels, Queries
from negmine.pipeline.mine import mine
from negmine.testing.hash_embedder import HashEmbedder

FIX = ("; a mined file cannot hold such an id (its reader, e.g. negmine train, refuses it) and the file readers refuse "
       "it at its line, so this dataset was built in Python: fix the id there")


def _config(tmp_path) -> MineConfig:
    return MineConfig(encoder=EncoderConfig(cache_dir=tmp_path / "cache",
                      show_progress=False), filters=FilterConfig(sd_margin=None),
                      select=SelectConfig(num_negatives=3), output=OutputConfig(path=tmp_path / "o.jsonl"))


def _renamed(dataset: Dataset, old: str, new: str) -> Dataset:
    """``dataset`` built again in Python with the id ``old`` (a query's or a document's) named ``new``."""
    name = {old: new}.get
    corpus = Corpus([name(i, i) for i in dataset.corpus.ids], list(dataset.corpus.texts), source="c.jsonl")
    queries = Queries([name(i, i) for i in dataset.queries.ids], list(dataset.queries.texts), source="q.jsonl")
    judged = {name(q, q): {name(d, d): s for d, s in docs.items()} for q, docs in dataset.qrels.judgments.items()}
    return Dataset(corpus, queries, Qrels(judged, source="qrels.tsv"))


@pytest.mark.parametrize(("old", "new", "field", "problem"), [
    ("q-sleep", "\ufeffq-sleep", "qrels.tsv: field 'query-id'",
     "id '\\ufeffq-sleep' holds a byte-order mark (U+FEFF) at character 1, an invisible character"),
    ("coffee-0", "coffee-0\ufeff", "qrels.tsv: field 'corpus-id'",
     "id 'coffee-0\\ufeff' holds a byte-order mark (U+FEFF) at character 9"),
    ("battery-7", "battery-7 ", "c.jsonl: field '_id'", "id 'battery-7 ' has whitespace at its start or end"),
])
def test_a_dataset_built_in_python_with_an_id_a_mined_file_cannot_hold_is_refused_before_encoding(
        beir_dir, tmp_path, old, new, field, problem):
    """Mined before: the file was written, and its reader (train, audit, exports) refused the id at its line."""
    dataset = _renamed(load_data(DataConfig(data_dir=beir_dir)), old, new)
    embedder = HashEmbedder()
    with pytest.raises(InputError) as info:
        mine(_config(tmp_path), embedder=embedder, dataset=dataset)
    assert str(info.value).startswith(f"{field}: {problem}") and str(info.value).endswith(FIX)
    assert embedder.calls == 0 and not (tmp_path / "o.jsonl").exists()


def test_a_dataset_built_in_python_with_good_ids_is_mined(beir_dir, tmp_path):
    dataset = _renamed(load_data(DataConfig(data_dir=beir_dir)), "q-sleep", "q-sl\u200beep")  # kept: see id_problem
    mine(_config(tmp_path), embedder=HashEmbedder(), dataset=dataset)
    assert "q-sl\u200beep" in (tmp_path / "o.jsonl").read_text(encoding="utf-8")
