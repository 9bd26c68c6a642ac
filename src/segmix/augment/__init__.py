"""Augmentations: every method yields :class:`segmix.mixing.MixedExample`, by one registry.

Modules by family:

- :mod:`segmix.augment.segments`: SegMix for tagging — MMix (mentions), TMix (tokens), SMix
  (synonyms) — and the shared base classes;
- :mod:`segmix.augment.rules`: rule-based augmentation (Dai & Adel 2020) — LwTR, SR, MR, SiS
  and their union;
- :mod:`segmix.augment.sequence`: sequence-level interpolation baselines — whole-sequence
  mixup, SeqMix's sub-sequence mixup;
- :mod:`segmix.augment.hidden`: LADA, mixup of the encoder's hidden states (intra, inter);
- :mod:`segmix.augment.mixtures`: the paper's mixtures for tagging, ``A+B`` — SegMix variant
  A (mmix, tmix, smix) mixing the sentences rule B (lwtr, sr, mr, sis, rules) rewrites;
- :mod:`segmix.augment.relations`: SegMix for relations — RMix, single-argument MMix;
- :mod:`segmix.augment.pools`, :mod:`segmix.augment.packed`: segment pools and the vectorised
  one-segment path.

A new method is one class in its family's module and one line in its task's ``methods``
(:attr:`segmix.tasks.Task.methods`; ``REGISTRY`` gathers them by task). The registry names
modules rather than importing them, so that reading it (the CLI's option checks, the config)
never imports torch or WordNet.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: The parts of the tagging mixtures ``A+B``: SegMix variant A after rule B.
MIXTURE_MIXERS: tuple[str, ...] = ("mmix", "tmix", "smix")
MIXTURE_RULES: tuple[str, ...] = ("lwtr", "sr", "mr", "sis", "rules")

_SHORT = {
    "mmix": "MMix",
    "tmix": "TMix",
    "smix": "SMix",
    "lwtr": "LwTR",
    "sr": "SR",
    "mr": "MR",
    "sis": "SiS",
    "rules": "Rules",
}


def mixture_class_name(mix: str, rule: str) -> str:
    """The class name of mixture ``mix+rule`` in :mod:`segmix.augment.mixtures`: ``MMixAfterMR``."""
    return f"{_SHORT[mix]}After{_SHORT[rule]}"


def task_methods(task: str) -> dict[str, str]:
    """The ``--augment`` methods of a task: name -> "module:Class", as the task declares them
    (:attr:`segmix.tasks.Task.methods`)."""
    from segmix.tasks import task_class

    return task_class(task).methods


def has_mixtures(task: str) -> bool:
    """Whether a task runs the mixtures A+B of every SegMix variant A and rule B (tagging)."""
    methods = task_methods(task)
    return all(f"{a}+{b}" in methods for a in MIXTURE_MIXERS for b in MIXTURE_RULES)


def method_names(task: str) -> tuple[str, ...]:
    """Every ``--augment`` value of a task, ``none`` first, the tagging mixtures last."""
    return ("none", *task_methods(task))


def mixture_error(name: str, task: str) -> str | None:
    """The one-line error for a tagging ``--augment`` value written as a mixture (with a ``+``)
    that is none; ``None`` for any other name (the plain unknown-method error fits it)."""
    methods = task_methods(task)
    if "+" not in str(name) or not has_mixtures(task):
        return None
    parts = str(name).split("+")
    hint = ""
    if len(parts) == 2 and f"{parts[1]}+{parts[0]}" in methods:
        hint = f" (did you mean {parts[1]}+{parts[0]}?)"
    return (
        f"--augment: {name!r} is not a mixture: its parts do not combine; a mixture is A+B, "
        f"SegMix variant A after rule B, with A one of {', '.join(MIXTURE_MIXERS)} and B one "
        f"of {', '.join(MIXTURE_RULES)}{hint}"
    )


def augmenter_class(name: str, task: str = "ner") -> type:
    """The class registered as ``name`` for ``task``."""
    from segmix.tasks import task_class

    target = task_methods(task).get(name)
    if target is None:
        refused = task_class(task).refused.get(name)
        if refused:
            raise ValueError(f"--augment {name} cannot run on --task {task}: {refused}")
        raise ValueError(
            mixture_error(name, task)
            or f"--augment: unknown augmentation {name!r} for --task {task}; choose "
            f"{', '.join(method_names(task))}"
        )
    module, cls = target.split(":")
    return getattr(import_module(module), cls)


def make_augmenter(name: str | None, task: str = "ner", **options: Any) -> Any:
    """An (unfitted) augmenter by its CLI name; ``none`` gives
    :class:`segmix.augment.null.NoAugmentation` (no mixes)."""
    if name in ("none", "", None):
        from segmix.augment.null import NoAugmentation

        return NoAugmentation()
    return augmenter_class(name, task)(**options)


_EXPORTS = {
    "Mixer": "segmix.augment.segments",
    "SegMixAugmenter": "segmix.augment.segments",
    "MixParams": "segmix.augment.segments",
    "MentionMix": "segmix.augment.segments",
    "TokenMix": "segmix.augment.segments",
    "SynonymMix": "segmix.augment.segments",
    "RelationMix": "segmix.augment.relations",
    "ArgumentMix": "segmix.augment.relations",
    "RelationMixParams": "segmix.augment.relations",
    "PackedMixes": "segmix.augment.packed",
    "SegmentRuleMixture": "segmix.augment.mixtures",
    "MixtureParams": "segmix.augment.mixtures",
}


def __getattr__(name: str) -> Any:
    if name == "REGISTRY":  # task -> method name -> "module:Class", read off the tasks
        from segmix.tasks import TASKS

        return {task: task_methods(task) for task in TASKS}
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'segmix.augment' has no attribute {name!r}")
    return getattr(import_module(module), name)


__all__ = [
    *sorted(_EXPORTS),
    "MIXTURE_MIXERS",
    "MIXTURE_RULES",
    "REGISTRY",
    "augmenter_class",
    "has_mixtures",
    "make_augmenter",
    "method_names",
    "mixture_error",
]
