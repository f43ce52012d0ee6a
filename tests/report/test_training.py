from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from negmine.cli import build_app
from negmine.errors import InputError
from negmine.report.training import REPORT_NAME, read_train_summary, training_report
from negmine.train import SUMMARY_NAME

runner = CliRunner()


def _summary(dev=True, remine=False) -> dict:
    result = {
        "output_dir": "out", "global_step": 12, "epochs": 1.5, "final_loss": 0.8, "mean_loss": 1.2,
        "precision": "fp32", "timings": {"train": 3.0}, "data": {"rows_kept": 40},
        "loss_history": [{"step": s, "loss": 2.0 / s} for s in (1, 4, 8, 12)], "best_checkpoint": None,
        "dev": [{"step": s, "epoch": s / 8, "ndcg@10": v, "mrr@10": v - 0.05, "recall@100": 0.9, "map": v - 0.1}
                for s, v in ((0, 0.61), (6, 0.66), (12, 0.64))] if dev else [],
        "remine": [{"step": 6, "rows_updated": 30, "seconds": 1.5}] if remine else [],
    }
    config = {"train_file": "mined.jsonl", "model": "<b>m</b>", "learning_rate": 1e-4, "directions": ["query_to_doc"],
              "mine": {"select": {"strategy": "top", "num_negatives": 5}, "filters": {"sd_margin": 0.5}, "extra": {}}}
    return {"result": result, "config": config}


def _write(folder, summary) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SUMMARY_NAME).write_text(json.dumps(summary))


def test_report_shows_curves_dev_table_and_configuration(tmp_path):
    _write(tmp_path / "m", _summary(remine=True))
    page = training_report(tmp_path / "m").read_text()
    assert (tmp_path / "m" / REPORT_NAME).exists()
    assert len(re.findall(r'src="data:image/png;base64,[A-Za-z0-9+/=]{200,}"', page)) == 1
    dev_rows = page.split("<h2>Dev evaluations</h2>")[1].split("</tbody>")[0]
    assert dev_rows.count("<tr>") == 1 + 3 and "0.6600" in dev_rows
    assert "<b>0.66</b><span>best dev nDCG@10</span>" in page
    assert "<h2>Re-mining</h2>" in page and "rows_updated" in page
    assert "&lt;b&gt;m&lt;/b&gt;" in page and "<b>m</b>" not in page, "texts are escaped"
    assert '["query_to_doc"]' in page.replace("&quot;", '"')
    assert "<tr><td>mine.filters.sd_margin</td><td>0.5</td></tr>" in page, "nested settings get a row each"
    assert "<tr><td>mine.select.strategy</td><td>top</td></tr>" in page
    assert "<tr><td>mine.extra</td><td>{}</td></tr>" in page
    assert "http://" not in page and "https://" not in page


def test_the_final_loss_card_names_the_steps_it_averages(tmp_path):
    """The card said "final loss": it is the mean of the last logged window (steps 9-12 of a log at 8 and 12)."""
    _write(tmp_path / "m", _summary())
    assert "<b>0.8</b><span>final loss (mean of steps 9-12)</span>" in training_report(tmp_path / "m").read_text()
    one = _summary()
    one["result"]["loss_history"] = [{"step": 1, "loss": 2.0}, {"step": 11, "loss": 1.0}, {"step": 12, "loss": 0.8}]
    _write(tmp_path / "one", one)
    assert "<b>0.8</b><span>final loss (step 12)</span>" in training_report(tmp_path / "one").read_text()


def test_a_run_without_dev_split_or_remining_has_neither_section(tmp_path):
    _write(tmp_path, _summary(dev=False))
    page = training_report(str(tmp_path), str(tmp_path / "r.html")).read_text()  # a Path back for str paths too
    assert "Dev evaluations" not in page and "Re-mining" not in page and "best dev" not in page
    assert "the last (no --keep-best)" in page


def test_missing_or_foreign_summaries_name_the_file(tmp_path):
    with pytest.raises(InputError, match=r"negmine_train.json: not found: not a finished negmine train output"):
        read_train_summary(tmp_path)
    (tmp_path / SUMMARY_NAME).write_text('{"counts": {}}')
    with pytest.raises(InputError, match=r"negmine_train.json: field 'result': missing; this is not a negmine train"):
        read_train_summary(tmp_path)
    (tmp_path / SUMMARY_NAME).write_text("{")
    with pytest.raises(InputError, match=r"negmine_train.json:1: invalid JSON"):
        read_train_summary(tmp_path)
    (tmp_path / SUMMARY_NAME).write_text('{"result": [], "config": {}}')  # rendering failed with a TypeError traceback
    with pytest.raises(InputError, match=r"negmine_train.json: field 'result': must be a JSON object, got array; this "
                                         r"is not a negmine train summary$"):
        read_train_summary(tmp_path)


