"""Hugging Face ``datasets`` as NER input: a folder written by ``save_to_disk``, or a ``Dataset``.

Many NER corpora are shared on the Hugging Face hub rather than as CoNLL files (the hub's
``conll2003`` has ``tokens`` and ``ner_tags`` columns, the tags a ``Sequence(ClassLabel)``).
Reading such a dataset here, into the same :class:`~segmix.tasks.tagging.data.NerSentence`
objects the CoNLL and JSONL readers make, lets it train exactly like a file, without a
conversion step that could silently change the data.

The checks are the JSONL reader's (length mismatch, empty sentence, empty token, invalid tag
for the scheme), and each is reported as a :class:`~segmix.datafiles.DataFormatError` naming
the dataset and the 1-based row (``PATH:row N: reason``): a bad row is never dropped, because a
smaller training set would change results without anyone noticing.

``datasets`` is an optional dependency (``pip install 'segmix[hf]'``), imported only when a
dataset is actually read, so the rest of segmix neither needs it nor pays its import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from segmix.datafiles import DataFormatError, PathArg
from segmix.tasks.tagging.data import NerSentence, _build, _check_scheme

__all__ = ["TAG_COLUMNS", "HfRowError", "is_hf_dataset_dir", "read_hf_tagging"]

#: Tag columns looked for when none is named, in order of preference (the hub's ``conll2003``
#: and WikiANN use ``ner_tags``; other sets use ``tags``).
TAG_COLUMNS: tuple[str, ...] = ("ner_tags", "tags")

_TOKENS = "tokens"

# What save_to_disk writes: a Dataset folder has both files, a DatasetDict folder the one.
_DATASET_FILES = ("dataset_info.json", "state.json")
_DATASET_DICT_FILE = "dataset_dict.json"


class HfRowError(DataFormatError):
    """A :class:`DataFormatError` located by dataset row: ``'<path>:row <n>: <reason>'``.

    A dataset has rows, not lines, and ``FOLDER:12`` would read as line 12 of a file that does
    not exist; saying ``row`` tells the user to look at ``dataset[11]``. ``line`` holds the
    1-based row, so code that reads ``.line`` still finds the location.
    """

    def __init__(self, path: PathArg, line: int | None, reason: str) -> None:
        super().__init__(path, line, reason)
        if line is not None:
            self.args = (f"{path}:row {line}: {reason}",)


def is_hf_dataset_dir(path: Any) -> bool:
    """Whether ``path`` is a folder written by ``Dataset.save_to_disk`` (``dataset_info.json``
    and ``state.json``) or ``DatasetDict.save_to_disk`` (``dataset_dict.json``).

    Only the marker files are checked, so this is cheap and needs no ``datasets`` install:
    :func:`~segmix.tasks.tagging.data.read_ner` calls it on every path it reads.
    """
    if not isinstance(path, str | Path) and not hasattr(path, "__fspath__"):
        return False
    p = Path(path)
    if not p.is_dir():
        return False
    return (p / _DATASET_DICT_FILE).is_file() or all((p / f).is_file() for f in _DATASET_FILES)


def _import_datasets() -> Any:
    """The ``datasets`` module, or an ImportError that says how to install it."""
    try:
        import datasets
    except ImportError as e:
        raise ImportError(
            "reading a Hugging Face dataset needs the 'datasets' package: pip install 'segmix[hf]'"
        ) from e
    return datasets


def _source_name(dataset: Any) -> str:
    """How an in-memory dataset is named in messages: its ``info.dataset_name`` if set."""
    info = getattr(dataset, "info", None)
    name = getattr(info, "dataset_name", None)
    return name if name else "<Dataset>"


def _class_label_names(feature: Any, datasets: Any) -> list[str] | None:
    """The label names of a ``Sequence(ClassLabel)`` column, or None for any other feature.

    ``datasets`` 3 represents the sequence as ``Sequence`` and 4+ as ``List``; both (and
    ``LargeList``) keep the item feature in ``.feature``.
    """
    item = getattr(feature, "feature", None)
    if isinstance(item, datasets.ClassLabel):
        return list(item.names)
    return None


def _is_string_sequence(feature: Any, datasets: Any) -> bool:
    item = getattr(feature, "feature", None)
    return isinstance(item, datasets.Value) and item.dtype in ("string", "large_string")


def _choose_split(data: Any, split: str | None, where: str, datasets: Any) -> Any:
    """The ``Dataset`` to read: ``data`` itself, or its ``split`` if it is a ``DatasetDict``."""
    if isinstance(data, datasets.DatasetDict):
        splits = ", ".join(data) or "none"
        if split is None:
            raise DataFormatError(
                where,
                None,
                f"a DatasetDict with splits {splits}: choose one (read the split's sub-folder, "
                f"e.g. {where}/{next(iter(data), 'train')}, or pass split=...)",
            )
        if split not in data:
            raise DataFormatError(where, None, f"no split {split!r}; the splits are {splits}")
        return data[split]
    if isinstance(data, datasets.Dataset):
        if split is not None:
            raise DataFormatError(
                where,
                None,
                f"split={split!r} given, but this is a single Dataset, not a DatasetDict",
            )
        return data
    raise DataFormatError(
        where,
        None,
        f"expected a datasets.Dataset or DatasetDict, got {type(data).__name__} "
        "(an IterableDataset cannot be read: load it without streaming)",
    )


def _tag_column(dataset: Any, tag_column: str | None, where: str, datasets: Any) -> str:
    """The column holding the tags: ``tag_column``, else ``ner_tags`` or ``tags``.

    Only those names are picked automatically, because a corpus like ``conll2003`` also has
    ``pos_tags`` and ``chunk_tags`` of the same feature type, and training NER on POS tags by
    accident would give no error at all.
    """
    features = dataset.features
    if tag_column is not None:
        if tag_column not in features:
            raise DataFormatError(
                where,
                None,
                f"no tag column {tag_column!r}; the columns are {', '.join(features)}",
            )
        feature = features[tag_column]
        if _class_label_names(feature, datasets) is None and not _is_string_sequence(
            feature, datasets
        ):
            raise DataFormatError(
                where,
                None,
                f"tag column {tag_column!r} is {feature}, expected a Sequence(ClassLabel) "
                "(or a sequence of strings)",
            )
        return tag_column
    labelled = [c for c, f in features.items() if _class_label_names(f, datasets) is not None]
    for name in TAG_COLUMNS:
        if name in labelled:
            return name
    found = ", ".join(labelled) if labelled else "none"
    raise DataFormatError(
        where,
        None,
        f"no tag column: expected a Sequence(ClassLabel) column named "
        f"{' or '.join(TAG_COLUMNS)}; Sequence(ClassLabel) columns found: {found} "
        "(name one with tag_column=...)",
    )


def _row_tags(values: Any, names: list[str] | None, row: int, where: str, column: str) -> list[str]:
    """One row's tags as strings: ClassLabel ids mapped through ``names``, strings kept."""
    if not isinstance(values, list):
        raise HfRowError(where, row, f"{column!r} must be a list, got {type(values).__name__}")
    if names is None:
        if not all(isinstance(v, str) for v in values):
            raise HfRowError(where, row, f"{column!r} must be a list of strings")
        return values
    out: list[str] = []
    for i, v in enumerate(values):
        # -1 is ClassLabel's "no label"; a model cannot learn from it, so it is an error too.
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v < len(names):
            raise HfRowError(
                where,
                row,
                f"{column!r} position {i}: label id {v!r} is not one of the ClassLabel's "
                f"0..{len(names) - 1}",
            )
        out.append(names[v])
    return out


