"""Judges of mined candidates, one file each; :data:`JUDGES` maps the CLI names to their builders.

Every builder takes ``(JudgeConfig, JudgeResources)`` and returns an object with ``judge(items)``.
"""

from __future__ import annotations

from typing import Callable, Sequence

from negmine.audit.judges.base import Judge, Judgement
from negmine.audit.judges.cross_encoder import CrossEncoderJudge
from negmine.audit.judges.near_duplicate import NearDuplicateJudge
from negmine.audit.judges.score_rule import ScoreJudge
from negmine.audit.judges.teacher import Teacher, TeacherJudge
from negmine.config import JudgeConfig
from negmine.errors import unknown_choice

JUDGES: dict[str, Callable] = {
    cls.name: cls.from_config for cls in (CrossEncoderJudge, TeacherJudge, ScoreJudge, NearDuplicateJudge)
}


def build_judges(config: JudgeConfig, names: Sequence[str], resources) -> list[Judge]:
    """The judges named in ``names`` (in that order); an unknown name lists the registry keys."""
    for name in names:
        if name not in JUDGES:
            raise unknown_choice("judge", name, JUDGES, "judges", "--judge", many=True)
    return [JUDGES[name](config, resources) for name in names]


__all__ = ["JUDGES", "Judge", "Judgement", "Teacher", "build_judges"]
