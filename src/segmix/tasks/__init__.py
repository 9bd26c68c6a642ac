"""Tasks: what differs between tagging and relation classification, behind one small interface.

A task reads its files, encodes examples for the encoder, builds the model, chooses augmenters,
turns arg-max predictions back into labels, scores them with the task's official metric and
writes prediction files. Everything else — the seeded subset, the carved dev split, the mixes,
training, selection, the run folder — is one code path (:func:`segmix.run.train`). A new task
is one package here and one line in :data:`TASKS` (the checklist: ``docs/tasks.md``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from segmix.tasks.base import Task

if TYPE_CHECKING:
    from segmix.inspect.base import Inspection

# name -> "module:Class"; imported on demand so that picking a task never loads the others
TASKS = {
    "ner": "segmix.tasks.tagging.task:TaggingTask",
    "re": "segmix.tasks.relations.task:RelationTask",
    "pos": "segmix.tasks.pos.task:PosTask",
}


def task_class(name: str) -> type[Task]:
    """The class of the task registered under ``name``."""
    target = TASKS.get(name)
    if target is None:
        choices = ", ".join(TASKS)
        raise ValueError(f"--task: {name!r} is not allowed; choose one of {choices}")
    module, cls = target.split(":")
    return getattr(import_module(module), cls)


def get_task(name: str) -> Task:
    """The task registered under ``name`` (``ner``, ``re``, ``pos``)."""
    return task_class(name)()


def inspection_for(task: str | Task) -> Inspection:
    """What ``segmix inspect`` needs to know of a task (a name, as a report read from disk
    carries it, or the task itself): its :attr:`Task.inspection`, imported on demand.

    A task that names none is refused in one line, before any file is read.
    """
    if isinstance(task, str):
        task = get_task(task)
    if task.inspection is None:
        raise ValueError(f"segmix inspect does not support --task {task.name} yet")
    module, cls = task.inspection.split(":")
    return getattr(import_module(module), cls)(task)


__all__ = ["TASKS", "Task", "get_task", "inspection_for", "task_class"]
