"""``negmine mine``: load -> encode -> retrieve -> select -> write, as one function over a MineConfig."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import NamedTuple

import numpy as np

from negmine.config import EncoderConfig, MineConfig
from negmine.encode.base import Embedder
from negmine.encode.fingerprint import FINGERPRINT_VERSION
from negmine.plugins import plugin_record
from negmine.select import SELECTION_VERSION
from negmine.config_path import path_option, within
from negmine.errors import ConfigError, counted
from negmine.export.native import dumps_row
from negmine.io.atomic import atomic_write
from negmine.io.records import Dataset
from negmine.pipeline.candidates import CandidateSet, build_candidates
from negmine.pipeline.dataset_ids import check_dataset_ids
from negmine.pipeline.select_pairs import (
    PairContext, PoolHook, SelectionStats, build_context, fallback_query_ids, select_pairs, window_rows,
)
from negmine.pipeline.summary import build_summary
from negmine.pipeline.variant_pairs import MinedRepeats, variant_pairs, warn_variant_pairs
from negmine.pipeline.timing import StageTimer


class MineResult(NamedTuple):
    output: Path
    summary: dict
    embedder: Embedder | None = None
    """The embedder the run encoded with (given or loaded; None for BM25), for a caller that needs the same model
    next (an audit of a BEIR directory: its near-duplicate judge) instead of loading it a second time."""


def make_embedder(config: EncoderConfig) -> Embedder:
    """The configured backend's embedder (torch sentence-transformers, or its ONNX Runtime export)."""
    from negmine.encode.factory import make_embedder as build

    return build(config)


def make_cache(config: EncoderConfig):
    """The on-disk embedding cache, or None when caching is off."""
    if not config.use_cache:
        return None
    from negmine.encode.cache import EmbeddingCache, default_cache_dir

    return EmbeddingCache(config.cache_dir or default_cache_dir())


class Feasible(NamedTuple):
    """What :func:`check_feasible` computed, for selection and the pool hooks to reuse: the corpus's normalised-text
    ``hashes`` (:func:`~negmine.select.exclude.corpus_hashes`) and each query's ``positives``, pooled over its text
    twins (:func:`~negmine.select.exclude.positives_by_query_text`)."""

    hashes: np.ndarray
    positives: dict[str, list[int]]


def check_feasible(config: MineConfig, dataset: Dataset) -> Feasible:
    """Reject option/data combinations that cannot produce output, before anything is encoded. Returns what the
    check computed (:class:`Feasible`), so the run computes it once."""
    from negmine.select.exclude import corpus_hashes, positives_by_query_text

    hashes = corpus_hashes(dataset.corpus.texts)
    positives = positives_by_query_text(dataset)
    _check_corpus_size(config, dataset, hashes, positives)
    if not dataset.qrels.query_ids():
        skipped = dataset.skipped_qrels()["relevant_skipped"]
        why = f" ({skipped} relevant judgments were skipped: their documents are not in the corpus)" if skipped else ""
        raise ConfigError(f"{dataset.qrels.source}: no query has a positive judgment (score > 0){why}; nothing to mine: "
                          "a positive is a line 'QUERY-ID<TAB>CORPUS-ID<TAB>1' (a score of 1 or more); check that "
                          f"this is the split to mine ({path_option('data.split')})")
    return Feasible(hashes, positives)


class _Exclusion(NamedTuple):
    """What selection leaves one query of the corpus: ``available`` candidates, the corpus's distinct ``texts``
    (selection keeps one document of each) minus those of its ``positives`` (documents, pooled over its text twins;
    ``own``: its id's alone) and of the query, held by ``copies`` other documents besides the positives (so the
    ``positives + copies`` documents excluded hold ``texts - available`` distinct texts)."""

    available: int
    positives: int
    own: int
    copies: int
    texts: int


