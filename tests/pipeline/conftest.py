from __future__ import annotations

import pytest

from negmine.testing.beir import write_beir

TOPICS = {
    "sleep": ["sleep", "night", "rest", "melatonin", "dream", "insomnia", "nap", "bed"],
    "coffee": ["coffee", "caffeine", "cup", "bean", "espresso", "roast", "brew", "mug"],
    "battery": ["battery", "lithium", "charge", "cell", "voltage", "anode", "cathode", "power"],
}


def small_corpus() -> dict[str, str]:
    corpus = {}
    for topic, words in TOPICS.items():
        for i in range(8):
            picked = [words[(i + j) % len(words)] for j in range(4)]
            corpus[f"{topic}-{i}"] = f"study of {topic} " + " ".join(picked) + f" variant {i}"
    corpus["sleep-dup"] = "Study of SLEEP sleep night rest melatonin   variant 0."  # normalised duplicate of sleep-0
    return corpus


@pytest.fixture
def beir_dir(tmp_path):
    queries = {
        "q-sleep": "sleep night rest",
        "q-coffee": "coffee caffeine cup",
        "q-battery": "battery lithium charge",
        "q-multi": "coffee bean espresso roast",
        "q-twin": "Coffee bean espresso roast.",  # same normalised text as q-multi, its own positive
    }
    qrels = [
        ("q-sleep", "sleep-0", 1),
        ("q-coffee", "coffee-0", 1),
        ("q-battery", "battery-0", 1),
        ("q-multi", "coffee-1", 1),
        ("q-multi", "coffee-2", 1),
        ("q-multi", "coffee-3", 1),
        ("q-multi", "coffee-4", 0),
        ("q-twin", "coffee-5", 1),
    ]
    return write_beir(tmp_path / "beir", small_corpus(), queries, qrels)
