"""The ``segmix`` command: train, evaluate, predict, augment.

Options of ``train`` are generated from :class:`segmix.training.TrainConfig`, so the CLI, the
Python API and the run's ``config.json`` can never disagree; ``--config FILE`` loads a JSON file
of the same fields (command-line options override it). Heavy imports happen inside commands, so
``segmix --help`` is instant.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import tempfile
import types
import typing
from pathlib import Path

import click

from segmix.config import TrainConfig  # torch-free: option generation stays instant

HELP = {
    "task": "ner (tagging) or re (relation classification).",
    "data_dir": "Folder with train/dev/test files (default: CoNLL-2003 for ner, SemEval-2010 "
    "Task 8 for re, in ../shared/data).",
    "train_file": "Training file (default: DATA/train.*).",
    "dev_file": "Dev file for model selection (default: DATA/dev.*).",
    "test_file": "Test file, scored once with the selected model (default: DATA/test.*).",
    "scheme": "Tag scheme of the files: auto, iob1, iob2 or iobes.",
    "train_size": "Sentences in the seeded low-resource training subset (default: all).",
    "sample_seed": "Seed of the training subset (and of the dev sample).",
    "dev_size": "Select on a fixed seeded dev sample of this size (default: all of dev).",
    "model": "Hugging Face encoder name or local path ('default': bundled all-MiniLM-L6-v2).",
    "augment": "none, mmix, tmix or smix (NER); none, rmix or mmix (RE).",
    "alpha": "λ ~ Beta(alpha, alpha) per mixed segment.",
    "rate": "Mixed examples per epoch, as a share of the training set.",
    "k": "Segments mixed per augmented example.",
    "same_type": "MMix: partners of the mention's own type only.",
    "same_label": "TMix: partners with the word's own label only.",
    "entities_only": "TMix: mix only words inside mentions.",
    "same_relation": "RMix: partners with the example's own relation only.",
    "pad_label": "Label of pad words when segments differ in length: inside, o or ignore.",
    "lambda_max": "Use max(λ, 1-λ) so the original side dominates.",
    "resample": "Draw new mixes every epoch, or once.",
    "mix_from_epoch": "Train on originals alone for this many epochs first.",
    "seed": "Seed of initialisation, batch order and mixes.",
    "epochs": "Epochs (ignored when --max-steps is given).",
    "max_steps": "A fixed budget in optimizer steps, equal for every method.",
    "batch_size": "Examples per batch.",
    "lr": "Peak learning rate (AdamW, linear warm-up and decay).",
    "weight_decay": "AdamW weight decay (not on biases and norms).",
    "warmup_ratio": "Share of the steps spent warming up.",
    "max_grad_norm": "Gradient clipping norm (0: off).",
    "gradient_accumulation_steps": "Batches per optimizer step.",
    "mixed_precision": "no, fp16 or bf16 (GPU).",
    "group_by_length": "Batch sentences of similar length together (less padding).",
    "num_workers": "DataLoader worker processes.",
    "eval_every": "Evaluate on dev every N optimizer steps (default: ~10 times a run).",
    "patience": "Stop after N evaluations without dev improvement (default: never).",
    "eval_batch_size": "Batch size for evaluation and prediction.",
    "output_dir": "Run folder: config, versions, subset, metrics, predictions, model.",
    "save_model": "Save the selected model in Hugging Face format.",
    "progress": "Show progress bars.",
    "dev_fraction": "RE without a dev file: share of train (outside the subset) carved as dev.",
}

# short names users expect, mapped to config fields
ALIASES = {
    "data_dir": "--data",
    "train_file": "--train",
    "dev_file": "--dev",
    "test_file": "--test",
    "output_dir": "--out",
}


def _click_type(annotation) -> tuple[type, bool]:
    """(click type, is_flag) for a dataclass field's annotation."""
    hints = {"int": int, "float": float, "str": str, "bool": bool}
    if isinstance(annotation, str):
        names = [a.strip() for a in annotation.split("|") if a.strip() != "None"]
        base = hints.get(names[0], str)
    else:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        base = args[0] if args and isinstance(annotation, types.UnionType) else annotation
    return base, base is bool


