import json
import warnings
from dataclasses import replace

import pytest

from negmine.audit.api import run_audit
from negmine.config import AuditConfig, JudgeConfig, NearDupConfig
from negmine.errors import ConfigError, InputError, NegmineWarning

from .conftest import sample_rows


def _mined(tmp_path):
    path = tmp_path / "mined.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in sample_rows()), encoding="utf-8")
    return path


def test_run_audit_is_the_command_as_a_function(tmp_path):
    mined = _mined(tmp_path)
    config = AuditConfig(input=mined, judges=JudgeConfig(near_dup=NearDupConfig(cosine=None)),
                         flags=tmp_path / "f.flags.jsonl", output=tmp_path / "clean.jsonl", formats=("triplet",))
    summary = run_audit(config)
    assert summary["counts"]["pairs"] == len(sample_rows())
    assert json.loads((tmp_path / "f.audit-summary.json").read_text())["counts"] == summary["counts"]
    assert (tmp_path / "f.flags.jsonl").is_file() and (tmp_path / "clean.jsonl").is_file()
    assert (tmp_path / "clean.triplet.jsonl").is_file() and summary["exports"] == {"triplet": str(tmp_path / "clean.triplet.jsonl")}


def test_run_audit_checks_before_any_model_loads(tmp_path):
    with pytest.raises(InputError, match="not found; pass a mined native JSONL file or a BEIR directory"):
        run_audit(AuditConfig(input=tmp_path / "missing.jsonl", flags=tmp_path / "f.flags.jsonl"))
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(InputError, match="no rows"):
        run_audit(AuditConfig(input=empty, flags=tmp_path / "f.flags.jsonl"))
    with pytest.raises(ConfigError, match="unknown export format 'csv'"):
        run_audit(AuditConfig(input=_mined(tmp_path), output=tmp_path / "c.jsonl", formats=("csv",)))


def _no_model(*args, **kwargs):
    raise AssertionError("a model or judge loaded before the input file was checked")


@pytest.mark.parametrize("judges", [
    JudgeConfig(),
    JudgeConfig(sd_margin=None, relative_margin=0.05),
    JudgeConfig(judges=("near-duplicate",)),
    JudgeConfig(judges=("score",), sd_margin=None, absolute_margin=0.1),
])
@pytest.mark.parametrize("spoil, field, message", [
    (lambda r: r["negative_scores"].pop(), "negative_scores", "has 3 entries but negative_ids has 4; the lists"),
    (lambda r: r["negative_ids"].__setitem__(1, r["positive_id"]), "negative_ids", "entry 1 is the row's positive_id 'p1'"),
])
def test_every_row_of_the_input_is_checked_before_any_model_loads(tmp_path, monkeypatch, judges, spoil, field,
                                                                  message):
    import negmine.audit.resources as resources
    import negmine.pipeline.mine as pipeline_mine

    rows = sample_rows() * 3
    last = json.loads(json.dumps(rows[0]))
    spoil(last)
    mined = tmp_path / "mined.jsonl"
    mined.write_text("".join(json.dumps(r) + "\n" for r in [*rows, last]), encoding="utf-8")
    for module, name in ((pipeline_mine, "make_embedder"), (pipeline_mine, "make_cache"),
                         (resources, "load_resources")):
        monkeypatch.setattr(module, name, _no_model)
    with pytest.raises(InputError, match=rf"mined.jsonl:10: field '{field}': {message}"):
        run_audit(AuditConfig(input=mined, judges=judges, flags=tmp_path / "f.flags.jsonl"))
    assert not (tmp_path / "f.flags.jsonl").exists()


def test_the_near_duplicate_model_of_a_mined_file_is_checked_before_its_rows_are_read(
        tmp_path, monkeypatch, tiny_cross_encoder_path, tiny_sparse_encoder_path, not_a_bi_encoder,
        not_a_dense_encoder):
    """An audit of a mined file loads --model for the near-duplicate cosine test alone, and only that model had no
    early check: a missing folder failed after every row of the file was read (the model was found missing at its
    load), and a cross-encoder or SparseEncoder folder was loaded as a bi-encoder and judged near-duplicates with
    vectors no model was trained to make."""
    import negmine.audit.api as audit_api
    import negmine.pipeline.mine as pipeline_mine

    monkeypatch.setattr(audit_api, "check_input", lambda *args: pytest.fail("the rows were read before --model's check"))
    monkeypatch.setattr(pipeline_mine, "make_embedder", _no_model)
    missing = tmp_path / "no-such-model"
    cases = ((missing, f"model path '{missing}' does not exist; pass an existing folder or a hub model name"),
             (tiny_cross_encoder_path, not_a_bi_encoder(
                 "model", tiny_cross_encoder_path, "a sequence classifier (BertForSequenceClassification, transformers)")),
             (tiny_sparse_encoder_path, not_a_dense_encoder("model", tiny_sparse_encoder_path)))
    for model, message in cases:
        config = AuditConfig(input=_mined(tmp_path), flags=tmp_path / "f.flags.jsonl")
        config = replace(config, encoder=replace(config.encoder, model=str(model)))
        with pytest.raises(ConfigError) as info:
            run_audit(config)
        assert str(info.value) == message
    assert not (tmp_path / "f.flags.jsonl").exists()


