"""Hugging Face datasets as pairs input: a datasets.Dataset in Python, a save_to_disk folder, hf:NAME[:SPLIT]."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from negmine.config import DataConfig
from negmine.errors import ConfigError, DatasetInputError, InputError, NegmineWarning
from negmine.io.hf_datasets import dataset_rows, parse_hub
from negmine.io.pairs import load_pairs, pairs_from_dataset, read_pairs, read_pairs_from

datasets = pytest.importorskip("datasets")

ROWS = [
    {"anchor": "what is sleep", "positive": "Sleep is rest."},
    {"anchor": "why coffee", "positive": "Caffeine wakes you."},
    {"anchor": " what is sleep ", "positive": "Sleep happens at night."},  # same query after stripping
    {"anchor": "battery?", "positive": "Caffeine wakes you."},  # positive shared by two queries
]
LABEL_FIX = ("the rows carry pair labels, but negmine takes every row as a (query, positive) pair, so a pair labelled "
             "as not matching would be mined as a positive; keep the rows of matching pairs only and mine those (e.g. "
             "ds = ds.filter(lambda row: row['label'] == MATCH).remove_columns('label'), MATCH being the dataset's "
             "value for a match; for negmine mine --pairs, save it with ds.save_to_disk(DIR) and give DIR)")


@pytest.fixture(autouse=True)
def quiet_datasets(tmp_path, monkeypatch):
    """datasets' progress bars off, then back as they were (a global setting: it leaked into later tests);
    load_dataset's cache (read when datasets is imported) under tmp_path."""
    was_off = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", Path(tmp_path / "hf-datasets-cache"))
    yield
    if not was_off:
        datasets.enable_progress_bars()


def _dataset(rows: list[dict]):
    return datasets.Dataset.from_list(rows)


