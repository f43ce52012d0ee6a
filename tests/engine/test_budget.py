from __future__ import annotations

import pytest

from negmine.config import EngineConfig
from negmine.engine.budget import RESERVE, budget_shard_rows, search_shard_rows
from negmine.errors import ConfigError


def test_budget_leaves_room_for_fixed_costs():
    rows = budget_shard_rows(4 << 30, 1_000_000, 384, 10_000, 100)
    fixed = RESERVE + 64 * 1_000_000 + 36 * 10_000 * 100 + 4 * 10_000 * 384
    assert rows == ((4 << 30) - fixed) // (8 * 384)
    assert fixed + 8 * 384 * rows <= 4 << 30


@pytest.mark.parametrize("n_docs", [1_000_000, 300])
def test_too_small_budget_names_a_minimum_that_then_passes(n_docs):
    from negmine.config import parse_size

    with pytest.raises(ConfigError, match=r"raise memory_budget \(--memory-budget\) to at least \d+M$") as info:
        budget_shard_rows(1 << 30, n_docs, 384, 10_000, 100)
    minimum = str(info.value).rsplit(" ", 1)[-1]
    assert budget_shard_rows(parse_size(minimum), n_docs, 384, 10_000, 100) >= min(n_docs, 1024)
    with pytest.raises(ConfigError):  # and it is the minimum, to the MiB
        budget_shard_rows(parse_size(minimum) - 2**20, n_docs, 384, 10_000, 100)


@pytest.mark.parametrize(("n_docs", "n_queries", "text"), [
    (1, 1, "1 document x 1 query"), (2, 3, "2 documents x 3 queries")])
def test_too_small_budget_counts_documents_and_queries(n_docs, n_queries, text):
    """'1 documents x 1 queries' until 2026-12-07."""
    with pytest.raises(ConfigError, match=rf"GiB is too small for {text} \(dim 384, depth 10\)"):
        budget_shard_rows(1 << 10, n_docs, 384, n_queries, 10)


def test_explicit_shard_size_wins_and_is_capped_by_corpus():
    assert search_shard_rows(EngineConfig(shard_size=500, memory_budget="8G"), 65536, 10_000, 8, 5, 3) == 500
    assert search_shard_rows(EngineConfig(), 65536, 1000, 8, 5, 3) == 1000
    assert search_shard_rows(EngineConfig(memory_budget="2G"), 65536, 10**6, 8, 5, 3) > 65536


def test_config_rejects_bad_values():
    with pytest.raises(ConfigError, match="^memory_budget 'lots' is not a size: "):
        EngineConfig(memory_budget="lots").validate()
    with pytest.raises(ConfigError, match="unknown engine 'spark'; allowed: local, ray"):
        EngineConfig(name="spark").validate()
    with pytest.raises(ConfigError, match="unknown index 'lsh'"):
        EngineConfig(index="lsh").validate()


def test_budget_is_shared_by_concurrent_workers():
    one = search_shard_rows(EngineConfig(memory_budget="2G"), 65536, 10**6, 384, 10_000, 100)
    two = search_shard_rows(EngineConfig(memory_budget="2G"), 65536, 10**6, 384, 10_000, 100, workers=2)
    assert one == budget_shard_rows(2 << 30, 10**6, 384, 10_000, 100) < 10**6
    assert two == one // 2


def test_a_worker_count_to_compute_is_asked_only_under_a_memory_budget():
    """Asking a Ray engine its pool size starts Ray: a run with a fixed or default shard size must not."""
    asked = []
    workers = lambda: asked.append(1) or 2  # noqa: E731
    assert search_shard_rows(EngineConfig(shard_size=500), 65536, 10_000, 8, 5, 3, workers) == 500
    assert search_shard_rows(EngineConfig(), 65536, 1000, 8, 5, 3, workers) == 1000
    assert not asked
    two = search_shard_rows(EngineConfig(memory_budget="2G"), 65536, 10**6, 384, 10_000, 100, workers)
    assert asked == [1] and two == search_shard_rows(EngineConfig(memory_budget="2G"), 65536, 10**6, 384, 10_000, 100, 2)


def test_ann_indexes_get_smaller_shards_for_their_vector_copy():
    flat = budget_shard_rows(4 << 30, 10**6, 384, 10_000, 100, "flat")
    ivf = budget_shard_rows(4 << 30, 10**6, 384, 10_000, 100, "ivf")
    fixed = RESERVE + 64 * 10**6 + 36 * 10_000 * 100 + 4 * 10_000 * 384
    assert ivf < flat and fixed + ivf * (12 * 384 + 256) <= 4 << 30 < fixed + (ivf + 1) * (12 * 384 + 256)