def test_offline_a_judge_model_not_in_the_cache_is_refused_before_the_candidates_are_mined(tmp_path, monkeypatch,
                                                                                         tiny_model_path):
    """Auditing a BEIR folder mines its candidates (the corpus encoded) before the judges load: a teacher or
    cross-encoder hub name not in the cache failed only then. Offline (no network in tests), it is refused first."""
    from huggingface_hub import constants

    import negmine.audit.api as audit_api
    from negmine.testing.beir import write_beir
    from negmine.testing.hub_cache import write_cached_repo

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.delenv("SENTENCE_TRANSFORMERS_HOME", raising=False)
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setattr(audit_api, "mine_candidates", _no_model)
    beir = write_beir(tmp_path / "beir", {"d1": "one doc", "d2": "two doc"}, {"q1": "one"}, [("q1", "d1", 1)],
                      split="train")
    write_cached_repo(tmp_path / "hf-cache", "cross-encoder/ms-marco-tiny")  # a bare name, as sentence-transformers
    judges = JudgeConfig(judges=("cross-encoder", "teacher"), cross_encoder="ms-marco-tiny",  # prefixes it
                         teachers=(str(tiny_model_path), "org/typo-teacher"))
    with pytest.raises(ConfigError, match=r"^teacher 'org/typo-teacher' is not a local folder and not in the Hugging "
                                          r"Face cache \(.*\), and TRANSFORMERS_OFFLINE=1 forbids downloading it"):
        run_audit(AuditConfig(input=beir, judges=judges, flags=tmp_path / "f.flags.jsonl"))
    with pytest.raises(ConfigError, match=r"^cross-encoder 'other-reranker' is not a local folder and not in the "):
        run_audit(AuditConfig(input=beir, judges=replace(judges, cross_encoder="other-reranker"),
                              flags=tmp_path / "f.flags.jsonl"))


def test_online_a_bare_judge_name_the_unreachable_hub_would_serve_is_refused_before_the_candidates_are_mined(
        tmp_path, monkeypatch, unreachable_hub):
    """Online without hub access, a bare judge name (``--cross-encoder my-ce``: a folder since moved, or a hub
    name) passed every check and failed only when the judges loaded, after the candidates and about 46 s of hub
    retries. One probe of the hub refuses it first."""
    import negmine.audit.api as audit_api
    from negmine.testing.beir import write_beir

    monkeypatch.setattr(audit_api, "mine_candidates", _no_model)
    beir = write_beir(tmp_path / "beir", {"d1": "one doc", "d2": "two doc"}, {"q1": "one"}, [("q1", "d1", 1)],
                      split="train")
    host, port = unreachable_hub
    with pytest.raises(ConfigError) as info:
        run_audit(AuditConfig(input=beir, judges=JudgeConfig(cross_encoder="gone-ce"), flags=tmp_path / "f.flags.jsonl"))
    assert str(info.value).startswith(
        f"cross-encoder 'gone-ce' in judges.cross_encoder (--cross-encoder) is neither a local folder nor in the "
        f"Hugging Face cache, and the hub ({host}:{port}) is unreachable (ConnectionRefusedError"), str(info.value)
    assert str(info.value).endswith(
        "so loading it would fail, after the hub's retries (about 46 s); if it is a folder, check the path (a "
        "relative path is read from the current folder); if it is a hub name, download it once with network")
    assert not (tmp_path / "f.flags.jsonl").exists()


def test_an_audit_of_a_beir_directory_loads_the_mining_model_once(tmp_path, monkeypatch):
    """The candidates were mined with one copy of the model and the near-duplicate judge loaded a second: two
    loads and two fingerprints of the same model per run (the demo with the bundled model showed two 'Loading
    weights' bars). The judge now reuses the embedder the mining run loaded."""
    import negmine.pipeline.mine as pipeline_mine
    from negmine.demo import demo_path
    from negmine.testing.hash_embedder import HashEmbedder

    built = []

    def counting(config):
        built.append(config.model)
        return HashEmbedder()

    monkeypatch.setattr(pipeline_mine, "make_embedder", counting)
    monkeypatch.setenv("NEGMINE_CACHE", str(tmp_path / "cache"))
    summary = run_audit(AuditConfig(input=demo_path(), flags=tmp_path / "f.flags.jsonl", candidates=tmp_path / "c.jsonl"))
    assert summary["counts"]["pairs"] > 0 and "near-duplicate" in summary["judges"]
    assert len(built) == 1


