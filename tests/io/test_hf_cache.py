"""The copies of a hub dataset in datasets' cache, and telling its cache builder's "no copy" from its other errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from negmine.io.hf_cache import (
    CACHE_BUILDER_MODULE,
    CachedCopy,
    cached_copies,
    cached_reads,
    damaged_file,
    damaged_info,
    is_cache_miss,
    missing_rows,
    split_config_id,
)

datasets = pytest.importorskip("datasets")


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-datasets-cache")
    return tmp_path / "hf-datasets-cache"


def test_the_cache_builder_module_is_where_datasets_keeps_it():
    """is_cache_miss looks for this module on the error's traceback; were it moved, only the words would tell."""
    from datasets.packaged_modules.cache.cache import Cache

    assert Cache.__module__ == CACHE_BUILDER_MODULE


def _copy(cache: Path, folder: str, config: str, splits: list[str], dataset: str = "org___nq") -> None:
    path = cache / dataset / folder / "0.0.0" / "0123456789abcdef0123456789abcdef01234567"
    path.mkdir(parents=True)
    info = datasets.DatasetInfo(config_name=config, splits=datasets.SplitDict())
    for split in splits:
        info.splits.add(datasets.SplitInfo(name=split, num_examples=1))
    info.write_to_directory(str(path))


def test_the_copies_of_a_dataset_are_read_from_its_folder_in_the_cache(cache):
    _copy(cache, "default", "default", ["train", "test"])
    _copy(cache, split_config_id(None, ["train"]), "default", ["train"])
    _copy(cache, "other", "other", ["train"], dataset="org___qa")
    (cache / "org___nq" / "broken" / "0.0.0" / "x").mkdir(parents=True)  # no dataset_info.json: no copy
    (cache / "org___nq" / "broken" / "0.0.0" / "x.lock").write_text("", encoding="utf-8")
    assert cached_copies("org/nq") == [CachedCopy("default", "default", ("test", "train")),
                                       CachedCopy("default-split=train", "default", ("train",))]
    assert cached_copies("org/NQ") == cached_copies("org/nq")  # datasets' folder: the name in snake case
    assert cached_copies("org/none") == []


def test_each_copy_is_read_by_the_hf_values_that_name_it():
    """A copy of every split by config and split; a copy of splits alone by the split key it was prepared for,
    with the config only when one was given; a folder hf: never writes by none."""
    copies = [CachedCopy("pair", "pair", ("test", "train")),
              CachedCopy(split_config_id(None, ["train"]), "triplet", ("train",)),  # the hub's default config
              CachedCopy(split_config_id(None, ["test", "validation"]), "default", ("test", "validation")),
              CachedCopy(split_config_id("pair", ["validation"]), "pair", ("validation",)),
              CachedCopy("default-data_dir=x", "default", ("train",))]
    assert cached_reads(copies) == [(None, "test+validation"), (None, "train"), ("pair", "test"), ("pair", "train"),
                                    ("pair", "validation")]


def _raised_by_datasets_cache_builder(name: str) -> ValueError:
    from datasets.packaged_modules.cache.cache import Cache

    with pytest.raises(ValueError) as info:
        Cache(dataset_name=name.split("/")[-1], repo_id=name, hash="auto", version="auto", split="train")
    return info.value


def test_a_miss_is_the_cache_builders_error_while_no_copy_of_every_split_is_cached(cache):
    err = _raised_by_datasets_cache_builder("org/nq")
    assert is_cache_miss(err, "org/nq", None) and is_cache_miss(err, "org/nq", "pair")
    assert is_cache_miss(ValueError("Couldn't find cache for org/nq"), "org/nq", None)  # the words, raised elsewhere
    assert not is_cache_miss(ValueError("BuilderConfig 'pair' not found"), "org/nq", "pair")  # neither
    assert not is_cache_miss(TypeError("Couldn't find cache for org/nq"), "org/nq", None)
    _copy(cache, "default", "default", ["train", "test"])
    assert not is_cache_miss(err, "org/nq", None)  # a copy of every split: datasets found another fault
    assert is_cache_miss(err, "org/nq", "pair") and not is_cache_miss(err, "org/nq", "default")


