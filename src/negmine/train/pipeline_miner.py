"""The miner re-mining calls by default: negmine's mining pipeline with the run's :class:`MineConfig`.

``train(config)`` builds it from ``config.mine`` when no ``miner`` is passed, so re-mining works the same
from Python as from ``negmine train --remine-every-epoch / --remine-steps``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from negmine.config import MineConfig, OutputConfig


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
    dataset = load_data(mine_config.data)

    def run(embedder, output_path: Path) -> Path:
        config = dataclasses.replace(
            mine_config, output=OutputConfig(path=output_path),
            encoder=dataclasses.replace(mine_config.encoder, show_progress=False),
        )
        return mine(config, embedder=embedder, dataset=dataset).output

    return run
