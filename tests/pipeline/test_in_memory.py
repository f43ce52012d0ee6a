"""negmine.mine_dataset: a datasets.Dataset in, the export format's rows back as a datasets.Dataset, through mine()."""

from __future__ import annotations

import dataclasses
import json
import tempfile
import warnings

import pytest
from typer.testing import CliRunner

from negmine.cli import build_app
from negmine.config import DataConfig, EncoderConfig, FilterConfig, MineConfig, OutputConfig, SelectConfig
from negmine.errors import ConfigError, InputError, NegmineWarning
from negmine.export.registry import EXPORTERS
from negmine.pipeline.in_memory import mine_dataset
from negmine.pipeline.mine import mine
from negmine.testing.hash_embedder import HashEmbedder

datasets = pytest.importorskip("datasets")

ROWS = [{"anchor": f"cell protein {i}", "positive": f"cell protein gene study {i} " + "blood " * (i % 3)}
        for i in range(12)]


def quiet(tmp_path, **select) -> MineConfig:
    return MineConfig(encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False),
                      filters=FilterConfig(sd_margin=None), select=SelectConfig(**{"num_negatives": 3, **select}))


def jsonl_rows(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def counted_encodes(monkeypatch) -> list[int]:
    """Texts each call of SentenceTransformerEmbedder.encode was given, in order."""
    from negmine.encode.sentence_transformer import SentenceTransformerEmbedder

    counts: list[int] = []
    real = SentenceTransformerEmbedder.encode

    def encode(self, texts, prompt=""):
        counts.append(len(texts))
        return real(self, texts, prompt)

    monkeypatch.setattr(SentenceTransformerEmbedder, "encode", encode)
    return counts


def test_the_rows_are_the_file_negmine_mine_writes_equal_twice_and_cached(tiny_model_path, tmp_path, counted_encodes):
    """The demo's pairs as a datasets.Dataset, on the tiny model: the Dataset holds exactly the rows (columns, order,
    values) of the n-tuple file `negmine mine --pairs --export n-tuple` writes for the same pairs; a second call
    gives an equal Dataset and encodes nothing (the embedding cache, as mine uses it)."""
    from negmine.demo import demo_pairs

    pairs = demo_pairs()
    config = MineConfig(encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False))
    first = mine_dataset(pairs, str(tiny_model_path), output_format="n-tuple", config=config)
    assert isinstance(first, datasets.Dataset) and sum(counted_encodes) > 0
    counted_encodes.clear()
    second = mine_dataset(pairs, str(tiny_model_path), output_format="n-tuple", config=config)
    assert sum(counted_encodes) == 0
    assert second.to_list() == first.to_list() and second.features == first.features

    pairs.to_json(tmp_path / "pairs.jsonl")
    out = tmp_path / "out" / "negatives.jsonl"
    done = CliRunner().invoke(build_app(), [
        "mine", "--pairs", str(tmp_path / "pairs.jsonl"), "--model", str(tiny_model_path), "-o", str(out),
        "--export", "n-tuple", "--cache-dir", str(tmp_path / "cache"), "--no-progress"])
    assert done.exit_code == 0, done.output
    expected = jsonl_rows(out.with_name("negatives.n-tuple.jsonl"))
    assert len(expected) > 60 and first.column_names == list(expected[0]) == [
        "anchor", "positive", "negative_1", "negative_2", "negative_3", "negative_4", "negative_5"]
    assert first.to_list() == expected


@pytest.mark.parametrize("fmt", sorted(EXPORTERS))
def test_each_format_gives_the_rows_of_its_export(fmt, tmp_path):
    """The Parquet exports and the FlagEmbedding formats (JSON Lines only) alike: the rows mine's export holds
    (every format of the registry)."""
    out = tmp_path / "m.jsonl"
    run = dataclasses.replace(quiet(tmp_path), output=OutputConfig(path=out, formats=(fmt,)))
    mine(run, embedder=HashEmbedder(), dataset=_pairs(ROWS))
    expected = jsonl_rows(out.with_name(f"m.{fmt}.jsonl"))
    got = mine_dataset(datasets.Dataset.from_list(ROWS), HashEmbedder(), output_format=fmt, config=quiet(tmp_path))
    assert expected and got.to_list() == expected and got.column_names == list(expected[0])


def _pairs(rows):
    from negmine.io.pairs import pairs_from_dataset

    return pairs_from_dataset(datasets.Dataset.from_list(rows))