def test_the_report_command_takes_a_training_directory(tmp_path):
    _write(tmp_path / "m", _summary())
    result = runner.invoke(build_app(), ["report", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    assert f"report: {tmp_path / 'm' / REPORT_NAME}" in result.output
    result = runner.invoke(build_app(), ["report", str(tmp_path / "m"), "--summary", str(tmp_path / "s.json")])
    assert result.exit_code == 2 and "--summary names an audit or mining summary;" in result.output
    result = runner.invoke(build_app(), ["report", str(tmp_path)])
    assert result.exit_code == 2 and "not a finished negmine train output" in result.output


def test_a_real_training_summary_renders(tmp_path, tiny_model_path):
    from negmine.config import TrainConfig
    from negmine.train.api import train

    from ..train.conftest import mined_row, write_jsonl

    mined = write_jsonl(tmp_path / "mined.jsonl", [mined_row(i) for i in range(8)])
    train(TrainConfig(train_file=mined, output_dir=tmp_path / "m", model=str(tiny_model_path), max_steps=2,
                      batch_size=4, num_negatives=2, checkpoint_steps=None, logging_steps=1, show_progress=False,
                      precision="fp32"))
    page = training_report(tmp_path / "m").read_text()
    assert "<b>2</b><span>steps</span>" in page and "<b>8</b><span>rows trained on</span>" in page
    assert page.count("data:image/png;base64,") == 1


def test_rows_trained_on_counts_the_promoted_pairs(tmp_path):
    # an audited file's promoted documents add rows to the epoch: 38 kept + 6 promoted took 6 steps at batch 8
    summary = _summary(dev=False)
    summary["result"]["data"] = {"rows_read": 38, "rows_kept": 38, "promoted_pairs": 6}
    _write(tmp_path / "m", summary)
    assert "<b>44</b><span>rows trained on</span>" in training_report(tmp_path / "m").read_text()


def test_a_one_step_run_says_1_step(tmp_path):
    summary = _summary(dev=False)
    summary["result"].update(global_step=1, loss_history=[{"step": 1, "loss": 7.69}])
    _write(tmp_path / "m", summary)
    page = training_report(tmp_path / "m").read_text(encoding="utf-8")
    assert '<div class="meta">1 step on mined.jsonl</div>' in page


def test_a_run_resumed_at_another_cadence_says_so_and_its_two_cadence_curve_renders(tmp_path):
    """Logged every 4 steps up to the checkpoint at 8, then every step: the report named the checkpoint only."""
    summary = _summary(dev=False)
    summary["result"].update(
        loss_history=[{"step": s, "loss": 2.0 / s} for s in (1, 4, 8, 9, 10, 11, 12)],
        resumed_from="out/checkpoints/checkpoint-8", resume_changes=["checkpoint_steps 8 -> 2", "logging_steps 4 -> 1"])
    _write(tmp_path / "m", summary)
    page = training_report(tmp_path / "m").read_text(encoding="utf-8")
    assert ("<td>out/checkpoints/checkpoint-8 (then checkpoint_steps 8 -&gt; 2; logging_steps 4 -&gt; 1)</td>"
            in page)
    assert len(re.findall(r'src="data:image/png;base64,[A-Za-z0-9+/=]{200,}"', page)) == 1
    summary["result"].pop("resume_changes")  # a summary from before the field: the checkpoint alone
    _write(tmp_path / "old", summary)
    assert "<td>out/checkpoints/checkpoint-8</td>" in training_report(tmp_path / "old").read_text(encoding="utf-8")


def test_a_resumed_runs_timings_are_labelled_as_the_whole_run_with_each_part_listed(tmp_path):
    """The report's "timings (s)" of a resumed run showed the resumed part's seconds as if they were the run's."""
    summary = _summary(dev=False)
    parts = [{"until_step": 8, "seconds": {"train": 2.0, "total": 4.0}},
             {"until_step": 12, "seconds": {"train": 1.0, "total": 3.0}}]
    summary["result"].update(resumed_from="out/checkpoints/checkpoint-8", timings={"train": 3.0, "total": 7.0},
                             timings_parts=parts)
    _write(tmp_path / "m", summary)
    page = training_report(tmp_path / "m").read_text(encoding="utf-8")
    assert "<td>timings (s), whole run (2 parts)</td><td>train: 3.0, total: 7.0</td>" in page
    assert ("<td>timings per part (s)</td><td>part 1, to step 8: train 2.0, total 4.0; "
            "part 2, to step 12: train 1.0, total 3.0</td>") in page
    summary["result"].update(timings={"train": 1.0, "total": 3.0}, timings_parts=[None, parts[1]])
    _write(tmp_path / "old", summary)
    page = training_report(tmp_path / "old").read_text(encoding="utf-8")
    assert "<td>timings (s), the 1 of 2 parts recorded</td><td>train: 1.0, total: 3.0</td>" in page
    assert "part 1: not recorded (its checkpoint was saved by an older negmine); part 2, to step 12" in page
    _write(tmp_path / "straight", _summary(dev=False))
    assert "<td>timings (s)</td><td>train: 3.0</td>" in training_report(tmp_path / "straight").read_text()


def test_an_interrupted_runs_folder_names_its_last_checkpoint_and_resume(tmp_path):
    """The message was 'not a finished negmine train output' for an interrupted run, one of its checkpoints and an
    unrelated folder alike: it named neither the interruption nor --resume."""
    run = tmp_path / "run"
    for step, state in ((8, {"global_step": 8, "max_steps": 30}), (10, {"global_step": 10, "max_steps": 30})):
        (run / "checkpoints" / f"checkpoint-{step}").mkdir(parents=True)
        (run / "checkpoints" / f"checkpoint-{step}" / "trainer_state.json").write_text(json.dumps(state))
    (run / "checkpoints" / "checkpoint-12").mkdir()  # killed while saving: no trainer_state.json
    with pytest.raises(InputError, match=re.escape(
            f"{run} is the output folder of a negmine train run that did not finish (its last checkpoint: "
            f"checkpoint-10, at step 10 of 30); the report needs the summary a finished run writes last: finish "
            f"the run with the same `negmine train ... -o {run}` command and --resume, then negmine report {run}")):
        read_train_summary(run)
    result = runner.invoke(build_app(), ["report", str(run / "checkpoints" / "checkpoint-10")])
    assert result.exit_code == 2 and "is inside the folder of a negmine train run; give that folder, negmine report" in result.output
    from negmine.report.sources import SOURCES

    with pytest.raises(InputError, match=re.escape(f"(its summary is written last); negmine report takes {SOURCES}")):
        read_train_summary(tmp_path)  # a folder with no run in it: every source named (the mined file, eval results too)
    for folder in (run / "checkpoints").iterdir():
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()
    with pytest.raises(InputError, match=re.escape(
            "stopped before its first checkpoint, so there is nothing to report or resume; run the same "
            f"`negmine train ... -o {run}` command again, without --resume")):
        read_train_summary(run)


def test_an_audit_folder_names_its_flags_file(tmp_path):
    """`negmine report out/audit` (the quickstart's --out-dir) said 'not a finished negmine train output' and named
    nothing in the folder: it names the audit's flags file to give instead. A mine's --denoise flags, which have no
    audit summary, are not named."""
    audit = tmp_path / "audit"
    audit.mkdir()
    (audit / "neg.denoise.flags.jsonl").write_text("")
    from negmine.report.sources import SOURCES

    with pytest.raises(InputError, match=re.escape(f"(its summary is written last); negmine report takes {SOURCES}")):
        read_train_summary(audit)
    for stem in ("audit", "b"):
        (audit / f"{stem}.flags.jsonl").write_text("")
        (audit / f"{stem}.audit-summary.json").write_text("{}")
    result = runner.invoke(build_app(), ["report", str(audit)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: {audit / SUMMARY_NAME}: not found: not a finished negmine train output (its summary is written "
        f"last): {audit} holds the flags of a negmine audit; give the flags file, negmine report "
        f"{audit / 'audit.flags.jsonl'} (also: {audit / 'b.flags.jsonl'})")


def test_an_interrupted_runs_last_checkpoint_is_the_one_resume_takes_even_with_a_marked_state(tmp_path):
    """A checkpoint whose trainer_state.json an editor saved with a byte-order mark was skipped (read as plain UTF-8),
    and the report named the checkpoint before it, while --resume takes the marked one and refuses it for the mark:
    the report names that one, and the mark and its fix."""
    from negmine.train.preflight import find_checkpoint

    run = tmp_path / "run"
    for step in (8, 10):
        (run / "checkpoints" / f"checkpoint-{step}").mkdir(parents=True)
        state = json.dumps({"global_step": step, "max_steps": 30})
        (run / "checkpoints" / f"checkpoint-{step}" / "trainer_state.json").write_text(
            ("\ufeff" if step == 10 else "") + state, encoding="utf-8")
    marked = run / "checkpoints" / "checkpoint-10" / "trainer_state.json"
    with pytest.raises(InputError, match=re.escape(f"{marked}: starts with a byte-order mark")):
        find_checkpoint(run, resume=True)  # what --resume does with it
    with pytest.raises(InputError) as caught:
        read_train_summary(run)
    assert (f"(its last checkpoint: checkpoint-10, at step 10 of 30, which --resume refuses as it is: {marked}: starts "
            "with a byte-order mark (U+FEFF), which transformers cannot read") in str(caught.value)
    assert (f"remove the mark, e.g. sed -i '1s/^\\xEF\\xBB\\xBF//' {marked}, and resume again, or delete "
            f"{run / 'checkpoints' / 'checkpoint-10'} to resume from the checkpoint before it)") in str(caught.value)
    marked.write_text(json.dumps({"global_step": 10, "max_steps": 30}), encoding="utf-8")  # the mark removed
    with pytest.raises(InputError, match=re.escape("(its last checkpoint: checkpoint-10, at step 10 of 30); the report")):
        read_train_summary(run)


def test_the_curves_mark_the_re_mining_steps(tmp_path, monkeypatch):
    from negmine.report import plots

    seen = []
    monkeypatch.setattr(plots, "training_curves", lambda loss, dev, remine=(), resume=(), **_: seen.append(list(remine)) or "")
    summary = _summary(remine=True)
    summary["result"]["remine"].append({"step": 6, "restored": True, "rows_updated": 30})  # re-read after a resume
    summary["result"]["remine"].append({"step": 10, "rows_updated": 30, "seconds": 1.0})
    _write(tmp_path / "m", summary)
    training_report(tmp_path / "m")
    assert seen == [[6, 10]]


def test_the_curves_mark_where_a_resumed_run_went_on(tmp_path, monkeypatch):
    """A run resumed at another logging cadence has two cadences on one loss curve; nothing on it said where."""
    from negmine.report import plots

    seen = []
    monkeypatch.setattr(plots, "training_curves", lambda loss, dev, remine=(), resume=(), **_: seen.append(list(resume)) or "")
    summary = _summary(dev=False)
    summary["result"].update(resumed_from="out/checkpoints/checkpoint-8", timings_parts=[
        {"until_step": 4, "seconds": {"train": 1.0}}, None, {"until_step": 12, "seconds": {"train": 2.0}}])
    _write(tmp_path / "m", summary)
    training_report(tmp_path / "m")
    summary["result"].update(resumed_from=None, timings_parts=[])
    _write(tmp_path / "fresh", summary)
    training_report(tmp_path / "fresh")
    assert seen == [[4, 8], []], "each part's end but the last's, and the last checkpoint resumed from"


def test_the_dev_table_writes_epochs_as_counts_not_as_metrics(tmp_path):
    """The evaluation before the first step is epoch 0 (an int) and showed "0"; the others showed "0.5000"."""
    summary = _summary()
    summary["result"]["dev"] = [{"step": s, "epoch": e, "ndcg@10": 0.6, "mrr@10": 0.5, "recall@100": 0.9, "map": 0.4}
                                for s, e in ((0, 0), (4, 0.5), (8, 1.0), (10, 1.25), (11, 1.3333333333333333))]
    _write(tmp_path / "m", summary)
    dev_rows = training_report(tmp_path / "m").read_text().split("<h2>Dev evaluations</h2>")[1].split("</tbody>")[0]
    epochs = [row.split("<td>")[2].split("</td>")[0] for row in dev_rows.split("<tr>")[2:]]
    assert epochs == ["0", "0.5", "1", "1.25", "1.33"]
    assert "<td>0.6000</td>" in dev_rows, "the metrics keep 4 decimals"


def test_the_dev_plot_and_table_name_the_split_and_data_evaluated(tmp_path, monkeypatch):
    """The plot was titled "Dev split" and the table named nothing, whichever split of whichever folder it scored."""
    from negmine.report import plots

    titles = []
    monkeypatch.setattr(plots, "training_curves", lambda loss, dev, remine=(), resume=(), **kw: titles.append(kw) or "")
    summary = _summary()
    summary["config"]["dev"] = {"data_dir": "/data/beir/scifact", "split": "test", "max_documents": None}
    _write(tmp_path / "m", summary)
    page = training_report(tmp_path / "m").read_text(encoding="utf-8")
    assert '<h2>Dev evaluations</h2>\n<p class="note">test split of /data/beir/scifact</p>' in page
    summary["config"]["dev"].update(split="dev", max_documents=5000)
    _write(tmp_path / "sampled", summary)
    page = training_report(tmp_path / "sampled").read_text(encoding="utf-8")
    assert '<p class="note">dev split of /data/beir/scifact (a sample of at most 5,000 documents)</p>' in page
    summary["config"]["dev"].update(max_documents=1)
    _write(tmp_path / "one", summary)
    page = training_report(tmp_path / "one").read_text(encoding="utf-8")
    assert "(a sample of at most 1 document)</p>" in page  # not '1 documents'
    summary["config"].pop("dev")  # a summary without the dev settings (none is written without --eval-data)
    _write(tmp_path / "unrecorded", summary)
    training_report(tmp_path / "unrecorded")
    assert [kw.get("dev_title") for kw in titles] == [
        "Dev: test split of scifact", "Dev: dev split of scifact (a sample of at most 5,000 documents)",
        "Dev: dev split of scifact (a sample of at most 1 document)", "Dev: the dev split (not recorded)"]


def test_the_configuration_shows_the_values_as_the_summary_json_has_them(tmp_path):
    """The table showed Python's None, True and False, not the null, true and false of negmine_train.json."""
    summary = _summary()
    summary["config"].update(max_steps=None, fn_mask=True, resume=False, output_dir="out/model",
                             dev={"data_dir": "/data/minifacts", "max_documents": None, "keep_best": True},
                             matryoshka_dims=[64, 32], scale=20.0)
    _write(tmp_path / "m", summary)
    page = training_report(tmp_path / "m").read_text(encoding="utf-8").split("<h2>Configuration</h2>")[1]
    for row in ("<td>max_steps</td><td>null</td>", "<td>fn_mask</td><td>true</td>", "<td>resume</td><td>false</td>",
                "<td>output_dir</td><td>out/model</td>", "<td>dev.data_dir</td><td>/data/minifacts</td>",
                "<td>dev.max_documents</td><td>null</td>", "<td>dev.keep_best</td><td>true</td>",
                "<td>matryoshka_dims</td><td>[64, 32]</td>", "<td>scale</td><td>20.0</td>",
                "<td>learning_rate</td><td>0.0001</td>"):
        assert row in page, row
    assert "None" not in page and "True" not in page and "False" not in page


def test_flat_config_writes_paths_plainly_and_other_values_as_json():
    from pathlib import Path

    from negmine.report.training import flat_config

    assert flat_config({"a": Path("out/m"), "b": {"c": None, "d": ["é", Path("x")]}, "e": {}, "f": ""}) == {
        "a": "out/m", "b.c": "null", "b.d": '["é", "x"]', "e": "{}", "f": '""'}


def test_the_remining_table_shows_values_as_the_summary_has_them(tmp_path):
    """The re-mining table showed Python's ``True`` and ``None`` (the configuration table shows JSON since session
    40); a missing field stays an empty cell and numbers keep their format."""
    summary = _summary(remine=True)
    summary["result"]["remine"].append({"step": 10, "restored": True, "file": None, "rows_updated": 30, "seconds": 1.0})
    _write(tmp_path / "m", summary)
    table = training_report(tmp_path / "m").read_text().split("<h2>Re-mining</h2>")[1].split("</table>")[0]
    rows = [re.findall(r"<td>(.*?)</td>", row) for row in table.split("<tr>")[2:]]
    assert re.findall(r"<th>(.*?)</th>", table) == ["file", "restored", "rows_updated", "seconds", "step"]
    assert rows == [["", "", "30", "1.5000", "6"], ["null", "true", "30", "1.0000", "10"]]


@pytest.mark.parametrize("backend, device", [("torch", "mps"), ("onnx", "cpu")])
def test_the_remining_settings_are_those_re_mining_ran_with(tmp_path, backend, device):
    """The mine.* rows are the mined file's recorded configuration: they showed mine.encoder.show_progress true for
    a run trained (and re-mined) with --no-progress, whose re-mining drew no bar, and the mining run's device, which
    re-mining replaces with the run's (TrainConfig.remine_config; an onnx encoder keeps the CPU)."""
    summary = _summary(remine=True)
    summary["config"].update(show_progress=False, device="mps")
    summary["config"]["mine"]["encoder"] = {"model": "mined-with", "show_progress": True, "device": "cpu",
                                            "backend": backend}
    _write(tmp_path / "m", summary)
    page = training_report(tmp_path / "m").read_text(encoding="utf-8").split("<h2>Configuration</h2>")[1]
    assert "mine.encoder.show_progress" not in page
    assert "<tr><td>show_progress</td><td>false</td></tr>" in page
    assert f"<tr><td>mine.encoder.device</td><td>{device}</td></tr>" in page
    assert "<tr><td>mine.encoder.model</td><td>mined-with</td></tr>" in page
    assert "mine.*: the settings re-mining ran with, the mined file&#x27;s mining configuration on this run&#x27;s " \
           "device" in page
    assert summary["config"]["mine"]["encoder"]["show_progress"] is True, "the summary read is left as it is"


@pytest.mark.parametrize("backend, device", [("torch", "mps"), ("onnx", "cpu")])
def test_a_record_without_the_mining_runs_device_still_shows_the_device_re_mining_ran_on(tmp_path, backend, device):
    """negmine_train.json leaves the mining run's show_progress and device out of its mine section: the table
    still names the device re-mining ran on (the run's; an onnx encoder's CPU), as for older records."""
    summary = _summary(remine=True)
    summary["config"].update(device="mps")
    summary["config"]["mine"]["encoder"] = {"model": "mined-with", "backend": backend}
    _write(tmp_path / "m", summary)
    page = training_report(tmp_path / "m").read_text(encoding="utf-8").split("<h2>Configuration</h2>")[1]
    assert f"<tr><td>mine.encoder.device</td><td>{device}</td></tr>" in page
    assert "mine.encoder.show_progress" not in page


def test_the_remining_settings_leave_out_the_mining_runs_workers_folders_and_output_files_of_older_records(tmp_path):
    """Records written before negmine_train.json left RUN_ONLY_FIELDS out hold the mining run's workers, cache and
    work folders and output section: settings that change no mined row, shown as if re-mining had used them (it
    writes its own files). The page shows what a record written now holds, and says what is left out."""
    summary = _summary(remine=True)
    summary["config"]["mine"].update(
        encoder={"model": "mined-with", "cache_dir": "/c", "use_cache": True, "batch_size": 64},
        engine={"workers": 2, "work_dir": "/w", "keep_work": False, "encode_shard_size": 8192},
        output={"path": "negatives.jsonl", "formats": [], "summary_path": None, "export_as": "jsonl"})
    _write(tmp_path / "m", summary)
    page = training_report(tmp_path / "m").read_text(encoding="utf-8").split("<h2>Configuration</h2>")[1]
    shown = re.findall(r"<tr><td>(mine\.[^<]*)</td>", page)
    assert not [name for name in shown if name.startswith("mine.output") or name.split(".")[-1] in
                ("cache_dir", "use_cache", "workers", "work_dir", "keep_work")], shown
    assert {"mine.encoder.batch_size", "mine.engine.encode_shard_size", "mine.select.strategy"} <= set(shown)
    assert "the mining run&#x27;s workers, cache and work folders and output files, which change no mined row, are " \
           "left out" in page


def test_the_training_report_is_never_written_over_the_runs_summary_nor_into_a_directory(tmp_path):
    from negmine.errors import ConfigError

    _write(tmp_path / "m", _summary())
    summary = tmp_path / "m" / SUMMARY_NAME
    before = summary.read_bytes()
    with pytest.raises(ConfigError, match=rf"^--output {re.escape(str(summary))}: this is an input file of the run"):
        training_report(tmp_path / "m", summary)
    with pytest.raises(ConfigError, match=rf"^--output {re.escape(str(tmp_path / 'm'))}: is a directory; give a file "
                                          rf"path, e\.g\. {re.escape(str(tmp_path / 'm' / 'report.html'))}$"):
        training_report(tmp_path / "m", tmp_path / "m")
    assert summary.read_bytes() == before


def test_a_folder_of_mined_files_names_them(tmp_path):
    """`negmine report out` (the quickstart's folder of out/negatives.jsonl) named nothing in it: it names the mined
    files (a .jsonl with its .summary.json) to give instead; an export beside them is not one."""
    out = tmp_path / "out"
    out.mkdir()
    for name in ("negatives.jsonl", "negatives.summary.json", "negatives.n-tuple.jsonl", "b.jsonl", "b.summary.json"):
        (out / name).write_text("")
    result = runner.invoke(build_app(), ["report", str(out)])
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"error: {out / SUMMARY_NAME}: not found: not a finished negmine train output (its summary is written last): "
        f"{out} holds a file negmine mine wrote; give it for its mining report, negmine report {out / 'b.jsonl'} "
        f"(also: {out / 'negatives.jsonl'})")


@pytest.mark.parametrize(("result", "config", "shown"), [
    ({"attention_dropout": 0.0}, {"attention_dropout": "auto"}, "0.0"),  # auto as the run resolved it
    ({"attention_dropout": "model"}, {"attention_dropout": "auto"}, "model&#x27;s own"),
    ({}, {"attention_dropout": None}, "model&#x27;s own"),  # a summary from before auto: None was the model's own
    ({}, {"attention_dropout": 0.0}, "0.0"),
    ({}, {}, "-"),
])
def test_the_overview_shows_the_attention_dropout_the_run_trained_with(tmp_path, result, config, shown):
    summary = _summary(dev=False)
    summary["result"].update(result)
    summary["config"].update(config)
    _write(tmp_path / "m", summary)
    assert f"<b>{shown}</b><span>attention dropout</span>" in training_report(tmp_path / "m").read_text()


def test_the_dev_section_shows_judged_at_10_and_the_queries_each_evaluation_scored(tmp_path):
    """The dev figures said nothing of how far to trust them on partial qrels: each evaluation's judged@10 gets a
    column (with negmine eval's line on reading it), and the queries scored, a fact of the split, are said once in
    the note. A summary written before either was recorded shows neither, and no empty column."""
    summary = _summary()
    summary["config"]["dev"] = {"data_dir": "/data/beir/scifact", "split": "test", "max_documents": None}
    summary["result"]["dev_queries_evaluated"] = 1200
    for entry, judged in zip(summary["result"]["dev"], (0.05, 0.0625, 0.07)):
        entry["judged@10"] = judged
    _write(tmp_path / "m", summary)
    page = training_report(tmp_path / "m").read_text(encoding="utf-8")
    section = page.split("<h2>Dev evaluations</h2>")[1].split("</table>")[0]
    assert section.startswith('\n<p class="note">test split of /data/beir/scifact: 1,200 queries scored at each '
                              'evaluation (those with a relevant judgment)</p><p class="note">judged@10: the share of '
                              "a run&#x27;s top 10 that the qrels judge; "), section
    head = section.split("</thead>")[0]
    assert re.findall(r"<th>([^<]*)</th>", head) == ["step", "epoch", "ndcg@10", "mrr@10", "recall@100", "map",
                                                    "judged@10"]
    assert "<td>0.0625</td>" in section
    assert page.count("1,200 queries") == 1
    summary["result"]["dev_queries_evaluated"] = 1
    _write(tmp_path / "one", summary)
    assert "scifact: 1 query scored at each evaluation" in training_report(tmp_path / "one").read_text(encoding="utf-8")
    older = _summary()
    older["config"]["dev"] = summary["config"]["dev"]
    _write(tmp_path / "older", older)
    section = training_report(tmp_path / "older").read_text(encoding="utf-8").split("<h2>Dev evaluations</h2>")[1]
    assert section.startswith('\n<p class="note">test split of /data/beir/scifact</p><table>')
    assert "judged@10" not in section.split("</table>")[0] and "queries scored" not in section


def test_the_dev_table_has_a_column_for_each_metric_a_dev_evaluation_records():
    from negmine.report.training import DEV_COLUMNS
    from negmine.train.dev_eval import DEV_METRICS

    assert DEV_COLUMNS == DEV_METRICS
