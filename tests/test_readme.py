"""The README's quickstart, run as written: its bash block and its Python snippet, with the bundled model.

Slow (the real all-MiniLM-L6-v2 encodes the demo corpus and trains a few steps): ``python -m pytest -m slow``.
A command renamed, an option dropped or an output moved breaks this test before it breaks a reader.
The README's Python examples also run in the fast suite, with the default model's name resolved to a tiny
local model (the one substitution), so a renamed function, config field or result attribute fails there too.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from negmine.config import DEFAULT_MODEL

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
DOCS = REPO / "docs"


def manual() -> dict[Path, str]:
    """README.md and the reference pages under docs/ it links to: the text a reader takes commands from."""
    return {path: path.read_text(encoding="utf-8") for path in (README, *sorted(DOCS.glob("*.md")))}


def section(text: str, heading: str) -> str:
    """The body of the ``## heading`` section of a markdown text (up to the next ``## ``)."""
    match = re.search(rf"^## {re.escape(heading)}[^\n]*\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    if match is None:
        raise ValueError(f"README.md has no '## {heading}' section")
    return match.group(1)


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.M | re.S)


def test_section_and_code_blocks_parse_markdown():
    text = "# t\n## Quickstart (x)\nintro\n```bash\necho 1\n```\n```python\nx = 1\n```\n## Next\n```bash\nno\n```\n"
    body = section(text, "Quickstart")
    assert code_blocks(body, "bash") == ["echo 1\n"]
    assert code_blocks(body, "python") == ["x = 1\n"]
    with pytest.raises(ValueError, match="no '## Missing' section"):
        section(text, "Missing")


def test_readme_set_up_is_the_ci_command():
    set_up = code_blocks(section(README.read_text(encoding="utf-8"), "Set up"), "bash")[0].splitlines()
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert set_up[0] == 'pip install -e ".[dev]" -c constraints/cpu.txt'
    assert set_up[1] == "python -m pytest -q"
    for line in set_up:
        assert line in ci, line


def test_readme_sections_named_in_messages_exist():
    """A message that sends the reader to a README section, ``(README: Set up)``, names a heading the README has:
    ``--device cuda`` on a torch without CUDA pointed at a section 'install' that never existed."""
    headings = re.findall(r"^#{2,3} (.+)$", README.read_text(encoding="utf-8"), flags=re.M)
    named = {name for path in (REPO / "src" / "negmine").rglob("*.py")
             for name in re.findall(r"\(README: ([^)]+)\)", path.read_text(encoding="utf-8"))}
    assert named, "no message names a README section: the pattern no longer matches"
    for name in named:
        assert any(heading.startswith(name) for heading in headings), f"README.md has no section '{name}'"