def test_keywords_replace_their_config_fields(tmp_path):
    """num_negatives, sampling_strategy, the margins and output_scores mine what the same config fields do."""
    config = quiet(tmp_path)
    out = tmp_path / "m.jsonl"
    run = dataclasses.replace(
        config, select=SelectConfig(num_negatives=2, strategy="random"),
        filters=FilterConfig(sd_margin=None, relative_margin=0.05, absolute_margin=0.01),
        output=OutputConfig(path=out, formats=("n-tuple",), export_scores=True))
    mine(run, embedder=HashEmbedder(), dataset=_pairs(ROWS))
    got = mine_dataset(datasets.Dataset.from_list(ROWS), HashEmbedder(), num_negatives=2, output_format="n-tuple",
                       output_scores=True, sampling_strategy="random", relative_margin=0.05, absolute_margin=0.01,
                       config=config)
    assert got.column_names == ["anchor", "positive", "negative_1", "negative_2", "scores"]
    assert got.to_list() == jsonl_rows(out.with_name("m.n-tuple.jsonl"))
    default = mine_dataset(datasets.Dataset.from_list(ROWS), HashEmbedder(), config=config)
    assert default.column_names == ["anchor", "positive", "negative"]  # triplet, the reference's default
    assert len(default) == 3 * 12


def test_the_config_format_is_used_and_several_are_refused(tmp_path):
    config = dataclasses.replace(quiet(tmp_path), output=OutputConfig(formats=("labeled-list",)))
    got = mine_dataset(datasets.Dataset.from_list(ROWS), HashEmbedder(), config=config)
    assert got.column_names == ["query", "docs", "labels"]
    several = dataclasses.replace(config, output=OutputConfig(formats=("triplet", "n-tuple")))
    with pytest.raises(ConfigError) as info:
        mine_dataset(datasets.Dataset.from_list(ROWS), HashEmbedder(), config=several)
    assert str(info.value) == (
        "mine_dataset() returns one Dataset, in one format, but the config's output.formats names 2: triplet, "
        "n-tuple; pick one with output_format='triplet', or write them all with negmine.mine(config)")


def test_a_run_that_keeps_no_pair_returns_an_empty_dataset_with_the_formats_columns(tmp_path):
    """mine returns normally when every pair is skipped (an empty file); so does mine_dataset, with the columns a
    run that keeps pairs has (n-tuple: one per negative asked for)."""
    config = dataclasses.replace(quiet(tmp_path), filters=FilterConfig(sd_margin=None, absolute_margin=3.0))
    ds = datasets.Dataset.from_list(ROWS)
    empty = mine_dataset(ds, HashEmbedder(), output_format="n-tuple", output_scores=True, config=config)
    assert isinstance(empty, datasets.Dataset) and empty.num_rows == 0
    assert empty.column_names == ["anchor", "positive", "negative_1", "negative_2", "negative_3", "scores"]
    flag = mine_dataset(ds, HashEmbedder(), output_format="flagembedding", config=config)
    assert flag.num_rows == 0 and flag.column_names == ["query", "pos", "neg"]


def test_bad_data_fails_with_the_readers_message_before_any_model_loads(tmp_path):
    """The data is read before mine() checks or loads the model: a model path that does not exist is not reached."""
    rows = [*ROWS[:3], {"anchor": "cell", "positive": "   "}]
    with pytest.raises(InputError) as info:
        mine_dataset(datasets.Dataset.from_list(rows), str(tmp_path / "no-model"), config=quiet(tmp_path))
    assert str(info.value).endswith("row 4 (index 3), column 'positive': empty text (nothing left after stripping "
                                    "whitespace)")


def test_a_dataset_dict_is_refused_with_the_call_that_mines_one_of_its_splits(tmp_path):
    """The refusal came from pairs_from_dataset and said `pass one: split='train'`, a keyword mine_dataset does not
    take: followed, it raised a TypeError. It names the splits and the call that works, which then mines."""
    ds = datasets.Dataset.from_list(ROWS)
    splits = datasets.DatasetDict(train=ds, test=ds)
    with pytest.raises(ConfigError) as info:
        mine_dataset(splits, config=quiet(tmp_path))
    assert str(info.value) == ("mine_dataset() takes one dataset, and data is a datasets.DatasetDict (splits: 'train', "
                               "'test'); pass one split: mine_dataset(ds['train'], ...) (mining every split together "
                               "would mine test queries into training data)")
    assert len(mine_dataset(splits["train"], HashEmbedder(), config=quiet(tmp_path))) > 0


