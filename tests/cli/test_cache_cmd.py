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
