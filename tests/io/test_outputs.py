from dataclasses import replace
from pathlib import Path

import pytest

from negmine.errors import ConfigError
from negmine.io.outputs import check_output_dir, check_output_file


def test_a_writable_new_file_passes_and_nothing_is_left_behind(tmp_path):
    check_output_file(tmp_path / "deep" / "er" / "out.jsonl", "--output")
    check_output_dir(tmp_path / "runs", "--runs-dir")
    check_output_dir(tmp_path, "--runs-dir")
    assert list(tmp_path.iterdir()) == []  # no probe file and no directory made


def test_an_existing_file_may_be_replaced(tmp_path):
    (tmp_path / "out.jsonl").write_text("old\n")
    check_output_file(tmp_path / "out.jsonl", "--output")


def test_a_directory_given_as_the_output_file_names_the_option_and_the_fix(tmp_path):
    (tmp_path / "out").mkdir()
    with pytest.raises(ConfigError, match=r"--output .*out: is a directory; give a file path, e\.g\. .*out/out\.jsonl"):
        check_output_file(tmp_path / "out", "--output")


def test_a_file_on_the_way_to_the_output_is_named(tmp_path):
    (tmp_path / "afile").write_text("")
    with pytest.raises(ConfigError, match=r"--flags .*afile/x/y\.jsonl: .*afile is a file, not a directory"):
        check_output_file(tmp_path / "afile" / "x" / "y.jsonl", "--flags")


def test_a_file_given_as_the_output_directory(tmp_path):
    (tmp_path / "afile").write_text("")
    with pytest.raises(ConfigError, match=r"--runs-dir .*afile: exists and is not a directory"):
        check_output_dir(tmp_path / "afile", "--runs-dir")


def test_a_device_is_not_replaced():
    with pytest.raises(ConfigError, match=r"--output /dev/null: exists and is not a regular file"):
        check_output_file(Path("/dev/null"), "--output")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_a_place_where_no_file_can_be_created_is_caught_by_the_probe():
    """/proc takes no new files, whatever its permission bits say (root passes os.access anywhere)."""
    with pytest.raises(ConfigError, match=r"--output /proc/negmine/out\.jsonl: cannot create files in /proc .*choose a writable location"):
        check_output_file(Path("/proc/negmine/out.jsonl"), "--output")


def test_an_output_that_is_an_input_file_is_refused_under_any_spelling(tmp_path, monkeypatch):
    from negmine.io.outputs import check_outputs_distinct, input_files

    beir = tmp_path / "beir"
    (beir / "qrels").mkdir(parents=True)
    for name in ("corpus.jsonl", "queries.jsonl", "qrels/train.tsv", "qrels/test.tsv", "notes.jsonl"):
        (beir / name).write_text("x\n")
    inputs = input_files(beir, tmp_path / "runs.trec")
    monkeypatch.chdir(tmp_path)
    for spelling in ("beir/corpus.jsonl", "beir/../beir/qrels/test.tsv", str(tmp_path / "runs.trec")):
        with pytest.raises(ConfigError, match=r"--output .*: this is an input file of the run .*choose another"):
            check_outputs_distinct({"--output": Path(spelling)}, inputs)
    check_outputs_distinct({"--output": beir / "notes.jsonl", "--summary-json": None}, inputs)  # not read: fine


def test_an_output_inside_a_saved_dataset_folder_given_as_pairs_is_refused(tmp_path):
    """negmine mine --pairs DIR (a folder Dataset.save_to_disk wrote) -o DIR/data-00000-of-00001.arrow replaced the
    data file of the dataset it read."""
    from negmine.io.outputs import check_outputs_distinct, input_files

    saved = tmp_path / "saved"
    saved.mkdir()
    for name in ("data-00000-of-00001.arrow", "dataset_info.json", "state.json"):
        (saved / name).write_text("x\n")
    inputs = input_files(None, saved)
    with pytest.raises(ConfigError, match=r"--output .*data-00000-of-00001\.arrow: this is an input file of the run"):
        check_outputs_distinct({"--output": saved / "data-00000-of-00001.arrow"}, inputs)
    check_outputs_distinct({"--output": saved / "negatives.jsonl"}, inputs)  # a new file beside them: fine


def test_two_outputs_naming_one_file_are_refused(tmp_path):
    from negmine.io.outputs import check_outputs_distinct

    with pytest.raises(ConfigError, match=r"--output .*out\.jsonl: --flags names the same file"):
        check_outputs_distinct({"--flags": tmp_path / "out.jsonl", "--output": tmp_path / "out.jsonl"}, [])


def test_a_file_as_the_cache_dir_is_refused_before_any_work_by_mine_audit_and_eval(tmp_path):
    """It failed only after the model had loaded, naming a folder inside it ('FILE/runs: Not a directory')."""
    from negmine.audit.api import check_outputs as audit_outputs
    from negmine.config import AuditConfig, DataConfig, EncoderConfig, EvalConfig, MineConfig, OutputConfig
    from negmine.evaluate.api import check_outputs as eval_outputs
    from negmine.pipeline.mine import check_outputs as mine_outputs

    cache = tmp_path / "cache"
    cache.write_text("")
    encoder = EncoderConfig(cache_dir=cache)
    expected = f"--cache-dir {cache}: exists and is not a directory; give a directory path"
    mined = tmp_path / "m.jsonl"
    mined.write_text("")
    configs = [(mine_outputs, MineConfig(data=DataConfig(data_dir=tmp_path / "b"), encoder=encoder,
                                         output=OutputConfig(path=tmp_path / "o.jsonl"))),
               (audit_outputs, AuditConfig(input=mined, encoder=encoder)),
               (eval_outputs, EvalConfig(data_dir=tmp_path / "b", encoder=encoder))]
    for check, config in configs:
        with pytest.raises(ConfigError) as info:
            check(config)
        assert str(info.value) == expected
    check_outputs_mine = configs[0][1]
    mine_outputs(replace(check_outputs_mine, encoder=EncoderConfig(cache_dir=tmp_path / "new" / "cache")))
    assert not (tmp_path / "new").exists()  # checked, not created
