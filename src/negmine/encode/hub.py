"""Fail fast on hub model names when the Hugging Face hub cannot be reached.

Without network, transformers retries a hub download for about 80 seconds before it gives up. A name
that is neither a local folder nor already in the local Hugging Face cache can only come from the hub,
so one short TCP connection to the hub's host (``HF_ENDPOINT``, default https://huggingface.co) decides
up front: reachable -> load as usual; unreachable -> a clear error in a few seconds. Offline mode
(``HF_HUB_OFFLINE=1`` or ``TRANSFORMERS_OFFLINE=1``) skips the probe: transformers then fails at once on
uncached names by itself.

:func:`check_hub_name` is the check before any model of a list loads (``negmine eval --model A --model B``, an
audit's cross-encoder and teachers): a cached name passes on local file lookups alone; offline, an uncached name
is refused; online, the hub is asked whether the name exists, with a short timeout, and only a clear "no such
repository" refuses, or a lookup that failed with the hub's host unreachable (one TCP probe, as
:func:`check_hub_model` makes when the name loads, which then refused it too: the same error, given once, up
front). A lookup that fails otherwise (timeout, hub error) passes with a warning, and the name is checked again
when it loads.

:func:`cached_snapshot` says which commit of a cached name loads, and from which folder (``refs/main``, read through
huggingface_hub's ``resolve_revision`` and ``try_to_load_from_cache`` with cache files only: 0.3 to 0.5 ms with the
modules imported), so ``negmine train`` compares a judge given by hub name by that snapshot's files
(:mod:`negmine.train.judge_provenance`). Once that check passed, the run loads that very commit: within
:func:`pinned_snapshots`, a pinned name loads the checked commit (:func:`load_pinned`) and :func:`cached_snapshot`
answers that snapshot, wherever ``refs/main`` has moved since (online, a load by name asks the hub for its newest
revision and downloads it: the check would have passed one revision and the run scored with another). It loads from
the commit's snapshot folder where that loads, else by repository and ``revision=<commit>``: a snapshot an
interrupted download left without some of its files (its weights) loads online, the missing files of that very
commit fetched, where from its folder alone it failed; offline it fails with negmine's message naming them
(:mod:`negmine.encode.snapshot_files`). A hub name that was not cached when the block began (its first load
downloads it) is pinned by that load (:func:`pin_loaded`: the commit the load itself records, :func:`loaded_snapshot`,
else the snapshot the cache's ``refs/main`` names after it), so the run's later loads (re-mining rounds) use that
commit too.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import warnings
from contextvars import ContextVar
from pathlib import Path
from typing import Callable, Iterator, Mapping, NamedTuple
from urllib.parse import urlparse

from negmine.config import DEFAULT_MODEL
from negmine.errors import ConfigError, NegmineWarning, caller_stacklevel, first_line


PROBE_TIMEOUT_S = 3.0
LOOKUP_TIMEOUT_S = 3.0
"""The hub lookup's request timeout; the whole lookup (name resolution included) is abandoned after twice that."""
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
"""Either one set true makes huggingface_hub (and so transformers and sentence-transformers) work offline."""
SENTENCE_TRANSFORMERS_ORGANIZATION = "sentence-transformers"
"""The organization sentence-transformers 5 puts before a bi-encoder name without one (6 puts none)."""
CROSS_ENCODER_ORGANIZATION = "cross-encoder"
"""The organization sentence-transformers puts before a cross-encoder name without one."""


def hub_address() -> tuple[str, int]:
    """``(host, port)`` of ``HF_ENDPOINT`` (default ``https://huggingface.co``)."""
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    return url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)


def hub_offline() -> str | None:
    """The variable (``HF_HUB_OFFLINE=1``) that makes the hub libraries work offline, as they read it (1, on, yes
    or true, any case); None when online."""
    for variable in OFFLINE_VARIABLES:
        value = os.environ.get(variable, "")
        if value.upper() in ("1", "ON", "YES", "TRUE"):
            return f"{variable}={value}"
    return None


def cache_dirs() -> list[str]:
    """Where hub models are cached: huggingface_hub's cache (``HF_HUB_CACHE``, ``HF_HOME``/hub) and
    ``SENTENCE_TRANSFORMERS_HOME`` when set (sentence-transformers downloads there instead)."""
    from huggingface_hub import constants

    extra = os.environ.get("SENTENCE_TRANSFORMERS_HOME")
    return [constants.HF_HUB_CACHE] + ([os.path.expanduser(extra)] if extra else [])


