"""The names ``negmine eval`` gives its runs: a model's short label, a run file's own name (``--run NAME=PATH``,
``EvalConfig.run_names``) or its TREC tag, made unique; and the note on a run file renamed because its tag is shared,
in the words ``negmine eval`` prints and ``negmine report RESULTS.json`` shows (the results JSON's
``run_file_names``).

Kept apart from the evaluation so the config and the report read it without importing the encoders."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping, Sequence

from negmine.config import DEFAULT_MODEL
from negmine.errors import ConfigError

NAMED_BY = ("given", "tag", "stem", "parent/stem", "path")
"""How a run file got its name (``run_file_names.<name>.named_by``): given (``--run NAME=PATH``), its tag, or, its
tag being shared, its file stem, ``parent/stem`` or its path, whichever first made it unique."""

NAME_FIX = "run_names (--run NAME=PATH)"
"""How a run file is named, as the messages say it."""


def model_label(model: str) -> str:
    """Short display name: the bundled default -> ``all-MiniLM-L6-v2``; a name or path -> its last part."""
    if model == DEFAULT_MODEL:
        return DEFAULT_MODEL.split(":", 1)[1]
    return Path(model.rstrip("/")).name or model


def model_labels(models: Sequence[str]) -> list[str]:
    """The models' names: their short labels, or their full strings when two labels clash."""
    labels = [model_label(m) for m in models]
    return labels if len(set(labels)) == len(labels) else list(models)


_LEVELS: tuple[tuple[str, Callable[[str, str], str]], ...] = (
    ("stem", lambda tag, source: Path(source).stem),
    ("parent/stem", lambda tag, source: f"{Path(source).parent.name}/{Path(source).stem}"),
    ("path", lambda tag, source: source),
)


def name_runs(
    models: Sequence[str], files: Sequence[tuple[str, str]], given: Sequence[str | None] = ()
) -> tuple[list[str], list[str], list[str]]:
    """``(model names, run file names, how each run file was named)``, every name unique.

    ``files``: each run file's ``(tag, source)``; ``given``: the names the user gave, None (or ``given`` empty) for a
    file left unnamed. A given name is kept as given; an unnamed file is named by its tag, or when that is shared
    (with a model, a given name or another file) by its file stem, then ``parent/stem``, then its path, whichever
    first makes it unique (:data:`NAMED_BY`). ConfigError when a name still clashes (only a given name can make it)."""
    labels = model_labels(models)
    given = list(given) or [None] * len(files)
    names = [name if name is not None else tag for name, (tag, _) in zip(given, files)]
    named_by = ["given" if name is not None else "tag" for name in given]
    for key, level in _LEVELS:
        clashing = [i for i, n in enumerate(names) if named_by[i] != "given" and _clashes(n, labels, names)]
        for i in clashing:
            names[i], named_by[i] = level(*files[i]), key
    for i, name in enumerate(names):
        if _clashes(name, labels, names):
            raise ConfigError(f"run file {files[i][1]} is named {name!r}, the name of another run of this evaluation; "
                              f"give it a name of its own: {NAME_FIX}")
    return labels, names, named_by


def _clashes(name: str, labels: Sequence[str], names: Sequence[str]) -> bool:
    return name in labels or names.count(name) > 1


def check_given_names(models: Sequence[str], run_files: Sequence[Path], given: Sequence[str | None]) -> None:
    """ConfigError, before any work, for a name given to two run files or the name of a model, naming both and the
    fix."""
    labels = model_labels(models)
    first: dict[str, Path] = {}
    for name, path in zip(given, run_files):
        if name is None:
            continue
        if name in first:
            raise ConfigError(f"run name {name!r} is given to two run files, {first[name]} and {path}; give each its "
                              f"own name: {NAME_FIX}")
        if name in labels:
            model = models[labels.index(name)]
            raise ConfigError(f"run name {name!r} of run file {path} is the name of model {model!r}; give the run "
                              f"file another name: {NAME_FIX}")
        first[name] = path


def name_note(name: str, record: Mapping) -> str:
    """One line on a run file renamed because its tag is shared (its ``run_file_names`` record), or ""."""
    if record["named_by"] in ("given", "tag"):
        return ""
    source = record["source"]
    return (f"run file {source}: its tag {record['tag']!r} is shared, named {name!r} (name it yourself: "
            f"--run NAME={source})")