def _check_corpus_size(config: MineConfig, dataset: Dataset, hashes: np.ndarray,
                       positives: dict[str, list[int]]) -> None:
    """``num_negatives`` must fit in what selection leaves the worst query (:func:`_worst_exclusion`). A query's
    pool (:func:`~negmine.pipeline.select_pairs.pair_pool`) loses its positives and those of every query with the
    same text (pooled, as selection pools them: :func:`positives_by_query_text`), every document with the
    normalised text of one of them or of the query (:meth:`ExclusionIndex.excluded_rows`), and every copy of a
    text ranked below its first (:func:`~negmine.pipeline.select_pairs.first_of_each_text`): it holds at most one
    document per distinct normalised text of the corpus, minus the texts excluded. Counting the query id's own
    positives only let a run through that no row of the twin queries could fill; not counting the copies
    (session 59), one that no row of the query could fill; counting documents, not texts (session 60), one whose
    rows a text held under several ids left short (skipped, or short with ``--keep-partial``). The message says
    how many distinct texts the corpus has when some repeat, and how many of them the query's positives and other
    documents excluded hold when that is not one each (:func:`_held_texts`)."""
    n_docs = len(dataset.corpus)
    worst = _worst_exclusion(dataset, hashes, positives)
    if config.select.num_negatives <= worst.available:
        return
    texts = f" ({counted(worst.texts, 'distinct text')})" if worst.texts < n_docs else ""
    twins = " (its own and those of the queries with the same text)" if worst.positives > worst.own else ""
    copies = (f" and {counted(worst.copies, 'other document')} with the text of one of them or of the query"
              if worst.copies else "")
    raise ConfigError(
        f"cannot mine {config.select.num_negatives} negatives: the corpus has {counted(n_docs, 'document')}{texts} "
        f"and a query has {counted(worst.positives, 'positive')}{twins}{copies}{_held_texts(worst)}, leaving at most "
        f"{counted(worst.available, 'candidate')}; lower {path_option('select.num_negatives')}"
    )


def _held_texts(worst: _Exclusion) -> str:
    """How many distinct texts the documents :func:`_check_corpus_size` names as excluded (the positives and the
    other documents) hold, when that differs from their count: the candidates left are the corpus's distinct texts
    minus those (one document per text), so "5 documents (3 distinct texts) and a query has 1 positive and 1 other
    document ..., leaving at most 2 candidates" (a positive held under 2 ids, another text under 2) counted texts
    in the corpus and the candidates but documents in between (3 - 1 - 1 is not 2; session 60's message). Nothing
    when they hold one text each (every count then holds for documents and texts alike)."""
    excluded, held = worst.positives + worst.copies, worst.texts - worst.available
    if held == excluded:
        return ""
    of = "the corpus's only text" if worst.texts == 1 else f"{held} of the {worst.texts} distinct texts"
    return f", {counted(excluded, 'document')} holding {of}"