@pytest.fixture
def roomy_machine(monkeypatch):
    """Layouts that do not depend on the memory of the machine running the tests."""
    import negmine.engine.budget as budget

    monkeypatch.setattr(budget, "available_memory", lambda: None)


def test_bm25_layout_caps_parallel_shards_by_shards_and_memory_budget(roomy_machine):
    from negmine.engine.budget import BM25_BYTES_PER_DOC, bm25_layout

    assert bm25_layout(EngineConfig(workers=8), 1_000_000, 3_500_000, 1000, 100) == (437_500, 8)  # one per worker
    assert bm25_layout(EngineConfig(workers=8), 1_000_000, 3_500_000, 1000, 100).shard_size * 8 == 3_500_000
    assert bm25_layout(EngineConfig(workers=8), 100, 350, 1000, 100) == (100, 4)  # small: 4 shards of 100
    each = BM25_BYTES_PER_DOC * 1_000_000 + 12 * 1000 * 100
    budget = RESERVE + 3 * each
    assert bm25_layout(EngineConfig(workers=8, memory_budget=str(budget)), 1_000_000, 10**7, 1000, 100) == (10**6, 3)
    tiny = EngineConfig(workers=8, memory_budget="1G")  # less than one shard's peak: still one at a time
    assert bm25_layout(tiny, 1_000_000, 10**7, 1000, 100).search_workers == 1
    assert bm25_layout(EngineConfig(workers=1), 1_000_000, 10**7, 1000, 100) == (1_000_000, 1)


def test_without_a_budget_parallel_shards_are_capped_by_the_memory_left(monkeypatch):
    import negmine.engine.budget as budget

    each = budget.BM25_BYTES_PER_DOC * 1_000_000 + 12 * 1000 * 100
    monkeypatch.setattr(budget, "available_memory", lambda: 2 * each + 1)
    assert budget.bm25_layout(EngineConfig(workers=8), 1_000_000, 10**7, 1000, 100) == (10**6, 2)
    monkeypatch.setattr(budget, "available_memory", lambda: each // 2)  # not even one: one at a time
    assert budget.bm25_layout(EngineConfig(workers=8), 1_000_000, 10**7, 1000, 100) == (10**6, 1)
    explicit = EngineConfig(workers=8, memory_budget=str(RESERVE + 5 * each))  # a budget wins over the machine
    assert budget.bm25_layout(explicit, 1_000_000, 10**7, 1000, 100) == (10**6, 5)


def _write(root, files: dict) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_available_memory_reads_meminfo_and_a_container_limit(tmp_path):
    from negmine.engine.budget import available_memory

    proc, v2, v1, free = tmp_path / "proc", tmp_path / "v2", tmp_path / "v1", tmp_path / "free"
    _write(proc, {"meminfo": "MemTotal:       24000000 kB\nMemAvailable:    8000000 kB\n"})
    _write(v2, {"memory.max": "4294967296\n", "memory.current": "1073741824\n"})
    _write(v1, {"memory/memory.limit_in_bytes": "2147483648\n", "memory/memory.usage_in_bytes": "1073741824\n"})
    _write(free, {"memory.max": "max\n", "memory.current": "123\n"})
    assert available_memory(proc, tmp_path / "none") == 8_000_000 * 1024  # no cgroup: the kernel's figure
    assert available_memory(proc, v2) == 3 << 30  # container limit 4 GiB, 1 GiB used
    assert available_memory(proc, v1) == 1 << 30
    assert available_memory(proc, free) == 8_000_000 * 1024  # cgroup without a limit
    assert available_memory(tmp_path / "none", tmp_path / "none") is None  # not Linux: nothing capped


def test_bm25_layout_splits_a_one_shard_corpus_between_workers_from_100k_documents(roomy_machine):
    from negmine.engine.budget import PARALLEL_BM25_MIN, bm25_layout

    assert PARALLEL_BM25_MIN == 100_000
    assert bm25_layout(EngineConfig(workers=2), 1_000_000, 900_000, 1000, 100) == (450_000, 2)
    assert bm25_layout(EngineConfig(workers=3), 1_000_000, 100_000, 1000, 100) == (33_334, 3)
    assert bm25_layout(EngineConfig(workers=2), 1_000_000, 99_999, 1000, 100) == (1_000_000, 1)  # one index
    assert bm25_layout(EngineConfig(workers=1), 1_000_000, 900_000, 1000, 100) == (1_000_000, 1)
    assert bm25_layout(EngineConfig(workers=4), 1_000_000, 2_500_000, 1000, 100) == (625_000, 4)
