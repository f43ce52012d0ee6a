from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from negmine.cli import build_app

runner = CliRunner()
WIDE = {"COLUMNS": "400", "TERMINAL_WIDTH": "400"}


def _help(*args: str) -> str:
    result = runner.invoke(build_app(), [*args, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("args", [[], ["mine"], ["audit"], ["train"], ["eval"], ["report"], ["cache"],
                                  ["cache", "list"], ["cache", "prune"]])
def test_help_shows_no_type_after_a_flag(args):
    """Every flag showed `<bool>` after it (`--denoise <bool>`, `--help <bool>`, `--cache / --no-cache <bool>`), as
    if it took a value (`--denoise true` is refused): typer (0.29) draws each option's type, flags included."""
    assert "<bool>" not in _help(*args)


def test_options_that_take_a_value_keep_their_type():
    shown = _help("mine")
    assert re.search(r"--num-negatives\s+<int>\s+negatives per pair", shown), shown
    assert re.search(r"--denoise\s+judges drop likely false negatives", shown), shown
    assert re.search(r"--keep-partial\s+--no-keep-partial\s+keep pairs with fewer", shown), shown
    assert re.search(r"--help\s+Show this message", shown), shown
    assert re.search(r"--version\s+print negmine's version", _help()), _help()
    assert re.search(r"--older-than\s+DAYS", _help("cache", "prune")), _help("cache", "prune")


def test_the_positive_policy_help_says_what_mark_does():
    """`--positive-policy` read "noisy positives: drop | mark", as `--false-negative-policy mark` (masked in training)
    reads: but a marked noisy positive's row is written as it is, with no mark in it, and trained on as any row."""
    shown = re.sub(r"\s+", " ", _help("audit"))
    assert ("--positive-policy <str> noisy positives: drop (their rows) | mark (keep the rows as they are: the flags "
            "file alone names them, and negmine train and the exports use them as any row)") in shown, shown


def test_the_rank_window_help_says_that_one_side_alone_replaces_the_strategys_window():
    """`--rank-min` / `--rank-max` said their default was "the strategy's window (range 10-100 ...)", read per side: but
    one given alone replaces the whole window (negmine.select.strategy.window), so `--strategy range --rank-max 50`
    selected from ranks 1-50, not 10-50 (combo fuzz: a range mine with --rank-max 10 wrote ranks 2-9)."""
    shown = " ".join(_help("mine").replace("│", " ").split())
    said = ("default: with neither --rank-min nor --rank-max, the strategy's window (range 10-100; the other built-ins: "
            "the whole pool; an installed strategy: its default_window); one given alone replaces that window and leaves "
            "the other side open (--strategy range --rank-max 50: ranks 1-50)")
    assert shown.count(said) == 2, shown