def _worst_exclusion(dataset: Dataset, hashes: np.ndarray, positive_rows: dict[str, list[int]]) -> _Exclusion:
    """The query selection leaves the fewest candidates: the corpus's distinct normalised texts minus the distinct
    texts it excludes (its positives' and its own, where a document holds it); on ties the one with the fewest
    copies, then a twin-less one. From the corpus's normalised-text ``hashes`` (one per document, as selection's
    index has them) and the queries' ``positive_rows``
    (:func:`~negmine.select.exclude.positives_by_query_text`); nothing is encoded. With no query, the whole
    corpus's texts. Arrays throughout: memory grows with the corpus's distinct texts (8 + 8 bytes each) and the
    queries' positives, not with a Python object per document."""
    from negmine.select.exclude import text_hash

    by_text = positive_rows
    texts, counts = np.unique(hashes, return_counts=True)
    if not by_text:
        return _Exclusion(len(texts), 0, 0, 0, len(texts))
    query_ids = list(by_text)
    owner = np.repeat(np.arange(len(query_ids)), [len(rows) + 1 for rows in by_text.values()])
    gone = np.fromiter((h for q, rows in by_text.items() for h in (*hashes[np.asarray(rows, dtype=np.int64)].tolist(),
                                                                     text_hash(dataset.queries.text(q)))),
                       dtype=np.int64, count=len(owner))
    pairs = np.unique(np.stack([owner, gone], axis=1), axis=0)  # each (query, text) once
    at = np.searchsorted(texts, pairs[:, 1]).clip(max=len(texts) - 1)
    held = texts[at] == pairs[:, 1]  # the query's text need not be a document's
    texts_gone = np.bincount(pairs[held, 0], minlength=len(query_ids))
    rows_gone = np.bincount(pairs[held, 0], weights=counts[at[held]], minlength=len(query_ids)).astype(np.int64)
    positives = np.array([len(set(rows)) for rows in by_text.values()], dtype=np.int64)
    own = np.array([len(set(dataset.qrels.positives(q))) for q in query_ids], dtype=np.int64)
    available, copies = len(texts) - texts_gone, rows_gone - positives
    worst = int(np.lexsort((-own, copies, available))[0])
    return _Exclusion(int(available[worst]), int(positives[worst]), int(own[worst]), int(copies[worst]), len(texts))


def check_registries(config: MineConfig) -> None:
    """Unknown strategy or export format names fail here, listing the registry keys."""
    from negmine.export.registry import check_formats
    from negmine.select.strategy import make_strategy

    make_strategy(config.select)
    check_formats(config.output.formats, config.output.export_as, config.output.export_scores)


def check_outputs(config: MineConfig) -> dict[str, Path]:
    """Every file the run will write (output, exports, summary, ``--denoise`` flags) can be written; checked before
    any work. Returns them as ``{option: path}``, the outputs :func:`mine` locks: the denoise flags were left out,
    so two runs could both write them and a killed run's temp file of them stayed."""
    from negmine.audit.mine_hooks import DENOISE_FLAGS_OPTION, denoise_flags_path
    from negmine.export.registry import export_path
    from negmine.io.outputs import check_cache_dir, check_output_file, check_outputs_distinct, input_files

    outputs = {"--output": config.output.path, "--summary-json": summary_path(config)}
    outputs.update({f"--export {fmt}": export_path(config.output.path, fmt, config.output.export_as)
                    for fmt in config.output.formats})
    if config.denoise.enabled:
        outputs[DENOISE_FLAGS_OPTION] = denoise_flags_path(config.output.path)
    data = config.data
    check_outputs_distinct(outputs, input_files(data.data_dir, data.corpus, data.queries, data.qrels, data.pairs))
    for option, path in outputs.items():
        check_output_file(path, option)
    check_cache_dir(config.encoder.cache_dir)
    return outputs


def check_models(config: MineConfig, embedder: Embedder | None) -> None:
    """Every model the run will load can be one (a folder that holds a model, a hub name that can load), checked
    before any loads: the mining model (when none is given and the run is not BM25) and the ``--denoise``
    judges' cross-encoder and teachers. A typo in ``--model`` failed only after the judges had loaded."""
    if embedder is None and config.retrieve.method != "bm25":
        from negmine.encode.sentence_transformer import check_bi_encoder_folder, check_model_source

        with within(config, "encoder"):  # e.g. encoder.model (--model) for the default's missing package
            check_bi_encoder_folder(config.encoder.model, check_model_source(config.encoder.model, hub="early"))
    if config.denoise.enabled:
        from negmine.audit.resources import check_judges_can_load

        with within(config, "denoise.judges"):  # the messages name denoise.judges.teachers
            check_judges_can_load(config.denoise.judges,
                                  config.denoise.judges.resolved(config.denoise.DEFAULT_JUDGES))


