"""``negmine eval`` as a function: score models and run files on one split, compare, write JSON.

Order of work: validate options, check that each model can be one (no model loads yet), read every run file
and load the data (all input errors surface here), then encode + search one model at a time (each model is
loaded, used and released), then evaluate and test all runs against the baseline. The results JSON holds no
timings or cache counts, so the same inputs give a byte-identical file.

With ``EvalConfig.unknown_qrels="skip"``, judgments of documents missing from the corpus are scored as
BEIR scores them (pytrec_eval on the full qrels): such a relevant document can never be retrieved, so it
stays in the recall / nDCG denominators and a query whose only relevant documents are missing scores 0.
Only their count is reported (``data.unknown_qrels`` in the JSON, one line on stdout).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Mapping

from negmine.config import DataConfig, EncoderConfig, EvalConfig
from negmine.config_path import at, where, within
from negmine.encode.base import Embedder
from negmine.encode.factory import make_embedder
from negmine.encode.truncate import check_truncate_dim, check_truncate_dim_early
from negmine.errors import InputError, caller_stacklevel
from negmine.evaluate.compare import Comparison, compare_runs, format_table
from negmine.evaluate.dense_eval import encode_split, search_run
from negmine.evaluate.metrics import check_burges_grades, require_relevant
from negmine.evaluate.names import model_label, name_runs  # noqa: F401 (model_label: imported from here too)
from negmine.evaluate.run import Run, first_line_with, read_trec_run, trec_tag, write_trec_run
from negmine.io.atomic import atomic_write
from negmine.io.files import BYTE_ORDER_MARK, head_repr, iter_lines
from negmine.io.records import Dataset


_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True)
class EvalReport:
    """Everything ``evaluate`` produced. ``encoding`` maps model run name -> {"encoded", "cached"} texts."""

    comparison: Comparison
    runs: dict[str, Run]
    encoding: dict[str, dict[str, int]]
    output: Path | None
    run_files: dict[str, Path]
    payload: dict

    def table(self) -> str:
        return format_table(self.comparison)


def evaluate(
    config: EvalConfig, dataset: Dataset | None = None, embedders: Mapping[str, Embedder] | None = None
) -> EvalReport:
    """Evaluate ``config.models`` (dense, zero-shot) and ``config.run_files`` on the configured split.

    ``dataset`` and ``embedders`` (model string -> embedder) may be passed in to reuse loaded resources;
    otherwise they are built from the config. Another run writing the same ``--output`` or ``--runs-dir``
    meanwhile is refused at once (:mod:`negmine.io.output_lock`): an evaluation deletes its earlier results
    first, so two would delete and overwrite each other's.
    """
    from negmine.config import check_config_type
    from negmine.io.output_lock import hold_outputs
    from negmine.encode.max_length_early import check_max_length_early
    from negmine.progress_interval import check_progress_interval

    check_config_type(config, EvalConfig, "evaluate")
    config.validate()
    check_progress_interval(config.encoder.show_progress)  # the first bar opens once the data has loaded
    with within(config, "encoder"):  # before the data is read and any model loads
        for model in config.models:
            check_max_length_early(model, config.encoder.max_length)
    check_outputs(config)
    with hold_outputs({"--output": config.output}, {"--runs-dir": config.runs_dir}):
        return _evaluate(config, dataset, embedders)


def _evaluate(config: EvalConfig, dataset: Dataset | None, embedders: Mapping[str, Embedder] | None) -> EvalReport:
    check_models(config, embedders or {})
    warn_training_prompts(config)
    model_names, file_runs, names = _named_runs(config, [read_trec_run(path) for path in config.run_files])
    if dataset is None:
        from negmine.io.beir import check_beir_dir
        from negmine.io.load import load_data

        data = DataConfig(data_dir=config.data_dir, split=config.split, unknown_qrels=config.unknown_qrels)
        with at(where(config)):  # its fields: data_dir (the DATA_DIR argument), split (--split), unknown_qrels, ...
            check_beir_dir(config.data_dir)  # before load_data's check, whose fix for a file is mining's --pairs
            dataset = load_data(data)
    require_relevant(dataset.judged_qrels())
    check_burges_grades(dataset.judged_qrels(), config.metrics)
    _check_overlap(dataset, file_runs)
    if config.runs_dir is not None and config.models:
        check_trec_ids(dataset)
    model_runs, encoding = _model_runs(config, dataset, model_names, embedders or {})
    runs = model_runs + file_runs
    if config.output is not None:  # written last; an earlier evaluation's goes first, so one stopped from here on
        Path(config.output).unlink(missing_ok=True)  # leaves no results that describe other runs than the files
    written = _write_run_files(config.runs_dir, model_runs)
    comparison = compare_runs(
        dataset.judged_qrels(), runs, config.metrics, config.baseline, config.stat_test, config.alpha,
        config.n_permutations, config.seed, config.correction,
    )
    payload = _payload(config, dataset, comparison, written)
    payload["run_file_coverage"] = _file_coverage(config, dataset, file_runs)
    payload["run_input"] = {run.name: run.origin for run in file_runs}  # each --run file read, as beir_input's
    payload["run_file_names"] = names  # how each got its name: given, its tag, or renamed (its tag shared)
    if config.output is not None:
        with atomic_write(config.output) as handle:
            json.dump(payload, handle, indent=2, sort_keys=True, ensure_ascii=False)
            handle.write("\n")
    return EvalReport(comparison, {r.name: r for r in runs}, encoding, config.output, written, payload)


def _named_runs(config: EvalConfig, file_runs: list[Run]) -> tuple[list[str], list[Run], dict[str, dict]]:
    """The models' names, the run files renamed as :func:`negmine.evaluate.names.name_runs` names them, and the
    results JSON's ``run_file_names``: how each run file got its name (its ``source``, ``tag`` and ``named_by``)."""
    model_names, file_names, named_by = name_runs(
        config.models, [(run.name, run.source) for run in file_runs], config.run_names)
    names = {name: {"source": run.source, "tag": run.name, "named_by": how}
             for run, name, how in zip(file_runs, file_names, named_by)}
    return model_names, [run.renamed(name) for run, name in zip(file_runs, file_names)], names


