"""``negmine cache list`` / ``negmine cache prune``: see what the on-disk cache holds and delete parts of it
(:mod:`negmine.encode.cache_contents`, :mod:`negmine.encode.cache_prune`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from negmine.cli.common import user_errors

CacheDir = Annotated[Optional[Path], typer.Option(help="the cache folder (default $NEGMINE_CACHE or ~/.cache/negmine)")]
Runs = Annotated[bool, typer.Option("--runs", help="select the run work folders (runs/<key>/: stopped or --keep-work runs' encoding and search shards) no running job holds")]
OlderThan = Annotated[Optional[float], typer.Option(help="select entries last modified more than DAYS ago (alone: of every kind; with --runs or --model: of those)", metavar="DAYS")]
Model = Annotated[Optional[str], typer.Option(help="select the embeddings and cross-encoder scores of this model (the name or path it was loaded from, or the fingerprint cache list shows)", metavar="NAME_OR_PATH")]
WorkDirs = Annotated[Optional[list[Path]], typer.Option("--work-dir", help="also a folder runs were given as negmine mine --work-dir or negmine audit --work-dir: its run work folders (repeatable; only folders a run made)", metavar="DIR")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="print what would be deleted, delete nothing")]


def _root(cache_dir: Optional[Path]) -> Path:
    from negmine.encode.cache import default_cache_dir

    return Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()


def human_size(size: int) -> str:
    """``512 B``, ``12.0 KB``, ``1.5 GB`` (powers of 1024; the exact bytes are printed next to totals)."""
    if size < 1024:
        return f"{size} B"
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            break
    return f"{size:.1f} {unit}"


def entry_line(entry) -> str:
    """kind, what it is for, size, count, last modified, folder name; "in use" when a job holds it."""
    count = f"{entry.count} {entry.unit}" if entry.count is not None else "-"
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.modified)) if entry.modified else "-"
    mark = "  (in use)" if entry.in_use else ""
    return f"{entry.kind:<20}  {human_size(entry.size):>9}  {count:>12}  {stamp}  {entry.about}  [{entry.path.name}]{mark}"


def list_command(cache_dir: CacheDir = None, work_dir: WorkDirs = None) -> None:
    """List the cache's entries, their sizes and what each is for.

    One line per cache entry (embeddings, cross-encoder scores, run work folders): what it is for, its size on
    disk, its texts, pairs or finished shards and when it last changed; then the total. Reads metadata and file
    sizes only. --work-dir adds the run work folders of runs that were given one."""
    from negmine.encode.cache_contents import cache_entries, other_work_dirs, work_dir_entries
    from negmine.errors import counted
    from negmine.encode.emptied_work_dirs import was_emptied

    with user_errors():
        root = _root(cache_dir)
        groups = [(f"cache: {root}", cache_entries(root))]
        folders = other_work_dirs(root, work_dir or [])
        groups += [(f"work dir: {folder}", work_dir_entries(folder, was_emptied(root, folder))) for folder in folders]
    for number, (heading, group) in enumerate(groups):
        typer.echo(heading)
        for entry in group:
            typer.echo(entry_line(entry))
        if number and not group:  # a work dir prune emptied (any other without a run is refused above)
            typer.echo("no run work folders (negmine cache prune removed them)")
    entries = [entry for _, group in groups for entry in group]
    total = sum(e.size for e in entries)
    typer.echo(f"total: {human_size(total)} ({total} bytes) in {counted(len(entries), 'entry', 'entries')}")


def prune_command(cache_dir: CacheDir = None, runs: Runs = False, older_than: OlderThan = None,
                  model: Model = None, work_dir: WorkDirs = None, dry_run: DryRun = False) -> None:
    """Delete the selected cache entries that no running job uses.

    At least one selector: --runs, --model, --older-than; an entry a job holds is kept and named. --work-dir adds
    the run work folders of runs that were given one. --dry-run prints what would go."""
    from negmine.encode.cache_prune import prune_cache

    with user_errors():
        root = _root(cache_dir)
        result = prune_cache(root, runs, older_than, model, dry_run, work_dirs=work_dir or ())
    verb = "would delete" if dry_run else "deleted"
    for entry in result.deleted:
        typer.echo(f"{verb}: {entry_line(entry)}")
    for lock in result.stale_locks:
        typer.echo(f"{verb}: lock file {lock.name} of a run folder that is gone")
    for entry in result.in_use:
        typer.echo(f"kept (in use by a running job; prune again when it ends): {entry_line(entry)}")
    if not result.deleted and not result.in_use and not result.stale_locks:
        where = " and ".join(str(folder) for folder in [root, *(work_dir or [])])
        listing = "negmine cache list" + "".join(f" --work-dir {folder}" for folder in work_dir or [])
        typer.echo(f"nothing selected in {where}: see {'their' if work_dir else 'its'} entries with {listing}")
    typer.echo(f"{'would free' if dry_run else 'freed'}: {human_size(result.freed)} ({result.freed} bytes)")


def register(app: typer.Typer) -> None:
    cache = typer.Typer(name="cache", help="See and clean the on-disk cache (embeddings, cross-encoder scores, "
                        "run work folders).", no_args_is_help=True)
    cache.command("list")(list_command)
    cache.command("prune")(prune_command)
    app.add_typer(cache)