def remove_stale_companions(config: MineConfig) -> None:
    """Delete an earlier run's summary, exports of this output (every format, either file type) and ``--denoise``
    flags before the new rows are written: a run stopped between the native file and its summary, or one without
    ``--denoise``, then leaves no file that describes another run. The summary is written last, so its presence
    marks a finished set."""
    from negmine.audit.mine_hooks import denoise_flags_path
    from negmine.export.registry import remove_stale_exports

    remove_stale_exports(config.output.path, summary_path(config), denoise_flags_path(config.output.path))


def mine(
    config: MineConfig,
    embedder: Embedder | None = None,
    dataset: Dataset | None = None,
    hook: PoolHook | None = None,
) -> MineResult:
    """Mine hard negatives as configured; write native JSONL (+ exports, summary JSON) atomically.

    ``embedder`` and ``dataset`` may be passed in (tests, a Hugging Face dataset read by
    :func:`negmine.io.pairs.pairs_from_dataset`); otherwise they are built from the config. With ``dataset``
    given, ``config.data`` must name no input (data_dir, corpus, queries, qrels, pairs): a ConfigError naming them,
    before anything loads, since the run would mine ``dataset`` and leave them unread without a word.
    ``hook`` runs on each pair's pool between exclusions and filters (denoising).
    Another run writing one of the same files meanwhile is refused at once (:mod:`negmine.io.output_lock`).
    """
    from negmine.config import check_config_type

    check_config_type(config, MineConfig, "mine")
    if dataset is not None:
        from negmine.pipeline.given_data import refuse_named_inputs

        refuse_named_inputs(config.data, "mine(config, dataset=...)", GIVEN_DATASET_FIX)
    return mine_holding(config, frozenset(), embedder, dataset, hook)


GIVEN_DATASET_FIX = (
    "the dataset replaces them: leave config.data's files unset, e.g. MineConfig(data=DataConfig()) (a corpus "
    "for pairs: negmine.io.pairs.pairs_from_dataset(ds, corpus=PATH)), or drop dataset= to mine the files"
)
"""The end of the message of ``mine(config, dataset=...)`` with a config whose data names files."""


def mine_loaded(config: MineConfig, dataset: Dataset, embedder: Embedder | None = None) -> MineResult:
    """:func:`mine` on ``dataset``, which the caller loaded from the very files ``config.data`` names (re-mining
    in training loads them once, before the first step): unlike ``mine(config, dataset=...)``, ``config.data``
    keeps naming them, so the summary records the input and no output may overwrite one of them. Internal: not
    part of the public API."""
    return mine_holding(config, frozenset(), embedder, dataset)


def mine_holding(config: MineConfig, held: frozenset[Path], embedder: Embedder | None = None,
                 dataset: Dataset | None = None, hook: PoolHook | None = None) -> MineResult:
    """:func:`mine` as a step of a run that holds some of its outputs' locks already (``held``, as
    :func:`negmine.io.output_lock.hold_outputs` yields them) and keeps them after it: an audit of a BEIR directory
    holds its candidates file (and their summary) from before mining until it has audited them."""
    from negmine.config import check_config_type
    from negmine.io.output_lock import hold_outputs

    from negmine.encode.max_length_early import check_max_length_early
    from negmine.progress_interval import check_progress_interval

    check_config_type(config, MineConfig, "mine")
    config.validate(dataset_given=dataset is not None)
    check_progress_interval(config.encoder.show_progress)  # a bar opens after the data loads: minutes, at scale
    with within(config, "encoder"):  # before the data is read and the model loads
        check_max_length_early(config.encoder.model, config.encoder.max_length)
    check_registries(config)
    with hold_outputs(check_outputs(config), held=held):  # no other run writes these files until this one ends
        return _mine(config, embedder, dataset, hook)


