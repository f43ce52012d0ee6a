from __future__ import annotations

import pytest


def flag(i: int, kind: str = "false_negative") -> dict:
    return {
        "kind": kind, "query_id": f"q{i}", "positive_id": f"p{i}", "doc_id": f"d{i}", "rank": i + 2, "action": "drop",
        "votes": 1 + i % 2, "judges": ["near-duplicate"], "reasons": [f"near-duplicate: cosine 0.9{i} <b>"],
        "scores": {"model": 0.5 + i / 100, "model:positive": 0.7, "cosine_to_positive": 0.9 + i / 100},
        "query": f"query {i} <script>alert(1)</script>", "positive": "positive text " * 30, "doc": f"document {i}",
    }


def summary() -> dict:
    return {
        "input": "mined.jsonl",
        "policies": {"false_negative": "drop", "positive": "drop"},
        "counts": {"pairs": 3, "candidates_judged": 12, "false_negatives": 3, "noisy_positives": 1, "rows_written": 2},
        "judges": ["score", "near-duplicate"],
        "flags_per_judge": {"score": 1, "near-duplicate": 3},
        "judge_agreement": {"near-duplicate & score": 1},
        "votes_per_candidate": {"0": 9, "1": 2, "2": 1},
        "samples": {
            "positive_scores": {"seen": 3, "values": [0.7, 0.8, 0.6]},
            "negative_scores": {"seen": 9, "values": [0.3, 0.4, 0.2, 0.5, 0.1, 0.35, 0.45, 0.25, 0.15]},
            "flagged_scores": {"seen": 3, "values": [0.65, 0.7, 0.55]},
            "kept_margins": {"seen": 9, "values": [0.3, 0.2, 0.4]},
            "flagged_margins": {"seen": 3, "values": [0.05, 0.02, 0.01]},
            "confidence": {"seen": 3, "values": [1.0, 0.75, 0.5]},
        },
    }


@pytest.fixture
def flags_and_summary(tmp_path):
    import json

    flags = tmp_path / "m.flags.jsonl"
    records = [flag(0), flag(1), flag(2), flag(3, "noisy_positive")]
    flags.write_text("".join(json.dumps(r) + "\n" for r in records))
    path = tmp_path / "m.audit-summary.json"
    path.write_text(json.dumps(summary()))
    return flags, path


BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


@pytest.fixture
def browser(tmp_path):
    """``probe(page, script)``: load ``page`` in headless Chromium (1400 x 1000 window, offline), run ``script``
    after it, and return the JSON the script stored with ``report(value)`` (within ``wait_ms`` of page time when
    it reports from a timer). Skips without a Chromium."""
    import html
    import json
    import re
    import shutil
    import subprocess

    exe = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if exe is None:
        pytest.skip("no headless Chromium (apt-get install chromium)")

    def probe(page: str, script: str, wait_ms: int = 0):
        path = tmp_path / "probe.html"
        hook = ("<script>function report(v){var p=document.createElement('pre');p.id='probe';"
                f"p.textContent=JSON.stringify(v);document.body.appendChild(p);}}\n{script}</script>")
        path.write_text(page.replace("</body>", hook + "</body>"), encoding="utf-8")
        dom = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                              "--no-first-run", "--window-size=1400,1000", "--dump-dom", path.as_uri(),
                              *([f"--virtual-time-budget={wait_ms}"] if wait_ms else [])],
                             capture_output=True, text=True, timeout=120).stdout
        found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
        assert found, f"the probe script did not report: {dom[-2000:]}"
        return json.loads(html.unescape(found.group(1)))

    return probe
