"""Reference systems: what a practitioner would run instead, as rows of an experiment grid.

An augmentation is judged against ``none``, the same model trained without it; a reader also
wants to know how both compare with the tool they would otherwise pick. A reference is that
tool, trained on exactly the same training subsets (segmix's own data loading and seeded
subset), selected on the same dev sample, scored with the same scorer on the same test set, and
written as an ordinary run folder, so the grid runs it and the report reads it like any cell.
It is a different model, not an augmentation: the report shows it, with its paired difference
against ``none``, but never recommends it.

This module only names the references and imports nothing heavy (the grid plans and
``--dry-run`` stay instant); each reference's module imports its library when it trains.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from importlib import import_module
from typing import Any

__all__ = [
    "REFERENCES",
    "Reference",
    "ReferenceUnavailable",
    "get_reference",
    "is_reference",
    "reference_versions",
    "run_reference",
    "used_config",
]


class ReferenceUnavailable(RuntimeError):
    """A reference's library or model is not installed; the message says how to install it."""


@dataclass(frozen=True)
class Reference:
    """One reference system.

    ``fields`` are the :class:`segmix.config.TrainConfig` fields it reads: only these (and the
    data files' content, and the library and model versions) make its grid cell's identity, so
    options it ignores (the encoder, the learning rate, augmentation options) never split its
    cells.
    """

    name: str
    tasks: tuple[str, ...]
    title: str  # how the report names its row, beside the method name
    module: str
    fields: tuple[str, ...]


#: the TrainConfig fields a reference trained on segmix's subsets reads
_SUBSET_AND_BUDGET = (
    "task",
    "data_dir",
    "train_file",
    "dev_file",
    "test_file",
    "scheme",
    "train_size",
    "sample_seed",
    "dev_size",
    "test_size",
    "dev_fraction",
    "seed",
    "epochs",
    "max_steps",
    "batch_size",
    "gradient_accumulation_steps",
    "eval_every",
    "eval_from",
    "patience",
    "save_model",
)

REFERENCES: dict[str, Reference] = {
    "spacy": Reference(
        name="spacy",
        tasks=("ner",),
        title="reference: en_core_web_sm fine-tuned",
        module="segmix.reference.spacy_ner",
        fields=_SUBSET_AND_BUDGET,
    ),
}


def is_reference(method: str) -> bool:
    """Whether ``method`` names a reference system rather than an augmentation."""
    return method in REFERENCES


def get_reference(name: str) -> Reference:
    """The reference registered under ``name``."""
    try:
        return REFERENCES[name]
    except KeyError:
        raise ValueError(
            f"{name!r} is not a reference system; choose {', '.join(REFERENCES)}"
        ) from None


def reference_versions(name: str) -> dict[str, Any]:
    """The library and model versions the reference would train with here (no heavy import).

    They belong to a grid cell's identity: an upgraded library or model is a new cell.
    Raises :class:`ReferenceUnavailable` when they are not installed.
    """
    ref = get_reference(name)
    return {"method": ref.name, **import_module(ref.module).versions_info()}


def run_reference(
    name: str,
    config: Any,
    *,
    resume: bool = False,
    overwrite: bool = False,
    expected: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train and score the reference ``name`` on ``config``'s subsets; return its metrics.

    ``expected`` (the versions a grid planned the cell with) must match what is installed
    where the cell runs, so a cell's folder never holds numbers of another version.
    """
    ref = get_reference(name)
    return import_module(ref.module).train_reference(
        config, resume=resume, overwrite=overwrite, expected=expected
    )


def used_config(name: str, config: Any) -> dict[str, Any]:
    """The fields of ``config`` (a TrainConfig) that the reference reads."""
    values = dataclasses.asdict(config)
    return {k: values[k] for k in get_reference(name).fields}