def run_names(
    models: tuple[str, ...], file_runs: list[Run], given: tuple[str | None, ...] = ()
) -> tuple[list[str], list[str]]:
    """Unique display names (:func:`negmine.evaluate.names.name_runs`).

    Models: short labels (the full strings if labels clash). Run files: the name given (``given``, the config's
    ``run_names``), else their tag; every unnamed file whose tag is shared (with a model, a given name or another
    file) is named by its file stem instead, then by ``parent/stem``, then by its full path, whichever first makes
    it unique.
    """
    labels, names, _ = name_runs(models, [(run.name, run.source) for run in file_runs], given)
    return labels, names


def check_outputs(config: EvalConfig) -> None:
    """The results JSON and the run-file directory can be written; checked before any work."""
    from negmine.io.outputs import (
        check_cache_dir, check_output_dir, check_output_file, check_outputs_distinct, input_files,
    )

    check_outputs_distinct({"--output": config.output}, input_files(config.data_dir, *config.run_files))
    if config.output is not None:
        check_output_file(config.output, "--output", "results.json")
    if config.runs_dir is not None:
        check_output_dir(config.runs_dir, "--runs-dir")
    check_cache_dir(config.encoder.cache_dir)


def check_models(config: EvalConfig, embedders: Mapping[str, Embedder]) -> None:
    """Every model checked before any loads: a local folder can be a model
    (:func:`~negmine.encode.sentence_transformer.check_model_source`), a hub name can load
    (:func:`~negmine.encode.hub.check_hub_name`: cached, or not refused offline or by the hub), and its
    ``truncate_dim`` fits a local folder's dimension (:func:`~negmine.encode.truncate.check_truncate_dim_early`).
    The second of two
    ``--model`` folders was found not to be one, and a typo in the second hub name, only after the first model
    had encoded the whole corpus."""
    from negmine.encode.sentence_transformer import check_bi_encoder_folder, check_model_source
    from negmine.evaluate.lexical_eval import BM25_MODEL

    with at(where(config)):  # its fields, e.g. models (--model) for the default's missing package
        for model in config.models:
            if model != BM25_MODEL and model not in embedders:
                check_bi_encoder_folder(model, check_model_source(model, hub="early"))
                check_truncate_dim_early(config.truncate_dim, model)  # a local folder's dimension, from its files