def config_options(config_cls):
    """Decorator adding one option per field of ``config_cls`` (all default to 'unset')."""

    def decorate(func):
        for f in reversed(dataclasses.fields(config_cls)):
            kind, flag = _click_type(f.type)
            name = ALIASES.get(f.name, "--" + f.name.replace("_", "-"))
            default = f.default if f.default is not dataclasses.MISSING else None
            help_text = f"{HELP.get(f.name, '')} [default: {default}]"
            if flag:
                decl = f"{name}/--no-{name[2:]}"
                func = click.option(decl, f.name, default=None, help=help_text)(func)
            else:
                func = click.option(name, f.name, type=kind, default=None, help=help_text)(func)
        return func

    return decorate


def _build_config(config_cls, config_file: str | None, options: dict):
    values: dict = {}
    if config_file:
        values.update(json.loads(Path(config_file).read_text()))
        unknown = set(values) - {f.name for f in dataclasses.fields(config_cls)}
        if unknown:
            raise click.BadParameter(f"unknown fields {sorted(unknown)}", param_hint="--config")
    values.update({k: v for k, v in options.items() if v is not None})
    return config_cls(**values)


def _quiet_transformers() -> None:
    """transformers' "Loading weights" bars would bury segmix's own progress bars."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def _fail(err: Exception) -> typing.NoReturn:
    click.secho(f"error: {err}", fg="red", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="segmix")
def app() -> None:
    """SegMix: structure-aware mixup for NER and relation extraction with little labelled data."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@app.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help="JSON file of config fields; command-line options override it.",
)
@config_options(TrainConfig)
def train(config_file: str | None, **options) -> None:
    """Train a tagger (or relation classifier) and evaluate it; write a run folder."""
    from rich.console import Console

    _quiet_transformers()
    try:
        config = _build_config(TrainConfig, config_file, options)
        if config.task == "re":
            from segmix.re_training import train_re as run
        elif config.task == "ner":
            from segmix.training import train_ner as run
        else:
            raise ValueError(f"unknown task {config.task!r}; choose ner or re")
        metrics = run(config)
    except (ValueError, FileNotFoundError, OSError) as err:
        _fail(err)
    console = Console()
    _print_scores(console, metrics, config)
    console.print(f"run folder: [bold]{config.output_dir}[/bold]")


def _print_scores(console, metrics: dict, config) -> None:
    from rich.table import Table

    table = Table(
        title=f"{metrics['task']} · {metrics['method']} · {metrics['train_size']} training examples"
    )
    table.add_column("split")
    for col in ("precision", "recall", "f1"):
        table.add_column(col, justify="right")
    for split in ("dev", "test"):
        s = metrics.get(split)
        if s:
            if "macro_f1" in s:
                table.add_row(
                    split,
                    f"{s['macro_precision']:.4f}",
                    f"{s['macro_recall']:.4f}",
                    f"{s['macro_f1']:.4f}",
                )
            else:
                table.add_row(
                    split, f"{s['precision']:.4f}", f"{s['recall']:.4f}", f"{s['f1']:.4f}"
                )
    console.print(table)