def test_bad_options_fail_with_the_configs_messages_before_the_data_is_read(tmp_path):
    bad_data = datasets.Dataset.from_list([{"anchor": "a", "positive": " "}])
    with pytest.raises(ConfigError, match="^unknown export format 'n-tuples'; allowed: flagembedding, "):
        mine_dataset(bad_data, HashEmbedder(), output_format="n-tuples", config=quiet(tmp_path))
    with pytest.raises(ConfigError, match=r"^num_negatives must be a positive integer, got 0"):
        mine_dataset(bad_data, HashEmbedder(), num_negatives=0, config=quiet(tmp_path))
    with pytest.raises(ConfigError, match="^unknown strategy 'hardest'; allowed: "):
        mine_dataset(bad_data, HashEmbedder(), sampling_strategy="hardest", config=quiet(tmp_path))
    refused = r"^export format .flagembedding. \(output_format='flagembedding'\) takes no scores \(output_scores=True\);"
    with pytest.raises(ConfigError, match=refused):
        mine_dataset(bad_data, HashEmbedder(), output_format="flagembedding", output_scores=True,
                     config=quiet(tmp_path))
    with pytest.raises(ConfigError, match=r"^mine_dataset\(\) takes a negmine.config.MineConfig, got dict"):
        mine_dataset(bad_data, HashEmbedder(), config={"select": {"num_negatives": 3}})
    with pytest.raises(ConfigError, match=r"^mine_dataset\(\) takes model as a name or path .*, got int 3"):
        mine_dataset(datasets.Dataset.from_list(ROWS), 3, config=quiet(tmp_path))


def test_an_unknown_output_format_names_the_keyword(tmp_path):
    """The registry's message ended `did you mean 'n-tuple' in formats (--export n-tuple)?`: a field and an option
    mine_dataset does not take; the keyword the caller gave is output_format."""
    bad_data = datasets.Dataset.from_list([{"anchor": "a", "positive": " "}])
    with pytest.raises(ConfigError, match=r"^unknown export format 'ntuple'; allowed: flagembedding, .*triplet; did "
                                          r"you mean output_format='n-tuple'\?$"):
        mine_dataset(bad_data, HashEmbedder(), output_format="ntuple", config=quiet(tmp_path))
    with pytest.raises(ConfigError, match=r"^unknown export format 'csv'; allowed: .*; pick one with output_format, "
                                          r"e\.g\. 'triplet'$"):
        mine_dataset(bad_data, HashEmbedder(), output_format="csv", config=quiet(tmp_path))


@pytest.mark.parametrize(("keywords", "message"), [
    ({"sampling_strategy": "simams"},
     "unknown strategy 'simams'; allowed: random, range, simans, top; did you mean sampling_strategy='simans'?"),
    ({"sampling_strategy": "hardest"},
     "unknown strategy 'hardest'; allowed: random, range, simans, top; pick one with sampling_strategy"),
    ({"num_negatives": 0}, "num_negatives must be a positive integer, got 0; use e.g. num_negatives=5"),
    ({"num_negatives": "5"}, "num_negatives must be an integer, got '5' (str); e.g. num_negatives=5"),
    ({"relative_margin": -1.0}, "relative_margin must be in [0, 1), got -1.0; relative_margin=0.05 keeps negatives "
                                "below 95% of the positive's score"),
    ({"output_scores": "yes"}, "output_scores must be True or False, got 'yes' (str); e.g. output_scores=False"),
])
def test_a_bad_keyword_is_named_as_given_not_as_the_configs_field(tmp_path, keywords, message):
    """They named the config's field and the command line's option (did you mean select.strategy='simans'
    (--strategy simans)?), neither of which mine_dataset takes."""
    bad_data = datasets.Dataset.from_list([{"anchor": "a", "positive": " "}])
    with pytest.raises(ConfigError) as info:
        mine_dataset(bad_data, HashEmbedder(), config=quiet(tmp_path), **keywords)
    assert str(info.value) == message


SCORE_TAKERS = "triplet, n-tuple, labeled-list, labeled-list-by-query, labeled-pair"