def _error(call, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    return info.value


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _same(a, b) -> bool:
    """Two loaded Datasets hold the same ids, texts and judgments (their sources name different inputs)."""
    return (list(a.queries.ids), list(a.queries.texts), list(a.corpus.ids), list(a.corpus.texts),
            a.qrels.judgments) == (list(b.queries.ids), list(b.queries.texts), list(b.corpus.ids),
                                   list(b.corpus.texts), b.qrels.judgments)


# --- a datasets.Dataset in Python ----------------------------------------------------------------------------------


def test_a_dataset_loads_as_the_same_rows_written_to_a_jsonl_file(tmp_path):
    from_file = load_pairs(_jsonl(tmp_path / "p.jsonl", ROWS))
    from_dataset = pairs_from_dataset(_dataset(ROWS))
    assert _same(from_dataset, from_file)
    assert from_dataset.queries.ids == ["q1", "q2", "q4"] and from_dataset.corpus.ids == ["d1", "d2", "d3"]
    assert from_dataset.qrels.source == "the datasets.Dataset of 4 rows" and from_dataset.name == "dataset"
    named = pairs_from_dataset(_dataset(ROWS), name="natural-questions")
    assert named.qrels.source == "dataset 'natural-questions'" and named.name == "natural-questions"


def test_rows_are_read_through_the_index_mapping_of_a_select_or_shuffle():
    """ds.data.table is the table before select/shuffle/filter: reading it would mine rows the user dropped."""
    ds = _dataset(ROWS).select([3, 1])
    data = pairs_from_dataset(ds)
    assert data.queries.texts == ["battery?", "why coffee"]
    assert data.corpus.texts == ["Caffeine wakes you."] and data.qrels.judgments == {"q1": {"d1": 1}, "q2": {"d1": 1}}


def test_a_pyarrow_table_and_a_split_of_a_dataset_dict_load_alike(tmp_path):
    expected = load_pairs(_jsonl(tmp_path / "p.jsonl", ROWS))
    table = pa.Table.from_pylist(ROWS)
    assert _same(pairs_from_dataset(table, name="t"), expected)
    splits = datasets.DatasetDict(train=_dataset(ROWS), dev=_dataset(ROWS[:1]))
    data = pairs_from_dataset(splits, split="train", name="nq")
    assert _same(data, expected) and data.qrels.source == "dataset 'nq', split 'train'"


def test_counts_and_warnings_as_for_a_file(tmp_path):
    ds = _dataset([*ROWS, ROWS[0]])
    result = read_pairs_from(dataset_rows(ds, name="nq"))
    assert (result.rows, result.distinct_positives, result.duplicate_rows, result.added_positives) == (5, 3, 1, 0)
    corpus = tmp_path / "c.csv"
    corpus.write_text("text\nSleep is rest.\n", encoding="utf-8")
    with pytest.warns(NegmineWarning) as caught:
        data = pairs_from_dataset(ds, corpus=corpus, name="nq")
    assert [str(w.message) for w in caught] == [
        f"dataset 'nq': 2 of 3 distinct positives are not in the corpus {corpus} (exact text match; a document with a "
        "title reads as title + ' ' + text) and were added to it with ids p<row>",
        "dataset 'nq': 1 repeated (query, positive) row kept once"]
    assert data.corpus.ids == ["d1", "p2", "p3"]


@pytest.mark.parametrize(("rows", "message"), [
    ([ROWS[0], {"anchor": "q", "positive": "  "}],
     "dataset 'natural-questions', row 2 (index 1), column 'positive': empty text (nothing left after stripping "
     "whitespace)"),
    ([ROWS[0], {"anchor": None, "positive": "p"}],
     "dataset 'natural-questions', row 2 (index 1), column 'anchor': missing value (null)"),
    ([{"anchor": "a", "text": "x"}],
     "dataset 'natural-questions': no positive column found (looked for positive, pos, answer, document, passage, "
     "sentence2, sentence_B, text2); available columns: 'anchor', 'text'; pass positive_column='text'"),
    ([{"anchor": "a", "label": 1, "positive": "x"}, {"anchor": "b", "label": 0, "positive": "y"}],
     f"dataset 'natural-questions', row 2 (index 1), column 'label': value 0 differs from the first row's value 1: "
     f"{LABEL_FIX}"),
    ([{"anchor": "a", "positive": ["x", "y"]}],
     "dataset 'natural-questions', column 'positive': column has type list<item: string>, expected string; give one "
     "text per row: a row with a list of texts (as FlagEmbedding's 'pos') becomes one row per text, e.g. ds = "
     "ds.map(lambda b: {'anchor': [v for v, texts in zip(b['anchor'], b['positive']) for _ in texts], 'positive': "
     "[t for texts in b['positive'] for t in texts]}, batched=True, remove_columns=ds.column_names) (for negmine mine "
     "--pairs, then ds.save_to_disk(DIR) and give DIR)"),
])
def test_bad_rows_name_the_dataset_row_and_column(rows, message):
    err = _error(pairs_from_dataset, _dataset(rows), name="natural-questions")
    assert isinstance(err, DatasetInputError) and str(err) == message


def test_data_a_builder_read_from_files_is_named_as_the_builders_not_as_a_dataset_named_after_it(tmp_path):
    """datasets.load_dataset("json", data_files=...) names its data after the builder: messages read "dataset 'json',
    row 2 ...", as if 'json' were the file or a column. datasets keeps no path of the files read, so messages say
    what the data is: a datasets.Dataset of N rows the 'json' builder loaded. A name given, and a name of the data's
    own (a folder load_dataset read), are kept."""
    bad = [ROWS[0], {"anchor": "q", "positive": "  "}]
    path = _jsonl(tmp_path / "pairs.jsonl", bad)
    problem = "row 2 (index 1), column 'positive': empty text (nothing left after stripping whitespace)"
    ds = datasets.load_dataset("json", data_files=str(path), split="train")
    assert ds.info.dataset_name == "json" and str(path) not in str(ds.info)
    assert str(_error(pairs_from_dataset, ds)) == (
        f"the datasets.Dataset of 2 rows (from split 'train', loaded by the 'json' builder), {problem}")
    splits = datasets.load_dataset("json", data_files=str(path))
    assert str(_error(pairs_from_dataset, splits, split="train")) == (
        f"the datasets.Dataset of 2 rows (loaded by the 'json' builder), split 'train', {problem}")
    assert str(_error(pairs_from_dataset, ds, name="nq")) == f"dataset 'nq' (from split 'train'), {problem}"
    csv = tmp_path / "pairs.csv"
    csv.write_text('anchor,positive\nq1,p1\nq2," "\n', encoding="utf-8")
    assert str(_error(pairs_from_dataset, datasets.Dataset.from_csv(str(csv)))) == (
        f"the datasets.Dataset of 2 rows (from split 'train', loaded by the 'csv' builder), {problem}")
    folder = tmp_path / "my-pairs"
    folder.mkdir()
    _jsonl(folder / "train.jsonl", bad)
    assert str(_error(pairs_from_dataset, datasets.load_dataset(str(folder), split="train"))) == (
        f"dataset 'my-pairs' (from split 'train'), {problem}")
    good = pairs_from_dataset(datasets.load_dataset("json", data_files=str(_jsonl(tmp_path / "ok.jsonl", ROWS)),
                                                    split="train"))
    assert good.qrels.source == "the datasets.Dataset of 4 rows (from split 'train', loaded by the 'json' builder)"
    assert good.name == "dataset"


def _in_memory_sources(tmp_path: Path) -> dict[str, object]:
    """The same two rows, the second's positive empty, as each kind of data held in memory negmine reads."""
    import pandas as pd  # a dependency of datasets

    bad = [ROWS[0], {"anchor": "q", "positive": "  "}]
    columns = {key: [row[key] for row in bad] for key in ("anchor", "positive")}
    loaded = datasets.load_dataset("json", data_files={"train": str(_jsonl(tmp_path / "bad.jsonl", bad))})
    return {
        "the datasets.Dataset of 2 rows": [
            datasets.Dataset.from_dict(columns), datasets.Dataset.from_list(bad),
            datasets.Dataset.from_pandas(pd.DataFrame(columns)), datasets.DatasetDict(dev=_dataset(bad))["dev"],
            _dataset([*bad, ROWS[1]]).select([0, 1]),
            datasets.concatenate_datasets([_dataset(bad[:1]), _dataset(bad[1:])])],
        "the datasets.Dataset of 2 rows (from split 'train', loaded by the 'json' builder)": [loaded["train"]],
        "the datasets.Dataset of 2 rows (from split 'train', loaded by the 'generator' builder)": [
            datasets.Dataset.from_generator(lambda: iter(bad), cache_dir=str(tmp_path / "generated"))],
        "the pyarrow.Table of 2 rows": [pa.Table.from_pylist(bad)],
    }


def test_every_kind_of_data_held_in_memory_is_named_by_what_it_is_and_its_rows(tmp_path):
    """A Dataset.from_dict/from_list/from_pandas (or a DatasetDict's split of one) was "the in-memory dataset", one
    the json builder loaded "the datasets.Dataset of 2 rows (loaded by the 'json' builder)" and one
    Dataset.from_generator made "dataset 'generator'" (the builder's name again). Each is now the datasets.Dataset
    (or pyarrow.Table) of its rows, with the split datasets keeps it was loaded as and the builder that loaded it."""
    problem = "row 2 (index 1), column 'positive': empty text (nothing left after stripping whitespace)"
    for label, sources in _in_memory_sources(tmp_path).items():
        for ds in sources:
            assert str(_error(pairs_from_dataset, ds)) == f"{label}, {problem}"


def test_a_split_datasets_keeps_is_the_one_its_rows_were_loaded_as(tmp_path):
    """train_test_split's test rows keep the name of the split they were taken from: "from split 'train'"."""
    path = _jsonl(tmp_path / "p.jsonl", [*ROWS, {"anchor": "q", "positive": " "}])
    loaded = datasets.load_dataset("json", data_files=str(path), split="train")
    rows = loaded.train_test_split(test_size=2, shuffle=False)["test"]
    assert rows.split == "train"
    assert str(_error(pairs_from_dataset, rows)).startswith(
        "the datasets.Dataset of 2 rows (from split 'train', loaded by the 'json' builder), row 2 (index 1), ")
    ok = pairs_from_dataset(loaded.select(range(4)))
    assert {key: ok.origin.get(key) for key in ("kind", "split", "from_split", "builder", "rows")} == {
        "kind": "datasets.Dataset", "split": None, "from_split": "train", "builder": "json", "rows": 4}
    splits = datasets.load_dataset("json", data_files={"dev": str(_jsonl(tmp_path / "ok.jsonl", ROWS))})
    chosen = pairs_from_dataset(splits, split="dev").origin
    assert (chosen["split"], chosen["builder"], "from_split" in chosen) == ("dev", "json", False)


def test_the_fix_for_a_column_of_lists_runs_and_gives_one_row_per_text():
    """The hint said pandas' df.explode for a datasets.Dataset too; it now gives a datasets snippet, which must run
    as printed: FlagEmbedding's {query, pos: [...], neg: [...]} rows become one (query, pos) row per positive."""
    flag = _dataset([{"query": "q1", "pos": ["a", "b"], "neg": ["x"]}, {"query": "q2", "pos": ["c"], "neg": []}])
    message = str(_error(pairs_from_dataset, flag, name="fe"))
    snippet = message.split("e.g. ", 1)[1].rsplit(" (for negmine mine --pairs", 1)[0]
    assert snippet.startswith("ds = ds.map(") and "pandas" not in message
    scope = {"ds": flag}
    exec(snippet, scope)  # noqa: S102 - the message's own code
    assert scope["ds"].to_list() == [{"query": "q1", "pos": "a"}, {"query": "q1", "pos": "b"},
                                     {"query": "q2", "pos": "c"}]
    data = pairs_from_dataset(scope["ds"], name="fe")
    assert data.qrels.judgments == {"q1": {"d1": 1, "d2": 1}, "q3": {"d3": 1}}
    table = pa.Table.from_pylist([{"query": "q1", "pos": ["a", "b"]}])  # a pyarrow.Table: pandas is its way
    assert str(_error(pairs_from_dataset, table, name="t")).endswith("e.g. pandas: df.explode('pos')")


def test_a_named_column_missing_and_an_empty_dataset():
    err = _error(pairs_from_dataset, _dataset(ROWS), query_column="question", name="nq")
    assert str(err) == "dataset 'nq', column 'question': query column not found; available columns: 'anchor', 'positive'"
    empty = _dataset(ROWS).filter(lambda row: False)
    assert str(_error(pairs_from_dataset, empty, name="nq")) == "dataset 'nq': no pairs in the dataset"


def test_a_column_typo_names_the_keyword():
    # the hint was "did you mean 'positive'?", as for the command line, naming no keyword
    err = _error(pairs_from_dataset, _dataset(ROWS), positive_column="postive", name="nq")
    assert str(err) == ("dataset 'nq', column 'postive': positive column not found; available columns: 'anchor', "
                        "'positive'; did you mean positive_column='positive'?")


def test_a_dataset_dict_needs_one_of_its_splits():
    """Mining every split together would mine dev and test queries into the training data."""
    splits = datasets.DatasetDict(train=_dataset(ROWS), dev=_dataset(ROWS))
    assert str(_error(pairs_from_dataset, splits, name="nq")) == (
        "dataset 'nq': a DatasetDict, not one dataset; its splits: 'train', 'dev'; pass one: split='train' "
        "(or ds['train'])")
    assert str(_error(pairs_from_dataset, splits, split="test", name="nq")) == (
        "dataset 'nq': no split 'test'; its splits: 'train', 'dev'; pass one: split='train' (or ds['train'])")


def test_what_is_no_dataset_is_a_config_error():
    with pytest.raises(ConfigError, match=r"^split='train' names a split of a datasets.DatasetDict, but the data "
                                          r"given is one datasets.Dataset, which has no splits: drop split$"):
        pairs_from_dataset(_dataset(ROWS), split="train")
    with pytest.raises(ConfigError, match=r"^dataset 'nq' is a streaming IterableDataset; negmine reads every pair "
                                          r"before mining: load it without streaming=True"):
        pairs_from_dataset(_dataset(ROWS).to_iterable_dataset(), name="nq")
    with pytest.raises(ConfigError, match=r"^expected a datasets.Dataset, a datasets.DatasetDict \(with split=...\) "
                                          r"or a pyarrow.Table, got tuple$"):
        pairs_from_dataset(tuple(ROWS))


@pytest.mark.parametrize(("data", "fix"), [
    (ROWS, "got list; make one of a list of row dicts with datasets.Dataset.from_list(rows)"),
    ({"anchor": ["a"], "positive": ["b"]}, "got dict; make one of a dict of columns with datasets.Dataset.from_dict("
                                           "columns)"),
    ("pandas", "got DataFrame; make one of a pandas DataFrame df with datasets.Dataset.from_pandas(df, "
               "preserve_index=False)"),
], ids=["list", "dict", "pandas"])
def test_data_datasets_makes_a_dataset_of_is_refused_with_the_call_that_does(data, fix):
    """A pandas DataFrame or a list of dicts was refused naming the types negmine reads, not how to get one; the
    call given makes a Dataset that mines (of the same rows as the JSONL file)."""
    import pandas as pd

    from negmine.pipeline.in_memory import mine_dataset

    data = pd.DataFrame(ROWS, index=[5, 6, 7, 8]) if isinstance(data, str) else data
    for call in (pairs_from_dataset, mine_dataset):
        with pytest.raises(ConfigError) as info:
            call(data)
        assert str(info.value) == ("expected a datasets.Dataset, a datasets.DatasetDict (with split=...) or a "
                                   f"pyarrow.Table, {fix}")
    made = eval(fix.split(" with ")[1], {"datasets": datasets, "df": data, "rows": data, "columns": data})
    assert made.column_names == ["anchor", "positive"] and len(pairs_from_dataset(made).queries.ids) >= 1


# --- a folder written by save_to_disk --------------------------------------------------------------------------------


def test_a_save_to_disk_folder_loads_as_the_jsonl_file(tmp_path):
    folder = tmp_path / "nq-train"
    _dataset(ROWS).save_to_disk(str(folder))
    data = load_pairs(folder)
    assert _same(data, load_pairs(_jsonl(tmp_path / "p.jsonl", ROWS)))
    assert data.qrels.source == f"dataset {str(folder)!r}" and data.name == "nq-train"
    assert read_pairs(folder).rows == 4


def test_bad_rows_of_a_saved_folder_name_it(tmp_path):
    folder = tmp_path / "saved"
    _dataset([ROWS[0], {"anchor": "q", "positive": "\u200b"}]).save_to_disk(str(folder))
    assert str(_error(load_pairs, folder)) == (
        f"dataset {str(folder)!r}, row 2 (index 1), column 'positive': empty text (nothing left after stripping "
        "whitespace and the invisible characters U+200B)")


def test_a_saved_dataset_dict_names_its_split_folders(tmp_path):
    folder = tmp_path / "nq"
    datasets.DatasetDict(train=_dataset(ROWS), dev=_dataset(ROWS)).save_to_disk(str(folder))
    assert str(_error(load_pairs, folder)) == (
        f"{folder}: a DatasetDict saved by save_to_disk (splits: 'train', 'dev'), not one dataset; give one split's "
        f"folder, e.g. --pairs {folder / 'train'}")
    assert _same(load_pairs(folder / "dev"), load_pairs(_jsonl(tmp_path / "p.jsonl", ROWS)))


def test_a_folder_without_a_saved_dataset_is_refused(tmp_path):
    (tmp_path / "data").mkdir()
    assert str(_error(load_pairs, tmp_path / "data")) == (
        f"{tmp_path / 'data'}: expected a pairs file (JSONL, CSV/TSV, Parquet) or a folder written by datasets' "
        "Dataset.save_to_disk (holding dataset_info.json and state.json), found a folder without them")


def test_a_beir_directory_given_as_pairs_is_told_to_be_the_data_directory(tmp_path):
    """`negmine mine --pairs DEMO` said only that the folder held no saved dataset."""
    from negmine.testing.beir import write_beir

    folder = tmp_path / "beir"
    write_beir(folder, {"d1": "a document"}, {"q1": "a query"}, [("q1", "d1", 1)])
    assert str(_error(load_pairs, folder)) == (
        f"{folder}: expected a pairs file (JSONL, CSV/TSV, Parquet) or a folder written by datasets' "
        "Dataset.save_to_disk (holding dataset_info.json and state.json), found a folder without them: it is a BEIR "
        f"directory (corpus.jsonl, queries.jsonl, qrels/), which is mined as the data directory, without --pairs: "
        f"negmine mine {folder} --split train (from Python, DataConfig(data_dir=...))")


# --- hf:NAME[:SPLIT] -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "parsed"), [
    ("hf:sentence-transformers/natural-questions", ("sentence-transformers/natural-questions", None, None)),
    ("hf:org/name:train", ("org/name", None, "train")),
    ("hf:org/name:pair:train", ("org/name", "pair", "train")),
])
def test_hub_forms(value, parsed):
    assert parse_hub(value) == parsed