def warn_training_prompts(config: EvalConfig) -> None:
    """A NegmineWarning for each ``negmine train`` output folder among the models whose recorded
    ``--query-prompt``/``--document-prompt`` differ from this evaluation's: the saved model does not keep its
    training prompts (its sentence-transformers config names none), so a model trained with ``'query: '`` was
    evaluated without it, on inputs it never saw that way, with nothing said, and its scores were not the ones
    its dev evaluation tracked while training (which used the training prompts). Not an error: one evaluation
    applies one pair of prompts to every model, and the user may mean to compare."""
    import os
    import warnings

    from negmine.errors import NegmineWarning

    given = (config.encoder.query_prompt, config.encoder.document_prompt)
    for model in config.models:
        recorded = training_prompts(Path(os.path.expanduser(model)))
        if recorded is not None and recorded[0] != given:
            used, source = recorded
            warnings.warn(
                f"model {model!r} was trained with query_prompt {used[0]!r} and document_prompt {used[1]!r} "
                f"({source}) but is evaluated with {given[0]!r} and {given[1]!r}; give its training prompts to "
                "negmine eval (encoder.query_prompt and encoder.document_prompt, --query-prompt and --document-prompt; "
                "they apply to every model: evaluate models trained with other prompts in separate runs)",
                NegmineWarning, stacklevel=caller_stacklevel(),
            )


def training_prompts(folder: Path) -> tuple[tuple[str, str], Path] | None:
    """``((query prompt, document prompt), file)`` a ``negmine train`` run recorded for the model in ``folder``: its
    ``negmine_train.json``, or for a ``checkpoints/checkpoint-N`` folder the run's settings beside it; None for
    any other folder or name."""
    from negmine.train import SUMMARY_NAME
    from negmine.train.preflight import PREFIX_CHECKPOINT_DIR
    from negmine.train.run_settings import SETTINGS_NAME

    candidates = [(folder / SUMMARY_NAME, "config")]
    if folder.is_dir() and folder.name.startswith(f"{PREFIX_CHECKPOINT_DIR}-"):
        candidates.append((folder.parent / SETTINGS_NAME, None))
    for source, key in candidates:
        if not source.is_file():
            continue
        try:
            recorded = json.loads(source.read_text(encoding="utf-8-sig"))
            recorded = recorded[key] if key else recorded
            return (recorded.get("query_prompt") or "", recorded.get("document_prompt") or ""), source
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
    return None


def check_trec_ids(dataset: Dataset) -> None:
    """The evaluated query ids and the corpus ids can be written to a TREC run file (``--runs-dir``): none is
    empty or holds whitespace. Checked before any model loads, naming the data file's line."""
    tables = ((dataset.queries, dataset.judged_qrels().query_ids(), "query"), (dataset.corpus, None, "corpus"))
    for table, ids, what in tables:
        bad = [i for i in (ids if ids is not None else table.ids) if not i or _WHITESPACE.search(i)]
        if bad:
            raise InputError(
                table.source, _line_of_id(table.source, bad[0]), "_id",
                f"{what} id {bad[0]!r} holds whitespace ({len(bad)} such ids), which TREC run files cannot hold: "
                "runs_dir (--runs-dir) cannot write this run; leave runs_dir unset (drop --runs-dir) or rename the ids",
            )
    marked = next((i for i in dataset.judged_qrels().query_ids() if i.startswith(BYTE_ORDER_MARK)), None)
    if marked is not None:
        raise InputError(
            dataset.queries.source, _line_of_id(dataset.queries.source, marked), "_id",
            f"query id {marked!r} starts with a byte-order mark (U+FEFF), which a TREC run row cannot start with (a "
            "reader drops it on the first row, refuses it on the others): runs_dir (--runs-dir) cannot write this run; "
            "leave runs_dir unset (drop --runs-dir) or remove the mark from the id",
        )


def _line_of_id(source: str, wanted: str) -> int | None:
    """The line of the JSON Lines file ``source`` whose ``_id`` is ``wanted`` (None if not found)."""
    if not Path(source).is_file():
        return None
    for line_no, text in iter_lines(source):
        try:
            if str(json.loads(text).get("_id")) == wanted:
                return line_no
        except (ValueError, AttributeError):
            continue
    return None


def _check_overlap(dataset: Dataset, file_runs: list[Run]) -> None:
    """A run file sharing no query with the split, or naming documents the corpus lacks, is a wrong file, a
    wrong --split or a run made on another corpus: say so before any model loads."""
    wanted = set(dataset.judged_qrels().query_ids())
    for run in file_runs:
        if not wanted.intersection(run.scores):
            raise InputError(
                run.source, None, "query_id",
                f"{'its one query is not' if len(run) == 1 else f'none of its {len(run)} queries is'} among the "
                f"{len(wanted)} evaluated queries of "
                f"{dataset.qrels.source}; check --split or the run file",
            )
        check_run_documents(run, dataset)