@pytest.mark.parametrize(("keywords", "config_output", "message"), [
    ({"output_format": "flagembedding", "output_scores": True}, {},
     f"export format 'flagembedding' (output_format='flagembedding') takes no scores (output_scores=True); the "
     f"formats that do: {SCORE_TAKERS}; for its scores use output_format='flagembedding-scores' instead, or drop "
     "output_scores=True"),
    ({"output_format": "flagembedding-scores", "output_scores": True}, {},
     f"export format 'flagembedding-scores' (output_format='flagembedding-scores') takes no scores "
     f"(output_scores=True); the formats that do: {SCORE_TAKERS}; it writes its scores always, in its own fields: "
     "drop output_scores=True"),
    ({"output_format": "flagembedding"}, {"export_scores": True},
     f"export format 'flagembedding' (output_format='flagembedding') takes no scores (the config's "
     f"output.export_scores=True); the formats that do: {SCORE_TAKERS}; for its scores use "
     "output_format='flagembedding-scores' instead, or pass output_scores=False"),
    ({"output_scores": True}, {"formats": ("flagembedding",)},
     f"export format 'flagembedding' (the config's output.formats) takes no scores (output_scores=True); the "
     f"formats that do: {SCORE_TAKERS}; for its scores use output_format='flagembedding-scores' instead, or drop "
     "output_scores=True"),
], ids=["keywords", "always-scored", "config-scores", "config-format"])
def test_scores_a_format_takes_not_name_the_keywords_not_the_export_option(tmp_path, keywords, config_output, message):
    """mine's refusal said `export format 'flagembedding' (--export flagembedding) takes no output_scores; ...; for
    its scores use --export flagembedding-scores instead, or write flagembedding in a separate run`: an option
    mine_dataset does not take, and a second format a call that returns one cannot write. It names how this caller
    set the format and the scores (the keyword, else the config's field) and the keywords it can pass instead."""
    bad_data = datasets.Dataset.from_list([{"anchor": "a", "positive": " "}])  # not read: the options fail first
    config = dataclasses.replace(quiet(tmp_path), output=OutputConfig(**config_output))
    with pytest.raises(ConfigError) as info:
        mine_dataset(bad_data, HashEmbedder(), config=config, **keywords)
    assert str(info.value) == message


def test_the_keyword_the_scores_refusal_suggests_mines(tmp_path):
    got = mine_dataset(datasets.Dataset.from_list(ROWS), HashEmbedder(), output_format="flagembedding-scores",
                       config=quiet(tmp_path))
    assert got.column_names == ["query", "pos", "neg", "pos_scores", "neg_scores"] and len(got) == 12


def test_a_default_keyword_field_is_named_as_the_keyword_when_mine_dataset_builds_the_config(tmp_path):
    """Without config=, the caller sets num_negatives (default 5) by the keyword alone: `lower num_negatives`, where
    it said `lower select.num_negatives (--num-negatives)` unless the keyword was given. With config= and no
    keyword, the field is how that caller set it, and is named so. Raised inside mine(), before any model loads."""
    three = datasets.Dataset.from_list(ROWS[:3])
    no_model = str(tmp_path / "no-model")
    start = "cannot mine 5 negatives: the corpus has 3 documents and a query has 1 positive, leaving at most 2 candidates"
    with pytest.raises(ConfigError) as info:
        mine_dataset(three, no_model)
    assert str(info.value) == f"{start}; lower num_negatives"
    with pytest.raises(ConfigError) as info:
        mine_dataset(three, no_model, config=MineConfig(encoder=EncoderConfig(cache_dir=tmp_path / "cache")))
    assert str(info.value) == f"{start}; lower select.num_negatives (--num-negatives)"


def test_a_bad_field_of_the_config_is_named_as_the_field(tmp_path):
    """A field set in the config, not by a keyword, is named as the config's field."""
    with pytest.raises(ConfigError, match=r"did you mean select\.strategy='simans' \(--strategy simans\)\?$"):
        mine_dataset(datasets.Dataset.from_list(ROWS), HashEmbedder(), config=quiet(tmp_path, strategy="simams"))


def test_data_the_config_names_is_refused_not_left_unread(tmp_path):
    config = dataclasses.replace(quiet(tmp_path), data=DataConfig(corpus=tmp_path / "corpus.jsonl"))
    with pytest.raises(ConfigError) as info:
        mine_dataset(datasets.Dataset.from_list(ROWS), HashEmbedder(), config=config)
    assert str(info.value) == (f"mine_dataset() mines the data it is given, but the config's data also names "
                               f"corpus ('{tmp_path / 'corpus.jsonl'}'), which it would not read; leave MineConfig.data "
                               "unset (a corpus for the pairs: negmine.io.pairs.pairs_from_dataset(ds, corpus=PATH), "
                               "passed as the data), or mine the files with negmine.mine(config)")


def test_a_negmine_dataset_with_a_corpus_is_mined_as_given(tmp_path):
    """pairs_from_dataset(ds, corpus=...) names columns or adds a corpus; its result is mined as it is."""
    from negmine.io.pairs import pairs_from_dataset

    corpus = tmp_path / "corpus.jsonl"
    docs = [{"_id": f"x{i}", "text": f"cell protein gene study extra {i}"} for i in range(6)]
    corpus.write_text("".join(json.dumps(doc) + "\n" for doc in docs), encoding="utf-8")
    renamed = datasets.Dataset.from_list([{"q": r["anchor"], "p": r["positive"]} for r in ROWS])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NegmineWarning)  # the positives are added to the corpus, with a warning
        data = pairs_from_dataset(renamed, query_column="q", positive_column="p", corpus=corpus)
        got = mine_dataset(data, HashEmbedder(), config=quiet(tmp_path))
    assert any(row["negative"].startswith("cell protein gene study extra") for row in got)