@pytest.mark.parametrize("value", ["hf:", "hf:org/name:", "hf::train", "hf:a:b:c:d"])
def test_bad_hub_forms_are_refused(value):
    with pytest.raises(ConfigError) as info:
        parse_hub(value)
    assert str(info.value) == (
        f"pairs {value!r}: expected hf:NAME, hf:NAME:SPLIT or hf:NAME:CONFIG:SPLIT (e.g. "
        "hf:sentence-transformers/natural-questions:train); a part is empty or there are too many")


def test_hf_loads_what_load_dataset_loads_a_local_folder_of_files_as(tmp_path):
    """load_dataset takes a folder of data files as it takes a hub name: the hf: path runs without the network."""
    folder = tmp_path / "nq"
    folder.mkdir()
    _jsonl(folder / "train.jsonl", ROWS)
    _jsonl(folder / "test.jsonl", ROWS[:2])
    data = load_pairs(f"hf:{folder}:train")
    assert _same(data, load_pairs(_jsonl(tmp_path / "p.jsonl", ROWS)))
    assert data.qrels.source == f"dataset {str(folder)!r}, split 'train'" and data.name == "nq"
    assert str(_error(load_pairs, f"hf:{folder}")) == (
        f"dataset {str(folder)!r}: has splits 'train', 'test'; name one: --pairs hf:{folder}:train")
    assert str(_error(load_pairs, f"hf:{folder}:dev")) == (
        f"dataset {str(folder)!r}, split 'dev': no such split; its splits: 'train', 'test'; name one: --pairs "
        f"hf:{folder}:train")


