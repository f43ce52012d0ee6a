from __future__ import annotations

import re

from typer.testing import CliRunner

from negmine.cli import build_app
from negmine.encode.cache_contents import cache_entries

runner = CliRunner()


def test_cache_list_prints_one_line_per_entry_and_the_total(mined_cache, tiny_model_path):
    result = runner.invoke(build_app(), ["cache", "list", "--cache-dir", str(mined_cache)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    entries = cache_entries(mined_cache)
    assert lines[0] == f"cache: {mined_cache}"
    assert [line.split("  ")[0].strip() for line in lines[1:-1]] == [e.kind for e in entries]
    assert re.search(rf"^embeddings +\d+\.\d KB +2 texts  \d{{4}}-\d\d-\d\d \d\d:\d\d  {re.escape(str(tiny_model_path.resolve()))}, "
                     r"prompt 'query: '  \[[0-9a-f]{64}\]$", result.stdout, flags=re.M), result.stdout
    assert re.search(r"^run work folder +\d+\.\d KB +5 shards  .*  12 documents, 2 queries \(32-dim\)  \[[0-9a-f]{32}\]$",
                     result.stdout, flags=re.M), result.stdout
    total = sum(e.size for e in entries)
    assert lines[-1] == f"total: {total / 1024:.1f} KB ({total} bytes) in 4 entries"


def test_cache_list_counts_a_single_entry_in_the_singular(mined_cache, tmp_path):
    """'in 1 entries' until 2026-12-07."""
    import shutil

    entry = next(e for e in cache_entries(mined_cache) if e.kind == "embeddings")
    shutil.copytree(entry.path, tmp_path / "one" / entry.path.name)
    result = runner.invoke(build_app(), ["cache", "list", "--cache-dir", str(tmp_path / "one")])
    assert result.exit_code == 0, result.output
    assert re.search(r"^total: .* bytes\) in 1 entry$", result.stdout, flags=re.M), result.stdout


def test_cache_list_uses_negmine_cache_by_default(mined_cache, monkeypatch):
    monkeypatch.setenv("NEGMINE_CACHE", str(mined_cache))
    result = runner.invoke(build_app(), ["cache", "list"])
    assert result.exit_code == 0 and result.stdout.startswith(f"cache: {mined_cache}\n"), result.output


def test_cache_prune_without_a_selector_exits_2_naming_the_selectors(copied_cache):
    result = runner.invoke(build_app(), ["cache", "prune", "--cache-dir", str(copied_cache)])
    assert result.exit_code == 2
    assert ("error: negmine cache prune deletes nothing without a selector: give --runs (run work folders no running "
            "job holds), --model NAME_OR_PATH (that model's embeddings and cross-encoder scores) and/or --older-than "
            "DAYS (entries last modified longer ago); see what the cache holds with negmine cache list") in result.output
    assert len(cache_entries(copied_cache)) == 4


def test_cache_prune_runs_dry_run_then_for_real(copied_cache):
    run = cache_entries(copied_cache)[-1]
    args = ["cache", "prune", "--cache-dir", str(copied_cache), "--runs"]
    dry = runner.invoke(build_app(), [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would delete: run work folder" in dry.stdout and f"[{run.path.name}]" in dry.stdout
    assert dry.stdout.splitlines()[-1] == f"would free: {run.size / 1024:.1f} KB ({run.size} bytes)"
    assert run.path.is_dir()
    done = runner.invoke(build_app(), args)
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("deleted: run work folder") and not run.path.exists()
    assert done.stdout.splitlines()[-1] == f"freed: {run.size / 1024:.1f} KB ({run.size} bytes)"
    again = runner.invoke(build_app(), args)
    assert again.stdout == f"nothing selected in {copied_cache}: see its entries with negmine cache list\nfreed: 0 B (0 bytes)\n"


def test_cache_prune_runs_of_stale_lock_files_alone_does_not_say_nothing_was_selected(tmp_path):
    """A cache whose runs/ holds only the lock file of a finished run's folder (a BM25 mine leaves one): prune --runs
    printed that it would delete the lock file, then `nothing selected`."""
    (tmp_path / "runs").mkdir()
    lock = tmp_path / "runs" / f"bm25-{'0' * 32}.lock"
    lock.write_text("", encoding="utf-8")
    args = ["cache", "prune", "--cache-dir", str(tmp_path), "--runs"]
    dry = runner.invoke(build_app(), [*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.stdout == f"would delete: lock file {lock.name} of a run folder that is gone\nwould free: 0 B (0 bytes)\n"
    done = runner.invoke(build_app(), args)
    assert done.stdout == f"deleted: lock file {lock.name} of a run folder that is gone\nfreed: 0 B (0 bytes)\n"
    assert not lock.exists()


def test_cache_prune_says_which_entries_a_running_job_holds(copied_cache):
    from negmine.engine.run_lease import RunLease

    run = cache_entries(copied_cache)[-1]
    lease = RunLease(run.path)
    try:
        result = runner.invoke(build_app(), ["cache", "prune", "--cache-dir", str(copied_cache), "--runs"])
    finally:
        lease.release()
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("kept (in use by a running job; prune again when it ends): run work folder")
    assert run.path.is_dir()


def mine_args(work, model) -> list[str]:
    from negmine.testing.beir import write_beir

    corpus = {f"d{i}": f"cell protein gene study {i}" for i in range(12)}
    beir = write_beir(work / "b", corpus, {"q1": "cell protein", "q2": "gene"}, [("q1", "d0", 1), ("q2", "d1", 1)])
    return ["mine", str(beir), "--model", str(model), "--cache-dir", str(work / "cache"), "--num-negatives", "2",
            "--depth", "8", "--no-sd-margin", "--output", str(work / "o" / "n.jsonl"), "--no-progress"]


def test_cache_list_and_prune_see_the_runs_of_a_work_dir(tmp_path, tiny_model_path):
    """A run given --work-dir keeps its work folder there, where the cache's listing and --runs did not look."""
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    (work_dir / "notes.txt").write_text("the user's")
    mined = runner.invoke(build_app(), [*mine_args(tmp_path, tiny_model_path), "--work-dir", str(work_dir),
                                        "--keep-work"])
    assert mined.exit_code == 0, mined.output
    (run,) = [p for p in work_dir.iterdir() if p.is_dir()]
    cache = ["--cache-dir", str(tmp_path / "cache")]
    listed = runner.invoke(build_app(), ["cache", "list", *cache, "--work-dir", str(work_dir)])
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[lines.index(f"work dir: {work_dir}") + 1].startswith("run work folder")
    assert lines[lines.index(f"work dir: {work_dir}") + 1].endswith(f"12 documents, 2 queries (32-dim)  [{run.name}]")
    assert lines[-1].endswith("in 2 entries") and "notes.txt" not in listed.stdout  # the embeddings and the run
    pruned = runner.invoke(build_app(), ["cache", "prune", *cache, "--runs", "--work-dir", str(work_dir)])
    assert pruned.exit_code == 0, pruned.output
    assert pruned.stdout.startswith("deleted: run work folder") and f"[{run.name}]" in pruned.stdout
    assert sorted(p.name for p in work_dir.iterdir()) == ["notes.txt"]
    again = runner.invoke(build_app(), ["cache", "prune", *cache, "--model", "gone", "--work-dir", str(run.parent)])
    assert again.exit_code == 0, again.output  # emptied by prune: a work folder with no run left
    assert again.stdout.startswith(f"nothing selected in {tmp_path / 'cache'} and {work_dir}: ")
    other = runner.invoke(build_app(), ["cache", "prune", "--cache-dir", str(tmp_path / "other"), "--model", "gone",
                                        "--work-dir", str(run.parent)])  # a cache whose prune never emptied it
    assert other.exit_code == 2
    assert f"error: {work_dir}: --work-dir: holds no run work folder of negmine" in other.output


def test_cache_list_of_a_work_dir_prune_emptied_says_it_holds_no_run(tmp_path, tiny_model_path):
    """`mine --work-dir DIR`, `cache prune --runs --work-dir DIR`, then `cache list --work-dir DIR` exited 2 with the
    long message of a mistyped folder (measured on the demo, 2026-12-06); a folder never used keeps that error."""
    work_dir = tmp_path / "work"
    mined = runner.invoke(build_app(), [*mine_args(tmp_path, tiny_model_path), "--work-dir", str(work_dir),
                                        "--keep-work"])
    assert mined.exit_code == 0, mined.output
    cache = ["--cache-dir", str(tmp_path / "cache")]
    pruned = runner.invoke(build_app(), ["cache", "prune", *cache, "--runs", "--work-dir", str(work_dir)])
    assert pruned.exit_code == 0 and pruned.stdout.startswith("deleted: run work folder"), pruned.output
    assert list(work_dir.iterdir()) == []  # the run folder and its lock file went; prune leaves nothing there
    listed = runner.invoke(build_app(), ["cache", "list", *cache, "--work-dir", str(work_dir)])
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[lines.index(f"work dir: {work_dir}"):] == [
        f"work dir: {work_dir}", "no run work folders (negmine cache prune removed them)", lines[-1]]
    assert re.search(r"^other .*  the --work-dir folders prune emptied of runs \(cache list --work-dir reads it\)  "
                     r"\[emptied-work-dirs.json\]$", listed.stdout, flags=re.M), listed.stdout
    (tmp_path / "never").mkdir()
    for folder in [tmp_path / "never", tmp_path / "typo"]:
        refused = runner.invoke(build_app(), ["cache", "list", *cache, "--work-dir", str(folder)])
        assert refused.exit_code == 2
        assert f"error: {folder}: --work-dir: {'not found' if folder.name == 'typo' else 'holds no run'}" in \
            refused.output


def test_cache_list_refuses_a_work_dir_that_is_not_there(copied_cache, tmp_path):
    result = runner.invoke(build_app(), ["cache", "list", "--cache-dir", str(copied_cache), "--work-dir",
                                         str(tmp_path / "typo")])
    assert result.exit_code == 2
    assert (f"error: {tmp_path / 'typo'}: --work-dir: not found; expected the work folder of negmine mine or audit "
            "runs; give the folder a run was given as negmine mine --work-dir DIR or negmine audit --work-dir DIR "
            "(its work folders are DIR/<run key>/)") in result.output


def test_cache_prune_names_the_work_dirs_when_nothing_is_selected(copied_cache, copied_work_dir):
    args = ["cache", "prune", "--cache-dir", str(copied_cache), "--model", "no-such-model"]
    result = runner.invoke(build_app(), [*args, "--work-dir", str(copied_work_dir)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (f"nothing selected in {copied_cache} and {copied_work_dir}: see their "
                                             f"entries with negmine cache list --work-dir {copied_work_dir}")