def test_summary_path_records_the_positives_added_to_the_corpus(tmp_path):
    """A pairs_from_dataset(ds, corpus=...) Dataset carries the count of the positives it added to the corpus, which
    summary_path's summary records as pairs_positives_added_to_corpus (2 of the 12 positives are not in this corpus);
    a Dataset read without a corpus records none."""
    from negmine.io.pairs import pairs_from_dataset

    corpus = tmp_path / "corpus.jsonl"
    docs = [{"_id": f"c{i}", "text": row["positive"]} for i, row in enumerate(ROWS[:10])]
    docs += [{"_id": f"x{i}", "text": f"cell protein gene study extra {i}"} for i in range(6)]
    corpus.write_text("".join(json.dumps(doc) + "\n" for doc in docs), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NegmineWarning)  # the positives are added to the corpus, with a warning
        data = pairs_from_dataset(datasets.Dataset.from_list(ROWS), corpus=corpus)
        mine_dataset(data, HashEmbedder(), config=quiet(tmp_path), summary_path=tmp_path / "s.json")
        mine_dataset(datasets.Dataset.from_list(ROWS), HashEmbedder(), config=quiet(tmp_path),
                     summary_path=tmp_path / "alone.json")
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert summary["pairs_positives_added_to_corpus"] == {"added": 2, "distinct_positives": 12, "whitespace_only": 0}
    assert "pairs_positives_added_to_corpus" not in json.loads((tmp_path / "alone.json").read_text(encoding="utf-8"))


def test_warnings_are_mines_and_point_at_the_callers_line(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mine_dataset(datasets.Dataset.from_list([*ROWS, ROWS[0]]), HashEmbedder(), config=quiet(tmp_path))
    ours = [w for w in caught if issubclass(w.category, NegmineWarning)]
    assert [str(w.message) for w in ours] == ["the datasets.Dataset of 13 rows: 1 repeated (query, positive) row kept once"]
    assert [w.filename for w in ours] == [__file__]


def test_data_load_dataset_read_from_a_json_file_is_named_as_what_it_is_not_as_json(tmp_path):
    """load_dataset("json", data_files=...) names its data 'json' and keeps no path of the file: mine_dataset's
    warnings and errors read "dataset 'json': ...", as if 'json' were a file or a column. They name the data as a
    datasets.Dataset of N rows the 'json' builder loaded."""
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in [*ROWS, ROWS[0]]), encoding="utf-8")
    ds = datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mine_dataset(ds, HashEmbedder(), config=quiet(tmp_path))
    assert [str(w.message) for w in caught if issubclass(w.category, NegmineWarning)] == [
        "the datasets.Dataset of 13 rows (from split 'train', loaded by the 'json' builder): 1 repeated (query, "
        "positive) row kept once"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(json.dumps(row) + "\n" for row in [*ROWS[:3], {"anchor": "cell", "positive": " "}]),
                   encoding="utf-8")
    ds = datasets.load_dataset("json", data_files=str(bad), split="train", cache_dir=str(tmp_path / "hf"))
    with pytest.raises(InputError) as info:
        mine_dataset(ds, str(tmp_path / "no-model"), config=quiet(tmp_path))
    assert str(info.value) == ("the datasets.Dataset of 4 rows (from split 'train', loaded by the 'json' builder), row 4 "
                               "(index 3), column 'positive': empty text (nothing left after stripping whitespace)")