def _file_coverage(config: EvalConfig, dataset: Dataset, file_runs: list[Run]) -> dict[str, dict]:
    """Each run file's :func:`run_coverage`, with the metrics that look deeper than it ranks
    (:func:`negmine.evaluate.coverage.shallow_metrics`): a run file cut at 10 scored recall@100 0.275 against the
    same ranking's 0.700 at depth 100 (the demo, a tiny model), marked significant, without a word."""
    from negmine.evaluate.coverage import shallow_metrics

    coverage = {run.name: run_coverage(run, dataset) for run in file_runs}
    depths = [config.depth] * bool(config.models) + [c["depth"] for c in coverage.values()]
    for record in coverage.values():
        others = list(depths)
        others.remove(record["depth"])
        record["deepest_other"] = max(others, default=0)
        record["shallow_metrics"] = shallow_metrics(record["depth"], config.metrics, record["deepest_other"])
    return coverage


def run_coverage(run: Run, dataset: Dataset, examples: int = 3) -> dict:
    """How a run file's queries meet the split, with a few example ids of each count: evaluated queries it lacks
    (each scores 0, as in BEIR); query ids the queries file does not have (``unknown``) and queries of the file
    that are not evaluated here (``not_evaluated``: another split's, or without a relevant judgment in this
    one), both ignored; ``identical_ids``, rows whose document id is their query id (dropped, as BEIR); and ``depth``,
    the most documents it ranks for an evaluated query."""
    evaluated = dataset.judged_qrels().query_ids()
    wanted = set(evaluated)
    missing = [q for q in evaluated if q not in run.scores]
    ignored = sorted(q for q in run.scores if q not in wanted)
    unknown = [q for q in ignored if q not in dataset.queries.index]
    not_evaluated = [q for q in ignored if q in dataset.queries.index]
    identical = sum(q in docs for q, docs in run.scores.items() if q in wanted)
    return {"source": run.source, "evaluated_queries": len(evaluated), "missing": len(missing),
            "missing_examples": missing[:examples], "unknown": len(unknown), "unknown_examples": unknown[:examples],
            "not_evaluated": len(not_evaluated), "not_evaluated_examples": not_evaluated[:examples],
            "identical_ids": identical, "depth": max((len(run.scores[q]) for q in evaluated if q in run.scores),
                                                     default=0)}


def check_run_documents(run: Run, dataset: Dataset) -> None:
    """InputError at the first line of ``run`` whose document is not in the corpus (such a run would score
    as if it retrieved nothing there), with how many of its documents are unknown."""
    index = dataset.corpus.index
    unknown = {d for docs in run.scores.values() for d in docs if d not in index}
    if not unknown:
        return
    line, first = first_line_with(run.source, unknown)
    distinct = len({d for docs in run.scores.values() for d in docs})
    raise InputError(
        run.source, line, "doc_id",
        f"unknown document id {head_repr(first)}: {len(unknown)} of the {distinct} documents this run retrieves are not "
        f"in the corpus {dataset.corpus.source}; was the run made on another corpus? Check the data directory",
    )


def make_cache(config: EncoderConfig):
    """The on-disk embedding cache, or None when caching is off."""
    if not config.use_cache:
        return None
    from negmine.encode.cache import EmbeddingCache, default_cache_dir

    return EmbeddingCache(config.cache_dir or default_cache_dir())


def _model_runs(
    config: EvalConfig, dataset: Dataset, names: list[str], embedders: Mapping[str, Embedder]
) -> tuple[list[Run], dict[str, dict[str, int]]]:
    from negmine.encode.cache import closed_after
    from negmine.evaluate.lexical_eval import BM25_MODEL

    with closed_after(make_cache(config.encoder) if set(config.models) - {BM25_MODEL} else None) as cache:
        return _runs_of(config, dataset, names, embedders, cache)