@pytest.fixture
def prepared(monkeypatch) -> list[str]:
    """The datasets each builder's download_and_prepare ran for (it downloads and prepares every split of one)."""
    calls = []
    prepare = datasets.builder.DatasetBuilder.download_and_prepare

    def recorded(builder, *args, **kwargs):
        calls.append(builder.dataset_name)
        return prepare(builder, *args, **kwargs)

    monkeypatch.setattr(datasets.builder.DatasetBuilder, "download_and_prepare", recorded)
    return calls


def test_hf_without_a_split_or_with_an_unknown_one_is_refused_before_any_split_is_prepared(tmp_path, prepared):
    """hf:NAME without a split downloaded and prepared every split of NAME (GBs for a large hub dataset) and then
    refused it for having several; the split names are known before: refused at once, nothing prepared."""
    folder = tmp_path / "nq"
    folder.mkdir()
    _jsonl(folder / "train.jsonl", ROWS)
    _jsonl(folder / "test.jsonl", [{"anchor": "when is dawn", "positive": "Dawn is early."}])
    assert str(_error(load_pairs, f"hf:{folder}")) == (
        f"dataset {str(folder)!r}: has splits 'train', 'test'; name one: --pairs hf:{folder}:train")
    assert prepared == [] and not list((tmp_path / "hf-datasets-cache").rglob("*.arrow"))
    assert str(_error(load_pairs, f"hf:{folder}:dev")).startswith(f"dataset {str(folder)!r}, split 'dev': no such ")
    assert prepared == [] and not list((tmp_path / "hf-datasets-cache").rglob("*.arrow"))
    assert len(load_pairs(f"hf:{folder}:test").queries) == 1 and prepared == ["nq"]
    assert len(load_pairs(f"hf:{folder}:train+test").queries) == 4  # an expression over splits: datasets' to read


BROKEN_JSON = "{not json\n"
"""A data file datasets cannot read: preparing its split fails."""


def _arrow_files(tmp_path: Path) -> list[str]:
    """The prepared split files in datasets' cache, by name (DATASET-SPLIT.arrow)."""
    return sorted(p.name for p in (tmp_path / "hf-datasets-cache").rglob("*.arrow"))


def test_hf_with_a_split_downloads_and_prepares_that_split_alone(tmp_path):
    """hf:NAME:SPLIT downloaded and prepared every split of NAME to read one (all of a big test split's files to mine
    train), and failed when another split's files could not be read: now only the split named is prepared, in a
    cache folder of its own; the record is the same on every read, with the hash of the whole dataset's files."""
    folder = tmp_path / "nq"
    folder.mkdir()
    _jsonl(folder / "train.jsonl", ROWS)
    (folder / "test.jsonl").write_text(BROKEN_JSON, encoding="utf-8")
    data = load_pairs(f"hf:{folder}:train")
    assert _same(data, load_pairs(_jsonl(tmp_path / "p.jsonl", ROWS)))
    assert _arrow_files(tmp_path) == ["nq-train.arrow"]
    assert load_pairs(f"hf:{folder}:train").origin == data.origin
    assert data.origin["data_files_hash"] == datasets.load_dataset_builder(str(folder)).hash
    _jsonl(folder / "validation.jsonl", [{"anchor": "when is dawn", "positive": "Dawn is early."}])
    assert len(load_pairs(f"hf:{folder}:train+validation").queries) == 4  # an expression: the splits it names
    assert _arrow_files(tmp_path) == ["nq-train.arrow", "nq-train.arrow", "nq-validation.arrow"]


def test_hf_whose_split_has_a_data_file_datasets_cannot_parse_says_so(tmp_path):
    """datasets' DatasetGenerationError (a data file of the split read that cannot be parsed) came out as it was, a
    traceback without the dataset or a fix."""
    folder = tmp_path / "nq"
    folder.mkdir()
    _jsonl(folder / "train.jsonl", ROWS)
    (folder / "test.jsonl").write_text(BROKEN_JSON, encoding="utf-8")
    err = _error(load_pairs, f"hf:{folder}:test")
    assert isinstance(err, DatasetInputError) and str(err) == (
        f"dataset {str(folder)!r}, split 'test': datasets cannot read a data file of it: JSON parse error: Missing a "
        "name for object member. in row 0 (datasets logs which file); fix that file, or read another split or config")


def test_hf_with_a_split_checks_the_cards_size_of_that_split_alone(tmp_path):
    """A hub dataset's card lists its configs' data files per split and each split's size, which datasets checks the
    prepared splits against: the split prepared alone is checked against its own size only."""
    folder = tmp_path / "nq"
    folder.mkdir()
    _jsonl(folder / "train.jsonl", ROWS)
    (folder / "test.jsonl").write_text(BROKEN_JSON, encoding="utf-8")
    (folder / "README.md").write_text(
        "---\nconfigs:\n- config_name: pair\n  data_files:\n  - split: train\n    path: train.jsonl\n"
        "  - split: test\n    path: test.jsonl\ndataset_info:\n  config_name: pair\n  features:\n"
        "  - name: anchor\n    dtype: string\n  - name: positive\n    dtype: string\n  splits:\n"
        "  - name: train\n    num_bytes: 1\n    num_examples: 4\n  - name: test\n    num_bytes: 1\n"
        "    num_examples: 1\n---\n", encoding="utf-8")
    data = load_pairs(f"hf:{folder}:pair:train")
    assert data.origin["config"] == "pair" and len(data.queries) == 3
    assert _arrow_files(tmp_path) == ["nq-train.arrow"]