def _mine(config: MineConfig, embedder: Embedder | None, dataset: Dataset | None, hook: PoolHook | None) -> MineResult:
    """:func:`mine` once the config and outputs are checked and the outputs' locks are held. Its caches (the
    mining model's vectors; the judges', with ``--denoise``) are closed when it ends, whether it returns or raises:
    an exception the caller kept (a notebook keeps the last one, with its frames) kept the caches' locks on their
    folders until the process ended, so ``negmine cache prune`` kept those folders."""
    from negmine.encode.cache import closed_after

    with closed_after(make_cache(config.encoder)) as cache, \
            closed_after(make_cache(config.encoder) if config.denoise.enabled else None) as judge_cache:
        return _mine_with(config, embedder, dataset, hook, cache, judge_cache)


def _mine_with(config: MineConfig, embedder: Embedder | None, dataset: Dataset | None, hook: PoolHook | None,
               cache, judge_cache) -> MineResult:
    """:func:`_mine` with its caches open (None: caching off, or no judge)."""
    from negmine.engine.registry import check_engine

    with within(config, "engine"):  # its messages name engine.ray_address, as the config's checks do
        check_engine(config.engine)  # e.g. --ray-address auto with no cluster: before data, judges and model load
    timer = StageTimer()
    with timer("load"):
        if dataset is None:
            from negmine.io.load import load_data

            with within(config, "data"):  # its messages name data.split, data.unknown_qrels, data.pairs, ...
                dataset = load_data(config.data, config.encoder.show_progress)
        else:  # built in Python, or by the caller from files (re-mining in training): ids the mined file can hold
            check_dataset_ids(dataset)
        feasible = check_feasible(config, dataset)  # corpus hashes, positives: selection and the hooks reuse them
        variants = variant_pairs(dataset)
        warn_variant_pairs(dataset, variants)  # the input's pairs; the summary counts the rows written (MinedRepeats)
        embedder, loaded, hook_factory = _load_models(config, embedder, judge_cache)
    ctx, embedder = _candidates(config, dataset, embedder, loaded, timer, cache, feasible)
    with released_on_error(ctx.cands):
        return _select_and_write(config, ctx, dataset, hook_factory, hook, timer, MinedRepeats(variants), embedder)


def released_on_error(cands: CandidateSet):
    """End the run's lease on its work folder (kept, for a rerun) if the block raises: the lease is otherwise
    ended only once the outputs are written, and one left held by a run that raised in a process that goes on
    lasted until that process ended, so ``negmine cache prune`` kept the folder and a run sharing it never
    removed it."""
    import contextlib

    return cands.lease.released_on_error() if cands.lease is not None else contextlib.nullcontext()


def _select_and_write(config: MineConfig, ctx: PairContext, dataset: Dataset, hook_factory, hook: PoolHook | None,
                      timer: StageTimer, repeats: MinedRepeats, embedder: Embedder | None) -> MineResult:
    """Select every pair's negatives from its candidates, write the outputs and the summary, end the lease."""
    remove_stale_companions(config)
    cands = ctx.cands
    stats = SelectionStats()
    with timer("select+write"):
        docs = cands.embeddings.documents if cands.embeddings is not None else None
        hooks = hook_factory.build(dataset, docs, stats.removed, hook, ctx.positive_rows)
        pairs = dataset.pairs()
        prefetch, window = _prefetch_windows(config, ctx, hooks, pairs)
        rows = select_pairs(
            ctx, pairs, config.filters, config.select, stats, hooks, config.encoder.show_progress, prefetch, window,
        )
        try:
            _write_rows(config.output.path, repeats.written(rows))
        finally:  # a stopped run keeps what its judges encoded and scored, for the rerun
            if hooks is not None and hooks.flush is not None:
                hooks.flush()
    with timer("export"):
        exports = _exports(config)
    extra = {
        "output": str(config.output.path),
        **exports,
        "embeddings": {"encoded": cands.encoded, "cached": cands.cached, "resumed": cands.resumed,
                       "fingerprint_version": FINGERPRINT_VERSION},
        "config": _config_dict(config),
        "selection_version": SELECTION_VERSION,
        **plugin_record(config.select, config.output.formats),
        "unknown_qrels": {"policy": config.data.unknown_qrels, **dataset.skipped_qrels()},
        "qrels_not_relevant": dataset.qrels.not_relevant(),
        "pairs_repeating_another": repeats.count,  # rows written, not the warning's pairs before selection
        **dataset.input_record(),
        **dataset.added_record(),
        **({"queries_without_bm25_words": len(cands.no_bm25_words)}  # the fallback searches BM25 for short pairs
           if config.retrieve.method != "dense" or config.retrieve.fallback is not None else {}),
        **(hooks.finish(config.output.path) if hooks is not None else {}),
    }
    if cands.engine_info is not None:
        extra["engine"] = cands.engine_info
    summary = build_summary(stats, timer.rounded(), extra)
    _write_summary(config, summary)
    _end_lease(cands, config.engine.keep_work)
    return MineResult(config.output.path, summary, embedder)