@app.command()
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--data",
    "data_file",
    required=True,
    type=click.Path(exists=True),
    help="Labelled file to score (CoNLL or JSONL; SemEval/TACRED for RE).",
)
@click.option("--scheme", default="auto", help="Tag scheme of the file.")
@click.option(
    "--out", "out_file", type=click.Path(dir_okay=False), help="Write the metrics as JSON here."
)
@click.option("--batch-size", default=64, show_default=True)
def evaluate(
    model_dir: str, data_file: str, scheme: str, out_file: str | None, batch_size: int
) -> None:
    """Score a saved model on a labelled file (NER: seqeval strict; RE: SemEval official)."""
    from rich.console import Console

    from segmix.runs import write_json

    _quiet_transformers()
    try:
        if _is_relation_model(model_dir):
            from segmix.re_training import evaluate_relation_model

            scores = evaluate_relation_model(model_dir, data_file, batch_size=batch_size)
            headline = f"macro F1 {scores['macro_f1']:.4f}"
        else:
            from segmix.data import read_ner
            from segmix.encoding import check_lengths
            from segmix.inference import Tagger
            from segmix.metrics import ner_scores

            sentences = read_ner(data_file, scheme=scheme)
            tagger = Tagger(model_dir)
            check_lengths(sentences, tagger.cache, source=data_file)
            pred = tagger([list(s.tokens) for s in sentences], batch_size=batch_size, progress=True)
            scores = ner_scores([list(s.tags) for s in sentences], pred)
            headline = (
                f"P {scores['precision']:.4f}  R {scores['recall']:.4f}  F1 {scores['f1']:.4f}"
            )
    except (ValueError, OSError) as err:
        _fail(err)
    Console().print(f"{data_file}: {headline}")
    if out_file:
        write_json(out_file, scores)


def _is_relation_model(model_dir: str) -> bool:
    return (Path(model_dir) / "segmix_relation.json").exists()


@app.command()
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--input",
    "input_file",
    type=click.Path(exists=True, dir_okay=False),
    help="CoNLL or JSONL file (tags, if any, are ignored); SemEval/TACRED for RE.",
)
@click.option("--text", help="Raw text to tag (split into words on spaces and punctuation).")
@click.option(
    "--output",
    "output_file",
    type=click.Path(dir_okay=False),
    help="Where to write predictions (default: standard output).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["conll", "jsonl", "semeval"]),
    default=None,
    help="Output format (default: from the output suffix, else conll).",
)
@click.option("--scheme", default="iob2", help="Tag scheme to write: iob1, iob2 or iobes.")
@click.option("--batch-size", default=64, show_default=True)
def predict(
    model_dir: str,
    input_file: str | None,
    text: str | None,
    output_file: str | None,
    fmt: str | None,
    scheme: str,
    batch_size: int,
) -> None:
    """Tag a file or raw text with a saved model."""
    if (input_file is None) == (text is None):
        _fail(ValueError("give exactly one of --input FILE or --text TEXT"))
    _quiet_transformers()
    try:
        if _is_relation_model(model_dir):
            from segmix.re_training import predict_relation_file

            with _output(output_file) as target:
                predict_relation_file(model_dir, input_file, target, batch_size=batch_size)
            return
        from segmix.data import read_ner, write_conll, write_jsonl
        from segmix.encoding import check_lengths
        from segmix.inference import Tagger
        from segmix.re_data import tokenize

        if text is not None:
            tokens = [tokenize(text)]
            gold = None
        else:
            sentences = read_ner(input_file, scheme="auto")
            tokens = [list(s.tokens) for s in sentences]
            gold = [list(s.tags) for s in sentences]
        tagger = Tagger(model_dir)
        if input_file is not None:
            check_lengths(sentences, tagger.cache, source=input_file)
        tags = tagger(tokens, batch_size=batch_size, progress=input_file is not None)
        if fmt is None:
            fmt = "jsonl" if output_file and output_file.endswith((".jsonl", ".json")) else "conll"
        writer = write_jsonl if fmt == "jsonl" else write_conll
        with _output(output_file) as target:
            writer(target, tokens, tags, gold=gold, scheme=scheme)
    except (ValueError, OSError) as err:
        _fail(err)


@contextlib.contextmanager
def _output(path: str | None):
    """The file writers take a path; without ``--output`` the result goes to standard output."""
    if path:
        yield path
        return
    with tempfile.TemporaryDirectory() as tmp:
        target = str(Path(tmp) / "out")
        yield target
        click.echo(Path(target).read_text(), nl=False)