ON_ONE_WORKER = pytest.mark.xdist_group("quickstart")
"""The tests of :func:`quickstart`'s folder run on one pytest-xdist worker (``--dist loadgroup``, pyproject.toml),
so the quickstart runs once, not once per worker that gets one of them."""


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The quickstart's bash block run verbatim in a fresh folder outside the checkout (the demo's path comes
    from the installed package) with an empty embedding cache, as on a clean checkout."""
    work = tmp_path_factory.mktemp("quickstart")
    script = code_blocks(section(README.read_text(encoding="utf-8"), "Quickstart"), "bash")[0]
    env = {**os.environ, "NEGMINE_CACHE": str(work / "cache")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=work, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, f"quickstart failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return work, done


@pytest.mark.slow
@ON_ONE_WORKER
def test_quickstart_bash_block_writes_every_output_it_names(quickstart):
    work, done = quickstart
    out = work / "out"
    rows = [json.loads(line) for line in (out / "negatives.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows and all(len(row["negatives"]) == 5 for row in rows)
    assert json.loads((out / "negatives.summary.json").read_text(encoding="utf-8"))["pairs_out"] == len(rows)
    assert (out / "audit" / "audit.report.html").is_file() and (out / "audit" / "audit.flags.jsonl").is_file()
    assert (out / "model" / "training_report.html").is_file()
    table = done.stdout.splitlines()  # eval: one row per model, the first is the baseline
    assert any(line.startswith("all-MiniLM-L6-v2 (baseline)  20 ") for line in table), done.stdout[-3000:]
    assert any(line.startswith("model ") for line in table), done.stdout[-3000:]
    assert "p-values vs baseline 'all-MiniLM-L6-v2'" in done.stdout


def run_python_block(heading: str, folder: Path, page: Path = README, block: int = 0) -> None:
    """Execute the Python block number ``block`` (0: the first) of the section ``heading`` of ``page`` (README.md or
    a docs/ page) with ``folder`` as working directory."""
    snippet = code_blocks(section(page.read_text(encoding="utf-8"), heading), "python")[block]
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        exec(compile(snippet, f"{page.relative_to(REPO)} {heading}", "exec"), {})
    finally:
        os.chdir(cwd)


@pytest.mark.slow
@ON_ONE_WORKER
def test_quickstart_python_snippet_runs(quickstart, capsys):
    work, _ = quickstart
    step_1 = (work / "out" / "negatives.jsonl").read_bytes()
    run_python_block("Quickstart", work)
    assert int(capsys.readouterr().out.strip()) > 0
    assert (work / "out" / "simans.jsonl").is_file() and (work / "out" / "simans.triplet.jsonl").is_file()
    assert (work / "out" / "negatives.jsonl").read_bytes() == step_1  # the snippet left step 1's file as it was


@pytest.mark.slow
@ON_ONE_WORKER
def test_train_and_evaluate_python_loop_runs_after_the_quickstart(quickstart, capsys):
    """docs/training.md's Python loop, in the folder the quickstart left (as a reader runs it)."""
    work, _ = quickstart
    run_python_block(TRAIN_LOOP, work, DOCS / "training.md")
    printed = capsys.readouterr().out
    assert re.search(r"^\[(0\.\d+(, )?)+\]$", printed, flags=re.M), printed[-2000:]
    assert "all-MiniLM-L6-v2 (baseline)" in printed
    assert (work / "out" / "model-py" / "training_report.html").is_file()


@pytest.fixture
def tiny_default_model(tiny_model_path, tmp_path, monkeypatch):
    """``bundled:all-MiniLM-L6-v2`` loads the tiny model; embeddings go to an empty cache under ``tmp_path``."""
    import negmine.encode.sentence_transformer as st

    real = st.resolve_model
    monkeypatch.setattr(st, "resolve_model", lambda name: str(tiny_model_path) if name == DEFAULT_MODEL else real(name))
    monkeypatch.setenv("NEGMINE_CACHE", str(tmp_path / "cache"))
    return tmp_path


TRAIN_LOOP = "The same loop from Python"  # the section of docs/training.md that holds the train-and-evaluate loop


def test_every_readme_python_block_is_run_by_a_test():
    """The sections of README.md and docs/ with Python examples, and their number of blocks, are those run here
    (and in the slow suite): the Quickstart's two (``mine``, then ``mine_dataset``) and the training loop."""
    with_python = {(path.name, h): len(code_blocks(section(text, h), "python")) for path, text in manual().items()
                   for h in re.findall(r"^## (.+)$", text, flags=re.M) if code_blocks(section(text, h), "python")}
    assert with_python == {("README.md", "Quickstart (demo data shipped with the package)"): 2,
                           ("training.md", TRAIN_LOOP): 1, ("mining.md", PLUGINS): 2}


PLUGINS = "Your own strategy or export format"  # the section of docs/mining.md with a strategy and a format of one's own


def test_own_strategy_and_export_format_example_runs(tmp_path, monkeypatch, capsys):
    """docs/mining.md's example registers both (for this test only), mines the demo with BM25 (no model) and prints
    the pairs written and where the strategy came from."""
    from negmine.export.registry import REGISTRY as FORMATS
    from negmine.select.strategy import REGISTRY as STRATEGIES

    monkeypatch.setenv("NEGMINE_CACHE", str(tmp_path / "cache"))
    with STRATEGIES.restored(), FORMATS.restored():
        run_python_block(PLUGINS, tmp_path, DOCS / "mining.md")
    pairs, source = capsys.readouterr().out.split()
    assert int(pairs) > 0 and source == "register_strategy"
    rows = [json.loads(line) for line in (tmp_path / "out" / "every-other.jsonl").read_text().splitlines()]
    records = [json.loads(line) for line in
               (tmp_path / "out" / "every-other.query-negative.jsonl").read_text().splitlines()]
    assert len(rows) == int(pairs) and records == [{"query": row["query"], "negative": text}
                                                   for row in rows for text in row["negatives"]]


