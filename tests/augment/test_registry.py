"""Every registered method of every task, through the one protocol the engine and ``segmix
inspect`` rely on: ``fit``, ``sample_params`` and a deterministic ``apply``, ``generate``,
``describe``. The same seed gives the same mixes, odd and single draws work, and each method's
mixes train a real model two steps (the loss is finite and the weights move)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from segmix.augment import REGISTRY, augmenter_class, make_augmenter
from segmix.collate import MixCollator
from segmix.encoding import SubwordCache, load_tokenizer, resolve_model
from segmix.engine import segmix_loss
from tests.conftest import CONLL, DATA, SEMEVAL

FILES = {
    "ner": CONLL / "train.txt",
    "re": SEMEVAL / "train.tsv",
    "pos": DATA / "ud_english_ewt" / "en_ewt-ud-train.conllu",
}
CASES = [(task, method) for task, methods in REGISTRY.items() for method in methods]
WORDNET = {"smix", "sr", "rules"}  # and every mixture after sr or rules, or with smix
SIZE = 60


def _needs_wordnet(method: str) -> bool:
    return bool(WORDNET & set(method.split("+")))


@pytest.fixture(scope="module")
def tasks():
    """Per task: the task, its tokenizer's cache, labels, 60 encoded examples and a model."""
    from segmix.tasks import get_task

    built = {}

    def setup(name: str):
        if name not in built:
            task = get_task(name)
            tokenizer = load_tokenizer(None)  # its own: relations add marker tokens to it
            cache = SubwordCache(tokenizer)
            train = task.read(FILES[name])[:SIZE]
            labels = task.labels(train)
            task.prepare_tokenizer(tokenizer, cache, train)
            encoded = task.encode(train, cache, labels, source=str(FILES[name]))
            torch.manual_seed(0)
            model = task.build_model(resolve_model(None), labels, tokenizer)
            built[name] = (task, cache, labels, encoded, model)
        return built[name]

    return setup


def _fitted(tasks, task_name: str, method: str):
    if _needs_wordnet(method):
        pytest.importorskip("nltk", reason="NLTK is the optional extra segmix[wordnet]")
    _, cache, labels, encoded, model = tasks(task_name)
    augmenter = make_augmenter(method, task_name).fit(encoded, labels, cache)
    return augmenter, cache, model


def _same(a, b) -> bool:
    """Two mixed examples field by field (arrays by value)."""
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if x is None or y is None or not np.array_equal(x, y):
                return False
        elif x != y:
            return False
    return True


@pytest.mark.parametrize(("task_name", "method"), CASES, ids=[f"{t}:{m}" for t, m in CASES])
def test_the_protocol_same_seed_same_mixes_and_apply_is_deterministic(tasks, task_name, method):
    augmenter, _, _ = _fitted(tasks, task_name, method)
    assert augmenter.describe()["name"] == method
    assert augmenter.n_eligible > 0
    first = augmenter.generate(5, np.random.default_rng(7))
    again = augmenter.generate(5, np.random.default_rng(7))
    assert 0 < len(first) <= 5 and len(first) == len(again)
    assert all(_same(a, b) for a, b in zip(first, again, strict=True))
    for n in (1, 3):  # a single draw and an odd one
        assert 0 < len(augmenter.generate(n, np.random.default_rng(n))) <= n
    rng = np.random.default_rng(11)
    params = next(p for p in (augmenter.sample_params(rng) for _ in range(20)) if p is not None)
    assert _same(augmenter.apply(params), augmenter.apply(params))


TRACED = [(t, m) for t, m in CASES if getattr(augmenter_class(m, t), "traceable", False)]


@pytest.mark.parametrize(("task_name", "method"), TRACED, ids=[f"{t}:{m}" for t, m in TRACED])
def test_a_traced_mix_names_where_its_words_come_from(tasks, task_name, method):
    # segmix inspect's semantic check encodes side a and each partner from these places
    augmenter, _, _ = _fitted(tasks, task_name, method)
    train = tasks(task_name)[3]
    drawn = augmenter.draw_params(np.random.default_rng(5), 6)
    assert 0 < len(drawn) <= 6
    traced = 0
    for params in drawn:
        mix, trace = augmenter.apply(params), augmenter.trace(params)
        records = sorted(mix.mixes, key=lambda r: r.start)
        assert len(trace.partners) == len(records)
        side_a = train[trace.sentence] if isinstance(trace.sentence, int) else trace.sentence
        for rec, place in zip(records, trace.partners, strict=True):
            assert tuple(side_a.words[rec.start : rec.end]) == rec.words_a
            if place is None or trace.substituted:
                continue
            e, start = place
            assert tuple(train[e].words[start : start + len(rec.words_b)]) == rec.words_b
            traced += 1
    assert traced or all(augmenter.trace(p).substituted for p in drawn)


@pytest.mark.parametrize(("task_name", "method"), CASES, ids=[f"{t}:{m}" for t, m in CASES])
def test_every_method_trains_two_steps(tasks, task_name, method):
    augmenter, cache, model = _fitted(tasks, task_name, method)
    collate = MixCollator(cache.pad_id)
    trained = [p for p in model.parameters() if p.requires_grad]
    before = [p.detach().clone() for p in trained]
    optimizer = torch.optim.SGD(trained, lr=1e-3)
    model.train()
    for step in range(2):
        batch = collate(list(augmenter.generate(4, np.random.default_rng(step))))
        loss, _ = segmix_loss(model, batch)
        assert torch.isfinite(loss)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert any(not torch.equal(a, p.detach()) for a, p in zip(before, trained, strict=True))
    with torch.no_grad():  # the next method starts from the same weights
        for p, a in zip(trained, before, strict=True):
            p.copy_(a)
