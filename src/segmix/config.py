"""Run configuration: one dataclass for every task and method, written to ``config.json``.

Kept free of torch and transformers so that the CLI can build its options from it instantly.
"""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CONLL_DIR = "../shared/data/conll2003"
DEFAULT_SEMEVAL_DIR = "../shared/data/semeval2010_task8"


@dataclass
class TrainConfig:
    """Everything a run depends on; written to ``config.json`` in full."""

    task: str = "ner"  # ner | re
    # data
    data_dir: str | None = None  # default: CoNLL-2003 (ner) or SemEval-2010 Task 8 (re)
    train_file: str | None = None  # default: DATA_DIR/train.txt
    dev_file: str | None = None  # default: DATA_DIR/dev.txt
    test_file: str | None = None  # default: DATA_DIR/test.txt (None and absent: no test)
    scheme: str = "auto"
    train_size: int | None = None  # sentences in the seeded low-resource subset; None: all
    sample_seed: int = 1
    dev_size: int | None = None  # a fixed seeded dev sample for model selection; None: all
    dev_fraction: float = 0.1  # RE without a dev file: carved from train outside the subset
    # model
    model: str = "default"
    # augmentation (SEGMIX.md)
    augment: str = "none"  # none | mmix | tmix | smix (ner); none | rmix | mmix (re)
    alpha: float = 8.0
    rate: float = 0.2
    k: int = 1
    same_type: bool = False
    same_label: bool = False
    same_relation: bool = False
    entities_only: bool = False
    pad_label: str = "inside"
    lambda_max: bool = False
    resample: str = "epoch"  # epoch | once
    mix_from_epoch: int = 0
    # optimisation
    seed: int = 1
    epochs: int = 30
    max_steps: int | None = None  # a fixed budget in optimizer steps (overrides epochs)
    batch_size: int = 16
    lr: float = 1e-4
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    gradient_accumulation_steps: int = 1
    mixed_precision: str = "no"  # no | fp16 | bf16
    group_by_length: bool = True
    num_workers: int = 0
    # evaluation and selection (dev only, never test)
    eval_every: int | None = None  # optimizer steps; None: about 10 evaluations a run
    patience: int | None = None  # evaluations without dev improvement before stopping
    eval_batch_size: int = 64
    # output
    output_dir: str = "runs/ner"
    save_model: bool = True
    progress: bool = True

    @property
    def data_root(self) -> str:
        """The data folder: ``data_dir``, or the task's default data set."""
        if self.data_dir:
            return self.data_dir
        return DEFAULT_SEMEVAL_DIR if self.task == "re" else DEFAULT_CONLL_DIR

    def resolved_files(self) -> tuple[Path, Path | None, Path | None]:
        """(train, dev, test) of a tagging run; dev and test are optional."""
        base = Path(self.data_root)

        def pick(explicit: str | None, name: str) -> Path | None:
            if explicit:
                return Path(explicit)
            path = base / name
            return path if path.exists() or name == "train.txt" else None

        train = pick(self.train_file, "train.txt")
        if train is None:
            raise ValueError("no training data: give --data DIR or --train FILE")
        return train, pick(self.dev_file, "dev.txt"), pick(self.test_file, "test.txt")

    def augmenter_options(self) -> dict:
        """The options the chosen augmenter accepts (each variant takes its own subset)."""
        if self.task == "re":
            from segmix.re_augment import RELATION_AUGMENTERS as AUGMENTERS
        else:
            from segmix.augment import AUGMENTERS

        cls = AUGMENTERS.get(self.augment)
        if cls is None:
            return {}
        accepted = set()
        for klass in cls.__mro__:
            if "__init__" in klass.__dict__:
                accepted |= set(inspect.signature(klass.__init__).parameters)
        values = dataclasses.asdict(self)
        return {k: values[k] for k in accepted if k in values}
