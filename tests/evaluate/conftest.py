from __future__ import annotations

import pytest

from negmine.testing.beir import write_beir

TOPICS = {
    "sleep": ["sleep", "night", "rest", "melatonin", "dream", "insomnia"],
    "coffee": ["coffee", "caffeine", "cup", "bean", "espresso", "roast"],
    "battery": ["battery", "lithium", "charge", "cell", "voltage", "anode"],
}


def small_corpus() -> dict[str, str | tuple[str, str]]:
    corpus: dict[str, str | tuple[str, str]] = {}
    for topic, words in TOPICS.items():
        for i in range(6):
            corpus[f"{topic}-{i}"] = (f"{topic} {words[i]}", f"about {topic} item {i}")
    return corpus


QUERIES = {
    "q-sleep": "sleep melatonin",
    "q-coffee": "coffee espresso",
    "q-battery": "battery lithium",
    "q-none": "nothing relevant",
    "q-train": "coffee bean",
}
QRELS = [
    ("q-sleep", "sleep-3", 1),
    ("q-coffee", "coffee-4", 1),
    ("q-coffee", "coffee-0", 0),
    ("q-battery", "battery-1", 2),
    ("q-none", "sleep-0", 0),
]


@pytest.fixture
def beir_dir(tmp_path):
    folder = write_beir(tmp_path / "beir", small_corpus(), QUERIES, QRELS, split="test")
    with open(folder / "qrels" / "train.tsv", "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\nq-train\tcoffee-3\t1\n")
    return folder
