"""Tasks: what differs between tagging and relation classification, behind one small interface.

A task reads its files, encodes examples for the encoder, builds the model, chooses augmenters,
turns arg-max predictions back into labels, scores them with the task's official metric and
writes prediction files. Everything else — the seeded subset, the carved dev split, the mixes,
training, selection, the run folder — is one code path (:func:`segmix.run.train`). A new task
(span-based NER, say) is one new module here and one registry entry.
"""

from __future__ import annotations

from importlib import import_module

from segmix.tasks.base import Task

# name -> "module:Class"; imported on demand so that picking a task never loads the others
TASKS = {
    "ner": "segmix.tasks.tagging:TaggingTask",
    "re": "segmix.tasks.relations:RelationTask",
}


def get_task(name: str) -> Task:
    """The task registered under ``name`` (``ner`` or ``re``)."""
    target = TASKS.get(name)
    if target is None:
        raise ValueError(f"--task: {name!r} is not allowed; choose {' or '.join(TASKS)}")
    module, cls = target.split(":")
    return getattr(import_module(module), cls)()


__all__ = ["TASKS", "Task", "get_task"]
