"""The spaCy reference row: en_core_web_sm's NER fine-tuned on a cell's subsets, on real CoNLL.

A tiny real run (30 sentences, 20 updates) learns and writes an ordinary run folder; tags go to
spaCy spans and back unchanged; its scores are segmix's scorer on its own predictions; the spec
refuses it where it does not apply; a tiny grid shows it as a reference row that is never
recommended.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from segmix.cli import app
from segmix.config import ConfigError
from segmix.experiment import SpecError, load_spec, run_experiment
from segmix.experiment.runner import planned_cells
from segmix.reference import ReferenceUnavailable, run_reference, spacy_ner
from segmix.tasks.tagging.data import from_iob2, to_iob2
from segmix.tasks.tagging.metrics import ner_scores
from tests.conftest import CONLL, SEMEVAL, tiny_config
from tests.experiment.test_runner import one_torch_thread, tiny_spec, write_spec  # noqa: F401

spacy = pytest.importorskip("spacy", reason="the spacy extra: pip install 'segmix[spacy]'")

TYPES = ["LOC", "MISC", "ORG", "PER"]
RUN_FILES = (
    "config.json",
    "versions.json",
    "subset.json",
    "metrics.json",
    "test_pred.json.xz",
    "finished.json",
)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def raw_iobes(path: Path, n: int) -> list[tuple[list[str], list[str]]]:
    """The first ``n`` sentences of a CoNLL file with their tags as written (IOBES)."""
    sentences, words, tags = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("-DOCSTART-"):
            if words:
                sentences.append((words, tags))
                words, tags = [], []
                if len(sentences) == n:
                    break
            continue
        token, tag = line.split()[0], line.split()[-1]
        words.append(token)
        tags.append(tag)
    return sentences


@pytest.fixture(scope="module")
def spacy_run(tiny_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("spacy") / "run"
    config = tiny_config(
        tiny_data, out, train_size=30, max_steps=20, eval_every=5, dev_size=40, save_model=False
    )
    metrics = run_reference("spacy", config)
    return out, config, metrics


# -- a tiny real run -------------------------------------------------------------------------------


def test_a_tiny_run_learns_and_writes_an_ordinary_run_folder(spacy_run):
    out, _config, metrics = spacy_run
    for name in RUN_FILES:
        assert (out / name).is_file(), name
    assert (out / "predictions" / "dev.jsonl").is_file()
    assert (out / "predictions" / "test.jsonl").is_file()
    assert not (out / "model").exists()  # save_model off, as in a grid
    finished = (out / "finished.json").stat().st_mtime_ns
    assert all((out / n).stat().st_mtime_ns <= finished for n in RUN_FILES)  # written last

    assert metrics == json.loads((out / "metrics.json").read_text())
    assert (metrics["task"], metrics["method"], metrics["train_size"]) == ("ner", "spacy", 30)
    assert metrics["steps"] == 20 and not metrics["stopped_early"]
    history = metrics["history"]
    assert [h["step"] for h in history] == [5, 10, 15, 20]
    assert history[-1]["train_loss"] < 0.6 * history[0]["train_loss"]  # it learns
    assert metrics["test"]["f1"] > 0.1
    for key in ("train_seconds", "selection_seconds", "test_seconds", "total_seconds"):
        assert metrics["timing"][key] > 0

    ref = metrics["reference"]
    assert ref["components_trained"] == ["ner"] and ref["labels"] == TYPES
    assert set(ref["labels_added"]) >= {"PER", "MISC"}  # the pipeline knows ORG and LOC
    assert ref["updates"] == 20 and ref["sentences_per_update"] == 8
    assert ref["optimizer"]["learn_rate"] == 0.001  # spaCy's own settings, not the config's lr

    config = json.loads((out / "config.json").read_text())
    assert config["method"] == "spacy" and "augment" not in config and "lr" not in config
    assert config["ignored"]["lr"] == 3e-4  # the grid's lr is recorded as not used
    assert config["max_steps"] == 20 and config["files"]["test"].endswith("test.txt")
    versions = json.loads((out / "versions.json").read_text())
    assert versions["spacy"]["spacy"] == spacy.__version__
    assert versions["spacy"]["pipeline"] in spacy_ner.PIPELINE_PACKAGES


def test_eval_from_delays_spacys_dev_evaluations_as_segmixs(tiny_data, tmp_path):
    """The reference row selects on the same schedule as the cells it is compared with."""
    config = tiny_config(
        tiny_data,
        tmp_path / "run",
        train_size=10,
        max_steps=6,
        eval_every=2,
        eval_from=0.5,
        dev_size=20,
        save_model=False,
    )
    metrics = run_reference("spacy", config)
    assert [h["step"] for h in metrics["history"]] == [4, 6]  # not 2: that is before step 3
    assert metrics["timing"]["evaluations"] == 2 and metrics["best_step"] in (4, 6)
    assert metrics["reference"]["eval_delay"] == 3


def test_it_trains_and_selects_on_the_subsets_a_segmix_cell_uses(spacy_run):
    from segmix.run import load_data
    from segmix.tasks import get_task

    out, config, metrics = spacy_run
    data = load_data(get_task("ner"), config)  # what segmix.run.train reads for this config
    subset = json.loads((out / "subset.json").read_text())
    assert subset["train_ids"] == [s.id for s in data.train] and len(data.train) == 30
    assert subset["dev_ids"] == [s.id for s in data.dev] and len(data.dev) == 40
    # the selected state is the first best on dev, and dev is scored again with it
    best = max(metrics["history"], key=lambda h: h["dev_f1"])
    assert metrics["best_step"] == best["step"]
    assert metrics["dev"]["f1"] == pytest.approx(best["dev_f1"], abs=1e-12)


def test_scores_are_segmixs_scorer_on_the_written_predictions(spacy_run, tiny_data):
    from segmix.tasks.tagging.data import read_conll

    out, _config, metrics = spacy_run
    test_gold = [list(s.tags) for s in read_conll(tiny_data["test"])]
    for split in ("dev", "test"):
        rows = read_jsonl(out / "predictions" / f"{split}.jsonl")
        gold, pred = [r["gold"] for r in rows], [r["pred"] for r in rows]
        assert all(
            len(g) == len(p) == len(r["tokens"]) for g, p, r in zip(gold, pred, rows, strict=True)
        )
        assert {t[2:] for p in pred for t in p if t != "O"} <= set(TYPES)
        expected = {k: v for k, v in metrics[split].items() if k != "seconds"}
        assert ner_scores(gold, pred) == expected
    assert gold == test_gold  # the whole test file, in order, in the run's IOB2 tags


# -- tags and spans --------------------------------------------------------------------------------


def test_iobes_to_spacy_spans_and_back_is_the_identity_on_real_sentences():
    from spacy.vocab import Vocab

    vocab = Vocab()
    sentences = raw_iobes(CONLL / "train.txt", 400)
    seen = {tag[0] for _, tags in sentences for tag in tags}
    assert seen == {"O", "S", "B", "I", "E"}  # every kind of tag occurs
    entities = 0
    for words, tags in sentences:
        doc = spacy_ner.doc_from_tags(vocab, words, to_iob2(tags, "iobes"))
        assert [t.text for t in doc] == words  # the gold words, never re-tokenised
        entities += len(doc.ents)
        back, dropped = spacy_ner.tags_from_doc(doc, TYPES)
        assert dropped == 0 and from_iob2(back, "iobes") == tags
    assert entities > 500


def test_entities_of_the_pipelines_own_types_are_dropped_and_counted():
    from spacy.tokens import Span
    from spacy.vocab import Vocab

    doc = spacy_ner.doc_from_tags(Vocab(), ["Peter", "flew", "to", "Paris"], ["B-PER"] + ["O"] * 3)
    doc.ents = [*doc.ents, Span(doc, 3, 4, label="GPE")]  # an OntoNotes type
    assert spacy_ner.tags_from_doc(doc, TYPES) == (["B-PER", "O", "O", "O"], 1)
    assert spacy_ner.tags_from_doc(doc) == (["B-PER", "O", "O", "B-GPE"], 0)


# -- clear errors ----------------------------------------------------------------------------------


def test_wrong_task_or_augmentation_and_missing_installs_fail_in_one_line(
    tmp_path, tiny_data, monkeypatch
):
    config = tiny_config(tiny_data, tmp_path / "a", train_size=30, max_steps=2)
    with pytest.raises(ConfigError, match=r"^--augment mmix: the spacy reference trains on"):
        run_reference("spacy", tiny_config(tiny_data, tmp_path / "b", augment="mmix"))
    re_config = tiny_config(
        tiny_data, tmp_path / "c", task="re", train_file=None, dev_file=None, test_file=None
    )
    with pytest.raises(ConfigError, match=r"^--task re: the spacy reference is for tagging"):
        run_reference("spacy", re_config)

    with pytest.raises(RuntimeError, match=r"planned for spaCy 0\.0 with en_core_web_sm 9\.9"):
        run_reference(
            "spacy",
            config,
            expected={"spacy": "0.0", "pipeline": "en_core_web_sm", "pipeline_version": "9.9"},
        )
    monkeypatch.setattr(spacy_ner, "PIPELINE_PACKAGES", ("en_core_web_nothing",))
    with pytest.raises(ReferenceUnavailable) as err:
        run_reference("spacy", config)
    assert "en_core_web_nothing is installed: pip install 'segmix[spacy]'" in str(err.value)
    monkeypatch.setattr(spacy_ner, "_installed", lambda name: False)
    with pytest.raises(
        ReferenceUnavailable, match=r"needs spaCy .*: pip install 'segmix\[spacy\]'"
    ):
        run_reference("spacy", config)
    assert not (tmp_path / "a").exists()  # nothing written


SPEC = f"""
name: check
data: {CONLL}
methods:
  - none
  - spacy