def _end_lease(cands: CandidateSet, keep_work: bool) -> None:
    """Outputs are written: the work folder's resume state is no longer needed, unless ``--keep-work``. A run
    that shares the folder and has not finished keeps it; the last one to finish removes it."""
    if cands.lease is None:
        return
    if keep_work:
        cands.lease.release()
    else:
        cands.lease.remove_if_last()


def _load_models(config: MineConfig, embedder: Embedder | None, judge_cache=None):
    """``(embedder, loaded, hook factory)``: every model checked (:func:`check_models`), then the mining model
    loaded (unless given, or BM25; ``loaded`` says whether this run loaded it), then the judges."""
    check_models(config, embedder)
    loaded = embedder is None and config.retrieve.method != "bm25"
    if loaded:
        from negmine.encode.model_prompts import warn_unapplied_prompts

        with within(config, "encoder"):  # a model that refuses encoder.max_length or encoder.backend says so
            embedder = make_embedder(config.encoder)
        warn_unapplied_prompts(embedder, config.encoder)
    return embedder, loaded, _hook_factory(config, judge_cache)


def _hook_factory(config: MineConfig, cache=None):
    """Near-duplicate exclusion (default on) and ``--denoise`` judges; judge models load here, after the mining
    model (needed first: a mining model that fails to load costs no judge load) and before encoding (a judge
    that fails to load costs no encoding)."""
    from negmine.audit.mine_hooks import MineHookFactory

    return MineHookFactory(config, cache if config.denoise.enabled else None, checked=True)


def _candidates(
    config: MineConfig, dataset: Dataset, embedder: Embedder | None, loaded: bool, timer: StageTimer, cache=None,
    feasible: Feasible | None = None,
) -> tuple[PairContext, Embedder | None]:
    """Every pair's candidates (and, with ``retrieve.fallback``, the fallback pools of the short ones), and the
    embedder they were encoded with (None for BM25). ``loaded``: the run loaded ``embedder`` from the config
    (not given by the caller), so Ray workers can load it the same way. ``feasible``: the corpus's normalised-text
    hashes and the queries' positives, when :func:`check_feasible` computed them."""
    query_ids = dataset.qrels.query_ids()
    query_texts = [dataset.queries.text(q) for q in query_ids]
    with timer("encode+retrieve"):
        from negmine.engine.registry import open_engine

        # the engine first (Ray itself starts only when a shard is dispatched); its address was probed by
        # check_engine in mine(), before data and models loaded, and is not probed again here. Within the block
        # the engine's messages (a memory budget too small, a Ray cluster that refuses the run, a worker that
        # died) name engine.memory_budget, engine.ray_address, ...: no other message of the block names a field
        with within(config, "engine"), \
                open_engine(config.engine, config.encoder.show_progress, checked=True) as engine:
            setup = None  # the local engine reuses the embedder; Ray workers rebuild it from the config
            if loaded and config.engine.name != "local":  # a second copy per pass here: twice the loads and the memory
                setup = functools.partial(make_embedder, config.encoder.with_absolute_paths())  # any worker cwd
            cands = build_candidates(
                query_ids, query_texts, dataset.corpus.texts, config.retrieve, config.encoder, embedder,
                cache, engine, setup, config.engine,
            )
            with released_on_error(cands):
                hashes, positives = feasible if feasible is not None else (None, None)
                ctx = build_context(dataset, cands, config.filters.margin_from, hashes, positives)
                if config.retrieve.fallback is None:
                    return ctx, embedder
                return _with_fallback(ctx, config, query_texts, engine), embedder


