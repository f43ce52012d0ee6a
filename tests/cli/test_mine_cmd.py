from __future__ import annotations

import json

from typer.testing import CliRunner

from negmine.cli import build_app

runner = CliRunner()


def test_mine_cli_writes_output_and_summary(tmp_path, tiny_model_path):
    from negmine.testing.beir import write_beir

    corpus = {f"d{i}": f"cell protein gene study {i} " + "blood " * (i % 3) for i in range(12)}
    beir = write_beir(tmp_path / "b", corpus, {"q1": "cell protein", "q2": "gene blood"}, [("q1", "d0", 1), ("q2", "d1", 1)])
    out = tmp_path / "o" / "neg.jsonl"
    result = runner.invoke(
        build_app(),
        ["mine", str(beir), "--model", str(tiny_model_path), "--num-negatives", "2", "--depth", "8",
         "--cache-dir", str(tmp_path / "cache"), "--output", str(out), "--export", "n-tuple", "--no-progress",
         # a random tiny model scores every text alike: switch the positive-aware filters off
         "--no-relative-margin", "--near-dup-threshold", "0", "--near-dup-overlap", "0"],
    )
    assert result.exit_code == 0, result.output
    assert "pairs: 2 in, 2 out" in result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["query_id"] for r in rows] == ["q1", "q2"]
    summary = json.loads((tmp_path / "o" / "neg.summary.json").read_text())
    assert summary["config"]["encoder"]["model"] == str(tiny_model_path)
    assert (tmp_path / "o" / "neg.n-tuple.jsonl").exists()


def test_mine_cli_bad_input_is_one_line_and_exit_2(tmp_path):
    beir = tmp_path / "b"
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text('{"_id": "d1", "text": "x"}\n{"_id": "d2", "text": \n')
    (beir / "queries.jsonl").write_text('{"_id": "q1", "text": "y"}\n')
    (beir / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    result = runner.invoke(build_app(), ["mine", str(beir), "--output", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert "corpus.jsonl:2" in result.output and "malformed JSON" in result.output
    assert "Traceback" not in result.output


def test_mine_cli_unknown_strategy_lists_choices(tmp_path):
    result = runner.invoke(build_app(), ["mine", str(tmp_path), "--strategy", "hardest"])
    assert result.exit_code == 2
    assert "unknown strategy 'hardest'; allowed: random, range, simans, top" in result.output


def test_mine_cli_max_positive_rank_reaches_the_config(tmp_path):
    result = runner.invoke(build_app(), ["mine", str(tmp_path), "--depth", "10", "--max-positive-rank", "20"])
    assert result.exit_code == 2
    assert "max_positive_rank 20 is beyond the candidate depth 10" in result.output