sizes: [20]
seeds: [1, 2]
steps: 4
"""


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (
            SPEC.replace(str(CONLL), str(SEMEVAL)).replace("name: check", "name: check\ntask: re"),
            6,
            "methods[1]: spacy is a reference for tagging (task: ner) only, not for relation "
            "extraction (task: re)",
        ),
        (
            SPEC.replace("  - spacy", "  - name: spacy\n    rate: 0.5"),
            6,
            "methods[1].rate: spacy takes no options: it is a reference row",
        ),
        (
            SPEC.replace("  - spacy", "  - {name: spacy, lr: 0.1}"),
            5,
            "methods[1].lr: spacy takes no options",
        ),
        (
            SPEC.replace("  - none\n  - spacy", "  - {name: spacy, label: none}"),
            4,
            "methods[0].label: 'none' is the baseline's label",
        ),
    ],
)
def test_the_spec_refuses_spacy_where_it_does_not_apply(tmp_path, text, line, fragment):
    path = write_spec(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_spec(path)
    message = str(err.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert fragment in message and "\n" not in message, message


def test_the_spec_says_how_to_install_spacy_when_it_is_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(spacy_ner, "_installed", lambda name: False)
    path = write_spec(tmp_path, SPEC)
    spec = load_spec(path)
    with pytest.raises(
        SpecError, match=r":5: methods\[1\]: the spacy reference needs spaCy"
    ) as err:
        spec.require_installed()
    assert str(err.value).endswith("pip install 'segmix[spacy]', or leave spacy out of methods")
    # the grid refuses before any cell trains, and the command says it in one line
    with pytest.raises(SpecError, match="needs spaCy"):
        run_experiment(spec, tmp_path / "grid")
    assert not (tmp_path / "grid").exists()
    result = CliRunner().invoke(app, ["experiment", str(path), "--out", str(tmp_path / "grid")])
    assert result.exit_code != 0
    assert "needs spaCy" in result.output and "Traceback" not in result.output


def test_a_grid_without_its_spacy_row_runs_where_spacy_is_missing(tmp_path, monkeypatch):
    """--methods that leave the reference row out need no spaCy: the shipped CoNLL spec names
    spacy, and a machine without it must still run that spec's other methods."""
    monkeypatch.setattr(spacy_ner, "_installed", lambda name: False)
    path = write_spec(tmp_path, SPEC)
    narrowed = load_spec(path).narrowed(methods=["none"])
    narrowed.require_installed()  # nothing left to install
    assert [v.label for v in narrowed.variants] == ["none"]
    result = CliRunner().invoke(
        app, ["experiment", str(path), "--methods", "none", "--dry-run", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "2 cells" in result.output, result.output


def test_reference_cells_hash_their_versions_and_skip_the_lr_search(tmp_path, tiny_data):
    path = tiny_spec(
        tmp_path,
        tiny_data,
        "methods: [none, spacy]\nseeds: [1, 2]\nsteps: 4\nlr: [1.0e-4, 2.0e-4]\nlr_seeds: 1\n",
    )
    spec = load_spec(path)
    grid = tmp_path / "grid"
    # phase 1 has no spaCy cell; phase 2 has one per seed, without an lr
    assert {c.variant.label for c in planned_cells(spec, grid)} == {"none"}
    from segmix.experiment.cells import plan_final, total_cells

    final = plan_final(spec, grid, {("none", 20): 2e-4})
    refs = [c for c in final if c.variant.reference]
    assert [(c.seed, c.lr) for c in refs] == [(1, None), (2, None)]
    # none: 2 lrs on search seed 1001, then seeds 1, 2 at the chosen lr; spacy: seeds 1, 2 (it
    # has no lr, so no search cell)
    assert spec.search_seeds == [1001]
    planned = {c.id for c in planned_cells(spec, grid)} | {c.id for c in final}
    assert total_cells(spec) == len(planned) == 2 + 2 + 2
    identity = refs[0].identity
    assert identity["reference"] == {"method": "spacy", **spacy_ner.versions_info()}
    assert "lr" not in identity["config"] and "model" not in identity["config"]
    assert refs[0].name == "spacy n=20 seed 1" and refs[0].entry(grid)["reference"] is True
    # the grid's lr or encoder never split spaCy cells; spaCy's and the pipeline's versions do
    other_lr = plan_final(spec, grid, {("none", 20): 1e-4})
    assert [c.id for c in other_lr if c.variant.reference] == [c.id for c in refs]


def test_an_upgraded_spacy_is_a_new_cell(tmp_path, tiny_data, monkeypatch):
    path = tiny_spec(tmp_path, tiny_data, "methods: [none, spacy]\nseeds: [1]\nsteps: 4\n")
    before = {c.variant.label: c.id for c in planned_cells(load_spec(path), tmp_path / "g")}
    installed = spacy_ner.versions_info()
    monkeypatch.setattr(spacy_ner, "versions_info", lambda: {**installed, "spacy": "3.9.0"})
    after = {c.variant.label: c.id for c in planned_cells(load_spec(path), tmp_path / "g")}
    assert after["none"] == before["none"] and after["spacy"] != before["spacy"]


# -- a tiny real grid ------------------------------------------------------------------------------


def test_a_grid_runs_spacy_as_a_reference_row_never_recommended(tmp_path, tiny_data):
    from segmix.experiment.report import REFERENCE_NOTE, write_report

    path = tiny_spec(tmp_path, tiny_data, "methods: [none, spacy]\nseeds: [1, 2]\nsteps: 4\n")
    grid = tmp_path / "grid"
    result = run_experiment(load_spec(path), grid, report=False)
    assert result.complete and len(result.trained) == 4 and not result.failed

    manifest = json.loads((grid / "grid.json").read_text())
    assert manifest["methods"][1] == {
        "label": "spacy",
        "method": "spacy",
        "options": {},
        "reference": True,
    }
    cells = {(c["label"], c["seed"]): c for c in manifest["cells"]}
    for seed in (1, 2):
        cell = cells[("spacy", seed)]
        assert cell["reference"] is True and cell["lr"] is None and cell["status"] == "finished"
        run = grid / cell["dir"]
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["method"] == "spacy" and metrics["steps"] == 4
        assert cell["test"] == metrics["test"]["f1"]
        stored = json.loads((grid / "cells" / cell["id"] / "cell.json").read_text())
        assert stored["identity"]["reference"]["spacy"] == spacy.__version__
        # the same subset as the none cell of that seed
        none_run = grid / cells[("none", seed)]["dir"]
        assert (
            json.loads((run / "subset.json").read_text())["train_ids"]
            == json.loads((none_run / "subset.json").read_text())["train_ids"]
        )

    report_md = write_report(grid, bootstrap=200)
    text = report_md.read_text()
    report = json.loads((grid / "report.json").read_text())
    (row,) = [r for r in report["rows"] if r["label"] == "spacy"]
    assert row["reference"] and row["title"] == "spaCy (reference: en_core_web_sm fine-tuned)"
    assert sorted(row["gain"]) == ["1", "2"] and row["gain_mean"] is not None
    assert row["t_p_holm"] is None and row["lr"] is None
    assert row["verdict"].endswith("a reference row, not a candidate for the recommendation")
    assert report["references"] == ["spacy"] and report["reference_note"] == REFERENCE_NOTE
    (rec,) = report["recommendations"]
    assert rec["label"] is None and "spacy" not in rec["text"]
    assert rec["text"] == (  # the grid ran no augmentation method, only none and spacy
        "nothing to recommend: no augmentation method ran at this size, only the baseline and "
        "reference rows"
    )

    recommendation = text.split("## Recommendation")[1].split("## 20 training examples")[0]
    assert "spacy" not in recommendation.split("Rule:")[0]
    assert REFERENCE_NOTE in recommendation
    assert "| spaCy (reference: en_core_web_sm fine-tuned) | – | 2 |" in text  # test table
    assert "| spaCy (reference: en_core_web_sm fine-tuned) | 1: " in text  # gain table
