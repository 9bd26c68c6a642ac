"""Shared fixtures: the real bundled encoder's tokenizer and real CoNLL-2003 sentences."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CONLL = DATA / "conll2003"
SEMEVAL = DATA / "semeval2010_task8"

LABELS = ["O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER"]


def pytest_collection_modifyitems(config, items):
    if not CONLL.exists():
        skip = pytest.mark.skip(reason=f"real data not found at {DATA}")
        for item in items:
            if "conll" in item.fixturenames:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def tokenizer():
    from segmix.encoding import load_tokenizer

    return load_tokenizer(None)


@pytest.fixture
def cache(tokenizer):
    from segmix.encoding import SubwordCache

    return SubwordCache(tokenizer)


@pytest.fixture(scope="session")
def conll():
    return CONLL


@pytest.fixture(scope="session")
def train_sentences(conll):
    from segmix.tasks.tagging.data import read_conll

    return read_conll(conll / "train.txt")


@pytest.fixture(scope="session")
def small_train(train_sentences):
    from segmix.datafiles import sample_subset

    return sample_subset(train_sentences, 60, seed=3)


@pytest.fixture
def small_examples(small_train, cache):
    from segmix.tasks.tagging.encoding import encode_tagged

    return encode_tagged(small_train, cache, {lb: i for i, lb in enumerate(LABELS)})


@pytest.fixture(scope="session")
def tiny_data(conll, tmp_path_factory):
    """Real CoNLL-2003 train, and 80-sentence samples of dev and test (to keep tests short)."""
    from segmix.datafiles import sample_subset
    from segmix.tasks.tagging.data import read_conll, write_conll

    root = tmp_path_factory.mktemp("conll")
    for split in ("dev", "test"):
        sents = sample_subset(read_conll(conll / f"{split}.txt"), 80, seed=0)
        write_conll(
            root / f"{split}.txt",
            [s.tokens for s in sents],
            [s.tags for s in sents],
            scheme="iobes",
        )
    return {
        "train": str(conll / "train.txt"),
        "dev": str(root / "dev.txt"),
        "test": str(root / "test.txt"),
    }


def tiny_config(tiny_data, out, **kw):
    from segmix.config import TrainConfig

    base = dict(
        train_file=tiny_data["train"],
        dev_file=tiny_data["dev"],
        test_file=tiny_data["test"],
        train_size=48,
        sample_seed=2,
        seed=2,
        batch_size=8,
        lr=3e-4,
        progress=False,
        output_dir=str(out),
    )
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="session")
def mmix_run(tiny_data, tmp_path_factory):
    from segmix.run import train

    out = tmp_path_factory.mktemp("run") / "mmix"
    metrics = train(
        tiny_config(tiny_data, out, augment="mmix", rate=0.5, max_steps=36, eval_every=12)
    )
    return out, metrics
