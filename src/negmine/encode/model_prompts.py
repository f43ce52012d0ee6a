"""The prompts a model's sentence-transformers config names, and a warning when a run encodes without them.

negmine adds a prompt to the mining (or evaluated) model's texts only when ``--query-prompt`` /
``--document-prompt`` give one (teachers take their config's prompts, see
:func:`negmine.audit.resources.load_teacher`). A model trained with prefixes and saved with them in its config
(``prompts: {"query": "..."}``; Snowflake/snowflake-arctic-embed-l-v2.0's model card encodes its queries with
``prompt_name="query"``) was then used without its prefixes, without a word: other candidates and scores than
the model's own ``encode_query`` gives.

An empty prompt given on the command line (``--query-prompt ''``) is a choice, and no warning follows: the CLI says
which prompts were given (:func:`prompts_given`). A config from Python cannot tell a prompt set to ``""`` from the
default, which is ``""`` too, so from Python the warning is filtered like any other.
"""

from __future__ import annotations

import contextlib
import contextvars
import shlex
import warnings
from typing import Iterable, Iterator

from negmine.config import EncoderConfig
from negmine.errors import NegmineWarning, caller_stacklevel, field_setting


_GIVEN: contextvars.ContextVar[frozenset[str]] = contextvars.ContextVar("negmine_prompts_given", default=frozenset())
"""The EncoderConfig prompt fields (``query_prompt``, ``document_prompt``) the command line gave, empty or not."""


@contextlib.contextmanager
def prompts_given(fields: Iterable[str]) -> Iterator[None]:
    """Within the block, the prompt ``fields`` (``query_prompt``, ``document_prompt``) count as given on purpose,
    an empty one included: :func:`warn_unapplied_prompts` warns about the others only."""
    token = _GIVEN.set(frozenset(fields))
    try:
        yield
    finally:
        _GIVEN.reset(token)


def configured_prompts(embedder) -> tuple[str, str]:
    """``(query, document)`` prompts a model's sentence-transformers config names ``query`` and ``document``
    (or ``passage``, as E5's), ``""`` for each it lacks: the prefixes the model was trained with, which its own
    ``encode_query`` / ``encode_document`` add."""
    prompts = getattr(getattr(embedder, "model", None), "prompts", None) or {}
    query = prompts.get("query") or ""
    document = prompts.get("document") or prompts.get("passage") or ""  # sentence-transformers 6 adds document ""
    return (query if isinstance(query, str) else ""), (document if isinstance(document, str) else "")


def warn_unapplied_prompts(embedder, config: EncoderConfig) -> None:
    """A NegmineWarning when the model's config names a prompt that ``config`` leaves empty, with the options
    that add it; not for a prompt given empty on the command line (:func:`prompts_given`)."""
    on_purpose = _GIVEN.get()
    missing = [(field, prompt) for field, prompt, given in zip(
        ("query_prompt", "document_prompt"), configured_prompts(embedder),
        (config.query_prompt, config.document_prompt)) if prompt and not given and field not in on_purpose]
    if not missing:
        return
    named = " and ".join(f"a {field[:-7]} prompt {prompt!r}" for field, prompt in missing)
    options = " and ".join(field_setting(field, prompt, cli=f"--{field.replace('_', '-')} {shlex.quote(prompt)}")
                           for field, prompt in missing)  # the field for Python, the option as a shell takes it
    empty = " ".join(f"--{field.replace('_', '-')} ''" for field, _ in missing)
    it = "it" if len(missing) == 1 else "them"
    warnings.warn(
        f"model {config.model} names {named} in its sentence-transformers config, which negmine adds only when "
        f"given: this run encodes without {it}; to encode as the model was trained, add {options} (to encode "
        f"without {it} on purpose, give {empty} on the command line; from Python, filter this warning)",
        NegmineWarning, stacklevel=caller_stacklevel())