def _prepared(tmp_path: Path, rows: int, writer_batch_size: int | None = None, shards: int = 1):
    """A builder whose copy of split ``train`` (``rows`` rows per data file, in batches of ``writer_batch_size``)
    and ``test`` is prepared, ``train`` from ``shards`` data files, each in a file of its own (datasets names them
    NAME-SPLIT-00000-of-0000N.arrow) when there are several."""
    folder = tmp_path / "nq"
    folder.mkdir()
    for k in range(shards):
        (folder / f"train-{k}.jsonl").write_text("".join(json.dumps({"a": f"text {i}"}) + "\n" for i in range(rows)))
    (folder / "test.jsonl").write_text(json.dumps({"a": "x"}) + "\n")
    builder = datasets.load_dataset_builder(str(folder), writer_batch_size=writer_batch_size)
    builder.download_and_prepare(max_shard_size=None if shards == 1 else 1)
    return builder


def test_a_missing_or_cut_file_of_the_splits_read_is_named_with_what_is_wrong(tmp_path):
    """pyarrow's error for a cut-short Arrow file named no file; the file, the first one wrong of the splits read."""
    builder = _prepared(tmp_path, 4)
    train, test = (Path(builder.cache_dir) / f"nq-{split}.arrow" for split in ("train", "test"))
    assert damaged_file(builder, ["train"]) is None and damaged_file(builder, None) is None
    test.unlink()
    assert damaged_file(builder, ["train"]) is None  # a split not read
    assert damaged_file(builder, None) == (test, "is missing")
    train.write_bytes(train.read_bytes()[:-100])
    found = damaged_file(builder, ["train", "test"])
    assert found[0] == train and found[1].startswith("cannot be read whole (Expected to read ")
    assert damaged_file(builder, ["dev"]) is None  # no such split: datasets says so


def test_the_shards_of_a_split_are_looked_at_each(tmp_path):
    builder = _prepared(tmp_path, 20, shards=2)
    shards = sorted(Path(builder.cache_dir).glob("nq-train-*.arrow"))
    assert [p.name for p in shards] == ["nq-train-00000-of-00002.arrow", "nq-train-00001-of-00002.arrow"]
    assert damaged_file(builder, ["train"]) is None
    shards[1].write_bytes(b"")
    assert damaged_file(builder, ["train"]) == (
        shards[1], "cannot be read whole (Tried reading schema message, was null or length 0)")


def test_a_split_read_with_fewer_rows_than_its_copy_records_is_told(tmp_path):
    """A file cut between two batches of rows reads without an error: only the count the copy records tells."""
    builder = _prepared(tmp_path, 10, writer_batch_size=4)
    assert missing_rows(builder, "train", 10) is None and missing_rows(builder, "dev", 3) is None
    assert missing_rows(builder, "train", 4) == (
        "split 'train' reads as 4 rows, and the copy's dataset_info.json records 10 (a file cut short between two "
        "batches of rows)")
    assert missing_rows(builder, "train", 1).startswith("split 'train' reads as 1 row, and")  # not '1 rows'


def test_a_copy_whose_info_is_not_json_is_found_among_the_datasets_copies(tmp_path, cache):
    """Among the copies of a hub dataset (NAMESPACE___NAME) or of a local folder of files (its name in snake case)."""
    _copy(cache, "default", "default", ["train"])
    _copy(cache, "pair", "pair", ["train"])
    assert damaged_info("org/nq") is None
    info = cache / "org___nq" / "pair" / "0.0.0" / "0123456789abcdef0123456789abcdef01234567" / "dataset_info.json"
    info.write_text("", encoding="utf-8")
    assert damaged_info("org/nq") == (info.parent, "dataset_info.json cannot be read (Expecting value: line 1 column "
                                      "1 (char 0))")
    builder = _prepared(tmp_path, 2)
    assert damaged_info(str(tmp_path / "nq")) is None
    (Path(builder.cache_dir) / "dataset_info.json").write_text("{", encoding="utf-8")
    assert damaged_info(str(tmp_path / "nq"))[0] == Path(builder.cache_dir)