def read_hf_tagging(
    path_or_dataset: PathArg | Any,
    *,
    split: str | None = None,
    tag_column: str | None = None,
    scheme: str = "auto",
) -> list[NerSentence]:
    """Read a Hugging Face dataset with ``tokens`` and a ``Sequence(ClassLabel)`` tag column
    into IOB2 sentences, like :func:`~segmix.tasks.tagging.data.read_conll` reads a file.

    ``path_or_dataset`` is a folder written by ``save_to_disk`` or an in-memory ``Dataset`` /
    ``DatasetDict``. A ``DatasetDict`` needs ``split`` (its ``save_to_disk`` sub-folders, e.g.
    ``FOLDER/train``, are single datasets and need none). The tags come from ``tag_column``, or
    else from ``ner_tags`` or ``tags`` (see :data:`TAG_COLUMNS`), their strings from the
    ClassLabel's ``names``; other columns (``pos_tags``, ``chunk_tags``, ``id``) are ignored.
    ``scheme`` is the tags' scheme (``auto`` detects it over the whole dataset) and they are
    converted to IOB2. Sentence ``id`` is the 0-based row, ``line`` the 1-based row, so errors
    further down the pipeline point at the row.

    Raises :class:`~segmix.datafiles.DataFormatError` naming the dataset (its path, or
    ``info.dataset_name`` or ``<Dataset>`` for an in-memory one) and, for a bad row, the row.
    """
    scheme = _check_scheme(scheme, allow_auto=True)
    datasets = _import_datasets()
    if isinstance(path_or_dataset, datasets.Dataset | datasets.DatasetDict):
        where = _source_name(path_or_dataset)
        data = path_or_dataset
    else:
        where = str(path_or_dataset)
        p = Path(path_or_dataset)
        if not p.exists():
            raise DataFormatError(where, None, "no such file or folder")
        if not is_hf_dataset_dir(p):
            raise DataFormatError(
                where,
                None,
                "not a folder written by Dataset.save_to_disk or DatasetDict.save_to_disk (it "
                f"has no {_DATASET_DICT_FILE}, nor {' and '.join(_DATASET_FILES)})",
            )
        try:
            data = datasets.load_from_disk(str(p))
        except (OSError, ValueError) as e:  # FileNotFoundError, corrupt json or arrow
            raise DataFormatError(where, None, f"cannot load the dataset: {e}") from e
    dataset = _choose_split(data, split, where, datasets)
    if split is not None:
        where = f"{where}[{split}]"
    if _TOKENS not in dataset.features:
        raise DataFormatError(
            where, None, f"no {_TOKENS!r} column; the columns are {', '.join(dataset.features)}"
        )
    column = _tag_column(dataset, tag_column, where, datasets)
    names = _class_label_names(dataset.features[column], datasets)
    if len(dataset) == 0:
        raise DataFormatError(where, None, "no rows in dataset")
    # Plain Python lists whatever format (torch, numpy) the dataset was set to.
    plain = dataset.select_columns([_TOKENS, column]).with_format(None)
    raw: list[tuple[list[str], list[str], int]] = []
    for row, (tokens, tags) in enumerate(zip(plain[_TOKENS], plain[column], strict=True), 1):
        words = _row_tokens(tokens, row, where)
        labels = _row_tags(tags, names, row, where, column)
        if len(words) != len(labels):
            raise HfRowError(
                where,
                row,
                f"{len(words)} tokens but {len(labels)} tags in {column!r} (must be equal)",
            )
        raw.append((words, labels, row))
    try:
        return _build(where, raw, scheme, per_token_lines=False)
    except HfRowError:
        raise
    except DataFormatError as e:  # _build locates by "line": here that is the row
        raise HfRowError(e.path, e.line, e.reason) from None


def _row_tokens(values: Any, row: int, where: str) -> list[str]:
    """One row's tokens, checked as the JSONL reader checks them.

    An empty or whitespace-only token would vanish in the sub-word tokenizer and shift every
    later label by one, so it is refused rather than passed on.
    """
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise HfRowError(where, row, f"{_TOKENS!r} must be a list of strings")
    if not values:
        raise HfRowError(where, row, "empty sentence (no tokens)")
    for i, tok in enumerate(values):
        if not tok.strip():
            raise HfRowError(where, row, f"empty or whitespace-only token at position {i}")
    return values