def is_cached(name: str, organization: str | None = None) -> bool:
    """True when the hub repo ``name`` already has a config (``config.json`` or ``modules.json``) in a local
    cache (:func:`cache_dirs`); a name without organization also as ``organization/name``, which
    sentence-transformers may load it as. Local file lookups only."""
    return cached_folder(name, organization) is not None


def cached_folder(name: str, organization: str | None = None) -> Path | None:
    """The cached snapshot folder of the hub repo ``name`` (:func:`is_cached`'s lookup) that holds its
    ``config.json`` or ``modules.json``, so the checks that read a local model folder's JSON files (what kind of
    model it is) read a cached one's too; None when not cached. Local file lookups only. Within
    :func:`pinned_snapshots`, a pinned name's pinned folder, the snapshot of the commit it loads."""
    pinned = _pins().get((name, organization))
    if pinned is not None:
        return pinned.folder
    found = _cached_repo(name, organization)
    return None if found is None else found[2]


class CachedSnapshot(NamedTuple):
    """The snapshot a cached hub name loads from: the repository (``organization/name`` for a bare name loaded
    so), the cache folder that holds it, the commit its ``refs/main`` names there, and that commit's folder."""

    repo: str
    cache: str
    commit: str
    folder: Path


def cached_snapshot(name: str, organization: str | None = None) -> CachedSnapshot | None:
    """:func:`cached_folder` with the repository, the cache and the commit it is (``resolve_revision`` from the
    cache's ``refs/main``, ``local_files_only``: no network); None when not cached. Within :func:`pinned_snapshots`,
    a pinned ``(name, organization)``'s pinned snapshot, the commit it loads."""
    from huggingface_hub import resolve_revision

    pinned = _pins().get((name, organization))
    if pinned is not None:
        return pinned
    found = _cached_repo(name, organization)
    if found is None:
        return None
    repo, cache = found[:2]
    try:
        commit = resolve_revision(repo, cache_dir=cache, local_files_only=True).resolved
    except Exception:  # refs/main gone since the lookup, unreadable: as not cached
        return None
    folder = snapshot_folder(repo, cache, commit)  # the commit's, should refs/main have moved meanwhile
    return None if folder is None else CachedSnapshot(repo, cache, commit, folder)


_PINNED: ContextVar[dict[tuple[str, str | None], CachedSnapshot] | None] = ContextVar("negmine_pinned_snapshots",
                                                                                       default=None)
"""The snapshots hub names load from in this context (:func:`pinned_snapshots`), by (name as given, organization);
None outside any block."""


def _pins() -> Mapping[tuple[str, str | None], CachedSnapshot]:
    return _PINNED.get() or {}


@contextlib.contextmanager
def pinned_snapshots(pins: Mapping[tuple[str, str | None], CachedSnapshot]) -> Iterator[None]:
    """Within the block, each hub name of ``pins`` (keyed by the name as given and the organization a bare name is
    looked up under, as :func:`cached_snapshot` is asked) loads its snapshot's commit (:func:`load_pinned`) and
    :func:`cached_snapshot` answers that snapshot, so what loads, and what the summaries
    record of it, is the commit a check read before any model loaded, even after a download moved the cache's
    ``refs/main`` to a newer one. A hub name that loads unpinned within the block is pinned by its load
    (:func:`pin_loaded`) for the rest of the block and of the blocks around it. Pins of an enclosing block stay,
    unless ``pins`` replaces them."""
    outer = _PINNED.get()
    current = {**(outer or {}), **pins}
    token = _PINNED.set(current)
    try:
        yield
    finally:
        _PINNED.reset(token)
        if outer is not None:  # what loads pinned within the block stays pinned for the run
            outer.update({key: pin for key, pin in current.items() if key not in pins and key not in outer})


class LoadSource(NamedTuple):
    """What a model given by name or folder is loaded from: ``path``, the name or folder as given, or a pinned hub
    name's repository, with the commit it is pinned to (``revision``), the cache that holds it, where that is not
    the one sentence-transformers reads by default (``cache_folder``; None: the default), and that commit's snapshot
    folder there (``folder``)."""

    path: str
    revision: str | None = None
    cache_folder: str | None = None
    folder: str | None = None

    def options(self) -> dict:
        """The keyword arguments of ``SentenceTransformer`` and ``CrossEncoder`` besides the path."""
        return {key: value for key, value in (("revision", self.revision), ("cache_folder", self.cache_folder))
                if value is not None}