def _runs_of(config: EvalConfig, dataset: Dataset, names: list[str], embedders: Mapping[str, Embedder], cache):
    """:func:`_model_runs` with the cache open (its folders' locks end with the call, also one that raises)."""
    from negmine.evaluate.lexical_eval import BM25_MODEL, bm25_run

    runs, encoding = [], {}
    for model, name in zip(config.models, names):
        if model == BM25_MODEL:
            runs.append(bm25_run(dataset, config.depth, name, show_progress=config.encoder.show_progress,
                                 workers=config.workers))
            continue
        embedder = embedders.get(model)
        if embedder is None:
            from negmine.encode.model_prompts import warn_unapplied_prompts

            with within(config, "encoder"):  # a model that refuses encoder.max_length or encoder.backend says so
                embedder = make_embedder(replace(config.encoder, model=model))
            warn_unapplied_prompts(embedder, replace(config.encoder, model=model))
        check_truncate_dim(config.truncate_dim, embedder.dim, model)
        emb = encode_split(embedder, dataset, cache, config.encoder.query_prompt, config.encoder.document_prompt,
                           config.truncate_dim, label=name)
        del embedder
        runs.append(search_run(emb, dataset.corpus.ids, config.depth, name))
        encoding[name] = {"encoded": emb.n_encoded, "cached": emb.n_cached}
    return runs, encoding


_UNPORTABLE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
"""Characters a file name cannot hold on some system: ``/`` (a folder on every one), and ``\\ : * ? " < > |`` and
control characters (Windows)."""

_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"{port}{i}" for port in ("com", "lpt") for i in range(1, 10))})
"""Windows device names, which a file name cannot start with, even with an extension (``nul.trec``)."""


def run_file_path(runs_dir: Path, name: str) -> Path:
    """``<runs_dir>/<name>.trec`` with whitespace (:func:`trec_tag`) and the characters some file system refuses
    (:data:`_UNPORTABLE`) written ``_``, and ``_`` added to a Windows device name (``nul`` -> ``nul_.trec``, ``con.v2`` -> ``con_.v2.trec``). The
    bundled model's run, ``bundled:all-MiniLM-L6-v2`` when another model's label is ``all-MiniLM-L6-v2``, was
    written ``bundled:all-MiniLM-L6-v2.trec``, a name Windows refuses and macOS' Finder shows with a ``/``."""
    head, dot, rest = _UNPORTABLE.sub("_", trec_tag(name)).partition(".")
    if head.casefold() in _RESERVED:
        head += "_"
    return runs_dir / f"{head}{dot}{rest}.trec"


def run_file_paths(runs_dir: Path, names: list[str]) -> dict[str, Path]:
    """A file in ``runs_dir`` for each run name, in order: :func:`run_file_path`, or for a name whose file name an
    earlier one has (ignoring case, as some file systems do) the first free ``<stem>-2.trec``, ``<stem>-3.trec``...
    Names that differ only in whitespace, ``/`` or another character written ``_`` (models ``a b`` and ``a_b``, runs
    ``a:b`` and ``a_b``) were written to one file, the second run overwriting the first while both were reported
    written."""
    paths: dict[str, Path] = {}
    taken: set[str] = set()
    for name in names:
        path = run_file_path(runs_dir, name)
        stem, suffix = path.stem, 1
        while path.name.casefold() in taken:
            suffix += 1
            path = runs_dir / f"{stem}-{suffix}.trec"
        taken.add(path.name.casefold())
        paths[name] = path
    return paths


def _write_run_files(runs_dir: Path | None, runs: list[Run]) -> dict[str, Path]:
    if runs_dir is None:
        return {}
    paths = run_file_paths(runs_dir, [run.name for run in runs])
    return {run.name: write_trec_run(paths[run.name], run) for run in runs}


def _payload(config: EvalConfig, dataset: Dataset, comparison: Comparison, written: dict[str, Path]) -> dict:
    return {
        "data": {
            "data_dir": str(config.data_dir),
            "split": config.split,
            "qrels": dataset.qrels.source,
            "queries_evaluated": len(comparison.results[0].query_ids),
            "documents": len(dataset.corpus),
            "unknown_qrels": {"policy": config.unknown_qrels, **dataset.skipped_qrels()},
        },
        "comparison": comparison.to_dict(),
        "run_files": {name: str(path) for name, path in written.items()},
        "config": config_record(config),
        **dataset.input_record(),  # which corpus/queries/qrels were read: data_dir names a folder, not its contents
    }


def config_record(config: EvalConfig) -> dict:
    """``config`` as the results JSON records it: its fields as JSON, with ``encoder.model`` None. An EvalConfig
    ignores that field (``models`` lists the models evaluated, ``bm25`` among them), so its default,
    ``bundled:all-MiniLM-L6-v2``, was recorded also when only other models, or run files alone, were evaluated:
    it read as a record of the model used."""
    record = json.loads(json.dumps(asdict(config), default=str))
    record["encoder"]["model"] = None
    return record
