"""A model whose sentence-transformers config names prompts is not used without them silently."""

from __future__ import annotations

import types
import warnings

import pytest

from negmine.config import EncoderConfig
from negmine.encode.model_prompts import configured_prompts, warn_unapplied_prompts
from negmine.errors import NegmineWarning


def _embedder(prompts):
    return types.SimpleNamespace(model=types.SimpleNamespace(prompts=prompts))


def test_a_configured_prompt_left_out_is_warned_about_with_the_option_that_adds_it():
    """A model saved with a query prompt in its config (snowflake-arctic-embed-l-v2.0 encodes queries with
    prompt_name="query") had its texts encoded without it, without a word."""
    embedder = _embedder({"query": "Represent this sentence: ", "document": ""})
    with pytest.warns(NegmineWarning) as caught:
        warn_unapplied_prompts(embedder, EncoderConfig(model="m"))
    assert [str(w.message) for w in caught] == [
        "model m names a query prompt 'Represent this sentence: ' in its sentence-transformers config, which negmine "
        "adds only when given: this run encodes without it; to encode as the model was trained, add "
        "query_prompt='Represent this sentence: ' (--query-prompt 'Represent this sentence: ') (to encode without it on "
        "purpose, give --query-prompt '' on the command line; from Python, filter this warning)"]


def test_the_warning_gives_the_config_field_and_an_option_a_shell_reads_back():
    """mine() and evaluate() from Python were told only `add --query-prompt ...`, an option they have no use for; and
    the option quoted the prompt with repr, which a shell reads wrongly once the prompt holds a quote."""
    import shlex

    embedder = _embedder({"query": "Question: ", "passage": "it's a passage: "})
    with pytest.warns(NegmineWarning) as caught:
        warn_unapplied_prompts(embedder, EncoderConfig(model="m"))
    message = str(caught[0].message)
    assert ("add query_prompt='Question: ' (--query-prompt 'Question: ') and document_prompt=\"it's a passage: \" "
            "(--document-prompt 'it'\"'\"'s a passage: ')") in message
    shown = message.split("(--document-prompt ")[1].split(") (to encode")[0]
    assert shlex.split(shown) == ["it's a passage: "]
    assert message.endswith("(to encode without them on purpose, give --query-prompt '' --document-prompt '' on the "
                            "command line; from Python, filter this warning)")


def test_a_prompt_given_empty_on_purpose_is_not_warned_about():
    """`--query-prompt ''` given on purpose was warned about anyway, the warning telling the user to ignore it."""
    from negmine.encode.model_prompts import prompts_given

    embedder = _embedder({"query": "q: ", "document": "d: "})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with prompts_given(["query_prompt", "document_prompt"]):
            warn_unapplied_prompts(embedder, EncoderConfig(model="m"))
    with pytest.warns(NegmineWarning) as caught, prompts_given(["query_prompt"]):
        warn_unapplied_prompts(embedder, EncoderConfig(model="m"))
    assert str(caught[0].message).startswith("model m names a document prompt 'd: ' in its sentence-transformers "
                                             "config, which negmine adds only when given: this run encodes without it")
    with pytest.warns(NegmineWarning, match="names a query prompt 'q: ' and a document prompt 'd: '"):
        warn_unapplied_prompts(embedder, EncoderConfig(model="m"))  # the block ended: both again


@pytest.mark.parametrize("prompts,config", [
    (None, EncoderConfig()),
    ({"query": "", "document": ""}, EncoderConfig()),  # sentence-transformers 6 writes these for every model
    ({"query": "q: ", "passage": "p: "}, EncoderConfig(query_prompt="q: ", document_prompt="p: ")),
    ({"query": "q: "}, EncoderConfig(query_prompt="other: ")),  # a prompt of one's own is a choice, not an omission
])
def test_no_warning_without_a_configured_prompt_left_out(prompts, config):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_unapplied_prompts(_embedder(prompts), config)


def test_configured_prompts_reads_passage_as_the_document_prompt():
    assert configured_prompts(_embedder({"query": "query: ", "passage": "passage: "})) == ("query: ", "passage: ")
    assert configured_prompts(object()) == ("", "")


@pytest.mark.filterwarnings("default::negmine.errors.NegmineWarning")  # checks the printed warning
def test_mine_warns_for_a_model_saved_with_prompts(tmp_path, tiny_model_path):
    from sentence_transformers import SentenceTransformer
    from typer.testing import CliRunner

    from negmine.cli import build_app
    from negmine.testing.beir import write_beir

    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    model.prompts = {"query": "query: ", "document": "passage: "}
    model.save(str(tmp_path / "prompted"))
    beir = write_beir(tmp_path / "b", {f"d{i}": f"cell gene study {i}" for i in range(8)}, {"q1": "cell"},
                      [("q1", "d1", 1)])
    args = ["mine", str(beir), "--model", str(tmp_path / "prompted"), "--num-negatives", "2", "--no-sd-margin",
            "--cache-dir", str(tmp_path / "cache"), "-o", str(tmp_path / "o.jsonl"), "--no-progress"]
    result = CliRunner().invoke(build_app(), [*args, "--query-prompt", "query: "])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("warning: model ") == 1
    assert "names a document prompt 'passage: ' in its sentence-transformers config" in result.stderr
    assert "add document_prompt='passage: ' (--document-prompt 'passage: ')" in result.stderr
    result = CliRunner().invoke(build_app(), [*args, "--query-prompt", "query: ", "--document-prompt", "passage: "])
    assert result.exit_code == 0 and "warning: model " not in result.stderr
    result = CliRunner().invoke(build_app(), [*args, "--query-prompt", "", "--document-prompt", ""])  # on purpose
    assert result.exit_code == 0, result.output
    assert "warning: model " not in result.stderr, result.stderr
    evaluated = ["eval", str(beir), "--split", "train", "--model", str(tmp_path / "prompted"), "--no-progress",
                 "--cache-dir", str(tmp_path / "cache")]
    result = CliRunner().invoke(build_app(), [*evaluated, "--document-prompt", ""])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("warning: model ") == 1, result.stderr
    assert "names a query prompt 'query: ' in its sentence-transformers config" in result.stderr
    assert "give --query-prompt '' on the command line" in result.stderr