def load_source(name: str, organization: str | None) -> LoadSource:
    """What the model given as ``name`` (a hub name, a bare one looked up under ``organization``, or a folder) is
    loaded from: within :func:`pinned_snapshots`, a pinned name's repository at its commit, from the cache that holds
    it (:func:`load_pinned`); else ``name`` itself."""
    pinned = _pins().get((name, organization))
    if pinned is None:
        return LoadSource(name)
    cache = None if _default_cache(pinned.cache) else pinned.cache
    return LoadSource(pinned.repo, pinned.commit, cache, str(pinned.folder))


def load_pinned(loader: Callable, name: str, organization: str | None, **options):
    """``loader(path, **options)`` (``SentenceTransformer``, ``CrossEncoder``) of the model given as ``name`` as
    :func:`load_source` says. A pinned hub name loads from its commit's snapshot folder first: the cache's files
    alone, no request to the hub. By repository and commit, huggingface_hub asks the hub about each file the load
    looks up that the snapshot lacks, optional ones too: against a hub that accepts connections and never answers, a
    tiny cross-encoder's load was still retrying its first such file after 400 s (from the folder: 0.07 s); with
    ``local_files_only`` too, it asked once per process for its agent registry (3.1 s there). Should the folder not
    load (an interrupted download left it without some files) and the hub libraries not be offline, it loads by its
    repository and ``revision=<commit>``, which fetches that commit's missing files; offline, the folder's error
    stands (:mod:`negmine.encode.snapshot_files` names the files)."""
    source = load_source(name, organization)
    if source.folder is None:
        return loader(source.path, **options)
    try:
        return loader(source.folder, **options)
    except (OSError, ValueError):
        if hub_offline():
            raise
    return loader(source.path, **source.options(), **options)


def _default_cache(cache: str) -> bool:
    """Whether sentence-transformers reads the cache folder ``cache`` by default (``SENTENCE_TRANSFORMERS_HOME``
    when set, else huggingface_hub's ``HF_HUB_CACHE``): given it explicitly, CrossEncoder logs a deprecation warning
    of its own."""
    from huggingface_hub import constants

    default = os.environ.get("SENTENCE_TRANSFORMERS_HOME") or constants.HF_HUB_CACHE
    return os.path.abspath(os.path.expanduser(default)) == os.path.abspath(cache)


def pin_loaded(name: str, organization: str | None, model=None) -> None:
    """After ``name`` (looked up under ``organization``, as :func:`load_source` was asked) loaded as ``model``, within
    :func:`pinned_snapshots`: a hub name not pinned is pinned to the snapshot that load used, so later loads in the
    block use that commit, and the summaries record it, should the hub (and a later load's download) move
    ``refs/main`` meanwhile. The snapshot is the one the load records (:func:`loaded_snapshot`), else the one the
    cache's ``refs/main`` names right after it (the load by name resolved ``refs/main`` and, online, downloaded what
    it named; a download by another process in between would move it). A local folder, a pinned name, a name no
    cache holds, and any load outside a block: nothing."""
    pins = _PINNED.get()
    if pins is None or (name, organization) in pins or os.path.exists(os.path.expanduser(name)):
        return
    snapshot = loaded_snapshot(model, name, organization) or cached_snapshot(name, organization)
    if snapshot is not None:
        pins[(name, organization)] = snapshot


def loaded_snapshot(model, name: str, organization: str | None) -> CachedSnapshot | None:
    """The snapshot ``model``, a SentenceTransformer or CrossEncoder just loaded by the hub name ``name``, was loaded
    from, as its load recorded it: sentence-transformers 6 resolves the revision once (huggingface_hub's
    ``resolve_revision``, from the cache's ``refs/main`` offline), loads every module at that commit and keeps it in
    the model card data (``base_model``, the repository, organization included; ``base_model_revision``, the
    commit). Versions before record there, after a hub lookup (none offline), the commit of the snapshot folder
    ``modules.json`` was read from, else the hub's newest commit. The commit's snapshot folder in a cache
    (:func:`cache_dirs`), for a repository ``name`` loads as; None when the load recorded no commit, another
    repository, or one no cache holds (:func:`pin_loaded` then reads ``refs/main``)."""
    import re

    card = getattr(model, "model_card_data", None)
    repo, commit = getattr(card, "base_model", None), getattr(card, "base_model_revision", None)
    names = [name] + ([f"{organization}/{name}"] if organization and "/" not in name else [])
    if repo not in names or not isinstance(commit, str) or not re.fullmatch(r"[0-9a-f]{40}", commit):
        return None
    for cache in cache_dirs():
        folder = snapshot_folder(repo, cache, commit)
        if folder is not None:
            return CachedSnapshot(repo, cache, commit, folder)
    return None