def test_own_strategy_with_params_example_runs(tmp_path, monkeypatch, capsys):
    """docs/mining.md's second example registers a strategy with a param (for this test only), mines the demo with
    BM25 with the param set, and prints the pairs written and the params the summary records; its rows hold every
    third candidate."""
    from negmine.select.strategy import REGISTRY as STRATEGIES

    monkeypatch.setenv("NEGMINE_CACHE", str(tmp_path / "cache"))
    with STRATEGIES.restored():
        run_python_block(PLUGINS, tmp_path, DOCS / "mining.md", block=1)
    pairs, params = capsys.readouterr().out.strip().split(" ", 1)
    assert int(pairs) > 0 and params == "{'step': 3}"
    rows = [json.loads(line) for line in (tmp_path / "out" / "every-nth.jsonl").read_text().splitlines()]
    assert len(rows) == int(pairs)
    assert all(b - a >= 3 for row in rows for a, b in zip(row["negative_ranks"], row["negative_ranks"][1:]))


def test_quickstart_python_snippet_runs_on_a_tiny_model(tiny_default_model, capsys):
    run_python_block("Quickstart", tiny_default_model)
    assert int(capsys.readouterr().out.strip()) > 0
    assert (tiny_default_model / "out" / "simans.jsonl").is_file()
    assert (tiny_default_model / "out" / "simans.triplet.jsonl").is_file()
    assert not (tiny_default_model / "out" / "negatives.jsonl").exists()  # the CLI quickstart's file stays its own


def assert_mine_dataset_printed(printed: str) -> None:
    """The Quickstart's mine_dataset block printed the n-tuple columns of 5 negatives and its row count."""
    columns = ["anchor", "positive", *(f"negative_{i}" for i in range(1, 6))]
    match = re.fullmatch(rf"{re.escape(str(columns))} (\d+)\n", printed)
    assert match and int(match.group(1)) > 0, printed


def test_quickstart_mine_dataset_snippet_runs_on_a_tiny_model(tiny_default_model, capsys):
    run_python_block("Quickstart", tiny_default_model, block=1)
    assert_mine_dataset_printed(capsys.readouterr().out)
    assert list(tiny_default_model.iterdir()) == [tiny_default_model / "cache"]  # no file written but the cache


@pytest.mark.slow
@ON_ONE_WORKER
def test_quickstart_mine_dataset_snippet_runs(quickstart, capsys):
    work, _ = quickstart
    run_python_block("Quickstart", work, block=1)
    assert_mine_dataset_printed(capsys.readouterr().out)


def test_train_and_evaluate_python_loop_runs_on_a_tiny_model(tiny_default_model, capsys):
    run_python_block(TRAIN_LOOP, tiny_default_model, DOCS / "training.md")
    printed = capsys.readouterr().out
    assert re.search(r"^\[(0\.\d+(, )?)+\]$", printed, flags=re.M), printed[-2000:]
    assert "all-MiniLM-L6-v2 (baseline)" in printed and "model-py" in printed
    assert (tiny_default_model / "out" / "model-py" / "training_report.html").is_file()


def command_options() -> dict[str, set[str]]:
    """Every option name (``--x``, ``--no-x``, ``-o``) of each ``negmine`` command; a command of a group (``negmine
    cache list``) under ``"group command"``."""
    from typer.main import get_command

    from negmine.cli import build_app

    commands = dict(get_command(build_app()).commands)
    commands.update({f"{name} {sub}": command for name, group in list(commands.items())
                     for sub, command in getattr(group, "commands", {}).items()})
    return {name: {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)} for name, cmd in commands.items()}


def readme_command_lines(text: str) -> list[tuple[str, str]]:
    """``(command, rest)`` of every ``negmine CMD ...`` the README shows: a line of a bash block (continuations
    joined) or an inline code span."""
    lines = [line for block in code_blocks(text, "bash") for line in block.replace("\\\n", " ").splitlines()]
    spans = re.findall(r"`(negmine [^`]*)`", text)
    return [(m.group(1), m.group(2)) for line in (*lines, *spans)
            if (m := re.match(r"\s*negmine (\w+)(.*)", line.split("#")[0]))]


def test_readme_command_lines_are_found():
    text = "```bash\nnegmine mine d --depth 5 \\\n  --seed 1  # a --comment\n```\nsee `negmine eval D --alpha 0.1`\n"
    assert readme_command_lines(text) == [("mine", " d --depth 5    --seed 1  "), ("eval", " D --alpha 0.1")]