def test_an_audit_of_a_beir_directory_mines_its_candidates_next_to_the_flags(tmp_path, monkeypatch):
    """From Python the candidates went to ./audit.candidates.jsonl in the current folder whatever the flags' path
    (the command puts them with the flags, in --out-dir)."""
    import negmine.pipeline.mine as pipeline_mine
    from negmine.demo import demo_path
    from negmine.testing.hash_embedder import HashEmbedder

    monkeypatch.setattr(pipeline_mine, "make_embedder", lambda config: HashEmbedder())
    monkeypatch.setenv("NEGMINE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    run_audit(AuditConfig(input=demo_path(), flags=tmp_path / "audit" / "demo.flags.jsonl"))
    assert list((tmp_path / "cwd").iterdir()) == []
    assert (tmp_path / "audit" / "demo.candidates.jsonl").is_file()
    assert (tmp_path / "audit" / "demo.candidates.summary.json").is_file()


def test_a_repeated_row_is_audited_once_with_one_warning(tmp_path):
    """The same (query, positive) row twice was judged twice, counted twice and written twice to the cleaned file,
    without a word. It is now skipped (the first row is used), with one warning naming its line."""
    rows = sample_rows()
    mined = tmp_path / "mined.jsonl"
    mined.write_text("".join(json.dumps(r) + "\n" for r in [*rows, rows[0]]), encoding="utf-8")
    config = AuditConfig(input=mined, judges=JudgeConfig(near_dup=NearDupConfig(cosine=None)),
                         flags=tmp_path / "f.flags.jsonl", output=tmp_path / "clean.jsonl")
    with pytest.warns(NegmineWarning) as caught:
        summary = run_audit(config)
    assert summary["counts"]["pairs"] == len(rows)
    once = _mined(tmp_path)  # the file without the repeat
    run_audit(replace(config, input=once, flags=tmp_path / "o.flags.jsonl", output=tmp_path / "once.jsonl"))
    assert (tmp_path / "clean.jsonl").read_bytes() == (tmp_path / "once.jsonl").read_bytes()
    assert (tmp_path / "f.flags.jsonl").read_bytes() == (tmp_path / "o.flags.jsonl").read_bytes()
    assert [str(w.message) for w in caught if issubclass(w.category, NegmineWarning)] == [
        f"{mined}: 1 repeated (query_id, positive_id) row skipped, the first row of each "
                               f"pair is used (line {len(rows) + 1} repeats line 1); remove the repeats (e.g. a file "
                               "concatenated twice) to silence this"]


def test_rows_without_negatives_are_named_in_a_warning(tmp_path):
    """``negmine audit`` printed a line for the pairs whose rows hold no negatives; a run_audit caller got nothing
    (small leftovers, session 58). Now a NegmineWarning naming the file, pointing at the caller's line."""
    rows = sample_rows()
    rows[1] = dict(rows[1], negative_ids=[], negatives=[], negative_scores=[], negative_ranks=[])
    mined = tmp_path / "mined.jsonl"
    mined.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = AuditConfig(input=mined, judges=JudgeConfig(near_dup=NearDupConfig(cosine=None)),
                         flags=tmp_path / "f.flags.jsonl")
    with pytest.warns(NegmineWarning) as caught:
        summary = run_audit(config)
    assert summary["counts"]["pairs_without_negatives"] == 1
    ours = [w for w in caught if issubclass(w.category, NegmineWarning)]
    assert [str(w.message) for w in ours] == [
        f"{mined}: 1 pair has no negatives: nothing to audit in it, kept as it is (negmine train leaves such rows "
        "out unless --num-negatives 0, which trains them on in-batch negatives alone; the exports skip them)"]
    assert [w.filename for w in ours] == [__file__]
    run_audit(replace(config, input=_mined(tmp_path)))  # every row with negatives: no warning (errors here)


def test_the_warning_of_rows_without_negatives_comes_after_the_report_is_written(tmp_path):
    """A caller turning warnings into errors still gets every output, the HTML report too: the warning came before
    the report was written, so the error left the audit without it."""
    rows = sample_rows()
    rows[1] = dict(rows[1], negative_ids=[], negatives=[], negative_scores=[], negative_ranks=[])
    mined = tmp_path / "mined.jsonl"
    mined.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = AuditConfig(input=mined, judges=JudgeConfig(near_dup=NearDupConfig(cosine=None)),
                         flags=tmp_path / "f.flags.jsonl", report=tmp_path / "report.html")
    with warnings.catch_warnings(), pytest.raises(NegmineWarning, match="1 pair has no negatives"):
        warnings.simplefilter("error", NegmineWarning)
        run_audit(config)
    assert config.flags.exists() and "<html" in config.report.read_text(encoding="utf-8").lower()


def test_outputs_another_run_is_writing_are_refused_before_any_model_loads(tmp_path, monkeypatch):
    """Two audits (or an audit and a mine) writing one cleaned file could leave its exports and summary from
    the other run; the second now fails at once, before candidates are mined or judges load."""
    import negmine.audit.api as audit_api
    import negmine.audit.resources as resources
    import negmine.pipeline.mine as pipeline_mine
    from negmine.testing.output_holder import hold_in_other_process

    for module, name in ((pipeline_mine, "make_embedder"), (resources, "load_resources"),
                         (audit_api, "mine_candidates")):
        monkeypatch.setattr(module, name, _no_model)
    clean = tmp_path / "out" / "mined.clean.jsonl"
    config = AuditConfig(input=_mined(tmp_path), flags=tmp_path / "out" / "mined.flags.jsonl", output=clean)
    with hold_in_other_process({"--output": clean}) as other:
        with pytest.raises(ConfigError) as err:
            run_audit(config)
    assert str(err.value) == (
        f"--output {clean}: another negmine run (pid {other.pid}) is writing this output now (it holds "
        f"{clean}.lock); wait for that run to finish, or choose another --output for this one")
    assert not (tmp_path / "out").exists(), "nothing was written"


def test_an_audit_leaves_no_lock_and_runs_after_a_killed_one(tmp_path):
    from negmine.testing.output_holder import hold_in_other_process

    config = AuditConfig(input=_mined(tmp_path), judges=JudgeConfig(near_dup=NearDupConfig(cosine=None)),
                         flags=tmp_path / "f.flags.jsonl", output=tmp_path / "clean.jsonl")
    with hold_in_other_process({"--flags": config.flags, "--output": config.output}) as killed:
        killed.kill()
        killed.wait(60)
    run_audit(config)
    assert (tmp_path / "clean.jsonl").is_file() and not list(tmp_path.glob("*.lock"))


PROBE = """
import sys
from negmine.errors import ConfigError
from negmine.io.output_lock import check_not_busy
try:
    check_not_busy({"--candidates": sys.argv[1]})
except ConfigError as err:
    print(err)
"""


def _other_run_takes(path) -> str:
    """What another process trying to lock ``path`` as its ``--candidates`` is told ('' when it got the lock)."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_a_beir_audit_holds_its_candidates_from_mining_until_it_has_audited_them(tmp_path, monkeypatch):
    """Mining locked the candidates file (and its summary) only while it wrote them: between the end of mining
    and the audit reading them, another run naming the same candidates could overwrite them. The audit now holds
    both locks for its whole run and mining reuses them."""
    import os

    import negmine.audit.api as audit_api
    import negmine.audit.run as audit_run
    import negmine.pipeline.mine as pipeline_mine
    from negmine.testing.hash_embedder import HashEmbedder

    monkeypatch.setattr(pipeline_mine, "make_embedder", lambda config: HashEmbedder())
    monkeypatch.setenv("NEGMINE_CACHE", str(tmp_path / "cache"))
    candidates, summary = tmp_path / "mined" / "c.jsonl", tmp_path / "mined" / "c.summary.json"
    told: dict[str, list[str]] = {"mined": [], "auditing": []}

    def probing(step, real):
        def probe(*args, **kwargs):
            told[step] += [_other_run_takes(candidates), _other_run_takes(summary)]
            return real(*args, **kwargs)
        return probe

    monkeypatch.setattr(audit_api, "check_input", probing("mined", audit_api.check_input))
    monkeypatch.setattr(audit_run, "audit_file", probing("auditing", audit_run.audit_file))
    config = AuditConfig(input=_beir_test_split(tmp_path), flags=tmp_path / "f.flags.jsonl", split="test",
                         unknown_qrels="skip", candidates=candidates)
    assert run_audit(config)["counts"]["pairs"] == 2
    refusals = [f"--candidates {path}: another negmine run (pid {os.getpid()}) is writing this output now (it holds "
                f"{path}.lock); wait for that run to finish, or choose another --candidates for this one"
                for path in (candidates, summary)]
    assert told == {"mined": refusals, "auditing": refusals}
    assert not list((tmp_path / "mined").glob("*.lock")), "the audit gave its locks back"
    assert _other_run_takes(candidates) == ""


def _beir_test_split(tmp_path):
    """The demo topic as a BEIR folder with a ``test`` split only, one of whose two judgments names a document the
    corpus lacks."""
    from negmine.testing.beir import write_beir

    from .conftest import FILLER, TOPIC_DOCS

    corpus = {**TOPIC_DOCS, **{f"f{i}": t for i, t in enumerate(FILLER)}}
    queries = {"q": "does coffee raise blood pressure in adults", "q2": "caffeine and sleep"}
    return write_beir(tmp_path / "beir", corpus, queries, [("q", "pos", 1), ("q2", "f5", 1), ("q2", "gone", 1)],
                      split="test")


def test_the_split_and_the_unknown_qrels_policy_of_a_beir_audit_are_config_fields(tmp_path, monkeypatch):
    """They were run_audit's own arguments while every other setting lived in AuditConfig: a script could not
    hand an audit on (or record it) as one config value."""
    import negmine.pipeline.mine as pipeline_mine
    from negmine.errors import InputError
    from negmine.testing.hash_embedder import HashEmbedder

    monkeypatch.setattr(pipeline_mine, "make_embedder", lambda config: HashEmbedder())
    monkeypatch.setenv("NEGMINE_CACHE", str(tmp_path / "cache"))
    config = AuditConfig(input=_beir_test_split(tmp_path), flags=tmp_path / "f.flags.jsonl", split="test",
                         unknown_qrels="skip")
    summary = run_audit(config)
    assert summary["counts"]["pairs"] == 2
    assert summary["unknown_qrels"]["skipped"] == 1
    with pytest.raises(InputError, match=r"unknown corpus id 'gone'"):
        run_audit(replace(config, unknown_qrels="error", flags=tmp_path / "e.flags.jsonl"))


def test_the_summary_of_a_beir_audit_records_which_files_it_read(tmp_path, monkeypatch):
    """The audit summary of a BEIR directory said nothing of the files read (its candidates' mining summary did not
    either): it now holds ``beir_input``, each file's path, size and sha256, as the candidates' summary does."""
    import hashlib

    import negmine.pipeline.mine as pipeline_mine
    from negmine.testing.hash_embedder import HashEmbedder

    monkeypatch.setattr(pipeline_mine, "make_embedder", lambda config: HashEmbedder())
    monkeypatch.setenv("NEGMINE_CACHE", str(tmp_path / "cache"))
    beir = _beir_test_split(tmp_path)
    summary = run_audit(AuditConfig(input=beir, flags=tmp_path / "f.flags.jsonl", split="test", unknown_qrels="skip"))
    written = json.loads((tmp_path / "f.audit-summary.json").read_text(encoding="utf-8"))
    candidates = json.loads((tmp_path / "f.candidates.summary.json").read_text(encoding="utf-8"))
    assert summary["beir_input"] == written["beir_input"] == candidates["beir_input"]
    corpus = beir / "corpus.jsonl"
    assert written["beir_input"]["corpus"] == {"path": str(corpus.resolve()), "bytes": corpus.stat().st_size,
                                               "sha256": hashlib.sha256(corpus.read_bytes()).hexdigest()}
    assert written["beir_input"]["qrels"]["path"] == str((beir / "qrels" / "test.tsv").resolve())


class Mined(Exception):
    """Raised by the stubbed candidate mining: run_audit got as far as mining, with what it was given."""


def _stub_candidate_mining(monkeypatch) -> list:
    """Replace the audit's candidate mining by a stub that records its (config, out) and raises ``Mined``."""
    import negmine.audit.api as audit_api

    seen = []

    def mine_candidates(config, out, held):
        seen.append((config, out))
        raise Mined

    monkeypatch.setattr(audit_api, "mine_candidates", mine_candidates)
    return seen


def test_the_former_split_and_unknown_qrels_arguments_still_work_with_a_deprecation_warning(tmp_path, monkeypatch):
    from negmine.errors import NegmineDeprecationWarning

    seen = _stub_candidate_mining(monkeypatch)
    config = AuditConfig(input=_beir_test_split(tmp_path), flags=tmp_path / "f.flags.jsonl")
    with pytest.warns(NegmineDeprecationWarning) as caught, pytest.raises(Mined):
        run_audit(config, "test", unknown_qrels="skip")
    assert [str(w.message) for w in caught] == [
        "run_audit(config, split='test') is deprecated: set it in the config, AuditConfig(..., split='test')",
        "run_audit(config, unknown_qrels='skip') is deprecated: set it in the config, AuditConfig(..., "
        "unknown_qrels='skip')"]
    assert {w.filename for w in caught} == {__file__}, "the warning points at the caller"
    assert issubclass(NegmineDeprecationWarning, DeprecationWarning)
    assert (seen[0][0].split, seen[0][0].unknown_qrels) == ("test", "skip")
    with pytest.raises(ConfigError) as info:
        run_audit(replace(config, split="dev"), split="test")
    assert str(info.value) == ("run_audit() got split='test' and AuditConfig(split='dev'); set it once, in the "
                               "config: run_audit(AuditConfig(..., split=...))")


@pytest.mark.parametrize("field, value, message", [
    ("split", "qrels/test", "split must be a qrels file stem such as 'train' (qrels/train.tsv), got 'qrels/test'; "
                            "use e.g. split='train' (--split train)"),
    ("split", "", "split must be a qrels file stem such as 'train' (qrels/train.tsv), got ''; use e.g. split='train' (--split train)"),
    ("unknown_qrels", "keep", "unknown unknown-qrels policy 'keep'; allowed: error, skip (unknown_qrels='skip' (--unknown-qrels skip) drops "
                              "qrels rows whose corpus-id is not in the corpus)"),
])
def test_the_audit_config_checks_its_split_and_unknown_qrels_policy(tmp_path, field, value, message):
    with pytest.raises(ConfigError) as info:
        AuditConfig(input=tmp_path, **{field: value}).validate()
    assert str(info.value) == message


def test_an_audit_removes_the_temp_files_a_killed_run_left_beside_its_outputs(tmp_path):
    """A run killed while writing its summary left `.f.audit-summary.json.<host>.<pid>.<hex>.tmp` beside it until a
    run wrote that summary again: a rerun that stopped before (here: an input with no rows, found once the
    outputs are locked) left it too. A run sweeps them once it holds the outputs' locks."""
    import subprocess
    import sys

    from negmine.audit.run import summary_path

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    config = AuditConfig(input=empty, flags=tmp_path / "f.flags.jsonl", output=tmp_path / "clean.jsonl")
    killed = subprocess.run([sys.executable, "-c", (
        "import os, signal, sys\n"
        "from negmine.io.atomic import atomic_write\n"
        "with atomic_write(sys.argv[1]) as handle:\n"
        "    handle.write('{half a summary')\n"
        "    handle.flush()\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"), str(summary_path(config))], capture_output=True)
    assert killed.returncode == -9
    [left] = tmp_path.glob(".f.audit-summary.json.*.tmp")
    with pytest.raises(ConfigError, match="^AuditConfig export_as='parquet' would be ignored"):  # before the locks
        run_audit(replace(config, export_as="parquet"))
    assert left.exists()
    with pytest.raises(InputError, match="no rows"):
        run_audit(config)
    assert not left.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.jsonl"]


def test_where_a_beir_audit_mines_its_candidates_is_a_config_field(tmp_path, monkeypatch):
    """``candidates`` was the last run_audit argument that was not an AuditConfig field (an output path, as flags and
    summary are fields): a script could not hand a BEIR audit on as one config value."""
    import negmine.pipeline.mine as pipeline_mine
    from negmine.testing.hash_embedder import HashEmbedder

    monkeypatch.setattr(pipeline_mine, "make_embedder", lambda config: HashEmbedder())
    monkeypatch.setenv("NEGMINE_CACHE", str(tmp_path / "cache"))
    config = AuditConfig(input=_beir_test_split(tmp_path), flags=tmp_path / "f.flags.jsonl", split="test",
                         unknown_qrels="skip", candidates=str(tmp_path / "mined" / "c.jsonl"))
    assert config.candidates == tmp_path / "mined" / "c.jsonl"
    summary = run_audit(config)
    assert summary["counts"]["pairs"] == 2
    assert len((tmp_path / "mined" / "c.jsonl").read_text().splitlines()) == 2
    assert (tmp_path / "mined" / "c.summary.json").is_file()
    assert not (tmp_path / "f.candidates.jsonl").exists()


def test_the_former_candidates_argument_still_works_with_a_deprecation_warning(tmp_path, monkeypatch):
    from negmine.errors import NegmineDeprecationWarning

    seen = _stub_candidate_mining(monkeypatch)
    config = AuditConfig(input=_beir_test_split(tmp_path), flags=tmp_path / "f.flags.jsonl", split="test")
    with pytest.warns(NegmineDeprecationWarning) as caught, pytest.raises(Mined):
        run_audit(config, candidates=tmp_path / "c.jsonl")
    assert [str(w.message) for w in caught] == [
        f"run_audit(config, candidates='{tmp_path / 'c.jsonl'}') is deprecated: set it in the config, "
        f"AuditConfig(..., candidates='{tmp_path / 'c.jsonl'}')"]
    assert {w.filename for w in caught} == {__file__}, "the warning points at the caller"
    assert [out for _, out in seen] == [tmp_path / "c.jsonl"]
    with pytest.warns(NegmineDeprecationWarning), pytest.raises(Mined):  # the same path, given as a str
        run_audit(replace(config, candidates=tmp_path / "c.jsonl"), candidates=str(tmp_path / "c.jsonl"))
    with pytest.raises(ConfigError) as info:
        run_audit(replace(config, candidates=tmp_path / "d.jsonl"), candidates=tmp_path / "c.jsonl")
    assert str(info.value) == (
        f"run_audit() got candidates='{tmp_path / 'c.jsonl'}' and AuditConfig(candidates='{tmp_path / 'd.jsonl'}'); "
        "set it once, in the config: run_audit(AuditConfig(..., candidates=...))")


def test_a_candidates_path_for_a_mined_file_is_refused(tmp_path):
    """A mined file is audited as it is: nothing is mined, so the path would be ignored (before, the command passed
    ``mined.candidates.jsonl`` on every run and run_audit ignored it, as it did any path a script gave)."""
    config = AuditConfig(input=_mined(tmp_path), flags=tmp_path / "f.flags.jsonl", candidates=tmp_path / "c.jsonl")
    with pytest.raises(ConfigError) as info:
        run_audit(config)
    assert str(info.value) == (
        f"candidates='{tmp_path / 'c.jsonl'}' would be ignored: the input is a mined file, audited as it is: no "
        "candidates are mined; to mine and audit a BEIR dataset's top candidates, give its directory as the input (negmine "
        "audit DATA_DIR --candidates PATH), or leave it at its default (candidates=None)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mined.jsonl"]


@pytest.mark.parametrize("candidates, clash, option", [
    ("f.flags.jsonl", "f.flags.jsonl", "--flags"), ("clean.jsonl", "clean.jsonl", "--output"),
    ("c.jsonl", "c.summary.json", "--summary-json"),  # the candidates' mining summary
])
def test_a_candidates_path_that_is_another_output_is_refused_before_any_work(tmp_path, monkeypatch, candidates, clash,
                                                                             option):
    """It failed only once mining began, as the mining run's own --output ("this run writes that file already"),
    or (the mining summary) the audit's summary overwrote the candidates'."""
    import negmine.audit.api as audit_api

    monkeypatch.setattr(audit_api, "mine_candidates", lambda *a: pytest.fail("candidates were mined"))
    config = AuditConfig(input=_beir_test_split(tmp_path), flags=tmp_path / "f.flags.jsonl", split="test",
                         output=tmp_path / "clean.jsonl", summary=tmp_path / "f.audit-summary.json",
                         candidates=tmp_path / candidates)
    if option == "--summary-json":
        config = replace(config, summary=tmp_path / clash)
    which = "--candidates (its summary)" if option == "--summary-json" else "--candidates"
    with pytest.raises(ConfigError) as info:
        run_audit(config)
    assert str(info.value) == (f"{which} {tmp_path / clash}: {option} names the same file, so one output "
                               "would overwrite the other; give them different paths")


def test_an_audit_that_raises_leaves_no_cache_folder_locked(tmp_path, tiny_cross_encoder_path, monkeypatch):
    """An audit stopped in a process that goes on (Ctrl-C in a notebook, which keeps the exception and its frames)
    held the locks of the cache folders its judges had read until the process ended: negmine cache prune kept them."""
    import time

    import negmine.audit.run as audit_run
    from negmine.config import EncoderConfig
    from negmine.encode.cache_contents import cache_entries
    from negmine.encode.cache_prune import prune_cache

    cache = tmp_path / "cache"
    config = AuditConfig(input=_mined(tmp_path), judges=JudgeConfig(cross_encoder=str(tiny_cross_encoder_path)),
                         encoder=EncoderConfig(cache_dir=cache, show_progress=False), flags=tmp_path / "f.flags.jsonl")
    audited = audit_run.audit_file

    def stopped_at_the_end(*args, **kwargs):
        audited(*args, **kwargs)  # every judge read its cache
        raise KeyboardInterrupt

    monkeypatch.setattr(audit_run, "audit_file", stopped_at_the_end)
    with pytest.raises(KeyboardInterrupt) as stopped:
        run_audit(config)
    assert stopped.value.__traceback__ is not None  # kept, with its frames
    entries = cache_entries(cache)  # the near-duplicate judge's vectors and the cross-encoder's scores
    assert [e.kind for e in entries] == ["embeddings", "cross-encoder scores"]
    assert [e.kind for e in entries if e.in_use] == []
    result = prune_cache(cache, older_than_days=0, now=time.time() + 1)
    assert not result.in_use and len(result.deleted) == 2


def test_the_summary_of_an_audit_of_a_mined_file_records_the_file_it_read(tmp_path):
    """``negmine audit MINED_FILE`` recorded only the file's path (``input``): a file edited between two audits left
    the same record. The summary now holds ``input_file``, its resolved path, size and sha256 (the file's own: a
    byte-order mark and a blank line included), the same for two audits of the same file (the summaries equal),
    and another sha256 when one line changes."""
    import hashlib

    rows = sample_rows()
    mined = tmp_path / "mined.jsonl"
    mined.write_bytes(("\ufeff" + "".join(json.dumps(r) + "\n\n" for r in rows)).encode("utf-8"))
    config = AuditConfig(input=mined, judges=JudgeConfig(near_dup=NearDupConfig(cosine=None)),
                         flags=tmp_path / "f.flags.jsonl")
    written = tmp_path / "f.audit-summary.json"
    summary = run_audit(config)
    first = written.read_text(encoding="utf-8")
    assert summary["input_file"] == json.loads(first)["input_file"] == {
        "path": str(mined.resolve()), "bytes": mined.stat().st_size,
        "sha256": hashlib.sha256(mined.read_bytes()).hexdigest()}
    run_audit(config)
    assert written.read_text(encoding="utf-8") == first
    lines = mined.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[-2] = lines[-2].replace(json.dumps(rows[-1]["query"]), json.dumps(rows[-1]["query"] + "?"), 1)
    mined.write_text("".join(lines), encoding="utf-8")
    changed = run_audit(config)["input_file"]
    assert changed["sha256"] == hashlib.sha256(mined.read_bytes()).hexdigest() != summary["input_file"]["sha256"]


def test_a_beir_audit_keeps_its_candidates_work_folder_in_work_dir(tmp_path, monkeypatch):
    """The mining of a BEIR directory's candidates keeps a run work folder (embedding stores, finished search shards)
    for a rerun after a stop, under ``<cache dir>/runs`` only: the audit had no ``work_dir`` as ``negmine mine`` has,
    so it could not go on another filesystem. It now goes to ``work_dir/<run key>/`` through mine's code: leased while
    the audit mines (``in use`` to ``negmine cache list|prune --work-dir``), kept when the audit stops, read back by
    the rerun (every text resumed, none encoded) and removed once the candidates are written."""
    import negmine.engine.dense as dense
    import negmine.pipeline.mine as pipeline_mine
    from negmine.config import EncoderConfig
    from negmine.encode.cache_contents import work_dir_entries
    from negmine.testing.hash_embedder import HashEmbedder

    monkeypatch.setattr(pipeline_mine, "make_embedder", lambda config: HashEmbedder())
    work, cache = tmp_path / "work", tmp_path / "cache"
    seen, search = [], dense.search_stores

    def stopped(*args, **kwargs):  # the stores are written: Ctrl-C as the search starts
        seen.extend(work_dir_entries(work))
        raise KeyboardInterrupt

    monkeypatch.setattr(dense, "search_stores", stopped)
    config = AuditConfig(input=_beir_test_split(tmp_path), flags=tmp_path / "f.flags.jsonl", split="test",
                         unknown_qrels="skip", work_dir=str(work),
                         encoder=EncoderConfig(cache_dir=cache, use_cache=False, show_progress=False))
    with pytest.raises(KeyboardInterrupt):
        run_audit(config)
    (run,) = [p for p in work.iterdir() if p.is_dir()]
    assert [(e.kind, e.path, e.in_use) for e in seen] == [("run work folder", run, True)]
    assert [(e.path, e.in_use) for e in work_dir_entries(work)] == [(run, False)]
    assert (run / "documents.npy").is_file() and (run / "queries.npy").is_file()
    assert not (cache / "runs").exists()
    monkeypatch.setattr(dense, "search_stores", search)
    assert run_audit(config)["counts"]["pairs"] == 2
    embeddings = json.loads((tmp_path / "f.candidates.summary.json").read_text(encoding="utf-8"))["embeddings"]
    corpus = len((tmp_path / "beir" / "corpus.jsonl").read_text(encoding="utf-8").splitlines())
    counts = {key: embeddings[key] for key in ("encoded", "cached", "resumed")}
    assert counts == {"encoded": 0, "cached": 0, "resumed": corpus + 2}  # the 2 queries of the split
    assert not run.exists() and not (cache / "runs").exists()


def test_a_work_dir_for_a_mined_file_is_refused(tmp_path):
    """A mined file is audited as it is: no candidates are mined, so no run work folder is made; the judges' vectors
    and cross-encoder scores are cache entries (``encoder.cache_dir``). A ``work_dir`` would be ignored."""
    mined = _mined(tmp_path)
    with pytest.raises(ConfigError) as info:
        run_audit(AuditConfig(input=mined, flags=tmp_path / "f.flags.jsonl", work_dir=tmp_path / "work"))
    assert str(info.value) == (
        f"work_dir='{tmp_path / 'work'}' would be ignored: the input is a mined file, audited as it is: no candidates "
        "are mined, so there is no run work folder (what the audit keeps for a rerun, the judges' vectors and "
        "cross-encoder scores, is in the cache); to keep those elsewhere, set encoder.cache_dir (--cache-dir DIR); to "
        "mine a BEIR dataset's top candidates with their work folder in DIR, give its directory as the input (negmine "
        "audit DATA_DIR --work-dir DIR), or leave it at its default (work_dir=None)")
    assert not (tmp_path / "work").exists() and not (tmp_path / "f.flags.jsonl").exists()


def test_the_judges_outputs_are_the_same_bytes_whatever_the_time_bound_on_their_cache_writes(
        tmp_path, monkeypatch, tiny_model_path, tiny_cross_encoder_path):
    """The time bound (:data:`negmine.encode.buffered_shelf.FLUSH_SECONDS`) only changes how the judges' new vectors
    and scores are cut into shards: an audit of the demo with a tiny teacher and cross-encoder writes the same
    flags with every put written at once (0 s) as with no time bound, and reads them back from the small shards."""
    import time

    import negmine.audit.pair_cache as pair_cache
    import negmine.audit.vectors as vectors
    from negmine.config import EncoderConfig
    from negmine.demo import demo_path
    from negmine.encode.buffered_shelf import BufferedShelf
    from negmine.testing.tiny_models import build_tiny_bi_encoder

    teacher = build_tiny_bi_encoder(tmp_path / "teacher", seed=1)  # not the mining model: a namespace of its own

    def audited(bound, run):
        def bounded(shelf, rows, flush_seconds=None, clock=time.monotonic):
            return BufferedShelf(shelf, rows, bound, clock)

        for module in (pair_cache, vectors):
            monkeypatch.setattr(module, "BufferedShelf", bounded)
        out, cache = tmp_path / f"{bound}-{run}", tmp_path / f"cache-{bound}"
        run_audit(AuditConfig(input=demo_path(), flags=out / "demo.flags.jsonl", candidates=out / "c.jsonl",
                              judges=JudgeConfig(cross_encoder=str(tiny_cross_encoder_path), teachers=(str(teacher),)),
                              encoder=EncoderConfig(model=str(tiny_model_path), cache_dir=cache, show_progress=False)))
        return (out / "demo.flags.jsonl").read_bytes(), len(list(cache.rglob("*.keys.npy")))

    off, off_shards = audited(None, "cold")
    every_put, small_shards = audited(0, "cold")
    assert every_put == off and b'"cross-encoder"' in off and b'"teacher"' in off
    assert small_shards > off_shards, "0 s wrote each put as a shard of its own"
    assert audited(0, "warm") == (off, small_shards), "read back from the small shards: same flags, nothing written"