def _cached_repo(name: str, organization: str | None) -> tuple[str, str, Path] | None:
    """(repository, cache folder, snapshot folder) of the first of ``name`` and ``organization/name`` (a bare name,
    as sentence-transformers may load it) that a cache (:func:`cache_dirs`) holds at ``refs/main``."""
    names = [name] + ([f"{organization}/{name}"] if organization and "/" not in name else [])
    for repo in names:
        for cache in cache_dirs():
            folder = snapshot_folder(repo, cache)
            if folder is not None:
                return repo, cache, folder
    return None


def snapshot_folder(repo: str, cache: str, revision: str | None = None) -> Path | None:
    """The snapshot folder of the hub repo ``repo`` at ``revision`` (default ``refs/main``; a commit: an older
    revision, still cached beside a newer one) in the cache folder ``cache``, when it holds the repo's
    ``config.json`` or ``modules.json``; else None. Local file lookups only (``try_to_load_from_cache``)."""
    from huggingface_hub import try_to_load_from_cache

    for filename in ("config.json", "modules.json"):
        try:
            found = try_to_load_from_cache(repo, filename, cache_dir=cache, revision=revision)
        except Exception:  # invalid repo id, unreadable cache: let sentence-transformers report it
            found = None
        if isinstance(found, str):
            return Path(found).parent
    return None


