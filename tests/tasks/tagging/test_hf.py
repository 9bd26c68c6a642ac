"""Hugging Face ``datasets`` as NER input: real CoNLL-2003 sentences saved with ``save_to_disk``
in the hub's ``conll2003`` layout read back exactly as the CoNLL file reads, and bad rows are
reported by row, never dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

datasets = pytest.importorskip("datasets")

from segmix.datafiles import DataFormatError  # noqa: E402
from segmix.tasks.tagging.data import NerSentence, read_ner  # noqa: E402
from segmix.tasks.tagging.hf import HfRowError, is_hf_dataset_dir, read_hf_tagging  # noqa: E402

from ...conftest import tiny_config  # noqa: E402

# The label order of the hub's conll2003 ner_tags (not segmix's sorted order: ids must be mapped
# through the ClassLabel's names, not assumed).
HUB_NER = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
POS = ["NN", "VB", "JJ"]
N = 30


def _features(names: list[str] = HUB_NER) -> datasets.Features:
    return datasets.Features(
        {
            "id": datasets.Value("string"),
            "tokens": datasets.Sequence(datasets.Value("string")),
            "pos_tags": datasets.Sequence(datasets.ClassLabel(names=POS)),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names)),
        }
    )


def _dataset(
    rows: list[tuple[list[str], list[str]]], names: list[str] = HUB_NER
) -> datasets.Dataset:
    """A Dataset in the hub's conll2003 layout; ``pos_tags`` is filler that must be ignored."""
    index = {name: i for i, name in enumerate(names)}
    return datasets.Dataset.from_dict(
        {
            "id": [str(i) for i in range(len(rows))],
            "tokens": [list(tokens) for tokens, _ in rows],
            "pos_tags": [[i % len(POS) for i in range(len(tokens))] for tokens, _ in rows],
            "ner_tags": [[index[t] for t in tags] for _, tags in rows],
        },
        features=_features(names),
    )


@pytest.fixture(scope="module", autouse=True)
def _quiet() -> None:
    datasets.disable_progress_bars()


@pytest.fixture(scope="module")
def sentences(train_sentences) -> list[NerSentence]:
    """The first sentences of the real CoNLL-2003 train file, IOB2 as read_conll gives them."""
    return train_sentences[:N]


@pytest.fixture(scope="module")
def saved(sentences, tmp_path_factory) -> dict[str, Path]:
    """The sentences saved as a Dataset folder and as a DatasetDict folder (train/validation)."""
    root = tmp_path_factory.mktemp("hf")
    ds = _dataset([(s.tokens, s.tags) for s in sentences])
    ds.save_to_disk(str(root / "single"))
    datasets.DatasetDict(train=ds, validation=ds.select(range(10))).save_to_disk(str(root / "dd"))
    return {"single": root / "single", "dict": root / "dd"}


def _same(got: list[NerSentence], want: list[NerSentence]) -> None:
    assert [s.tokens for s in got] == [s.tokens for s in want]
    assert [s.tags for s in got] == [s.tags for s in want]


def test_a_saved_dataset_reads_exactly_as_the_conll_file(saved, sentences):
    assert is_hf_dataset_dir(saved["single"])
    got = read_ner(saved["single"])
    _same(got, sentences)
    assert any(t != "O" for s in got for t in s.tags)  # real entities, mapped by name
    # ids and "lines" are the rows, so later messages point at dataset[line - 1]
    assert [s.id for s in got] == list(range(N))
    assert [s.line for s in got] == list(range(1, N + 1))


def test_a_dataset_dict_split_folder_reads_and_its_root_names_the_splits(saved, sentences):
    assert is_hf_dataset_dir(saved["dict"]) and is_hf_dataset_dir(saved["dict"] / "train")
    _same(read_ner(saved["dict"] / "train"), sentences)
    _same(read_ner(saved["dict"] / "validation"), sentences[:10])
    _same(read_hf_tagging(saved["dict"], split="validation"), sentences[:10])
    with pytest.raises(DataFormatError, match="train, validation") as e:
        read_ner(saved["dict"])
    assert e.value.path == str(saved["dict"]) and e.value.line is None
    with pytest.raises(DataFormatError, match="no split 'test'; the splits are train, validation"):
        read_hf_tagging(saved["dict"], split="test")