def wrong_command_options(text: str, options: dict[str, set[str]]) -> list[str]:
    """Each `negmine CMD ... --flag` of ``text`` whose flag is not an option of CMD (of ``CMD SUB`` for a command
    of a group: `negmine cache prune --runs`)."""
    lines = [(f"{cmd} {m.group(1)}", m.group(2)) if (m := re.match(r" (\w+)(.*)", rest)) and f"{cmd} {m.group(1)}"
             in options else (cmd, rest) for cmd, rest in readme_command_lines(text)]
    return [f"negmine {cmd}{rest}: {flag}" for cmd, rest in lines
            for flag in re.findall(r"(?<![\w-])(--?[a-z][a-z0-9-]*)", rest) if flag not in options.get(cmd, ())]


def test_options_of_a_group_command_are_those_of_the_command():
    options = command_options()
    assert {"--runs", "--older-than", "--model", "--dry-run", "--cache-dir"} <= options["cache prune"]
    text = "`negmine cache prune --runs --dry-run` and `negmine cache list --runs`"
    assert wrong_command_options(text, options) == ["negmine cache list --runs: --runs"]


def test_every_option_the_readme_shows_on_a_command_is_one_of_its_options():
    """A `negmine CMD ... --flag` in the README or a docs/ page (a bash line or an inline span) names an option
    CMD has."""
    options = command_options()
    wrong = [f"{path.name}: {w}" for path, text in manual().items() for w in wrong_command_options(text, options)]
    assert not wrong, wrong
    assert len(readme_command_lines(README.read_text(encoding="utf-8"))) > 10
    assert len(readme_command_lines(manual()[DOCS / "mining.md"])) > 10
    assert len(readme_command_lines("\n".join(manual().values()))) > 60


def double_dash_options(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*[a-z0-9])(?![-*\w])", text))


def test_every_double_dash_option_the_readme_names_exists():
    """Every `--option` in the README and the docs/ pages is an option of some negmine command (or of the tools
    it shows: pip, ray start, hf download, the benchmark scripts): a renamed or dropped option leaves no stale name
    behind."""
    named = set().union(*map(double_dash_options, manual().values()))
    assert {"--num-negatives", "--engine", "--false-negative-policy", "--matryoshka-dims"} <= named  # docs/ read
    others = {"--version", "--help", "--no-deps", "--index-url",  # negmine, pip (wheel; torch's CPU index)
              "--head", "--port", "--address",  # ray start
              "--ray-client-server-port",
              "--revision",  # hf download (a hub model's files at one commit)
              "--collect-only", "--dist"}  # pytest (docs/setup.md counts the suite's tests, and its addopts)
    scripts = " ".join(p.read_text(encoding="utf-8") for p in (REPO / "benchmarks").glob("*.py"))
    known = set().union(*command_options().values()) | others
    assert sorted(f for f in named - known if f'"{f}"' not in scripts) == []


