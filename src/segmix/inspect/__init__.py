"""``segmix inspect``: what an augmentation will do to your data before you train with it, and
(``--run``, :mod:`segmix.inspect.gains`) where a trained run's gain over its baseline went.

- :mod:`segmix.inspect.coverage`: the pool per entity type (or relation, or part-of-speech
  tag), and how much of dev and test it has seen;
- :mod:`segmix.inspect.mixes`: what the generated mixes look like (λ, padding, length
  mismatch, well-formed labels, sources);
- :mod:`segmix.inspect.semantic`: whether the encoder reads a mixed segment as something
  between its sources, beside whole-sequence mixup and random partners;
- :mod:`segmix.inspect.report`: the whole report (``inspect.json``, ``inspect.md``, plots);
- :mod:`segmix.inspect.plots`: its plots;
- :mod:`segmix.inspect.gains`: after training, where a run's gain over its baseline went;
- :mod:`segmix.inspect.base`: what the report asks of a task (its
  :attr:`segmix.tasks.Task.inspection`), so that no module here branches on a task's name.

Nothing heavy is imported here: the CLI reads this package only inside its command.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "inspect_augmentation": "segmix.inspect.report",
    "InspectResult": "segmix.inspect.report",
    "summary_lines": "segmix.inspect.report",
    "pool_error": "segmix.inspect.coverage",
    "coverage_report": "segmix.inspect.coverage",
    "mix_statistics": "segmix.inspect.mixes",
    "semantic_check": "segmix.inspect.semantic",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'segmix.inspect' has no attribute {name!r}")
    return getattr(import_module(module), name)


__all__ = sorted(_EXPORTS)