def test_an_in_memory_dataset_reads(sentences):
    ds = _dataset([(s.tokens, s.tags) for s in sentences])
    _same(read_hf_tagging(ds), sentences)
    _same(read_hf_tagging(datasets.DatasetDict(train=ds), split="train"), sentences)
    ds.set_format("numpy")  # whatever the format, rows are read as plain lists
    _same(read_hf_tagging(ds), sentences)


def test_files_and_other_folders_read_as_before(tmp_path, conll):
    assert not is_hf_dataset_dir(conll / "dev.txt") and not is_hf_dataset_dir(tmp_path)
    with pytest.raises(DataFormatError, match="is a directory"):
        read_ner(tmp_path)


def test_a_row_with_mismatched_lengths_is_an_error_naming_the_row():
    rows = [(["EU", "rejects"], ["B-ORG", "O"])] * 2
    data = {
        "tokens": [r[0] for r in rows] + [["Peter", "Blackburn"]],
        "ner_tags": [[3, 0], [3, 0], [1]],
    }
    ds = datasets.Dataset.from_dict(
        data,
        features=datasets.Features(
            {
                "tokens": datasets.Sequence(datasets.Value("string")),
                "ner_tags": datasets.Sequence(datasets.ClassLabel(names=HUB_NER)),
            }
        ),
    )
    with pytest.raises(DataFormatError) as e:
        read_hf_tagging(ds)
    assert str(e.value) == "<Dataset>:row 3: 2 tokens but 1 tags in 'ner_tags' (must be equal)"
    assert isinstance(e.value, HfRowError) and e.value.line == 3


def test_bad_rows_are_reported_not_dropped(tmp_path):
    good = (["EU", "rejects", "German"], ["B-ORG", "O", "B-MISC"])
    empty_token = _dataset([good, (["EU", " "], ["B-ORG", "O"])])
    empty_token.info.dataset_name = "my_ner"
    with pytest.raises(DataFormatError, match=r"^my_ner:row 2: empty or whitespace-only token"):
        read_hf_tagging(empty_token)
    with pytest.raises(DataFormatError, match=r"^<Dataset>:row 2: empty sentence"):
        read_hf_tagging(_dataset([good, ([], [])]))
    # a tag that is not valid in the given scheme: located by row through the shared reader
    iobes = ["O", "S-PER", "B-ORG", "E-ORG"]
    rows = [(["the"], ["O"]), (["Peter"], ["S-PER"]), (["EU", "Commission"], ["B-ORG", "E-ORG"])]
    folder = tmp_path / "iobes"
    _dataset(rows, names=iobes).save_to_disk(str(folder))
    with pytest.raises(DataFormatError, match=r":row 2: invalid tag 'S-PER' for scheme iob2"):
        read_ner(folder, scheme="iob2")
    # ... and in its own scheme (auto-detected) it is converted to IOB2
    assert [s.tags for s in read_ner(folder)] == [("O",), ("B-PER",), ("B-ORG", "I-ORG")]


def test_the_tag_column_is_chosen_by_name_never_guessed():
    ds = _dataset([(["EU", "rejects"], ["B-ORG", "O"])])
    assert read_hf_tagging(ds, tag_column="ner_tags")[0].tags == ("B-ORG", "O")
    # pos_tags is a Sequence(ClassLabel) too, but NER is never trained on it by accident
    with pytest.raises(DataFormatError, match=r"found: pos_tags\b.*tag_column="):
        read_hf_tagging(ds.remove_columns("ner_tags"))
    with pytest.raises(DataFormatError, match="no tag column 'labels'; the columns are id, "):
        read_hf_tagging(ds, tag_column="labels")
    strings = datasets.Dataset.from_dict({"tokens": [["EU"]], "labels": [["B-ORG"]]})
    assert read_hf_tagging(strings, tag_column="labels")[0].tags == ("B-ORG",)
    with pytest.raises(DataFormatError, match="no 'tokens' column"):
        read_hf_tagging(ds.rename_column("tokens", "words"))


def test_a_short_real_training_run_on_a_saved_dataset(saved, tiny_data, tmp_path):
    from segmix.run import train

    config = tiny_config(
        tiny_data,
        tmp_path / "run",
        train_file=str(saved["dict"] / "train"),
        train_size=24,
        max_steps=4,
        eval_every=2,
        save_model=False,
    )
    metrics = train(config)
    assert metrics["steps"] == 4 and len(metrics["history"]) == 2
    assert all("dev_f1" in h for h in metrics["history"]) and "f1" in metrics["test"]