def test_hf_with_a_split_reads_a_copy_of_every_split_prepared_before(tmp_path):
    """A copy of every split (an earlier negmine's, or datasets.load_dataset's) is read, not the split prepared
    again; the record differs from that of the split prepared alone in the fingerprint only (datasets' hash of the
    cache folder read)."""
    folder = tmp_path / "nq"
    folder.mkdir()
    _jsonl(folder / "train.jsonl", ROWS)
    _jsonl(folder / "test.jsonl", ROWS[:2])
    builder = datasets.load_dataset_builder(str(folder))
    builder.download_and_prepare()
    assert _arrow_files(tmp_path) == ["nq-test.arrow", "nq-train.arrow"]
    whole = load_pairs(f"hf:{folder}:train").origin
    assert _arrow_files(tmp_path) == ["nq-test.arrow", "nq-train.arrow"]
    shutil.rmtree(builder.cache_dir)
    alone = load_pairs(f"hf:{folder}:train").origin
    assert _arrow_files(tmp_path) == ["nq-train.arrow"]
    assert alone.pop("fingerprint") != whole.pop("fingerprint") and alone == whole


def test_hf_without_a_split_reads_the_only_one_and_says_which(tmp_path):
    """A dataset of one split was refused without a split ("has splits 'train'; name one"): there is no choice."""
    folder = tmp_path / "nq"
    folder.mkdir()
    _jsonl(folder / "pairs.jsonl", ROWS)  # a file not named after a split: datasets' 'train'
    data = load_pairs(f"hf:{folder}")
    assert data.qrels.source == f"dataset {str(folder)!r}, split 'train'" and data.origin["split"] == "train"
    assert data.origin == load_pairs(f"hf:{folder}:train").origin
    assert _same(data, load_pairs(_jsonl(tmp_path / "p.jsonl", ROWS)))


def test_hf_whose_split_names_are_known_only_once_prepared_is_still_refused_or_read(tmp_path, monkeypatch):
    from negmine.io import hf_datasets

    monkeypatch.setattr(hf_datasets, "_split_names", lambda builder: None)
    (tmp_path / "two").mkdir()
    _jsonl(tmp_path / "two" / "train.jsonl", ROWS)
    _jsonl(tmp_path / "two" / "test.jsonl", ROWS[:2])
    assert str(_error(load_pairs, f"hf:{tmp_path / 'two'}")).endswith(
        "has splits 'train', 'test'; name one: --pairs hf:" f"{tmp_path / 'two'}:train")
    (tmp_path / "one").mkdir()
    _jsonl(tmp_path / "one" / "train.jsonl", ROWS)
    assert load_pairs(f"hf:{tmp_path / 'one'}").origin["split"] == "train"


COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _cached_hub_copy(tmp_path: Path, repo: str, commit: str, splits: dict[str, list[dict]],
                     writer_batch_size: int | None = None) -> Path:
    """What datasets leaves in its cache after loading ``repo`` from the hub at ``commit``: the prepared splits in
    CACHE/NAMESPACE___NAME/CONFIG/VERSION/COMMIT (made here from a local folder of files, the hub being out of
    reach), their rows in Arrow batches of ``writer_batch_size`` rows (datasets' default: 1,000). Returns that
    folder."""
    folder = tmp_path / repo.split("/")[-1]
    folder.mkdir()
    for split, rows in splits.items():
        _jsonl(folder / f"{split}.jsonl", rows)
    builder = datasets.load_dataset_builder(str(folder), cache_dir=str(tmp_path / "prepared"),
                                            writer_batch_size=writer_batch_size)
    builder.download_and_prepare()
    copy = datasets.config.HF_DATASETS_CACHE / repo.replace("/", "___") / "default" / "0.0.0" / commit
    copy.parent.mkdir(parents=True)
    Path(builder.cache_dir).rename(copy)
    return copy


def test_hf_from_the_cache_offline_records_the_commit_read_and_knows_the_splits(tmp_path, monkeypatch):
    """Offline, datasets reads the hub copy it cached, in a folder named by the commit it was read at: the record's
    revision; its split names come from the copy's info (a folder of files' from its file names)."""
    _cached_hub_copy(tmp_path, "org/nq", COMMIT, {"train": ROWS, "test": ROWS[:2]})
    _offline(monkeypatch, tmp_path)
    assert str(_error(load_pairs, "hf:org/nq")) == (
        "dataset 'org/nq': has splits 'train', 'test'; name one: --pairs hf:org/nq:train")
    assert {k: v for k, v in load_pairs("hf:org/nq:train").origin.items() if k != "fingerprint"} == {
        "kind": "hub", "name": "org/nq", "config": "default", "split": "train", "revision": COMMIT, "rows": 4,
        "rows_sha256": load_pairs(_jsonl(tmp_path / "p.jsonl", ROWS)).origin["rows_sha256"]}
    _cached_hub_copy(tmp_path, "org/qa", "0.0.0", {"train": ROWS})  # not a commit id: not recorded as one
    origin = load_pairs("hf:org/qa").origin
    assert origin["split"] == "train" and origin["builder_hash"] == "0.0.0" and "revision" not in origin


def test_hf_from_the_cache_offline_reads_the_copy_of_the_split_prepared_alone(tmp_path, monkeypatch):
    """The copy of one split, prepared in a cache folder of its own, is read offline as a copy of every split is;
    another split, not in the cache, is not found."""
    folder = tmp_path / "nq"
    folder.mkdir()
    _jsonl(folder / "train.jsonl", ROWS)
    (folder / "test.jsonl").write_text(BROKEN_JSON, encoding="utf-8")
    load_pairs(f"hf:{folder}:train")
    cache = datasets.config.HF_DATASETS_CACHE
    [prepared] = [p for p in (cache / "nq" / "default-split=train" / "0.0.0").iterdir() if p.is_dir()]
    copy = cache / "org___nq" / "default-split=train" / "0.0.0" / COMMIT  # as loading org/nq from the hub leaves it
    copy.parent.mkdir(parents=True)
    prepared.rename(copy)
    _offline(monkeypatch, tmp_path)
    assert {k: v for k, v in load_pairs("hf:org/nq:train").origin.items() if k != "fingerprint"} == {
        "kind": "hub", "name": "org/nq", "config": "default", "split": "train", "revision": COMMIT, "rows": 4,
        "rows_sha256": load_pairs(_jsonl(tmp_path / "p.jsonl", ROWS)).origin["rows_sha256"]}
    assert str(_error(load_pairs, "hf:org/nq:test")) == (  # was datasets' "Couldn't find cache for org/nq"
        "dataset 'org/nq', split 'test': the Hugging Face hub could not be reached to load it (HF_HUB_OFFLINE=1 is "
        "set) and the datasets cache holds no copy of it, only copies read offline by hf:org/nq:train; read one of "
        "those: --pairs hf:org/nq:train, or reach the hub (unset HF_HUB_OFFLINE) to load this split once (then cached)")


def _cached_alone(tmp_path: Path, repo: str, *splits: str) -> None:
    """What ``hf:REPO:SPLIT`` leaves in datasets' cache for each split, read from the hub at COMMIT: the split
    prepared alone in CACHE/NAMESPACE___NAME/default-split=SPLIT/0.0.0/COMMIT (made from a local folder of files,
    the hub being out of reach)."""
    folder = tmp_path / repo.split("/")[-1]
    folder.mkdir()
    for split, rows in (("train", ROWS), ("test", ROWS[:2]), ("validation", ROWS[:1])):
        _jsonl(folder / f"{split}.jsonl", rows)
    cache = datasets.config.HF_DATASETS_CACHE
    for split in splits:
        load_pairs(f"hf:{folder}:{split}")
        [prepared] = [p for p in (cache / folder.name / f"default-split={split}" / "0.0.0").iterdir() if p.is_dir()]
        copy = cache / repo.replace("/", "___") / f"default-split={split}" / "0.0.0" / COMMIT
        copy.parent.mkdir(parents=True)
        prepared.rename(copy)