def test_the_summary_the_report_and_the_re_mining_refusal_name_the_data_as_its_messages_do(tmp_path):
    """mine_dataset's messages named data the json builder loaded "the datasets.Dataset of 13 rows (loaded by the
    'json' builder)", and one Dataset.from_list made "the in-memory dataset", while the summary recorded neither
    builder nor split, the report said "a datasets.Dataset given in Python (13 rows)" and load_mine_config's refusal
    "a datasets.Dataset of 13 rows". All name the data alike now, from what the summary records."""
    from negmine.pipeline.recorded_config import load_mine_config
    from negmine.report.mining import _input

    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in [*ROWS, ROWS[0]]), encoding="utf-8")
    loaded = datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf"))
    for ds, named in [(loaded, "datasets.Dataset of 13 rows (from split 'train', loaded by the 'json' builder)"),
                      (datasets.Dataset.from_dict({"anchor": loaded["anchor"], "positive": loaded["positive"]}),
                       "datasets.Dataset of 13 rows")]:
        summary_path = tmp_path / "s.json"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            mine_dataset(ds, HashEmbedder(), config=quiet(tmp_path), summary_path=summary_path)
        assert [str(w.message) for w in caught if issubclass(w.category, NegmineWarning)] == [
            f"the {named}: 1 repeated (query, positive) row kept once"]
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        assert _input(summary) == f"a {named} given in Python"
        with pytest.raises(ConfigError) as info:
            load_mine_config(tmp_path / "any.jsonl", summary_path)
        assert f"it records a mine_dataset() call, which mined a {named} given in memory, not files; " in str(
            info.value)
    assert {key: summary["pairs_input"].get(key) for key in ("kind", "rows", "from_split", "builder")} == {
        "kind": "datasets.Dataset", "rows": 13, "from_split": None, "builder": None}


def test_a_warning_about_the_export_names_its_format_not_the_temporary_file(tmp_path, monkeypatch):
    """It named the export's file in the temporary folder, gone by the time the warning is read."""
    from negmine.export.triplet import TripletExporter

    monkeypatch.setattr(TripletExporter, "skip_reason", lambda self, row, shape: "row has no negatives")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = mine_dataset(datasets.Dataset.from_list(ROWS), HashEmbedder(), config=quiet(tmp_path))
    ours = [w for w in caught if issubclass(w.category, NegmineWarning)]
    assert [str(w.message) for w in ours] == [
        "export 'triplet' holds no records: every one of the native file's 12 rows was left out (row has no "
        "negatives (12)), so a trainer has nothing to read"]
    assert [w.filename for w in ours] == [__file__] and got.num_rows == 0


