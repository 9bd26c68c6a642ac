"""Run configuration: one dataclass for every task and method, written to ``config.json``.

Like the ``*Arguments`` dataclasses of Hugging Face's ``run_ner.py``: every field carries its help
text (``metadata["help"]``), fields with a closed set of values are ``Literal`` types, and
``__post_init__`` checks everything, so the command line, a ``--config`` JSON file and the Python
API fail the same way: one :class:`ConfigError` whose message is one line naming the option as it
is typed on the command line, the value, and what is allowed.

Kept free of torch and transformers so that the CLI can build its options from it instantly.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import os
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from segmix.augment import MIXTURE_RULES, has_mixtures, method_names, mixture_error
from segmix.tasks import TASKS, task_class

#: the ``--task`` values, read off the task registry (a closed set, so the CLI offers a choice)
TaskName = Literal.__getitem__(tuple(TASKS))  # type: ignore[misc]

# The augmentation methods of each task, read from the tasks (which import no method).
METHODS: dict[str, tuple[str, ...]] = {task: method_names(task) for task in TASKS}


def methods_help() -> str:
    """Every registered method by task, the tagging mixtures as their pattern."""
    from segmix.augment import MIXTURE_MIXERS, MIXTURE_RULES

    parts = []
    for task, methods in METHODS.items():
        singles = [m for m in methods[1:] if "+" not in m or not has_mixtures(task)]
        shown = ", ".join(singles)
        if has_mixtures(task):
            shown += (
                f", and the mixtures A+B (A in {', '.join(MIXTURE_MIXERS)} after rule B in "
                f"{', '.join(MIXTURE_RULES)}, e.g. mmix+mr)"
            )
        parts.append(f"{shown} ({task})")
    return "; ".join(parts)


METHODS_HELP = methods_help()

# Keys a run folder's config.json writes beside the fields (and any key starting with "_").
RUN_KEYS = frozenset({"resolved_model", "files", "augmenter"})

# Fields holding data paths: relative paths in a config file are relative to the file's folder.
PATH_FIELDS = ("data_dir", "train_file", "dev_file", "test_file")

#: each task in words, for messages
TASK_NAMES: dict[str, str] = {task: task_class(task).title for task in TASKS}


class ConfigError(ValueError):
    """An invalid configuration value; the message is one line naming the option."""


@dataclass
class TrainConfig:
    """Everything a run depends on; written to ``config.json`` in full."""

    task: TaskName = field(  # type: ignore[valid-type]
        default="ner",
        metadata={
            "help": "ner (entity tagging), re (relation classification) or pos "
            "(part-of-speech tagging)."
        },
    )
    # data
    data_dir: str | None = field(
        default=None,
        metadata={
            "help": "Folder with train/dev/test files (default: CoNLL-2003 for ner, SemEval-2010 "
            "Task 8 for re, in ../shared/data).",
            "option": "--data",
        },
    )
    train_file: str | None = field(
        default=None,
        metadata={"help": "Training file (default: DATA/train.*).", "option": "--train"},
    )
    dev_file: str | None = field(
        default=None,
        metadata={
            "help": "Dev file for model selection (default: DATA/dev.*; with --train and no "
            "--data: none).",
            "option": "--dev",
        },
    )
    test_file: str | None = field(
        default=None,
        metadata={
            "help": "Test file, scored once with the selected model (default: DATA/test.*; with "
            "--train and no --data: none).",
            "option": "--test",
        },
    )
    scheme: Literal["auto", "iob1", "iob2", "iobes"] = field(
        default="auto",
        metadata={
            "task_option": True,
            "help": "Tag scheme of the files: auto, iob1, iob2 or iobes (ner only).",
        },
    )
    tag_column: Literal["upos", "xpos"] = field(
        default="upos",
        metadata={
            "added_later": "upos",
            "task_option": True,
            "help": "CoNLL-U column to tag: upos (universal tags) or xpos (the treebank's own; "
            "pos only).",
        },
    )
    train_size: int | None = field(
        default=None,
        metadata={
            "limit": (lambda v: v >= 1, "≥ 1"),
            "help": "Sentences in the seeded low-resource training subset (default: all).",
        },
    )
    sample_seed: int = field(
        default=1, metadata={"help": "Seed of the training subset (and of the dev sample)."}
    )
    dev_size: int | None = field(
        default=None,
        metadata={
            "limit": (lambda v: v >= 1, "≥ 1"),
            "help": "Select on a fixed seeded dev sample of this size (default: all of dev).",
        },
    )
    test_size: int | None = field(
        default=None,
        metadata={
            "added_later": None,
            "limit": (lambda v: v >= 1, "≥ 1"),
            "help": "Score a fixed seeded test sample of this size (default: all of test; a "
            "sample is for quick tries, its F1 is noisier).",
        },
    )
    dev_fraction: float = field(
        default=0.1,
        metadata={
            "limit": (lambda v: 0 < v < 1, "between 0 and 1 (exclusive)"),
            "help": "Without a dev file: share of train (outside the subset) carved as dev.",
        },
    )
    # model
    model: str = field(
        default="default",
        metadata={
            "help": "Hugging Face encoder name or local path ('default': bundled all-MiniLM-L6-v2)."
        },
    )
    # augmentation (SEGMIX.md)
    augment: str = field(
        default="none",
        metadata={
            "group": "method",
            "help": f"Augmentation: none, or a registered method (README's methods table): "
            f"{METHODS_HELP}.",
        },
    )
    alpha: float = field(
        default=8.0,
        metadata={
            "limit": (lambda v: v > 0, "> 0"),
            "group": "augmenter",
            "help": "λ ~ Beta(alpha, alpha) per mixed segment.",
        },
    )
    rate: float = field(
        default=0.2,
        metadata={
            "limit": (lambda v: v >= 0, "≥ 0"),
            "group": "method",
            "help": "Mixed examples per epoch, as a share of the training set.",
        },
    )
    k: int = field(
        default=1,
        metadata={
            "task_option": True,
            "limit": (lambda v: v >= 1, "≥ 1"),
            "group": "augmenter",
            "help": "Segments mixed per augmented example (ner only).",
            "short": "-k",
        },
    )
    same_type: bool = field(
        default=False,
        metadata={
            "task_option": True,
            "group": "augmenter",
            "help": "MMix: partners of the mention's own type only (ner).",
        },
    )
    same_label: bool = field(
        default=False,
        metadata={
            "task_option": True,
            "group": "augmenter",
            "help": "TMix: partners with the word's own label only (ner).",
        },
    )
    same_relation: bool = field(
        default=False,
        metadata={
            "task_option": True,
            "group": "augmenter",
            "help": "RMix: partners with the example's own relation only (re).",
        },
    )
    role_aligned: bool = field(
        default=False,
        metadata={
            "added_later": False,
            "task_option": True,
            "group": "augmenter",
            "help": "RMix and MMix for relations: partners of the example's relation type in "
            "either direction, each argument mixed with the partner's argument of the same "
            "role (cause with cause), and the example's own label kept (re).",
        },
    )
    entities_only: bool = field(
        default=False,
        metadata={
            "task_option": True,
            "group": "augmenter",
            "help": "TMix: mix only words inside mentions (ner).",
        },
    )
    pad_label: Literal["inside", "o", "ignore"] = field(
        default="inside",
        metadata={
            "group": "augmenter",
            "help": "Label of pad words when segments differ in length: inside, o or ignore.",
        },
    )
    lambda_max: bool = field(
        default=False,
        metadata={"group": "augmenter", "help": "Use max(λ, 1-λ) so the original side dominates."},
    )
    p: float = field(
        default=0.3,
        metadata={
            "limit": (lambda v: 0 <= v <= 1, "between 0 and 1 (inclusive)"),
            "group": "augmenter",
            "help": "Rule-based augmentation: probability of changing each word or mention "
            "(Dai & Adel 2020).",
        },
    )
    lwtr_stop_words: Literal["nltk", "none"] = field(
        default="nltk",
        metadata={
            "added_later": "none",
            "task_option": True,
            "group": "augmenter",
            "help": "LwTR: stop words it never replaces nor draws: nltk (NLTK's English list, as "
            "Dai & Adel) or none (segmix's earlier LwTR).",
        },
    )
    mr_draw: Literal["texts", "mentions"] = field(
        default="texts",
        metadata={
            "added_later": "mentions",
            "task_option": True,
            "group": "augmenter",
            "help": "MR: draw the new mention over the distinct texts of its type (texts, as Dai "
            "& Adel) or over every mention occurrence (mentions, segmix's earlier MR).",
        },
    )
    rules_schedule: Literal["draw", "each"] = field(
        default="draw",
        metadata={
            "added_later": "draw",
            "task_option": True,
            "group": "augmenter",
            "help": "Rule-based augmentation: draw (rate × |train| new sentences an epoch, each "
            "from a drawn original; rules draws one rule per sentence) or each (Dai & Adel: "
            "every rule makes rate new sentences per original it can change, so rules adds up "
            "to 4 × rate × |train|; --rate 1 is theirs).",
        },
    )
    window: int = field(
        default=5,
        metadata={
            "limit": (lambda v: v >= 1, "≥ 1"),
            "group": "augmenter",
            "help": "SeqMix: words per mixed window (it starts on an entity tag).",
        },
    )
    seqmix_mode: Literal["sub", "whole"] = field(
        default="sub",
        metadata={
            "added_later": "sub",
            "task_option": True,
            "group": "augmenter",
            "help": "SeqMix: mix a window of each sentence (sub, its sub-sequence mixup) or "
            "whole sentences with a sentence of the same length (whole, its whole-sequence "
            "mixup).",
        },
    )
    seqmix_windows: Literal["source", "mention"] = field(
        default="source",
        metadata={
            "added_later": "mention",
            "task_option": True,
            "group": "augmenter",
            "help": "SeqMix's windows: source (SeqMix's rule: a sentence's first window that "
            "starts on an entity tag and holds 3 entity tags) or mention (segmix's earlier "
            "rule: every window starting on a mention's first word, without overlap).",
        },
    )
    seqmix_output: Literal["snapped", "continuous"] = field(
        default="snapped",
        metadata={
            "added_later": "continuous",
            "task_option": True,
            "group": "augmenter",
            "help": "SeqMix: each mixed word becomes the nearest vocabulary token that is "
            "neither source word (snapped, as SeqMix) or stays a mixed embedding "
            "(continuous: window mixup, segmix's earlier seqmix).",
        },
    )
    seqmix_distance: Literal["cosine", "euclidean"] = field(
        default="cosine",
        metadata={
            "added_later": "cosine",
            "task_option": True,
            "group": "augmenter",
            "help": "SeqMix, snapped: what nearest means, cosine or euclidean (SeqMix's code; "
            "on the bundled encoder it mostly picks rare-script tokens).",
        },
    )
    lada_mode: Literal["intra", "inter"] = field(
        default="inter",
        metadata={
            "task_option": True,
            "group": "augmenter",
            "help": "LADA: mix a sentence with another (inter, kNN partners half of the time) "
            "or with itself (intra).",
        },
    )
    lada_pads: Literal["source", "earlier"] = field(
        default="source",
        metadata={
            "added_later": "earlier",
            "task_option": True,
            "group": "augmenter",
            "help": "LADA, inter: where one sentence has run out of words, its side has no "
            "label and both sides attend both sentences' positions (source, as LADA's code) or "
            "pad words are labelled O and side b leaves them unattended (earlier: segmix's "
            "earlier LADA).",
        },
    )
    lada_schedule: Literal["rate", "every"] = field(
        default="rate",
        metadata={
            "added_later": "rate",
            "task_option": True,
            "group": "augmenter",
            "help": "LADA: rate (--rate × |train| mixes an epoch beside the originals, "
            "λ ~ Beta(alpha, alpha)) or every (LADA's own: every training sentence mixed once "
            "an epoch in place of the originals, λ ~ Beta(60, 1.5) as its code's commands; "
            "--rate and --alpha unused).",
        },
    )
    mix_layer: int | None = field(
        default=None,
        metadata={
            "task_option": True,
            "limit": (lambda v: v >= 0, "≥ 0 (0: the embeddings)"),
            "group": "augmenter",
            "help": "LADA: the encoder layer whose states are mixed (0: the embeddings; "
            "default: drawn from LADA's 8-10 of 12, scaled to the encoder's depth).",
        },
    )
    resample: Literal["epoch", "once"] = field(
        default="epoch",
        metadata={"group": "method", "help": "Draw new mixes every epoch, or once."},
    )
    mix_from_epoch: int = field(
        default=0,
        metadata={
            "limit": (lambda v: v >= 0, "≥ 0"),
            "group": "method",
            "help": "Train on originals alone for this many epochs first.",
        },
    )
    # optimisation
    seed: int = field(
        default=1, metadata={"help": "Seed of initialisation, batch order and mixes."}
    )
    epochs: int = field(
        default=30,
        metadata={
            "limit": (lambda v: v >= 1, "≥ 1"),
            "help": "Epochs (ignored when --max-steps is given).",
        },
    )
    max_steps: int | None = field(
        default=None,
        metadata={
            "limit": (lambda v: v >= 1, "≥ 1"),
            "help": "A fixed budget in optimizer steps, equal for every method.",
        },
    )
    batch_size: int = field(
        default=16, metadata={"limit": (lambda v: v >= 1, "≥ 1"), "help": "Examples per batch."}
    )
    lr: float = field(
        default=1e-4,
        metadata={
            "limit": (lambda v: v > 0, "> 0"),
            "help": "Peak learning rate (AdamW, linear warm-up and decay).",
        },
    )
    weight_decay: float = field(
        default=0.01,
        metadata={
            "limit": (lambda v: v >= 0, "≥ 0"),
            "help": "AdamW weight decay (not on biases and norms).",
        },
    )
    warmup_ratio: float = field(
        default=0.1,
        metadata={
            "limit": (lambda v: 0 <= v < 1, "≥ 0 and < 1"),
            "help": "Share of the steps spent warming up.",
        },
    )
    max_grad_norm: float = field(
        default=1.0,
        metadata={"limit": (lambda v: v >= 0, "≥ 0"), "help": "Gradient clipping norm (0: off)."},
    )
    adversarial: Literal["none", "fgm"] = field(
        default="none",
        metadata={
            "added_later": "none",
            "group": "method",
            "help": "Adversarial training on the input embeddings: fgm adds, each step, the loss "
            "on the embeddings moved by --adv-epsilon along the loss gradient (Miyato et al. "
            "2017); composes with every augmentation, perturbing the mixed embeddings.",
        },
    )
    adv_epsilon: float = field(
        default=1.0,
        metadata={
            "added_later": 1.0,
            "limit": (lambda v: v > 0, "> 0"),
            "group": "method",
            "help": "FGM: L2 norm of each example's perturbation of its word embeddings.",
        },
    )
    gradient_accumulation_steps: int = field(
        default=1,
        metadata={"limit": (lambda v: v >= 1, "≥ 1"), "help": "Batches per optimizer step."},
    )
    mixed_precision: Literal["no", "fp16", "bf16"] = field(
        default="no",
        metadata={
            "help": "no, fp16 (GPU) or bf16 (GPU, or a CPU with AVX512-BF16 or AMX: about 1.8x "
            "faster steps there; see benchmarks/results/cell_cost.md for its effect on F1)."
        },
    )
    group_by_length: bool = field(
        default=True,
        metadata={"help": "Batch sentences of similar length together (less padding)."},
    )
    num_workers: int = field(
        default=0,
        metadata={"limit": (lambda v: v >= 0, "≥ 0"), "help": "DataLoader worker processes."},
    )
    # evaluation and selection (dev only, never test)
    eval_every: int | None = field(
        default=None,
        metadata={
            "limit": (lambda v: v >= 1, "≥ 1"),
            "help": "Evaluate on dev every N optimizer steps (default: ~10 times a run).",
        },
    )
    eval_from: float = field(
        default=0.0,
        metadata={
            "added_later": 0.0,
            "limit": (lambda v: 0 <= v < 1, "≥ 0 and < 1"),
            "help": "Skip dev evaluations before this share of the planned steps (0: evaluate "
            "from the first eval_every steps). Selection then only weighs the later "
            "checkpoints, where small-data runs peak, at a fraction of the cost.",
        },
    )
    patience: int | None = field(
        default=None,
        metadata={
            "limit": (lambda v: v >= 1, "≥ 1"),
            "help": "Stop after N evaluations without dev improvement (default: never).",
        },
    )
    eval_batch_size: int = field(
        default=64,
        metadata={
            "limit": (lambda v: v >= 1, "≥ 1"),
            "help": "Batch size for evaluation and prediction.",
        },
    )
    # output
    output_dir: str | None = field(
        default=None,
        metadata={
            "help": "Run folder: config, versions, subset, metrics, predictions, model "
            "(default: runs/TASK).",
            "option": "--out",
        },
    )
    save_model: bool = field(
        default=True, metadata={"help": "Save the selected model in Hugging Face format."}
    )
    score_test: bool = field(
        default=True,
        metadata={
            "help": "Score the selected model on test. Off, the test file is still read and "
            "checked but never predicted: an lr-search run of `segmix experiment` chooses on "
            "dev and has no use for a test score.",
        },
    )
    progress: bool = field(default=True, metadata={"help": "Show progress bars."})

    def __post_init__(self) -> None:
        hints = _field_types()
        for f in dataclasses.fields(self):
            setattr(self, f.name, _checked_type(f.name, getattr(self, f.name), hints[f.name]))
        for name, hint in hints.items():
            allowed = _literal_values(hint)
            value = getattr(self, name)
            if allowed and value not in allowed:
                raise ConfigError(f"{_bad(name, value)}; choose {_either(allowed)}")
        for name, (ok, requirement) in LIMITS.items():
            value = getattr(self, name)
            if value is not None and not ok(value):
                raise ConfigError(f"{_bad(name, value)}; it must be {requirement}")
        task = task_class(self.task)
        methods = METHODS[self.task]
        if self.augment not in methods:
            refused = task.refused.get(self.augment)
            if refused:
                raise ConfigError(
                    f"{option_name('augment')} {self.augment} cannot run on --task {self.task}: "
                    f"{refused}"
                )
            raise ConfigError(
                mixture_error(self.augment, self.task)
                or f"{option_name('augment')}: unknown augmentation {self.augment!r} for --task "
                f"{self.task}; choose {_either(methods)}"
            )
        for name, neutral in TASK_OPTIONS.items():
            value = getattr(self, name)
            if name not in task.options and value != neutral:
                shown = option_name(name) if value is True else f"{option_name(name)} {value}"
                owners = [t for t in TASKS if name in task_class(t).options]
                where = " or ".join(f"{TASK_NAMES[t]} (--task {t})" for t in owners)
                raise ConfigError(f"{shown} applies to {where} only")
        if self.rules_schedule != "draw" and self.augment not in MIXTURE_RULES:
            # a mixture draws its own originals: "each" would be silently ignored there
            raise ConfigError(
                f"{option_name('rules_schedule')} {self.rules_schedule} applies to the "
                f"rule-based methods ({_either(MIXTURE_RULES)}) only, not to "
                f"--augment {self.augment}"
            )
        if self.role_aligned and self.augment not in ("rmix", "mmix"):
            # whole-sentence mixup mixes every region, not arguments by role
            raise ConfigError(
                f"{option_name('role_aligned')} applies to --augment rmix and mmix (--task re) "
                f"only, not to --augment {self.augment}"
            )
        if self.role_aligned and self.same_relation:
            raise ConfigError(
                f"{option_name('role_aligned')} draws partners of the relation type in either "
                f"direction; {option_name('same_relation')} would narrow that to one direction: "
                "give one of them"
            )
        for name, neutral in (("lada_pads", "source"), ("lada_schedule", "rate")):
            if getattr(self, name) != neutral and self.augment != "lada":
                raise ConfigError(
                    f"{option_name(name)} {getattr(self, name)} applies to --augment lada only, "
                    f"not to --augment {self.augment}"
                )
        if self.output_dir is None:
            self.output_dir = f"runs/{self.task}"

    @classmethod
    def from_dict(
        cls,
        values: dict,
        *,
        base_dir: Path | str | None = None,
        overrides: dict | None = None,
    ) -> TrainConfig:
        """A config from a JSON object of field values (``--config FILE``).

        Unknown keys are an error. The keys a run folder's ``config.json`` writes beside the
        fields (``resolved_model``, ``files``, ``augmenter``, any key starting with ``_``) are
        ignored, so ``--config RUN/config.json`` reproduces a run. Relative data paths
        (``data_dir``, ``train_file``, ``dev_file``, ``test_file``) are taken relative to
        ``base_dir``, the config file's folder, except in a run's own record (a file with those
        run keys), whose paths are as the run was started, relative to the working folder.
        ``overrides`` (the command line's options) win over ``values`` and are used as given.
        """
        if not isinstance(values, dict):
            raise ConfigError(
                f"--config: expected a JSON object of option names and values, got "
                f"{type(values).__name__}"
            )
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(
            k for k in values if k not in names and k not in RUN_KEYS and not str(k).startswith("_")
        )
        if unknown:
            raise ConfigError(
                f"--config: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                "the keys are TrainConfig's field names (train_file, max_steps, …)"
            )
        fields = {k: v for k, v in values.items() if k in names}
        is_run_record = any(k in RUN_KEYS for k in values)
        if base_dir is not None and not is_run_record:
            for key in PATH_FIELDS:
                path = fields.get(key)
                if isinstance(path, str) and path and not Path(path).is_absolute():
                    fields[key] = str(Path(base_dir) / path)
        fields.update(overrides or {})
        return cls(**fields)

    def to_dict(self) -> dict[str, Any]:
        """Every field and its value (what ``config.json`` holds, before the run's extras)."""
        return dataclasses.asdict(self)

    @property
    def data_root(self) -> str:
        """The data folder: ``data_dir``, or the task's default data set."""
        if self.data_dir:
            return self.data_dir
        return task_class(self.task).default_data

    def resolved_files(self) -> tuple[Path, Path | None, Path | None]:
        """(train, dev, test) of the run; dev and test may be None.

        Files given explicitly win; the others are looked up in :attr:`data_root` as
        ``train``/``dev``/``test`` with the task's suffixes (:attr:`segmix.tasks.Task.suffixes`),
        or as the one file ending ``-train``/``-dev``/``-test`` with such a suffix (UD's
        ``en_ewt-ud-train.conllu``). A training
        file given without ``data_dir`` is the user's own data: dev and test then come only from
        ``dev_file`` and ``test_file``, never from the default data set.
        """
        from segmix.tasks.tagging.hf import is_hf_dataset_dir

        own_data = bool(self.train_file) and not self.data_dir
        base = None if own_data else Path(self.data_root)
        suffixes = task_class(self.task).suffixes

        def pick(name: str, split: str) -> Path | None:
            explicit = getattr(self, name)
            if explicit:
                path = Path(explicit)
                if not (path.is_file() or is_hf_dataset_dir(path)):
                    raise FileNotFoundError(f"{option_name(name)}: no such file: {path}")
                return path
            if base is None:
                return None
            for suffix in suffixes:
                if (base / f"{split}{suffix}").is_file():
                    return base / f"{split}{suffix}"
            for suffix in suffixes:  # a treebank's own names: en_ewt-ud-train.conllu
                named = sorted(p for p in base.glob(f"*-{split}{suffix}") if p.is_file())
                if len(named) == 1:
                    return named[0]
            return None

        train = pick("train_file", "train")
        if train is None:
            tried = ", ".join(f"train{s}" for s in suffixes)
            where = f"{base}" if base.is_dir() else f"{base} (no such folder)"
            raise FileNotFoundError(
                f"no training file in {where}: tried {tried}; give --data DIR or --train FILE"
            )
        return train, pick("dev_file", "dev"), pick("test_file", "test")

    def augmenter_options(self) -> dict:
        """The options the chosen augmenter accepts (each variant takes its own subset)."""
        from segmix.augment import augmenter_class

        if self.augment == "none":
            return {}
        cls = augmenter_class(self.augment, self.task)
        accepted = set()
        for klass in cls.__mro__:  # down the MRO while an __init__ passes **kwargs on
            if "__init__" not in klass.__dict__:
                continue
            params = inspect.signature(klass.__init__).parameters
            accepted |= set(params)
            if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
                break
        if self.augment == "lada" and self.lada_mode == "intra":
            # a sentence mixed with itself has no pad words: the option shapes no intra run
            accepted.discard("lada_pads")
        values = dataclasses.asdict(self)
        return {k: values[k] for k in accepted if k in values}


# Range checks: field -> (test, what is allowed). None passes for the optional fields.
LIMITS: dict[str, tuple[Callable[[Any], bool], str]] = {
    f.name: f.metadata["limit"] for f in dataclasses.fields(TrainConfig) if "limit" in f.metadata
}

# Options of some tasks only: field -> the value that means "not used". Each task lists the ones
# it reads (:attr:`segmix.tasks.Task.options`); every other task refuses any other value instead
# of ignoring it.
TASK_OPTIONS: dict[str, Any] = {
    f.name: f.default for f in dataclasses.fields(TrainConfig) if f.metadata.get("task_option")
}
#: the augmenter's own options (``segmix augment`` and ``inspect`` take them)
AUGMENTER_OPTIONS: frozenset[str] = frozenset(
    f.name for f in dataclasses.fields(TrainConfig) if f.metadata.get("group") == "augmenter"
)
#: how a run augments, beside its augmenter's options: the method, how many mixes, when, FGM
METHOD_FIELDS: frozenset[str] = AUGMENTER_OPTIONS | frozenset(
    f.name for f in dataclasses.fields(TrainConfig) if f.metadata.get("group") == "method"
)


def option_name(name: str) -> str:
    """A field's option as typed on the command line (``data_dir``: ``--data``; ``k``: ``-k``)."""
    meta = TrainConfig.__dataclass_fields__[name].metadata
    return meta.get("short") or meta.get("option") or "--" + name.replace("_", "-")


@functools.cache
def _field_types() -> dict[str, Any]:
    """The fields' real types (annotations are strings under ``from __future__``)."""
    return typing.get_type_hints(TrainConfig)


def _literal_values(hint: Any) -> tuple | None:
    """The allowed values of a ``Literal`` type (or ``Literal | None``), else None."""
    if typing.get_origin(hint) is Literal:
        return typing.get_args(hint)
    for arg in typing.get_args(hint):
        if typing.get_origin(arg) is Literal:
            return typing.get_args(arg)
    return None


def _base_type(hint: Any) -> tuple[Any, bool]:
    """(the type without None, whether None is allowed)."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) is Literal or not args:
        return hint, False
    rest = [a for a in args if a is not type(None)]
    return (rest[0] if len(rest) == 1 else hint), len(rest) < len(args)


def _checked_type(name: str, value: Any, hint: Any) -> Any:
    """``value`` if it has the field's type (an int where a float goes becomes a float)."""
    kind, optional = _base_type(hint)
    if value is None:
        if optional:
            return None
        raise ConfigError(f"{_bad(name, value)}; it must be given")
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{_bad(name, value)}; it must be true or false")
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{_bad(name, value)}; it must be a whole number")
    if kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.isfinite(value):
                return float(value)
            raise ConfigError(f"{_bad(name, value)}; it must be a finite number")
        raise ConfigError(f"{_bad(name, value)}; it must be a number")
    if kind is str and not isinstance(value, str):
        if name in (*PATH_FIELDS, "output_dir") and isinstance(value, os.PathLike):
            return str(value)  # Path objects from the Python API; config.json holds strings
        raise ConfigError(f"{_bad(name, value)}; it must be a string")
    return value


def _bad(name: str, value: Any) -> str:
    return f"{option_name(name)}: {value!r} is not allowed"


def _either(values: Iterable) -> str:
    """'a, b or c'."""
    values = [str(v) for v in values]
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"