def _with_fallback(ctx: PairContext, config: MineConfig, query_texts: list[str], engine) -> PairContext:
    """``ctx`` plus hybrid pools for the queries with a short pair (none built when no pair is short)."""
    from dataclasses import replace

    from negmine.pipeline.candidates import fallback_pools

    short = fallback_query_ids(ctx, ctx.dataset.pairs(), config.filters, config.select)
    if not short:
        return ctx
    rows = [ctx.query_row[q] for q in short]
    found = fallback_pools(ctx.cands, rows, query_texts, ctx.dataset.corpus.texts, config.retrieve, config.encoder,
                           engine, config.engine)
    return replace(ctx, cands=replace(ctx.cands, no_bm25_words=found.no_bm25_words), fallback=found.pools,
                   fallback_row={q: i for i, q in enumerate(short)})


def _write_rows(path: Path, rows) -> int:
    count = 0
    with atomic_write(path) as handle:
        for row in rows:
            handle.write(dumps_row(row))
            count += 1
    return count


def _prefetch_windows(config: MineConfig, ctx, hooks, pairs: list):
    """``(prefetch, window)`` for :func:`select_pairs`: the hooks' per-row work (near-duplicate signatures, in
    ``--workers`` processes) done at once when the pools hold at most the signature memo's size
    (:data:`negmine.audit.near_dup_hook.MEMO_ENTRIES` distinct rows), else for windows of pairs whose pools hold
    at most that many rows, so the memo stays bounded on any corpus (a row in several windows is signed again)."""
    if hooks is None:
        return None, None
    from negmine.audit.near_dup_hook import MEMO_ENTRIES

    workers, show = config.engine.resolved_workers(), config.encoder.show_progress
    prefetch = lambda window_pairs: hooks.prefetch(lambda: window_rows(ctx, window_pairs), workers, show)  # noqa: E731
    if len(window_rows(ctx, pairs)) <= MEMO_ENTRIES:
        return prefetch, None
    depth = max(1, ctx.cands.candidates.indices.shape[1] * (2 if ctx.fallback is not None else 1))
    return prefetch, max(1, MEMO_ENTRIES // depth)


def _exports(config: MineConfig) -> dict[str, dict]:
    from negmine.export.registry import export_all, export_summary

    with within(config, "output"):  # e.g. the n-tuple warning names output.ntuple_negatives
        return export_summary(export_all(config.output.path, config.output.formats, config.output.export_as,
                                         config.output.ntuple_negatives, config.output.export_scores,
                                         config.output.export_scores_from))


def summary_path(config: MineConfig) -> Path:
    return config.output.summary_path or config.output.path.with_name(f"{config.output.path.stem}.summary.json")


def _write_summary(config: MineConfig, summary: dict) -> None:
    write_summary_json(summary_path(config), summary)


def write_summary_json(path: Path, summary: dict) -> None:
    """Write ``summary`` as the run's summary JSON at ``path``, atomically (indented, sorted keys, final newline)."""
    with atomic_write(path) as handle:
        json.dump(summary, handle, indent=2, sort_keys=True)
        handle.write("\n")


def _config_dict(config: MineConfig) -> dict:
    from dataclasses import asdict

    return json.loads(json.dumps(asdict(config), default=str))