def test_the_temporary_folder_is_removed_after_a_run_and_after_an_error(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    mine_dataset(datasets.Dataset.from_list(ROWS), HashEmbedder(), config=quiet(tmp_path))
    assert list(scratch.iterdir()) == []
    with pytest.raises(ConfigError, match="cannot mine 20 negatives"):  # raised inside mine(), after the data loaded
        mine_dataset(datasets.Dataset.from_list(ROWS), HashEmbedder(), num_negatives=20, config=quiet(tmp_path))
    assert list(scratch.iterdir()) == []


def test_a_loaded_sentence_transformer_mines_and_caches_as_its_path_does(tiny_model_path, tmp_path, counted_encodes):
    """The reference takes a loaded SentenceTransformer: it is wrapped, its fingerprint from its weights, so the
    rows equal those of the same model by path and the second run finds every vector in the cache."""
    from sentence_transformers import SentenceTransformer

    config = quiet(tmp_path)
    ds = datasets.Dataset.from_list(ROWS)
    loaded = mine_dataset(ds, SentenceTransformer(str(tiny_model_path), device="cpu"), config=config)
    assert sum(counted_encodes) > 0
    counted_encodes.clear()
    by_path = mine_dataset(ds, str(tiny_model_path), config=config)
    assert sum(counted_encodes) == 0 and by_path.to_list() == loaded.to_list() and len(loaded) > 0


@pytest.mark.parametrize("schema", [True, False])
def test_a_registered_format_gives_the_rows_of_its_export(schema, tmp_path):
    """A format of one's own, with its Arrow schema (Parquet too) or without one (JSON Lines only: the columns are
    read from the records)."""
    from negmine.testing.plugins import QueryNegativeExporter, registered

    class Untyped(QueryNegativeExporter):
        name = "untyped"
        file_types = ("jsonl",)

        def arrow_schema(self, shape):
            return None

    exporter = QueryNegativeExporter() if schema else Untyped()
    with registered(exporter):
        got = mine_dataset(datasets.Dataset.from_list(ROWS), HashEmbedder(), output_format=exporter.name,
                           config=quiet(tmp_path))
        out = tmp_path / "m.jsonl"
        run = dataclasses.replace(quiet(tmp_path), output=OutputConfig(path=out, formats=(exporter.name,)))
        mine(run, embedder=HashEmbedder(), dataset=_pairs(ROWS))
    expected = jsonl_rows(out.with_name(f"m.{exporter.name}.jsonl"))
    assert len(expected) == 36 and got.to_list() == expected and got.column_names == ["query", "negative"]


def test_a_format_without_a_schema_and_no_records_gives_an_empty_dataset(tmp_path):
    """``arrow_schema`` may return None for a JSONL-only format of one's own: with no record to read the columns
    from, the Dataset is empty (it was an AttributeError on None)."""
    from negmine.testing.plugins import QueryNegativeExporter, registered

    class Nothing(QueryNegativeExporter):
        name = "nothing"
        file_types = ("jsonl",)

        def skip_reason(self, row, shape):
            return "never written"

        def arrow_schema(self, shape):
            return None

    with registered(Nothing()), pytest.warns(NegmineWarning, match="export 'nothing' holds no records"):
        got = mine_dataset(datasets.Dataset.from_list(ROWS), HashEmbedder(), output_format="nothing",
                           config=quiet(tmp_path))
    assert got.num_rows == 0


def test_summary_path_writes_the_summary_mine_writes_and_the_dataset_is_unchanged(tmp_path):
    """summary_path= writes mine()'s summary of the run (valid JSON): the pairs skipped and why, the candidates each
    filter removed, the score statistics and the config are exactly those mine() records for the same data and
    options; the files of the removed temporary folder are not named; the Dataset is the one returned without it."""
    config = dataclasses.replace(quiet(tmp_path), filters=FilterConfig(sd_margin=None, absolute_margin=0.3))
    out = tmp_path / "m.jsonl"
    mined = mine(dataclasses.replace(config, output=OutputConfig(path=out, formats=("n-tuple",))),
                 embedder=HashEmbedder(), dataset=_pairs(ROWS)).summary
    path = tmp_path / "run" / "negatives.summary.json"
    path.parent.mkdir()
    path.write_text("an earlier call's summary", encoding="utf-8")
    got = mine_dataset(datasets.Dataset.from_list(ROWS), HashEmbedder(), output_format="n-tuple", config=config,
                       summary_path=path)
    summary = json.loads(path.read_text(encoding="utf-8"))
    assert mined["pairs_skipped"] == {"no candidate left after exclusions and filters": 8}  # the data skips pairs
    for key in ("pairs_in", "pairs_out", "pairs_skipped", "candidates_removed_by_filter", "positive_scores",
                "negative_scores", "export_skipped", "pairs_input", "selection_version"):
        assert summary[key] == mined[key], key
    assert summary["embeddings"]["cached"] == mined["embeddings"]["encoded"] == 24  # the second run's vectors
    def settings(config):  # output.*: where mine() wrote its files
        return {section: fields for section, fields in config.items() if section != "output"}

    assert settings(summary["config"]) == settings(mined["config"])
    assert summary["config"]["output"]["formats"] == ["n-tuple"]
    assert summary["config"]["output"]["path"] is None and summary["config"]["output"]["summary_path"] == str(path)
    assert "output" not in summary and "exports" not in summary
    assert summary["mine_dataset"] == {"format": "n-tuple", "rows": 4} and got.num_rows == 4
    assert [p.name for p in path.parent.iterdir()] == ["negatives.summary.json"]  # written atomically: no temp file
    without = mine_dataset(datasets.Dataset.from_list(ROWS), HashEmbedder(), output_format="n-tuple", config=config)
    assert got.to_list() == without.to_list() == jsonl_rows(out.with_name("m.n-tuple.jsonl"))
    assert got.features == without.features and got.info == without.info


def test_a_bad_summary_path_is_refused_before_the_data_is_read(tmp_path):
    bad_data = datasets.Dataset.from_list([{"anchor": "a", "positive": " "}])
    with pytest.raises(ConfigError) as info:
        mine_dataset(bad_data, HashEmbedder(), config=quiet(tmp_path), summary_path=tmp_path)
    assert str(info.value) == (f"mine_dataset() summary_path {tmp_path}: is a directory; give a file path, e.g. "
                               f"{tmp_path / 'negatives.summary.json'}")
    with pytest.raises(ConfigError) as info:
        mine_dataset(bad_data, HashEmbedder(), config=quiet(tmp_path), summary_path=3)
    assert str(info.value) == ("mine_dataset() summary_path takes a file path (str or pathlib.Path), got int 3; "
                               "e.g. summary_path='out/negatives.summary.json'")


RENAMED = [{"zz": row["anchor"], "yy": row["positive"]} for row in ROWS]


@pytest.mark.parametrize(("keywords", "message"), [
    ({}, "the datasets.Dataset of 12 rows: no query column found (looked for query, anchor, question, sentence1, "
         "sentence_A, text1); available columns: 'zz', 'yy'; call mine_dataset(data, ..., query_column='zz')"),
    ({"query_column": "zz"},
     "the datasets.Dataset of 12 rows: no positive column found (looked for positive, pos, answer, document, passage, "
     "sentence2, sentence_B, text2); available columns: 'zz', 'yy'; call mine_dataset(data, ..., positive_column='yy')"),
], ids=["query", "positive"])
def test_columns_not_found_name_the_keyword_that_names_them(tmp_path, keywords, message):
    """It said `pass query_column (--query-column)`, the pairs readers' fix: mine_dataset had no such keyword (a
    TypeError) and takes no option. It has the keywords now, and names them, with a column the data has."""
    with pytest.raises(InputError) as info:
        mine_dataset(datasets.Dataset.from_list(RENAMED), HashEmbedder(), config=quiet(tmp_path), **keywords)
    assert str(info.value) == message


def test_query_column_and_positive_column_name_the_columns_as_pairs_from_dataset_does(tmp_path):
    """The keywords set the data config's column fields (data.query_column, data.positive_column): the rows are those
    of the same data with the columns named in pairs_from_dataset, and the summary records them."""
    from negmine.io.pairs import pairs_from_dataset

    renamed = datasets.Dataset.from_list(RENAMED)
    path = tmp_path / "summary.json"
    got = mine_dataset(renamed, HashEmbedder(), query_column="zz", positive_column="yy", config=quiet(tmp_path),
                       summary_path=path)
    named = pairs_from_dataset(renamed, query_column="zz", positive_column="yy")
    assert got.to_list() == mine_dataset(named, HashEmbedder(), config=quiet(tmp_path)).to_list() and len(got) == 36
    data = json.loads(path.read_text(encoding="utf-8"))["config"]["data"]
    assert (data["query_column"], data["positive_column"]) == ("zz", "yy")
    in_config = dataclasses.replace(quiet(tmp_path), data=DataConfig(query_column="zz", positive_column="yy"))
    assert mine_dataset(renamed, HashEmbedder(), config=in_config).to_list() == got.to_list()


@pytest.mark.parametrize(("keywords", "data", "hint"), [
    ({"positive_column": "yyy"}, DataConfig(), "did you mean positive_column='yy'?"),
    ({}, DataConfig(query_column="zz", positive_column="yyy"), "did you mean data.positive_column='yy'?"),
], ids=["keyword", "config"])
def test_a_column_typo_is_named_as_the_caller_set_it(tmp_path, keywords, data, hint):
    """A keyword as the keyword; a column set in config= (and by no keyword) as the config's field, which mine
    refused as unused before (`the input is not a pairs file`) rather than read."""
    config = dataclasses.replace(quiet(tmp_path), data=data)
    with pytest.raises(InputError) as info:
        mine_dataset(datasets.Dataset.from_list(RENAMED), HashEmbedder(), config=config, query_column="zz", **keywords)
    assert str(info.value) == ("the datasets.Dataset of 12 rows, column 'yyy': positive column not found; available "
                               f"columns: 'zz', 'yy'; {hint}")


def test_the_same_column_twice_names_the_keywords(tmp_path):
    with pytest.raises(ConfigError) as info:
        mine_dataset(datasets.Dataset.from_list(ROWS), HashEmbedder(), query_column="positive", config=quiet(tmp_path))
    assert str(info.value) == (
        "query_column and positive_column are both 'positive' (positive_column auto-detected); they must name two "
        "different columns: call mine_dataset(data, ..., query_column=..., positive_column=...) naming the query and "
        "the positive column")


def test_columns_of_a_negmine_dataset_or_of_the_wrong_type_are_refused(tmp_path):
    """A negmine Dataset's pairs were read already: columns named for it would name nothing read. A column that is
    no str is refused as the config's field type (it was an AttributeError in the typo check)."""
    from negmine.io.pairs import pairs_from_dataset

    read = pairs_from_dataset(datasets.Dataset.from_list(ROWS))
    with pytest.raises(ConfigError) as info:
        mine_dataset(read, HashEmbedder(), query_column="anchor", config=quiet(tmp_path))
    assert str(info.value) == (
        "mine_dataset() names a datasets.Dataset's columns by query_column='anchor', but data is a negmine Dataset, "
        "whose pairs were read already (by pairs_from_dataset); pass the datasets.Dataset, or name the columns to "
        "pairs_from_dataset(ds, query_column=..., positive_column=...) and drop them here")
    bad_data = datasets.Dataset.from_list([{"anchor": "a", "positive": " "}])  # not read: the options fail first
    with pytest.raises(ConfigError) as info:
        mine_dataset(bad_data, HashEmbedder(), query_column=3, config=quiet(tmp_path))
    assert str(info.value) == "query_column must be a string or None, got 3 (int)"