def unreachable_reason(address: tuple[str, int], timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """None when a TCP connection to ``address`` opens within ``timeout`` seconds, else why not."""
    try:
        with socket.create_connection(address, timeout=timeout):
            return None
    except OSError as err:
        return f"{err.__class__.__name__}: {err}"


def check_hub_model(name: str) -> None:
    """Raise ConfigError at once if ``name`` must be downloaded and the hub is unreachable."""
    if hub_offline() or is_cached(name):
        return
    address = hub_address()
    reason = unreachable_reason(address)
    if reason is not None:
        raise unreachable_error(name, address, reason)


def unreachable_error(name: str, address: tuple[str, int], reason: str, what: str = "model") -> ConfigError:
    """The refusal of hub name ``name`` (a ``what``), not cached, when the hub at ``address`` is unreachable."""
    host, port = address
    default = f" (the default model, {DEFAULT_MODEL}, is bundled and works offline)" if what == "model" else ""
    return ConfigError(
        f"{what} {name!r} is not a local folder and not in the Hugging Face cache, and the hub ({host}:{port}) is "
        f"unreachable ({reason}); pass a local sentence-transformers folder{bundled_hint(name, what) or default}"
    )


def bundled_hint(name: str, what: str = "model") -> str:
    """``; all-MiniLM-L6-v2 ships with negmine: ...`` when hub name ``name`` is the bundled model's
    (``all-MiniLM-L6-v2``, ``sentence-transformers/all-MiniLM-L6-v2``), for a ``--model`` or ``--teacher``; else "".
    Given by its hub name offline, it was refused with 'the default model is bundled', which named neither the
    default nor that it is this very model."""
    bundled = DEFAULT_MODEL.split(":", 1)[1]
    if what not in ("model", "teacher") or name.rsplit("/", 1)[-1].lower() != bundled.lower():
        return ""
    return (f"; {bundled} itself ships with negmine: give it as {DEFAULT_MODEL!r} (--{what} {DEFAULT_MODEL}), "
            "which needs no download")


def check_hub_name(name: str, organization: str | None = SENTENCE_TRANSFORMERS_ORGANIZATION, what: str = "model",
                   timeout: float = LOOKUP_TIMEOUT_S) -> None:
    """ConfigError, before any model loads, when the hub name ``name`` cannot load: offline and not cached, or
    online and the hub says it has no such repository or is unreachable (:func:`ask_hub`). A cached name costs
    local file lookups only; an online lookup that fails for any other reason (timeout, hub error) passes with a
    warning. ``what`` names it in errors (``cross-encoder``, ``teacher``)."""
    if is_cached(name, organization):
        return
    offline = hub_offline()
    if offline:
        raise ConfigError(
            f"{what} {name!r} is not a local folder and not in the Hugging Face cache ({', '.join(cache_dirs())}), "
            f"and {offline} forbids downloading it; download it once with network (e.g. `hf download "
            f"{name}`, or run the command without {offline.split('=')[0]}), point HF_HOME or HF_HUB_CACHE at the "
            f"cache that holds it, or pass a local model folder{bundled_hint(name, what)}"
        )
    if "/" not in name:  # sentence-transformers decides the organization: checked when it loads
        return
    answer = ask_hub(name, timeout)
    if answer.unreachable is not None:  # the load would refuse it (check_hub_model): once, and now
        raise unreachable_error(name, answer.address, answer.unreachable, what)
    if answer.missing is not None:
        raise ConfigError(
            f"{what} {name!r} is not a local folder, not in the Hugging Face cache, and the hub has no such "
            f"model ({answer.missing}); check the name's spelling (organization/name), log in (`hf auth login` or "
            "HF_TOKEN) if it is private, or pass a local model folder"
        )


class HubAnswer(NamedTuple):
    """What asking the hub about a model name found (:func:`ask_hub`)."""

    missing: str | None = None  # the hub's "repository not found"
    problem: str | None = None  # why the lookup failed
    unreachable: str | None = None  # after a failed lookup, why the hub's host is unreachable (None: it answers)
    address: tuple[str, int] = ("", 0)  # the hub's host and port, probed after a failed lookup


def ask_hub(name: str, timeout: float = LOOKUP_TIMEOUT_S) -> HubAnswer:
    """The hub's "repository not found" for model ``name`` (``missing``; None when it has it or it is gated: the
    load reports that); after a failed lookup, whether the hub's host is unreachable (``unreachable``: one TCP probe,
    :func:`unreachable_reason`). Run in a daemon thread, so a name resolution that hangs cannot hold the command:
    no answer within ``2 * timeout`` seconds is a failed lookup. A failed lookup with the hub's host reachable (or
    not answering in time) is warned about here, in the calling thread, so the warning is the caller's (filters,
    ``pytest.warns``) and never comes late; with the host unreachable the caller refuses the name, and no warning
    says so first."""
    import time

    deadline = time.monotonic() + 2 * timeout
    outcome: list[HubAnswer] = []
    worker = threading.Thread(target=lambda: outcome.append(_lookup(name, timeout, deadline)), daemon=True)
    worker.start()
    worker.join(2 * timeout)
    if not outcome:
        _not_checked(name, f"no answer within {2 * timeout:.0f} s")
        return HubAnswer()
    if outcome[0].problem is not None and outcome[0].unreachable is None:
        _not_checked(name, outcome[0].problem)
    return outcome[0]


def _lookup(name: str, timeout: float, deadline: float) -> HubAnswer:
    """:func:`_repository_not_found`'s answer, or why the hub could not be asked and whether its host is unreachable
    (probed until half a second before ``deadline``, a ``time.monotonic()``, at most :data:`PROBE_TIMEOUT_S`)."""
    import time

    try:
        return HubAnswer(missing=_repository_not_found(name, timeout))
    except Exception as err:  # network, timeout, hub error, invalid name: the load says what it is
        problem = f"{type(err).__name__}: {first_line(err, '')}"
    address = hub_address()
    probe = max(0.1, min(PROBE_TIMEOUT_S, deadline - time.monotonic() - 0.5))
    return HubAnswer(problem=problem, unreachable=unreachable_reason(address, probe), address=address)


def _repository_not_found(name: str, timeout: float) -> str | None:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    try:
        HfApi().model_info(name, timeout=timeout)
    except GatedRepoError:
        return None
    except RepositoryNotFoundError as err:
        response = getattr(err, "response", None)
        status, url = getattr(response, "status_code", "?"), getattr(getattr(response, "request", None), "url", "")
        return f"HTTP {status} for {url}" if url else first_line(err, "repository not found")
    return None


def _not_checked(name: str, reason: str) -> None:
    warnings.warn(f"could not ask the hub about model {name!r} before loading any model ({reason}); it is checked "
                  "when it loads. Without hub access, set HF_HUB_OFFLINE=1 to have names not in the cache refused up "
                  "front", NegmineWarning, stacklevel=caller_stacklevel())