@app.command()
@click.option("--task", type=click.Choice(["ner", "re"]), default="ner", show_default=True)
@click.option(
    "--data",
    "data_dir",
    default=None,
    help="Data folder (default: CoNLL-2003, or SemEval-2010 Task 8 for --task re).",
)
@click.option("--train", "train_file", default=None, help="Training file (default: DATA/train.*).")
@click.option("--scheme", default="auto")
@click.option("--model", default="default", help="Encoder whose tokenizer splits the words.")
@click.option(
    "--augment",
    "method",
    default="mmix",
    show_default=True,
    help="mmix, tmix, smix (NER); rmix, mmix (RE).",
)
@click.option("-n", "count", default=5, show_default=True, help="Mixed examples to make.")
@click.option("--train-size", type=int, default=None)
@click.option("--sample-seed", type=int, default=1, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--alpha", type=float, default=8.0, show_default=True)
@click.option("-k", "k", type=int, default=1, show_default=True)
@click.option("--pad-label", type=click.Choice(["inside", "o", "ignore"]), default="inside")
@click.option("--same-type/--no-same-type", default=False)
@click.option("--same-label/--no-same-label", default=False)
@click.option("--entities-only/--no-entities-only", default=False)
@click.option("--lambda-max/--no-lambda-max", default=False)
@click.option(
    "--export",
    type=click.Path(dir_okay=False),
    help="Write the mixes as JSON Lines (ids, weights, labels) instead of showing them.",
)
def augment(
    task: str,
    data_dir: str | None,
    train_file: str | None,
    scheme: str,
    model: str,
    method: str,
    count: int,
    train_size: int | None,
    sample_seed: int,
    seed: int,
    alpha: float,
    k: int,
    pad_label: str,
    same_type: bool,
    same_label: bool,
    entities_only: bool,
    lambda_max: bool,
    export: str | None,
) -> None:
    """Show N mixed examples readably, or export them as JSON Lines."""
    options = {
        "alpha": alpha,
        "k": k,
        "pad_label": pad_label,
        "lambda_max": lambda_max,
        "same_type": same_type,
        "same_label": same_label,
        "entities_only": entities_only,
    }
    try:
        if task == "re":
            from segmix.re_training import show_relation_mixes

            show_relation_mixes(
                data_dir,
                train_file,
                method,
                count,
                train_size,
                sample_seed,
                seed,
                model,
                options,
                export,
            )
            return
        _show_ner_mixes(
            data_dir,
            train_file,
            scheme,
            model,
            method,
            count,
            train_size,
            sample_seed,
            seed,
            options,
            export,
        )
    except (ValueError, OSError) as err:
        _fail(err)


def _show_ner_mixes(
    data_dir,
    train_file,
    scheme,
    model,
    method,
    count,
    train_size,
    sample_seed,
    seed,
    options,
    export,
) -> None:
    import numpy as np
    from rich.console import Console
    from rich.markup import escape

    from segmix.augment import AUGMENTERS, make_augmenter
    from segmix.data import label_list, read_ner, sample_subset
    from segmix.encoding import SubwordCache, encode_tagged, load_tokenizer
    from segmix.mixing import mix_to_json, render_mix

    config = TrainConfig(
        data_dir=data_dir or TrainConfig.data_dir, train_file=train_file, augment=method, **options
    )
    if method not in AUGMENTERS:
        raise ValueError(f"unknown augmentation {method!r} for ner; choose {', '.join(AUGMENTERS)}")
    train_path = config.resolved_files()[0]
    sentences = read_ner(train_path, scheme=scheme)
    labels = label_list(sentences)
    subset = sample_subset(sentences, train_size, sample_seed)
    cache = SubwordCache(load_tokenizer(model))
    examples = encode_tagged(
        subset, cache, {lb: i for i, lb in enumerate(labels)}, source=str(train_path)
    )
    augmenter = make_augmenter(method, **config.augmenter_options()).fit(examples, labels, cache)
    mixes = augmenter.generate(count, np.random.default_rng(seed))
    if export:
        with open(export, "w") as fh:
            for m in mixes:
                fh.write(json.dumps(mix_to_json(examples[m.source].words, m, labels)) + "\n")
        Console().print(f"wrote {len(mixes)} mixed examples to {export}")
        return
    console = Console()
    for m in mixes:
        console.print(escape(render_mix(examples[m.source].words, m, labels)))
        console.print()


if __name__ == "__main__":
    app()
