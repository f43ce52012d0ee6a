"""The training benchmark's variants build valid configs (a broken override would only show after an hour)."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

import pytest

from negmine.config import MineConfig, TrainConfig
from negmine.pipeline.recorded_config import config_from_dict, recorded_train_config
from negmine.train import TRAINING_VERSION
from negmine.train.run_settings import check_resume_settings, record_run_settings

from .conftest import BENCHMARKS


@pytest.fixture(scope="module")
def bench(import_benchmark):
    return import_benchmark("train_scifact")


def _negmine_sources(bench) -> list[str]:
    return sorted({v.source for v in bench.VARIANTS.values() if v.source != "st"})


def test_every_mined_source_builds_a_valid_mine_config(bench, tmp_path: Path) -> None:
    for source in _negmine_sources(bench):
        config = bench.mine_config(tmp_path, source, tmp_path / f"{source}.jsonl", tmp_path / "cache")
        config.validate()
        assert config.select.strategy == source.split("-")[1]


def test_tag_overrides_change_exactly_the_named_fields(bench, tmp_path: Path) -> None:
    plain = bench.mine_config(tmp_path, "negmine-top", tmp_path / "x.jsonl", tmp_path / "cache")
    margin = bench.mine_config(tmp_path, "negmine-top-nomargin", tmp_path / "x.jsonl", tmp_path / "cache")
    assert (margin.filters.relative_margin, margin.filters.sd_margin) == (None, None)  # naive top-k
    assert dataclasses.replace(margin, filters=plain.filters) == plain
    ten = bench.mine_config(tmp_path, "negmine-top-margin10", tmp_path / "x.jsonl", tmp_path / "cache")
    assert (ten.filters.relative_margin, ten.filters.sd_margin) == (0.10, None)  # the relative rule alone
    assert plain.filters == MineConfig().filters


def test_a_mined_file_is_reused_only_while_its_recorded_config_is_the_current_one(bench, tmp_path) -> None:
    import json

    config = bench.mine_config(tmp_path, "negmine-top", tmp_path / "m.jsonl", tmp_path / "cache")
    assert not bench._mined_with(config)  # nothing mined yet
    config.output.path.write_text("{}\n")
    recorded = json.loads(json.dumps(dataclasses.asdict(config), default=str))
    from negmine.encode.fingerprint import FINGERPRINT_VERSION
    from negmine.select import SELECTION_VERSION

    summary = tmp_path / "m.summary.json"
    summary.write_text(json.dumps({"config": recorded, "embeddings": {"fingerprint_version": FINGERPRINT_VERSION},
                                   "selection_version": SELECTION_VERSION}))
    assert bench._mined_with(config)
    old_default = dataclasses.replace(config, filters=dataclasses.replace(config.filters, sd_margin=None,
                                                                           relative_margin=0.05))
    assert not bench._mined_with(old_default)  # a changed default re-mines
    summary.write_text(json.dumps({"config": recorded, "embeddings": {"fingerprint_version": FINGERPRINT_VERSION - 1},
                                   "selection_version": SELECTION_VERSION}))
    assert not bench._mined_with(config)  # so does a file mined from an older encoder's vectors
    summary.write_text(json.dumps({"config": recorded, "embeddings": {"fingerprint_version": FINGERPRINT_VERSION}}))
    assert not bench._mined_with(config)  # and one chosen by older selection code (no selection_version: 1)


def test_the_heldout_copy_follows_a_re_mined_file(bench, tmp_path) -> None:
    import json

    held = next(q for q in map(str, range(100)) if bench.is_heldout(q))
    kept = [q for q in map(str, range(100)) if not bench.is_heldout(q)]
    mined = tmp_path / "mined.jsonl"
    mined.write_text("".join(json.dumps({"query_id": q}) + "\n" for q in (held, kept[0])))
    copy = bench.without_heldout(mined, tmp_path)
    assert [json.loads(line)["query_id"] for line in copy.read_text().splitlines()] == [kept[0]]
    mined.write_text("".join(json.dumps({"query_id": q}) + "\n" for q in (kept[1], held)))
    assert [json.loads(line)["query_id"] for line in bench.without_heldout(mined, tmp_path).read_text().splitlines()] == [kept[1]]


def test_every_variant_builds_a_valid_train_config(bench, tmp_path: Path) -> None:
    for name, variant in bench.VARIANTS.items():
        settings = {**bench.SHARED, **variant.overrides, "seed": variant.seeds[0]}
        if settings.get("remine_steps"):  # train_variant passes the mining config re-mining needs
            settings["mine"] = bench.mine_config(tmp_path, "negmine-top", tmp_path / "mined.jsonl", tmp_path / "c")
        TrainConfig(train_file=tmp_path / "mined.jsonl", output_dir=tmp_path / name, **settings).validate()


def _variant_names() -> list[str]:
    """VARIANTS' names, read from the script's source (collection imports no benchmark)."""
    tree = ast.parse((BENCHMARKS / "train_scifact.py").read_text(encoding="utf-8"))
    found = [node.value for node in tree.body if isinstance(node, ast.AnnAssign) and node.target.id == "VARIANTS"]
    return [key.value for key in found[0].keys]


def test_the_round_trip_tests_cover_every_variant(bench) -> None:
    assert _variant_names() == list(bench.VARIANTS)


@pytest.mark.parametrize("name", _variant_names())
def test_a_variants_config_rebuilt_from_its_training_record_finds_its_model_and_resumes(bench, tmp_path, name):
    """A variant's config, recorded as negmine train records it (negmine_train.json's "config") and rebuilt from
    that record, names the same model folder, is found finished by the record, records the same, and resumes from
    the run settings the original recorded. The re-mining variant's folder digest covered its mining run's cache
    folder, progress and output file, which the record leaves out: rebuilt, it named another folder and retrained."""
    variant = bench.VARIANTS[name]
    work, mined = tmp_path / "work", tmp_path / "mined" / "m.jsonl"
    mined.parent.mkdir()
    mined.write_text("{}\n")
    config = bench.variant_config(variant.source, mined, variant.overrides, variant.seeds[0], work,
                                  tmp_path / "scifact")
    record = recorded_train_config(config)
    rebuilt = config_from_dict(TrainConfig, record)
    assert recorded_train_config(rebuilt) == record
    assert bench.model_dir(work, variant.source, rebuilt) == config.output_dir
    summary = tmp_path / "negmine_train.json"
    summary.write_text(json.dumps({"config": record, "training_version": TRAINING_VERSION}))
    assert bench._finished_with(summary, config) and bench._finished_with(summary, rebuilt)
    record_run_settings(config, tmp_path / "checkpoints")
    check_resume_settings(rebuilt, tmp_path / "checkpoints")  # negmine train --resume: accepted


def test_a_re_mining_variants_model_folder_stays_when_the_work_folder_moves(bench, tmp_path) -> None:
    """The mining config's cache folder and output file lie under --work: its digest changed with --work, so the
    re-mining model of a copied work folder (or of another $NEGMINE_CACHE) was trained again; another mining
    setting still names another folder."""
    mined = tmp_path / "m.jsonl"
    mined.write_text("{}\n")
    variant = bench.VARIANTS["remine=on"]
    here = bench.variant_config(variant.source, mined, variant.overrides, 42, tmp_path / "a", tmp_path / "scifact")
    there = bench.variant_config(variant.source, mined, variant.overrides, 42, tmp_path / "b", tmp_path / "scifact")
    assert here.mine.encoder.cache_dir != there.mine.encoder.cache_dir
    assert here.output_dir.name == there.output_dir.name
    other = dataclasses.replace(here, mine=dataclasses.replace(
        here.mine, select=dataclasses.replace(here.mine.select, num_negatives=3)))
    assert bench.model_dir(tmp_path / "a", variant.source, other) != here.output_dir


def test_variant_names_can_be_selected_with_only(bench) -> None:
    """``--only a,b`` splits on commas: a name with a comma could never be run (it happened once)."""
    assert not [name for name in bench.VARIANTS if "," in name or name != name.strip()]
    tags = [*bench.MINE_OVERRIDES, *bench.ROUND_TWO]
    assert not [tag for tag in tags if "-" in tag]  # a source's tag is the part after "-"
    assert len(set(tags)) == len(tags)


def test_no_variant_name_is_written_twice(bench) -> None:
    """A name given twice in the VARIANTS literal keeps the last entry only, silently: ``margin=0.1`` (the mining
    margin's row) nearly became the additive margin's. Read from the source, where both entries still are."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(bench))
    (literal,) = [node.value for node in ast.walk(tree) if isinstance(node, ast.AnnAssign)
                  and getattr(node.target, "id", None) == "VARIANTS"]
    names = [key.value for key in literal.keys]
    assert len(names) == len(bench.VARIANTS) and not {name for name in names if names.count(name) > 1}


def test_the_focal_variant_is_negmines_defaults_with_gamma_1_outside_the_default_run(bench, tmp_path) -> None:
    """``focal=1`` changes focal_gamma alone on top of the defaults' row (same mined source, seeds), trains in a folder
    of its own, and a plain run does not train it."""
    mined = tmp_path / "m.jsonl"
    mined.write_text("{}\n")
    focal, defaults = bench.VARIANTS["focal=1"], bench.VARIANTS[bench.DEFAULTS]
    assert (focal.source, focal.overrides, focal.seeds) == ("negmine-top", {"focal_gamma": 1.0}, bench.SEEDS)
    assert defaults.source == focal.source and not defaults.overrides
    assert "focal=1" not in bench.DEFAULT_RUN
    config = bench.variant_config(focal.source, mined, focal.overrides, 42, tmp_path / "w", tmp_path / "scifact")
    plain = bench.variant_config(defaults.source, mined, defaults.overrides, 42, tmp_path / "w", tmp_path / "scifact")
    assert dataclasses.replace(config, focal_gamma=0.0, output_dir=plain.output_dir) == plain
    assert config.focal_gamma == 1.0 and config.output_dir != plain.output_dir


def test_a_model_recorded_before_focal_gamma_is_reused_as_gamma_0_in_its_folder(bench, tmp_path) -> None:
    """A negmine_train.json written before TrainConfig.focal_gamma existed (the held-out baselines) holds no such field:
    the defaults' model is found where it was and reused (its digest leaves default fields out), the focal variant's
    config does not match it."""
    import hashlib

    mined = tmp_path / "m.jsonl"
    mined.write_text("{}\n")
    variant = bench.VARIANTS[bench.DEFAULTS]
    config = bench.variant_config(variant.source, mined, variant.overrides, 42, tmp_path / "w", tmp_path / "scifact")
    older = recorded_train_config(config)
    del older["focal_gamma"]
    digest = hashlib.sha256(b"{}\n")
    digest.update(json.dumps(bench._non_default(older), sort_keys=True).encode())
    assert config.output_dir.name == f"{variant.source}-{digest.hexdigest()[:12]}"
    summary = tmp_path / "negmine_train.json"
    summary.write_text(json.dumps({"config": older, "training_version": TRAINING_VERSION}))
    assert bench._finished_with(summary, config)
    assert not bench._finished_with(summary, dataclasses.replace(config, focal_gamma=1.0))


def test_a_round_two_source_mines_with_defaults_from_a_round_one_model_of_a_plain_source(bench, tmp_path) -> None:
    plain = bench.mine_config(tmp_path, "negmine-top", tmp_path / "x.jsonl", tmp_path / "cache")
    for tag, first in bench.ROUND_TWO.items():
        config = bench.mine_config(tmp_path, f"negmine-top-{tag}", tmp_path / "x.jsonl", tmp_path / "cache")
        assert config == plain  # the model is swapped in by mine_negmine, nothing else changes
        assert first in {v.source for v in bench.VARIANTS.values()} and first.count("-") == 1


def test_unknown_tag_fails_loudly(bench, tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="nosuchtag"):
        bench.mine_config(tmp_path, "negmine-top-nosuchtag", tmp_path / "x.jsonl", tmp_path / "cache")


def test_a_model_trained_before_a_new_config_field_is_reused_only_while_that_field_has_its_default(bench, tmp_path):
    import json

    config = TrainConfig(train_file=tmp_path / "m.jsonl", output_dir=tmp_path / "o", seed=1)
    recorded = json.loads(json.dumps(dataclasses.asdict(config), default=str))
    del recorded["partition_mode"]  # a field the older run did not know
    summary = tmp_path / "negmine_train.json"
    summary.write_text(json.dumps({"config": recorded, "training_version": TRAINING_VERSION}))
    assert bench._finished_with(summary, config)
    assert not bench._finished_with(summary, dataclasses.replace(config, partition_mode="per_direction"))
    assert not bench._finished_with(summary, dataclasses.replace(config, seed=2))


def test_a_model_of_an_earlier_training_version_is_reused_only_when_that_version_trains_it_unchanged(bench, tmp_path):
    """Versions 6 to 8 changed only re-mining, --fn-margin with extra directions and topic batching: the defaults'
    model recorded at 5 is kept, the re-mining variant's recorded at 5 and any model recorded at 4 are trained
    again."""
    mined = tmp_path / "mined" / "m.jsonl"
    mined.parent.mkdir()
    mined.write_text("{}\n")
    summary = tmp_path / "negmine_train.json"
    for name, kept_at_5 in (("negmine", True), ("remine=on", False)):
        variant = bench.VARIANTS[name]
        config = bench.variant_config(variant.source, mined, variant.overrides, 42, tmp_path / "work",
                                      tmp_path / "scifact")
        for version, kept in ((TRAINING_VERSION, True), (5, kept_at_5), (4, False)):
            summary.write_text(json.dumps({"config": recorded_train_config(config), "training_version": version}))
            assert bench._finished_with(summary, config) is kept, (name, version)


def test_a_re_mining_model_is_reused_by_its_record_whatever_the_mining_runs_progress_and_device(bench, tmp_path):
    """negmine_train.json leaves the mining run's show_progress and device out of its mine section
    (negmine.train.api.recorded_config): the comparison with the config must too, or every re-mining variant
    retrained; a record written before they were left out still matches, and another mine setting does not."""
    import json

    mine = bench.mine_config(tmp_path, "negmine-top", tmp_path / "m.jsonl", tmp_path / "cache")
    config = TrainConfig(train_file=tmp_path / "m.jsonl", output_dir=tmp_path / "o", remine_steps=5, mine=mine)
    summary = tmp_path / "negmine_train.json"
    older = json.loads(json.dumps(dataclasses.asdict(config), default=str))
    current = json.loads(json.dumps(older))
    del current["mine"]["encoder"]["show_progress"], current["mine"]["encoder"]["device"]
    for recorded in (current, older):
        summary.write_text(json.dumps({"config": recorded, "training_version": TRAINING_VERSION}))
        assert bench._finished_with(summary, config)
        other = dataclasses.replace(mine, select=dataclasses.replace(mine.select, num_negatives=3))
        assert not bench._finished_with(summary, dataclasses.replace(config, mine=other))


def test_a_re_mining_model_trained_before_a_new_mine_field_is_reused_only_while_that_field_has_its_default(
        bench, tmp_path):
    """A field added to a nested MineConfig section after the record was written (select.strategy_params,
    2026-12-05) matches while it has its default; the re-mining variants retrained once per new field before."""
    import json

    mine = bench.mine_config(tmp_path, "negmine-top", tmp_path / "m.jsonl", tmp_path / "cache")
    config = TrainConfig(train_file=tmp_path / "m.jsonl", output_dir=tmp_path / "o", remine_steps=5, mine=mine)
    recorded = json.loads(json.dumps(dataclasses.asdict(config), default=str))
    del recorded["mine"]["select"]["strategy_params"]  # a field the older run did not know
    summary = tmp_path / "negmine_train.json"
    summary.write_text(json.dumps({"config": recorded, "training_version": TRAINING_VERSION}))
    assert bench._finished_with(summary, config)
    other = dataclasses.replace(mine, select=dataclasses.replace(mine.select, num_negatives=3))
    assert not bench._finished_with(summary, dataclasses.replace(config, mine=other))


def test_a_re_mining_model_is_reused_whatever_the_mining_runs_workers_and_folders_from_the_same_dir(bench, tmp_path):
    """Every RUN_ONLY_FIELDS setting (workers, cache and work folders, output files) is left out of the record and
    of the comparison; a record that holds them (written before) still matches. model_dir's digest covers the
    record too (it covered the whole config: the same model, asked for with another cache folder, was looked for
    in another folder and trained again); a config without re-mining has the same record, so the folders of those
    models keep their names."""
    import hashlib
    import json

    mine = bench.mine_config(tmp_path, "negmine-top", tmp_path / "m.jsonl", tmp_path / "cache")
    (tmp_path / "m.jsonl").write_text("{}\n")
    config = TrainConfig(train_file=tmp_path / "m.jsonl", output_dir=tmp_path / "o", remine_steps=5, mine=mine)
    summary = tmp_path / "negmine_train.json"
    older = json.loads(json.dumps(dataclasses.asdict(config), default=str))
    moved = dataclasses.replace(config, mine=dataclasses.replace(
        mine, engine=dataclasses.replace(mine.engine, workers=2, work_dir=tmp_path / "w"),
        encoder=dataclasses.replace(mine.encoder, cache_dir=tmp_path / "other-cache"),
        output=dataclasses.replace(mine.output, path=tmp_path / "copy.jsonl")))
    from negmine.pipeline.recorded_config import without_run_only

    for recorded in (without_run_only(older), older):  # as negmine_train.json holds it now, and before
        summary.write_text(json.dumps({"config": recorded, "training_version": TRAINING_VERSION}))
        assert bench._finished_with(summary, moved)
        other = dataclasses.replace(mine, engine=dataclasses.replace(mine.engine, encode_shard_size=7))
        assert not bench._finished_with(summary, dataclasses.replace(config, mine=other))
    digest = hashlib.sha256(b"{}\n")
    digest.update(json.dumps(bench._non_default(without_run_only(older)), sort_keys=True).encode())
    assert bench.model_dir(tmp_path, "negmine-top", config).name == f"negmine-top-{digest.hexdigest()[:12]}"
    assert bench.model_dir(tmp_path, "negmine-top", moved) == bench.model_dir(tmp_path, "negmine-top", config)
    plain = TrainConfig(train_file=tmp_path / "m.jsonl", output_dir=tmp_path / "o", seed=1)
    digest = hashlib.sha256(b"{}\n")  # as before: every field of the whole config that differs from the default's
    full = json.loads(json.dumps(dataclasses.asdict(plain), default=str))
    default = json.loads(json.dumps(dataclasses.asdict(TrainConfig()), default=str))
    digest.update(json.dumps({k: v for k, v in full.items() if k != "output_dir" and v != default[k]},
                             sort_keys=True).encode())
    assert bench.model_dir(tmp_path, "negmine-top", plain).name == f"negmine-top-{digest.hexdigest()[:12]}"


def test_a_model_trained_by_another_training_version_is_trained_again(bench, tmp_path):
    import json

    config = TrainConfig(train_file=tmp_path / "m.jsonl", output_dir=tmp_path / "o", seed=1)
    recorded = json.loads(json.dumps(dataclasses.asdict(config), default=str))
    summary = tmp_path / "negmine_train.json"
    summary.write_text(json.dumps({"config": recorded}))  # written before the version was recorded: version 1
    assert not bench._finished_with(summary, config)
    summary.write_text(json.dumps({"config": recorded, "training_version": TRAINING_VERSION}))
    assert bench._finished_with(summary, config)


def test_a_plain_run_is_the_issue_list_with_ablations_at_one_seed(bench) -> None:
    runs = dict(bench.selected_runs("", False))
    assert list(runs)[0] == bench.BASELINE
    assert set(runs) == {bench.BASELINE, *bench.DEFAULT_RUN}
    assert runs[bench.BASELINE] == runs["negmine"] == bench.SEEDS
    assert all(seeds == (42,) for name, seeds in runs.items() if name not in bench.HEADLINE)
    assert sum(len(s) for s in runs.values()) == 12  # the ~75 min cold budget of the docstring


def test_headline_seeds_replace_only_the_headline_rows_seeds(bench) -> None:
    runs = dict(bench.with_headline_seeds(bench.selected_runs("negmine,strategy=range", False), "42,1,2,3,4"))
    assert runs[bench.BASELINE] == runs["negmine"] == (42, 1, 2, 3, 4)
    assert runs["strategy=range"] == (42,)
    assert bench.with_headline_seeds([("negmine", (42,))], "") == [("negmine", (42,))]


def test_only_keeps_each_rows_seeds_and_all_runs_every_variant(bench) -> None:
    assert bench.selected_runs("mined-by=round-1-model", False) == [
        (bench.BASELINE, bench.SEEDS), ("mined-by=round-1-model", bench.VARIANTS["mined-by=round-1-model"].seeds)]
    assert [name for name, _ in bench.selected_runs("", True)] == list(bench.VARIANTS)
    with pytest.raises(SystemExit, match="unknown variant.*nope.*choose from: st-mined, negmine"):
        bench.selected_runs("negmine,nope", False)


def test_attention_dropout_auto_keeps_the_benchmarks_models_and_retrains_those_of_the_models_own(bench, tmp_path):
    """Every arm sets attention dropout 0 (SHARED), so its finished models, recorded with 0.0, are found in the same
    folder and reused under the default auto; a model recorded at the old default (None: the model's own dropout)
    is not reused by a run at auto (0 on a CPU), which trains otherwise."""
    import json

    mined = tmp_path / "m.jsonl"
    mined.write_text("{}\n")
    assert bench.SHARED["attention_dropout"] == 0.0
    config = TrainConfig(train_file=mined, checkpoint_steps=None, show_progress=False, logging_steps=4,
                         **{**bench.SHARED, "seed": 1})
    config = dataclasses.replace(config, output_dir=bench.model_dir(tmp_path, "negmine-top", config))
    recorded = json.loads(json.dumps(dataclasses.asdict(config), default=str))
    summary = tmp_path / "negmine_train.json"
    summary.write_text(json.dumps({"config": recorded, "training_version": TRAINING_VERSION}))
    assert bench._finished_with(summary, config)
    # the folder's digest covers the fields that differ from TrainConfig(): 0.0 differs from auto as from None
    assert "attention_dropout" in bench._non_default(bench._as_json(config))
    at_default = dataclasses.replace(config, attention_dropout=TrainConfig().attention_dropout)
    summary.write_text(json.dumps({"config": {**recorded, "attention_dropout": None},
                                   "training_version": TRAINING_VERSION}))
    assert not bench._finished_with(summary, at_default)
