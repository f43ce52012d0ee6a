import pytest

from negmine.export.native import dumps_row, make_row


def _row(qid, n_negatives, positive_score=0.8):
    return make_row(
        query_id=qid,
        query=f"query {qid}",
        positive_id=f"{qid}-pos",
        positive=f"positive text for {qid}",
        positive_score=positive_score,
        negative_ids=[f"{qid}-n{i}" for i in range(n_negatives)],
        negatives=[f"negative {i} for {qid}" for i in range(n_negatives)],
        negative_scores=[0.7 - 0.1 * i for i in range(n_negatives)],
        negative_ranks=[2 + i for i in range(n_negatives)],
    )


@pytest.fixture
def native_file(tmp_path):
    """Native JSONL: q1 and q3 with 3 negatives, q2 with 2 (a --keep-partial row)."""
    path = tmp_path / "negatives.jsonl"
    rows = [_row("q1", 3), _row("q2", 2), _row("q3", 3)]
    path.write_text("".join(dumps_row(r) for r in rows), encoding="utf-8")
    return path


def _promoted_row(qid, pid, promoted):
    """A row after ``negmine audit --false-negative-policy promote``: ``promoted`` are (id, score) pairs."""
    row = dict(_row(qid, 2))
    row.update(positive_id=pid, positive=f"positive text for {qid} {pid}")
    return make_row(**row, extra_positive_ids=[d for d, _ in promoted],
                    extra_positives=[f"promoted {d} for {qid}" for d, _ in promoted],
                    extra_positive_scores=[s for _, s in promoted])


@pytest.fixture
def promoted_file(tmp_path):
    """q1 has two rows (positives p1, p2) that both promoted d1 (d2 only in p1's); q2 promoted nothing.
    Every row has 2 negatives."""
    path = tmp_path / "promoted.jsonl"
    rows = [_promoted_row("q1", "p1", [("d1", 0.75), ("d2", 0.72)]), _promoted_row("q1", "p2", [("d1", 0.75)]),
            _row("q2", 2)]
    path.write_text("".join(dumps_row(r) for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def load_json_dataset(tmp_path):
    """datasets.load_dataset("json", ...) with a private cache, returning the train split."""

    def load(path):
        from datasets import load_dataset

        return load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf_cache"))

    return load


@pytest.fixture
def mnrl_train_step(tiny_model_path, tmp_path):
    """One sentence-transformers training step with MultipleNegativesRankingLoss on a dataset; returns the loss."""

    def step(dataset):
        from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
        from sentence_transformers import SentenceTransformerTrainingArguments
        from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

        model = SentenceTransformer(str(tiny_model_path), device="cpu")
        args = SentenceTransformerTrainingArguments(
            output_dir=str(tmp_path / "st_out"), max_steps=1, per_device_train_batch_size=len(dataset),
            report_to=[], save_strategy="no", use_cpu=True, disable_tqdm=True,
        )
        trainer = SentenceTransformerTrainer(
            model=model, args=args, train_dataset=dataset, loss=MultipleNegativesRankingLoss(model)
        )
        return trainer.train().training_loss

    return step
