"""The miner re-mining calls by default: negmine's mining pipeline with the run's :class:`MineConfig`.

``train(config)`` builds it from ``config.mine`` when no ``miner`` is passed, so re-mining works the same
from Python as from ``negmine train --remine-every-epoch / --remine-steps``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from negmine.config import JudgeConfig, MineConfig, OutputConfig

if TYPE_CHECKING:
    from negmine.io.pairs import CheckedPairs


def pipeline_miner(mine_config: MineConfig, show_progress: bool | None = None, pairs: CheckedPairs | None = None):
    """``miner(embedder, output_path)`` running the mining pipeline; the dataset is loaded once, here (so a
    missing or broken dataset fails before training starts), and the ``--denoise`` judges' models are checked
    here too (:func:`~negmine.audit.resources.check_judge_models`): a teacher or cross-encoder recorded in the
    mining summary that cannot load (a folder since moved, a cross-encoder given as a teacher) was found only at
    the first re-mining, after the steps before it had trained (demo, --remine-steps 3: exit 2 after 20 s).

    ``show_progress`` is the training run's (``TrainConfig.show_progress``, ``--no-progress``), which the load
    follows (:func:`negmine.io.load.load_data`: ``datasets``' bars and the hub's retry lines for ``--pairs``);
    None: the mining config's own ``encoder.show_progress``. The recorded mining config carries no progress
    setting (it is a setting of the run, left out of the record), so the load drew its bars under
    ``negmine train --no-progress``.

    ``pairs``: the rows of ``mine_config.data.pairs`` read and checked as the mining summary was read
    (:func:`negmine.pipeline.recorded_config.read_mine_summary`), which the load finishes instead of reading the
    pairs again (a 200,000-row file took 2.0-5.3 s more to read twice).

    Its messages name the fields at the place set when it is built (:func:`negmine.config_path.within`: ``train``
    builds it within its TrainConfig's ``mine``, so ``mine.data.unknown_qrels``, ``mine.engine.memory_budget``),
    the mining rounds too, though the trainer calls them later (:func:`negmine.config_path.here`)."""
    from negmine.config_path import at, here, within
    from negmine.io.load import load_data
    from negmine.pipeline.mine import mine_loaded

    if mine_config.denoise.enabled:
        from negmine.audit.resources import check_judge_models

        judges = mine_config.denoise.judges
        with within(mine_config, "denoise.judges"):  # mine.denoise.judges.teachers in train's within(config, "mine")
            check_judge_models(judges, judges.resolved(mine_config.denoise.DEFAULT_JUDGES))
            check_judges_reachable(judges, judges.resolved(mine_config.denoise.DEFAULT_JUDGES))
    progress = mine_config.encoder.show_progress if show_progress is None else show_progress
    with within(mine_config, "data"):  # its messages name mine.data.unknown_qrels in train's within(config, "mine")
        dataset = load_data(mine_config.data, progress, pairs)
    place = here()  # each round runs later, from the trainer: its messages name the fields from the same place

    def run(embedder, output_path: Path) -> Path:
        config = dataclasses.replace(
            mine_config, output=OutputConfig(path=output_path),
            encoder=dataclasses.replace(mine_config.encoder, show_progress=False),
        )
        with at(place):  # mine.engine.memory_budget, mine.denoise.judges.teachers, ... in a TrainConfig
            return mine_loaded(config, dataset, embedder).output  # config.data names the files dataset was read from

    return run


def check_judges_reachable(judges: JudgeConfig, names: Sequence[str]) -> None:
    """ConfigError when a judge of ``names`` is neither a local folder nor cached and the hub is unreachable
    (:func:`~negmine.audit.resources.unreachable_judge`). Re-mining loads its judges after the steps before its
    first round have trained: a judge folder given by a bare name and since moved reads as a hub name, and without
    hub access re-mining failed only then (demo, --remine-steps 3: after two steps and 46 s of hub retries for a
    cross-encoder). The judge is named with its field at its path (``mine.denoise.judges.cross_encoder
    (--cross-encoder)`` in a TrainConfig; it said ``TrainConfig.mine``, whatever the judge)."""
    from negmine.audit.resources import unreachable_judge
    from negmine.config_path import path_option
    from negmine.errors import ConfigError

    found = unreachable_judge(judges, names)
    if found is None:
        return
    what, name, (host, port), reason = found
    setting = path_option("cross_encoder") if what == "cross-encoder" else path_option("teachers", "--teacher")
    raise ConfigError(
        f"{what} {name!r} in {setting}, of the --denoise mining that re-mining repeats (negmine train reads it "
        "from the mining summary), is neither a local folder nor in the Hugging Face cache, and the hub "
        f"({host}:{port}) is unreachable ({reason}), so re-mining would fail when it loads it, after the steps "
        "before it had trained; if it is a folder, restore it or run from the folder mining ran in (a relative "
        "path is read from the current folder), or give --mine-summary a summary that names where it is now; if "
        "it is a hub name, download it once with network"
    )