def heading_text(heading: str) -> str:
    """The text GitHub renders for a heading's Markdown, which its anchor is made from: a closing run of ``#``
    dropped, a link or image as its text, HTML tags and emphasis underscores (``_word_``, ``__word__``) dropped;
    code spans as written (their underscores and punctuation are the slug's to keep or drop)."""
    parts = re.split(r"(`[^`]*`)", re.sub(r"\s+#+$", "", heading))
    for i in range(0, len(parts), 2):  # the text outside code spans
        part = re.sub(r"<[^>]*>", "", re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", parts[i]))
        parts[i] = re.sub(r"(?<!\w)_+|_+(?!\w)", "", part)
    return "".join(parts)


def github_slugs(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of ``markdown``: lower-cased, punctuation but ``-`` and ``_``
    dropped, spaces as ``-``, a repeated slug numbered (``x``, ``x-1``); headings inside code blocks are none."""
    text = re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)
    slugs: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+?)\s*$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading_text(heading).lower()).replace(" ", "-")
        numbered, n = slug, 0
        while numbered in slugs:
            n += 1
            numbered = f"{slug}-{n}"
        slugs.add(numbered)
    return slugs


def relative_links(markdown: str) -> list[str]:
    """The targets of the Markdown links ``[text](target)`` of ``markdown`` that are not web addresses, outside
    code blocks and code spans."""
    text = re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    return [t for t in targets if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def broken_links(page: Path, markdown: str) -> list[str]:
    """The relative links of ``page`` whose file does not exist, or whose ``#anchor`` is no heading of it."""
    broken = []
    for target in relative_links(markdown):
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if path and not linked.exists():
            broken.append(f"{page.name}: {target} (no file {path})")
        elif anchor and (linked.suffix != ".md" or anchor not in github_slugs(
                linked.read_text(encoding="utf-8") if path else markdown)):
            broken.append(f"{page.name}: {target} (no heading #{anchor} in {linked.name})")
    return broken


def test_github_slugs_and_relative_links_parse_markdown(tmp_path):
    text = ("# Set up\n## Mine (`negmine mine`)\n## Scaling out: `--engine ray`, 2 nodes\n## Mine (`negmine mine`)\n"
            "```\n# not a heading\n```\nSee [a](other.md#set-up), [b](#mine-negmine-mine-1), [c](https://x.org/a)"
            " and `[d](code.md)`.\n")
    assert github_slugs(text) == {"set-up", "mine-negmine-mine", "scaling-out---engine-ray-2-nodes",
                                  "mine-negmine-mine-1"}
    rendered = "## The _real_ one ##\n## See [the docs](x.md#a) and <code>y</code>\n## `snake_case` and __init__\n"
    assert github_slugs(rendered) == {"the-real-one", "see-the-docs-and-y", "snake_case-and-init"}
    assert relative_links(text) == ["other.md#set-up", "#mine-negmine-mine-1"]
    page = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Set up\n", encoding="utf-8")
    assert broken_links(page, text) == []
    assert broken_links(page, "[x](other.md#setup) [y](gone.md) [z](#nowhere)") == [
        "page.md: other.md#setup (no heading #setup in other.md)", "page.md: gone.md (no file gone.md)",
        "page.md: #nowhere (no heading #nowhere in page.md)"]


def test_every_relative_link_of_the_readme_and_docs_points_to_a_file_and_heading():
    """README.md links into docs/ and the pages link back (``../README.md#benchmarks``): a moved section or a
    renamed heading leaves no dead link, on GitHub, where the anchors are these slugs."""
    pages = manual()
    assert not [broken for page, text in pages.items() for broken in broken_links(page, text)]
    assert sum(len(relative_links(text)) for text in pages.values()) > 20


def doc_pointers(text: str) -> list[tuple[str, str | None, str | None]]:
    """``(page, anchor, heading)`` of each pointer into docs/ that ``text`` (source code: messages, help, docstrings)
    holds: ``docs/audit.md#judges`` or ``docs/mining.md, "Your own strategy or export format"`` (the comma optional,
    the quotes possibly escaped inside a Python string)."""
    found = re.findall(r'docs/([a-z-]+\.md)(?:#([\w-]+)|,? \\?"([^"\\]+)\\?")?', text)
    return [(page, anchor or None, heading or None) for page, anchor, heading in found]


def test_doc_pointers_parse_source_text():
    text = ('see docs/audit.md#judges. "docs/mining.md, \\"Your own X\\"" or docs/mining.md "What stays"; '
            'docs/setup.md alone')
    assert doc_pointers(text) == [("audit.md", "judges", None), ("mining.md", None, "Your own X"),
                                  ("mining.md", None, "What stays"), ("setup.md", None, None)]


def test_every_docs_page_anchor_and_heading_the_code_points_to_exists():
    """Messages send the reader to a page of docs/ by anchor (`note: nothing flagged ... (docs/audit.md#judges)`) or
    by heading (`see docs/mining.md, "Your own strategy or export format"`); the link test above reads the Markdown
    pages only, so a renamed heading left such a message pointing nowhere."""
    pointers = {(path.relative_to(REPO), *pointer) for path in (REPO / "src" / "negmine").rglob("*.py")
                for pointer in doc_pointers(path.read_text(encoding="utf-8"))}
    assert any(anchor for *_, anchor, _ in pointers) and any(heading for *_, heading in pointers), pointers
    broken = []
    for source, page, anchor, heading in sorted(pointers, key=str):
        text = (DOCS / page).read_text(encoding="utf-8") if (DOCS / page).is_file() else None
        headings = re.findall(r"^#{1,6} (.+?)\s*$", re.sub(r"^```.*?^```", "", text or "", flags=re.M | re.S), re.M)
        if text is None or (anchor and anchor not in github_slugs(text)) or (heading and heading not in headings):
            broken.append(f"{source}: docs/{page} {'#' + anchor if anchor else heading or ''}")
    assert not broken, broken