NOT_ALL_CACHED = (
    "dataset 'org/nq': the Hugging Face hub could not be reached to load it (HF_HUB_OFFLINE=1 is set) and the "
    "datasets cache holds no copy of all its splits, which would tell what they are, only copies read offline by "
    "hf:org/nq:test, hf:org/nq:train; name the split: --pairs hf:org/nq:train, or reach the hub (unset "
    "HF_HUB_OFFLINE) to read another")


def test_hf_without_a_split_offline_names_the_splits_cached_alone_and_the_fix(tmp_path, monkeypatch):
    """hf:NAME offline, with only copies of single splits cached (by earlier hf:NAME:SPLIT runs), failed with
    datasets' "Couldn't find cache for org/nq". Such copies exist only for a dataset of several splits, which
    hf:NAME online refuses too: none is read in its place; the message names the ones cached and the fix."""
    _cached_alone(tmp_path, "org/nq", "train", "test")
    _offline(monkeypatch, tmp_path)
    err = _error(load_pairs, "hf:org/nq")
    assert isinstance(err, DatasetInputError) and str(err) == NOT_ALL_CACHED
    assert len(load_pairs("hf:org/nq:test").queries) == 2  # as the message says
    assert str(_error(load_pairs, "hf:org/nq:validation")) == (
        "dataset 'org/nq', split 'validation': the Hugging Face hub could not be reached to load it (HF_HUB_OFFLINE=1 "
        "is set) and the datasets cache holds no copy of it, only copies read offline by hf:org/nq:test, "
        "hf:org/nq:train; read one of those: --pairs hf:org/nq:train, or reach the hub (unset HF_HUB_OFFLINE) to "
        "load this split once (then cached)")
    monkeypatch.delenv("HF_HUB_OFFLINE")  # datasets still offline: as when the hub is out of reach
    assert str(_error(load_pairs, "hf:org/nq")) == NOT_ALL_CACHED.replace(" (HF_HUB_OFFLINE=1 is set)", "").replace(
        "unset HF_HUB_OFFLINE", "check the network")


def test_hf_offline_tells_a_cache_miss_by_where_datasets_raised_it_not_by_its_words(tmp_path, monkeypatch):
    """The retry with the copy of one split, and the message naming the copies, hung on datasets 5.2's wording
    ("Couldn't find cache"): a miss is told by the cache builder raising it, whatever its words."""
    cache_module = pytest.importorskip("datasets.packaged_modules.cache.cache")
    find = cache_module._find_hash_in_cache

    def reworded(*args, **kwargs):
        try:
            return find(*args, **kwargs)
        except ValueError as err:
            raise ValueError("no cached copy (a later datasets' words)") from err

    monkeypatch.setattr(cache_module, "_find_hash_in_cache", reworded)
    _cached_alone(tmp_path, "org/nq", "train", "test")
    _offline(monkeypatch, tmp_path)
    assert len(load_pairs("hf:org/nq:train").queries) == 3
    assert str(_error(load_pairs, "hf:org/nq")) == NOT_ALL_CACHED


def test_hf_offline_tells_a_cache_miss_by_its_words_when_raised_elsewhere(tmp_path, monkeypatch):
    """Should datasets move its cache builder, the words "Couldn't find cache" still tell a miss."""
    load_builder = datasets.load_dataset_builder

    def moved(*args, **kwargs):
        try:
            return load_builder(*args, **kwargs)
        except ValueError as err:
            raise ValueError(str(err)) from None  # raised here: no frame of datasets' cache builder on it

    monkeypatch.setattr(datasets, "load_dataset_builder", moved)
    _cached_alone(tmp_path, "org/nq", "train", "test")
    _offline(monkeypatch, tmp_path)
    assert len(load_pairs("hf:org/nq:train").queries) == 3
    assert str(_error(load_pairs, "hf:org/nq")) == NOT_ALL_CACHED


def test_hf_offline_passes_on_the_cache_builders_other_refusals(tmp_path, monkeypatch):
    """The cache builder raises a ValueError too for several configs cached whole without one named: that is no
    miss (a copy is there), and its message, which says what to do, is passed on."""
    _cached_hub_copy(tmp_path, "org/nq", COMMIT, {"train": ROWS, "test": ROWS[:2]})
    copies = datasets.config.HF_DATASETS_CACHE / "org___nq"
    pair = copies / "pair" / "0.0.0" / COMMIT
    shutil.copytree(copies / "default" / "0.0.0" / COMMIT, pair)
    info = json.loads((pair / "dataset_info.json").read_text(encoding="utf-8"))
    (pair / "dataset_info.json").write_text(json.dumps({**info, "config_name": "pair"}), encoding="utf-8")
    _offline(monkeypatch, tmp_path)
    message = str(_error(load_pairs, "hf:org/nq:train"))  # the configs in the order datasets finds them
    assert message in [(
        "dataset 'org/nq', split 'train': datasets.load_dataset cannot load it: There are multiple 'org/nq' "
        f"configurations in the cache: {configs}; check the name, config and split (hf:NAME, hf:NAME:SPLIT or "
        "hf:NAME:CONFIG:SPLIT)") for configs in ("default, pair", "pair, default")]
    assert load_pairs("hf:org/nq:pair:test").origin["config"] == "pair"


def _damaged_copy_message(copy: Path, problem: str, fix: str) -> str:
    return (f"its copy in the datasets cache is damaged: {problem}; delete that copy's folder, rm -r {copy}, and "
            f"{fix}")


HUB_AGAIN = "then read it with hub access (unset HF_HUB_OFFLINE), which downloads and prepares it again"


def _cut_after_first_batch(path: Path) -> None:
    """``path``, an Arrow stream of several batches of rows, cut right after its first batch: it reads without an
    error, with that batch's rows."""
    data = path.read_bytes()
    source = pa.BufferReader(data)
    messages = pa.ipc.MessageReader.open_stream(source)
    messages.read_next_message()  # the schema
    messages.read_next_message()  # the first batch
    path.write_bytes(data[:source.tell()])


