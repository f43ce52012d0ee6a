"""The note of an audit of a file ``negmine mine`` wrote whose judges only re-check what mining applied, and that
flagged nothing: ``negmine audit`` prints it (``note: nothing flagged: ...``) and the HTML report shows it.

``negmine audit out/negatives.jsonl`` on the demo printed "false negatives: 0 of 350 candidates" and nothing
more: mining had already dropped every negative its margins (which the score judge re-checks) and its
near-duplicate exclusion reject, so a user took the data for clean. Only a model judge looks further. A file the
sd margin judged holds ``candidate_score_sd`` in every row: negmine mine wrote it (another file fails, or needs
--no-sd-margin). The summary records whether the audit was such a re-check (``judges_recheck_mining``), so the
report re-rendered from it (``negmine report FLAGS.jsonl``) says what the command said."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

RECHECK_JUDGES = frozenset({"score", "near-duplicate"})
"""The judges that re-check what ``negmine mine`` applied: its margins, its near-duplicate exclusion."""


def judges_recheck_mining(config, judges: Sequence[str]) -> bool:
    """Whether an audit of ``config`` (an AuditConfig, its input as given) with ``judges`` only re-checks mining:
    a mined file (not a BEIR folder, whose candidates the audit mines itself), judged by the score judge with the
    sd margin, and by no judge other than it and the near-duplicate one."""
    return ("score" in judges and set(judges) <= RECHECK_JUDGES and not Path(config.input).is_dir()
            and config.judges.sd_margin is not None)


def nothing_flagged_note(judges: Sequence[str], counts: Mapping, rechecks_mining: bool) -> str | None:
    """The ``note:`` line when an audit that only re-checked mining (:func:`judges_recheck_mining`) flagged
    nothing, else None."""
    if not rechecks_mining or counts.get("false_negatives", 0) or counts.get("noisy_positives", 0):
        return None
    near_dup = (", the near-duplicate judge its near-duplicate exclusion (on by default)"
                if "near-duplicate" in judges else "")
    return ("note: nothing flagged: the score judge re-checks the margins negmine mine already applied to this file"
            f"{near_dup}; to judge its negatives by another model, add --cross-encoder MODEL or "
            "--teacher MODEL (docs/audit.md#judges)")