def test_hf_offline_names_a_damaged_cached_copy_its_folder_and_the_fix(tmp_path, monkeypatch):
    """A copy in datasets' cache whose Arrow file was cut short came out as pyarrow's OSError, a traceback naming
    neither the dataset nor the cache ('Expected to be able to read 2096 bytes for message body, got 764'); a
    deleted one as datasets' 'Failed to open local file' with the fix 'check the name, config and split'; one cut
    between two batches of rows read without a word, with the rows of its first batch. Each is refused as the data
    loads, before any model, naming the dataset, the file, the copy's folder and the fix."""
    import re

    copy = _cached_hub_copy(tmp_path, "org/nq", COMMIT, {"train": ROWS, "test": ROWS[:2]}, writer_batch_size=2)
    _offline(monkeypatch, tmp_path)
    train = copy / "nq-train.arrow"
    whole = train.read_bytes()
    _cut_after_first_batch(train)
    err = _error(load_pairs, "hf:org/nq:train")
    assert isinstance(err, DatasetInputError)
    assert str(err) == "dataset 'org/nq', split 'train': " + _damaged_copy_message(
        copy, "split 'train' reads as 2 rows, and the copy's dataset_info.json records 4 (a file cut short between "
        "two batches of rows)", HUB_AGAIN)
    train.write_bytes(whole[: len(whole) // 2])
    message = str(_error(load_pairs, "hf:org/nq:train"))  # pyarrow's numbers between the two
    head, tail = _damaged_copy_message(copy, "nq-train.arrow cannot be read whole (Expected @)", HUB_AGAIN).split("@")
    assert re.fullmatch(re.escape(f"dataset 'org/nq', split 'train': {head}") + r"to [\w ,]+" +
                        re.escape(tail), message), message
    train.unlink()
    assert str(_error(load_pairs, "hf:org/nq:train")) == "dataset 'org/nq', split 'train': " + _damaged_copy_message(
        copy, "nq-train.arrow is missing", HUB_AGAIN)
    assert len(load_pairs("hf:org/nq:test").queries) == 2  # a split whose files are whole reads


def test_hf_names_a_damaged_copy_of_a_folder_of_files_which_the_next_read_prepares_again(tmp_path):
    """An Arrow file emptied, then a dataset_info.json cut short (datasets' bare JSONDecodeError, passed on with 'check
    the name, config and split'): each named with the copy's folder; once it is deleted, the split reads again."""
    folder = tmp_path / "nq"
    folder.mkdir()
    _jsonl(folder / "train.jsonl", ROWS)
    first = load_pairs(f"hf:{folder}:train")
    [train] = (tmp_path / "hf-datasets-cache").rglob("nq-train.arrow")
    train.write_bytes(b"")
    assert str(_error(load_pairs, f"hf:{folder}:train")) == f"dataset {str(folder)!r}, split 'train': " + (
        _damaged_copy_message(train.parent, "nq-train.arrow cannot be read whole (Tried reading schema message, was "
                              "null or length 0)", "the next read prepares it again from the dataset's files"))
    shutil.rmtree(train.parent)  # the fix
    assert _same(load_pairs(f"hf:{folder}:train"), first)
    [info] = (tmp_path / "hf-datasets-cache").rglob("dataset_info.json")
    info.write_text("{cut", encoding="utf-8")  # was 'datasets.load_dataset cannot load it: Expecting property name
    assert str(_error(load_pairs, f"hf:{folder}:train")) == f"dataset {str(folder)!r}, split 'train': " + (
        _damaged_copy_message(info.parent, "dataset_info.json cannot be read (Expecting property name enclosed in "
                              "double quotes: line 1 column 2 (char 1))", "the next read prepares it again from the "
                              "dataset's files"))
    shutil.rmtree(info.parent)
    assert _same(load_pairs(f"hf:{folder}:train"), first)


def test_hf_names_a_saved_folder_without_the_prefix(tmp_path):
    _dataset(ROWS).save_to_disk(str(tmp_path / "saved"))
    assert str(_error(load_pairs, f"hf:{tmp_path / 'saved'}")) == (
        f"dataset {str(tmp_path / 'saved')!r}: a folder written by save_to_disk, which load_dataset does not read: "
        f"give it without 'hf:': --pairs {tmp_path / 'saved'}")


@pytest.mark.parametrize("variable", ["HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"])
def test_hf_offline_says_the_hub_could_not_be_reached_and_how_to_bring_the_data(tmp_path, monkeypatch, variable):
    """Offline, load_dataset raises a ConnectionError ('Couldn't reach ... on the Hub (OfflineModeIsEnabled)')."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setenv(variable, "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)  # datasets reads the variables when imported
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # nothing cached
    err = _error(load_pairs, "hf:sentence-transformers/natural-questions:train")
    assert isinstance(err, DatasetInputError)
    assert str(err) == (
        f"dataset 'sentence-transformers/natural-questions', split 'train': the Hugging Face hub could not be reached "
        f"to load it ({variable}=1 is set) and it is not in the datasets cache; on a machine with hub access save "
        "it, ds = datasets.load_dataset('sentence-transformers/natural-questions', split='train'); "
        "ds.save_to_disk('DIR'), copy DIR here and pass --pairs DIR, or export it to Parquet, "
        "ds.to_parquet('pairs.parquet'), and pass --pairs pairs.parquet")


def _offline(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)  # datasets reads the variables when imported
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # nothing cached


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_hf_that_fails_says_a_local_path_of_that_name_exists_and_how_to_read_it(tmp_path, monkeypatch, kind):
    """hf: always names a Hugging Face dataset (so --pairs means the same in any folder); a file or folder named
    hf:... was read as a hub name and the failure did not say why the file was not read."""
    _offline(monkeypatch, tmp_path)
    monkeypatch.chdir(tmp_path)
    name = "hf:pairs.jsonl" if kind == "file" else "hf:nq-saved"
    if kind == "file":
        _jsonl(tmp_path / name, ROWS)
    else:
        _dataset(ROWS).save_to_disk(str(tmp_path / name))
    message = str(_error(load_pairs, name))
    assert message.startswith(f"dataset {name[3:]!r}: the Hugging Face hub could not be reached to load it ")
    path = tmp_path.resolve() / name
    assert message.endswith(f"; a local {kind} named {name!r} exists, but a value starting with 'hf:' always names a "
                            f"Hugging Face dataset: to read the {kind}, give its absolute path, {path} (a path drops "
                            f"a leading ./, so ./{name} names the dataset too)")
    assert _same(load_pairs(DataConfig(pairs=str(path)).pairs), load_pairs(_jsonl(tmp_path / "p.jsonl", ROWS)))
    (tmp_path / "hf:a:b:c:d").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"too many; a local file named 'hf:a:b:c:d' exists, but .* give its "
                                          r"absolute path, .*/hf:a:b:c:d \(a path drops a leading \./, so "
                                          r"\./hf:a:b:c:d names the dataset too\)$"):
        load_pairs("hf:a:b:c:d")


def test_the_local_path_an_hf_failure_gives_is_read_as_the_command_line_and_configs_pass_it(tmp_path, monkeypatch):
    """The message said to give the file as ./hf:NAME, but --pairs and DataConfig.pairs are Paths, which drop the
    leading ./: the run named the dataset again and failed with the same message. The form it gives now, passed
    through DataConfig as negmine mine --pairs passes it, reads the file."""
    _offline(monkeypatch, tmp_path)
    monkeypatch.chdir(tmp_path)
    _jsonl(tmp_path / "hf:pairs.jsonl", ROWS)
    assert str(DataConfig(pairs="./hf:pairs.jsonl").pairs) == "hf:pairs.jsonl"  # why ./ cannot be the fix
    given = str(_error(load_pairs, "hf:pairs.jsonl")).split("give its absolute path, ")[1].split(" (")[0]
    assert _same(load_pairs(DataConfig(pairs=given).pairs), load_pairs(_jsonl(tmp_path / "p.jsonl", ROWS)))


def test_hf_without_a_local_path_of_that_name_says_nothing_of_one(tmp_path, monkeypatch):
    _offline(monkeypatch, tmp_path)
    monkeypatch.chdir(tmp_path)
    assert "local" not in str(_error(load_pairs, "hf:pairs.jsonl"))


# --- what identifies the data read (the mining summary's pairs_input) -------------------------------------------------


def test_every_source_records_what_identifies_the_data_it_read(tmp_path):
    """The summary recorded --pairs as typed only (hf:NAME, a folder): not which data that named when it ran."""
    ds = _dataset(ROWS)
    digest = load_pairs(_jsonl(tmp_path / "p.jsonl", ROWS)).origin["rows_sha256"]
    assert len(digest) == 64
    assert load_pairs(tmp_path / "p.jsonl").origin == {
        "kind": "file", "path": str((tmp_path / "p.jsonl").resolve()), "bytes": (tmp_path / "p.jsonl").stat().st_size,
        "rows": 4, "rows_sha256": digest}
    assert pairs_from_dataset(ds).origin == {"kind": "datasets.Dataset", "fingerprint": ds._fingerprint, "rows": 4,
                                             "rows_sha256": digest}
    assert pairs_from_dataset(datasets.DatasetDict(dev=ds), split="dev").origin["split"] == "dev"
    ds.save_to_disk(str(tmp_path / "saved"))
    state = json.loads((tmp_path / "saved" / "state.json").read_text(encoding="utf-8"))
    assert load_pairs(tmp_path / "saved").origin == {
        "kind": "save_to_disk", "path": str((tmp_path / "saved").resolve()), "fingerprint": state["_fingerprint"],
        "rows": 4, "rows_sha256": digest}
    (tmp_path / "nq").mkdir()
    _jsonl(tmp_path / "nq" / "train.jsonl", ROWS)
    hub = load_pairs(f"hf:{tmp_path / 'nq'}:train").origin
    assert {k: hub[k] for k in ("kind", "name", "config", "split", "rows", "rows_sha256")} == {
        "kind": "hub", "name": str((tmp_path / "nq").resolve()), "config": "default", "split": "train", "rows": 4,
        "rows_sha256": digest}
    assert isinstance(hub["data_files_hash"], str) and isinstance(hub["fingerprint"], str)
    assert load_pairs(f"hf:{tmp_path / 'nq'}:train").origin == hub  # the same data again: the same record


def test_the_record_changes_with_the_data_and_not_otherwise(tmp_path):
    same = pairs_from_dataset(_dataset(ROWS)).origin
    assert pairs_from_dataset(_dataset(ROWS)).origin == same
    changed = pairs_from_dataset(_dataset([*ROWS[:3], {"anchor": "battery?", "positive": "Caffeine works."}])).origin
    assert changed["fingerprint"] != same["fingerprint"] and changed["rows_sha256"] != same["rows_sha256"]
    moved = pairs_from_dataset(_dataset([{"anchor": "a", "positive": "bc"}])).origin["rows_sha256"]
    assert moved != pairs_from_dataset(_dataset([{"anchor": "ab", "positive": "c"}])).origin["rows_sha256"]
    _dataset(ROWS).save_to_disk(str(tmp_path / "a"))
    _dataset(ROWS[:3]).save_to_disk(str(tmp_path / "b"))
    a, b = load_pairs(tmp_path / "a").origin, load_pairs(tmp_path / "b").origin
    assert a["fingerprint"] != b["fingerprint"] and a["rows_sha256"] != b["rows_sha256"]


def test_hf_that_loads_while_a_local_path_of_that_name_exists_warns_which_was_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nq").mkdir()
    _jsonl(tmp_path / "nq" / "train.jsonl", ROWS)
    _dataset(ROWS[:2]).save_to_disk(str(tmp_path / "hf:nq:train"))
    with pytest.warns(NegmineWarning) as caught:
        data = load_pairs("hf:nq:train")
    assert [str(w.message) for w in caught] == [
        "pairs 'hf:nq:train': read the Hugging Face dataset 'nq', not the local folder of that name (a value "
        "starting with 'hf:' always names a dataset); to read the folder, give its absolute path, "
        f"{tmp_path.resolve() / 'hf:nq:train'} (a path drops a leading ./, so ./hf:nq:train names the dataset too)"]
    assert caught[0].filename == __file__
    assert len(data.queries) == 3 and len(load_pairs(DataConfig(pairs=tmp_path / "hf:nq:train").pairs).queries) == 2


def test_the_pair_labels_fix_for_a_pyarrow_table_is_pyarrows_and_runs_as_printed():
    """A pyarrow.Table with pair labels was told ``ds.filter(lambda row: ...)``, a datasets call a pyarrow.Table has
    no lambda form of: it now gets pyarrow's filter, which must run as printed and leave the matching pairs, which
    then load."""
    rows = [{"anchor": "a", "label": 1, "positive": "x"}, {"anchor": "b", "label": 0, "positive": "y"},
            {"anchor": "c", "label": 1, "positive": "z"}]
    table = pa.Table.from_pylist(rows)
    message = str(_error(pairs_from_dataset, table, name="t"))
    assert message.startswith("dataset 't', row 2 (index 1), column 'label': value 0 differs from the first row's "
                              "value 1: the rows carry pair labels")
    assert "ds.filter" not in message and "lambda" not in message
    snippet = message.split("e.g. ", 1)[1].split(", MATCH being", 1)[0]
    assert snippet == ("import pyarrow.compute as pc; table = table.filter(pc.equal(table['label'], MATCH))"
                       ".drop_columns(['label'])")
    scope = {"table": table, "MATCH": 1}
    exec(snippet, scope)  # noqa: S102 - the message's own code
    assert scope["table"].to_pylist() == [{"anchor": "a", "positive": "x"}, {"anchor": "c", "positive": "z"}]
    assert pairs_from_dataset(scope["table"], name="t").queries.texts == ["a", "c"]
    assert message.endswith("for negmine mine --pairs, write it with pyarrow.parquet.write_table(table, "
                            "'pairs.parquet') and give that file)")


def test_hf_takes_a_split_slice_whose_colon_is_inside_its_brackets(tmp_path):
    """datasets' slicing syntax (train[:50%]) holds a colon, so hf:NAME:train[:50%] was refused as having too many
    parts; it reads the slice, preparing the split it slices alone."""
    assert parse_hub("hf:org/nq:pair:train[:10%]+test[50%:]") == ("org/nq", "pair", "train[:10%]+test[50%:]")
    folder = tmp_path / "nq"
    folder.mkdir()
    _jsonl(folder / "train.jsonl", ROWS)
    (folder / "test.jsonl").write_text(BROKEN_JSON, encoding="utf-8")
    data = load_pairs(f"hf:{folder}:train[:2]")
    assert _same(data, load_pairs(_jsonl(tmp_path / "p.jsonl", ROWS[:2])))
    assert data.origin["split"] == "train[:2]" and _arrow_files(tmp_path) == ["nq-train.arrow"]
