"""The ``segmix`` command: train, evaluate, predict, augment, inspect, experiment, report.

Options of ``train`` are generated from :class:`segmix.config.TrainConfig`, so the CLI, the
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
from collections.abc import Sequence
from pathlib import Path

import click

from segmix.config import (
    AUGMENTER_OPTIONS,
    METHODS_HELP,
    ConfigError,
    TrainConfig,
    option_name,
)  # torch-free: option generation stays instant
from segmix.formatting import parse_duration
from segmix.tasks import TASKS


def _click_type(hint) -> tuple[typing.Any, bool]:
    """(click type, is_flag) for a field's real type: ``Literal`` gives a ``click.Choice``."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) is typing.Literal:
        return click.Choice(typing.get_args(hint)), False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return _click_type(args[0])
    return hint, hint is bool


#: the TrainConfig fields ``segmix augment`` takes beside its own options: what shapes the mixes
AUGMENT_FIELDS = AUGMENTER_OPTIONS  # the augmenter's options, read off TrainConfig's fields


def config_options(config_cls, only: frozenset[str] | None = None):
    """Decorator adding one option per field of ``config_cls`` (all default to 'unset'), or per
    field named in ``only``.

    Help comes from each field's ``metadata["help"]``; ``metadata["option"]`` renames an option
    (``data_dir``: ``--data``) and ``metadata["short"]`` adds a short one (``k``: ``-k``).
    """
    hints = typing.get_type_hints(config_cls)

    def decorate(func):
        for f in reversed(dataclasses.fields(config_cls)):
            if only is not None and f.name not in only:
                continue
            kind, flag = _click_type(hints[f.name])
            name = f.metadata.get("option") or "--" + f.name.replace("_", "-")
            help_text = f.metadata.get("help", "")
            if f.default not in (dataclasses.MISSING, None):
                help_text += f" [default: {f.default}]"
            if flag:
                decls = [f"{name}/--no-{name[2:]}"]
                func = click.option(*decls, f.name, default=None, help=help_text)(func)
            else:
                decls = [name, *([f.metadata["short"]] if "short" in f.metadata else [])]
                func = click.option(*decls, f.name, type=kind, default=None, help=help_text)(func)
        return func

    return decorate


def mix_options(func):
    """The options that decide which mixes are drawn (subset, seeds, every augmentation field),
    shared by ``augment`` and ``inspect`` so that both show what ``train`` would draw."""
    for decorate in reversed(
        [
            click.option("--train-size", type=int, default=None),
            click.option("--sample-seed", type=int, default=1, show_default=True),
            click.option("--seed", type=int, default=1, show_default=True),
            config_options(TrainConfig, only=AUGMENT_FIELDS),
        ]
    ):
        func = decorate(func)
    return func


def _mix_config(options: dict, **fields) -> TrainConfig:
    """The run config ``augment`` and ``inspect`` draw from: their fields, the augmentation
    options that were given, no progress bars."""
    given = {k: v for k, v in options.items() if v is not None}
    return TrainConfig(progress=False, **fields, **given)


def _build_config(config_cls, config_file: str | None, options: dict):
    """The config of ``--config FILE`` (if any) with the command line's options over it.

    An invalid value ends the command with one line (exit status 2), however it was given.
    """
    given = {k: v for k, v in options.items() if v is not None}
    try:
        if not config_file:
            return config_cls(**given)
        path = Path(config_file)
        try:
            values = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ConfigError(f"--config: {path} is not valid JSON ({err})") from None
        return config_cls.from_dict(values, base_dir=path.parent, overrides=given)
    except (ConfigError, OSError) as err:
        _fail(err)


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
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the interrupted run in --out from its last checkpoint (same config).",
)
@click.option("--overwrite", is_flag=True, help="Replace whatever the --out folder holds.")
def train(config_file: str | None, resume: bool, overwrite: bool, **options) -> None:
    """Train a tagger (or relation classifier) and evaluate it; write a run folder."""
    import logging

    from rich.console import Console

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    if resume and overwrite:
        _fail(ValueError("give --resume or --overwrite, not both"))
    _quiet_transformers()
    try:
        config = _build_config(TrainConfig, config_file, options)
        from segmix.run import train as run

        metrics = run(config, resume=resume, overwrite=overwrite)
    except (ValueError, FileNotFoundError, OSError) as err:
        _fail(err)
    if int(os.environ.get("RANK", "0")) != 0:  # one report for a data-parallel run
        return
    console = Console()
    _print_scores(console, metrics, config)
    console.print(f"run folder: [bold]{config.output_dir}[/bold]")


def _print_scores(console, metrics: dict, config) -> None:
    from rich.table import Table

    from segmix.tasks import get_task

    task = get_task(metrics["task"])
    table = Table(
        title=f"{metrics['task']} · {metrics['method']} · {metrics['train_size']} training "
        f"{task.unit}"
    )
    table.add_column("split")
    rows = {
        split: task.score_columns(metrics[split]) for split in ("dev", "test") if metrics.get(split)
    }
    for name, _ in next(iter(rows.values()), []):
        table.add_column(name, justify="right")
    for split, columns in rows.items():
        table.add_row(split, *(f"{value:.4f}" for _, value in columns))
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
    """Score a saved model on a labelled file (NER: conlleval F1; RE: the official score)."""
    from rich.console import Console

    from segmix.runs import write_json

    _quiet_transformers()
    try:
        task = _saved_task(model_dir)
        read = {"scheme": scheme} if "scheme" in task.options else {}
        scores = task.evaluate_saved(model_dir, data_file, batch_size=batch_size, **read)
        headline = task.headline(scores)
    except (ValueError, OSError) as err:
        _fail(err)
    Console().print(f"{data_file}: {headline}")
    if out_file:
        write_json(out_file, scores)


def _saved_task(model_dir: str):
    """The task a saved model was trained for: a relation classifier says so in its config
    (``model_type``), a tagger trained by segmix in ``segmix_task``; any other token classifier
    is read as an entity tagger."""
    from segmix.tasks import TASKS, get_task

    config = Path(model_dir) / "config.json"
    try:
        recorded = json.loads(config.read_text())
    except (OSError, ValueError):
        recorded = {}
    if recorded.get("model_type") == "segmix-relation":
        return get_task("re")
    name = recorded.get("segmix_task", "ner")
    return get_task(name if name in TASKS else "ner")


@app.command()
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--input",
    "input_file",
    type=click.Path(exists=True, dir_okay=False),
    help="CoNLL or JSONL file (tags, if any, are ignored); SemEval/TACRED for RE.",
)
@click.option("--text", help="Raw text to tag (split into words by Unicode's word-boundary rules).")
@click.option(
    "--output",
    "output_file",
    type=click.Path(dir_okay=False),
    help="Where to write predictions (default: standard output).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["conll", "jsonl", "semeval", "conllu"]),
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
    if text is not None:
        from segmix.text import split_words

        words = split_words(text)
        if not words:
            _fail(ValueError("--text: the text is empty; nothing to tag"))
    _quiet_transformers()
    try:
        task = _saved_task(model_dir)
        if fmt is None and output_file and output_file.endswith((".jsonl", ".json")):
            fmt = "jsonl"
        with _output(output_file) as target:
            task.predict_saved(
                model_dir,
                target,
                input_file=input_file,
                words=words if text is not None else None,
                fmt=fmt,
                batch_size=batch_size,
                scheme=scheme,
            )
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
@click.option("--task", type=click.Choice(list(TASKS)), default="ner", show_default=True)
@click.option(
    "--data",
    "data_dir",
    default=None,
    help="Data folder (default: CoNLL-2003, or SemEval-2010 Task 8 for --task re).",
)
@click.option("--train", "train_file", default=None, help="Training file (default: DATA/train.*).")
@click.option("--scheme", type=click.Choice(["auto", "iob1", "iob2", "iobes"]), default="auto")
@click.option("--model", default="default", help="Encoder whose tokenizer splits the words.")
@click.option(
    "--augment",
    "method",
    default="mmix",
    show_default=True,
    help=f"A registered method: {METHODS_HELP}.",
)
@click.option("-n", "count", default=5, show_default=True, help="Mixed examples to make.")
@mix_options
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
    export: str | None,
    **options,
) -> None:
    """Show N mixed examples readably, or export them as JSON Lines."""
    try:
        # the same checks, subset, labels and pools as ``train`` with these options
        config = _mix_config(
            options,
            task=task,
            data_dir=data_dir,
            train_file=train_file,
            scheme=scheme,
            model=model,
            augment=method,
            train_size=train_size,
            sample_seed=sample_seed,
            seed=seed,
        )
        if method == "none":
            raise ValueError("--augment: choose a method to show (none makes no mixes)")
        _show_mixes(config, count, export)
    except (ValueError, OSError) as err:
        _fail(err)


def _show_mixes(config: TrainConfig, count: int, export: str | None) -> None:
    import numpy as np
    from rich.console import Console
    from rich.markup import escape

    from segmix.run import prepare

    _quiet_transformers()
    prep = prepare(config, evaluation=False)
    task, labels, train = prep.task, prep.data.labels, prep.encoded["train"]
    # the first draw of epoch 0, as training makes it
    mixes = prep.augmenter.generate(count, np.random.default_rng([config.seed, 0]))
    console = Console()
    if export:
        with open(export, "w", encoding="utf-8") as fh:
            for m in mixes:
                record = task.mix_record(train[m.source], m, labels)
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        console.print(f"wrote {len(mixes)} mixed examples to {export}")
        return
    for m in mixes:
        console.print(escape(task.render_mix(train[m.source], m, labels)))
        console.print()


@app.command("inspect")
@click.option("--task", type=click.Choice(list(TASKS)), default="ner", show_default=True)
@click.option(
    "--data",
    "data_dir",
    default=None,
    help="Data folder (default: CoNLL-2003, or SemEval-2010 Task 8 for --task re).",
)
@click.option("--train", "train_file", default=None, help="Training file (default: DATA/train.*).")
@click.option(
    "--dev",
    "dev_file",
    default=None,
    help="Dev file whose coverage to report (default: DATA/dev.*).",
)
@click.option(
    "--test",
    "test_file",
    default=None,
    help="Test file whose coverage to report (default: DATA/test.*).",
)
@click.option("--scheme", type=click.Choice(["auto", "iob1", "iob2", "iobes"]), default="auto")
@click.option("--model", default="default", help="Encoder whose tokenizer and states are used.")
@click.option(
    "--augment",
    "method",
    default="mmix",
    show_default=True,
    help="A method that draws partners from a pool: mmix, tmix, smix, mixup, seqmix, lada "
    "(inter) or a mixture A+B such as mmix+mr (ner); rmix, mmix, mixup or rmix+sr (re); tmix, "
    "smix, mixup or lada (inter) (pos). The rules (lwtr, sr, mr, sis, rules) have no pool.",
)
@click.option(
    "-n", "count", default=2000, show_default=True, help="Mixes to generate for the statistics."
)
@click.option(
    "--semantic",
    type=click.IntRange(min=0),
    default=200,
    show_default=True,
    help="Mixes for the semantic check (encoder states of mixes vs their sources; 0 skips it).",
)
@click.option(
    "--examples",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Mixes shown as `segmix augment` shows them (0: none, e.g. for a report you share).",
)
@mix_options
@click.option(
    "--run",
    "run_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="A trained run (or grid) folder: its gains are appended, and the semantic check uses "
    "its model (RUN/model).",
)
@click.option(
    "--baseline",
    "baseline_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="With --run: the run without augmentation to compare against.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder for inspect.md, inspect.json and plots/.",
)
def inspect_command(
    task: str,
    data_dir: str | None,
    train_file: str | None,
    dev_file: str | None,
    test_file: str | None,
    scheme: str,
    model: str,
    method: str,
    count: int,
    semantic: int,
    examples: int,
    train_size: int | None,
    sample_seed: int,
    seed: int,
    run_dir: str | None,
    baseline_dir: str | None,
    out_dir: str,
    **options,
) -> None:
    """Report what an augmentation will do to your data, before training with it.

    Pool coverage per entity type (or relation) against dev and test, what the mixes look like
    (λ, padding, length mismatch, well-formed labels), and whether the encoder reads a mixed
    segment as something between its sources (beside whole-sequence mixup and random partners).
    Writes OUT/inspect.md, OUT/inspect.json and OUT/plots/.
    """
    import logging

    from rich.console import Console

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    console = Console(highlight=False)
    try:
        # the same checks, subset, labels and pools as ``train`` (and ``augment``) with these
        config = _mix_config(
            options,
            task=task,
            data_dir=data_dir,
            train_file=train_file,
            dev_file=dev_file,
            test_file=test_file,
            scheme=scheme,
            model=model,
            augment=method,
            train_size=train_size,
            sample_seed=sample_seed,
            seed=seed,
        )
        from segmix.inspect.report import check_method, inspect_augmentation, summary_lines

        check_method(config)  # before any file is read
        run_model, gains, gains_md = _run_gains(run_dir, baseline_dir, config, semantic)
        _quiet_transformers()
        with console.status("inspecting") as status:
            result = inspect_augmentation(
                config,
                out_dir,
                n_mixes=count,
                semantic=semantic,
                examples=examples,
                run_model=run_model,
                gains=gains,
                gains_markdown=gains_md,
                on_step=lambda name: status.update(f"inspecting: {name}"),
            )
    except (ValueError, OSError) as err:
        _fail(err)
    for line in summary_lines(result.report):
        console.print(line, markup=False, soft_wrap=True)
    console.print(
        f"written: {result.markdown}, {result.json.name}, {len(result.plots)} plots in "
        f"{result.markdown.parent / 'plots'} "
        f"({result.report['timing']['total_seconds']:.1f} s)",
        markup=False,
        soft_wrap=True,
    )


def _run_gains(
    run_dir: str | None, baseline_dir: str | None, config: TrainConfig, semantic: int
) -> tuple[Path | None, dict | None, list[str]]:
    """``--run``: the trained model for the semantic check, and the run's (or grid's) gains.

    Checked before anything heavy runs, so a run folder that lacks what is needed fails at once
    with one line.
    """
    if run_dir is None:
        if baseline_dir is not None:
            raise ValueError("--baseline goes with --run RUN")
        return None, None, []
    run = Path(run_dir)
    if not run.is_dir():
        raise ValueError(f"--run: no such folder: {run}")
    is_grid = (run / "grid.json").is_file()
    run_model = None
    if not is_grid:
        if not (run / "predictions").is_dir():
            raise ValueError(
                f"--run: {run} has no predictions/ folder; it is not a finished segmix run"
            )
        if semantic > 0:
            if not (run / "model" / "config.json").is_file():
                raise ValueError(
                    f"--run: {run} has no saved model (model/), which the semantic check reads; "
                    "give --semantic 0, or a run trained with --save-model"
                )
            _check_run_matches(run, config)
            run_model = run / "model"
    try:
        from segmix.inspect import gains as gains_module
    except ImportError:
        raise ValueError(
            "--run: the post-training report (segmix.inspect.gains) is not available in this "
            "installation"
        ) from None
    if is_grid:
        if baseline_dir is not None:
            raise ValueError("--baseline goes with a run folder, not a grid (its baseline is none)")
        report = gains_module.grid_gain_report(run)
        render = getattr(gains_module, "render_grid_gains", gains_module.render_gains)
    else:
        report = gains_module.gain_report(run, Path(baseline_dir) if baseline_dir else None)
        render = gains_module.render_gains
    return run_model, report, list(render(report))


def _check_run_matches(run: Path, config: TrainConfig) -> None:
    """The run's model must be on this task and encoder, or its states mean something else;
    a run trained on another subset is only worth a warning (the states are still the run's)."""
    import logging

    from segmix.encoding import resolve_model

    try:
        recorded = json.loads((run / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ValueError(
            f"--run: {run} has no readable config.json; it is not a segmix run"
        ) from None
    if recorded.get("task", "ner") != config.task:
        raise ValueError(
            f"--run: {run} is a --task {recorded.get('task')} run; this report is --task "
            f"{config.task}"
        )
    for name in ("train_size", "sample_seed"):
        if name in recorded and recorded[name] != getattr(config, name):
            logging.getLogger("segmix.inspect").warning(
                "--run: %s was trained with %s %s, this report uses %s: the pool is not the "
                "one that run trained on",
                run,
                option_name(name),
                recorded[name],
                getattr(config, name),
            )
    theirs = recorded.get("resolved_model") or resolve_model(recorded.get("model"))
    ours = resolve_model(config.model)
    if theirs != ours:
        raise ValueError(
            f"--run: {run} was trained on encoder {theirs!r}, but --model gives {ours!r}; give "
            f"--model {recorded.get('model')}"
        )


@app.command()
@click.argument("spec_file", metavar="CONFIG.yaml", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Grid folder: grid.json, lr_choice.json, cells/, the report [default: "
    "runs/experiments/NAME].",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: this machine (--workers processes); ray: one Ray task per cell.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="local: cells side by side, each with cores // N torch threads.",
)
@click.option(
    "--ray-address",
    default=None,
    help="ray: the cluster to join [default: RAY_ADDRESS, else a new local Ray].",
)
@click.option(
    "--cpus-per-cell",
    type=click.IntRange(min=1),
    default=None,
    help="ray: CPUs (and torch threads) per cell [default: 1].",
)
@click.option(
    "--gpus-per-cell",
    type=float,
    default=None,
    help="ray: GPUs per cell, more than 0; a fraction shares one GPU [default: none, CPUs only].",
)
@click.option(
    "--sizes",
    default=None,
    metavar="N,N,…",
    help="Run only these of the spec's sizes (the same cells the whole grid would run).",
)
@click.option(
    "--methods",
    default=None,
    metavar="NAME,…",
    help="Run only these of the spec's methods, by label or name (none always stays).",
)
@click.option(
    "--stop-after",
    default=None,
    metavar="DURATION",
    help="Start no cell after this long (e.g. 3h30m, 45m, 90s); running cells finish, the rest "
    "wait for the next run of the same command. For a job's time limit.",
)
@click.option(
    "--reuse-from",
    "reuse_from",
    multiple=True,
    type=click.Path(file_okay=False),
    metavar="GRID",
    help="Another grid folder (repeatable): a cell this grid plans that GRID has finished "
    "under the same id (same configuration, data and segmix version) is copied in instead of "
    "trained; grid.json says copied_from.",
)
@click.option(
    "--preflight",
    is_flag=True,
    help="Before training, build each size and seed's subset and draw one epoch of every "
    "method's mixes (seconds each); stop, naming them, if any cannot be drawn.",
)
@click.option("--dry-run", is_flag=True, help="Check the spec and list the cells; train nothing.")
def experiment(
    spec_file: str,
    out_dir: str | None,
    executor: str,
    workers: int,
    ray_address: str | None,
    cpus_per_cell: int | None,
    gpus_per_cell: float | None,
    sizes: str | None,
    methods: str | None,
    stop_after: str | None,
    reuse_from: tuple[str, ...],
    preflight: bool,
    dry_run: bool,
) -> None:
    """Run a grid of methods × sizes × seeds from a YAML spec, then report it.

    Finished cells are reused and unfinished ones resumed, so the same command continues a grid
    after Ctrl-C. With several learning rates, each method's lr is chosen per size on dev from
    search seeds of their own (lr_seeds) before the full grid runs.
    """
    import logging

    from rich.console import Console

    from segmix.experiment import load_spec, run_experiment

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    if executor != "ray" and (ray_address or cpus_per_cell or gpus_per_cell):
        _fail(
            ValueError("--ray-address, --cpus-per-cell and --gpus-per-cell go with --executor ray")
        )
    if executor == "ray" and workers != 1:
        _fail(ValueError("--workers goes with --executor local (Ray runs one task per cell)"))
    if gpus_per_cell is not None and not gpus_per_cell > 0:  # not 0, not negative, not nan
        _fail(ValueError(f"--gpus-per-cell: {gpus_per_cell:g} is not allowed; give more than 0"))
    try:
        stop_seconds = None if stop_after is None else parse_duration(stop_after)
    except ValueError as err:
        _fail(ValueError(f"--stop-after: {err}"))
    try:
        spec = load_spec(spec_file)
        if sizes or methods:
            spec = spec.narrowed(sizes=_int_list("--sizes", sizes), methods=_name_list(methods))
        spec.require_installed()
    except ConfigError as err:
        _fail(err)
    grid_dir = Path(out_dir) if out_dir else Path("runs") / "experiments" / spec.name
    console = Console(highlight=False)
    if preflight:
        _preflight(console, spec, grid_dir, reuse_from)
    if dry_run:
        _print_plan(console, spec, grid_dir, reuse_from)
        return
    _quiet_transformers()
    styles = {"failed": "red", "retry": "yellow", "busy": "yellow", "done": "bold"}

    def show(event) -> None:
        console.print(event.message, style=styles.get(event.kind), markup=False, soft_wrap=True)

    try:
        with _terminate_as_interrupt():
            result = run_experiment(
                spec,
                grid_dir,
                executor=executor,
                workers=workers,
                ray_address=ray_address,
                cpus_per_cell=cpus_per_cell,
                gpus_per_cell=gpus_per_cell,
                on_event=show,
                stop_after=stop_seconds,
                reuse_from=reuse_from,
            )
    except KeyboardInterrupt:
        sys.exit(130)
    except (ValueError, RuntimeError, OSError) as err:
        _fail(err)
    if result.report is not None:
        console.print(f"report: [bold]{result.report}[/bold]", soft_wrap=True)
    if result.left_for_later:
        console.print(
            f"{result.left_for_later} cells left (--stop-after): run the same command again to "
            "continue",
            soft_wrap=True,
        )
    if result.failed:
        sys.exit(1)


@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM (``kill``, a scheduler's time limit, the end of a session) stops a grid the way
    Ctrl-C does: running cells marked interrupted, worker processes stopped, the manifest
    written. Python's default would end this process alone and leave its pool workers training
    on, outside any claim, into folders the next run of the grid resumes."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (an embedding application): leave it as it is
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _preflight(console, spec, grid_dir: Path, reuse_from: tuple[str, ...] = ()) -> None:
    """``--preflight``: every (method, size, seed) with a cell left to train in ``grid_dir``
    drawn before training; exit 1 on a problem."""
    from tqdm import tqdm

    from segmix.experiment.preflight import preflight

    _quiet_transformers()
    with tqdm(desc="preflight: drawing mixes", unit="draw", mininterval=2.0) as bar:

        def progress(done: int, total: int, problem) -> None:
            bar.total = total
            bar.update(1)
            if problem is not None:
                bar.write(f"cannot draw: {problem}")

        try:
            problems = preflight(
                spec, grid_dir=grid_dir, reuse_from=reuse_from, on_progress=progress
            )
        except (ConfigError, ValueError, OSError) as err:
            _fail(err)
    if problems:
        console.print(
            f"preflight: {len(problems)} of the grid's method × size × seed cannot be drawn; "
            "nothing trained. Each of their cells would fail:",
            style="red",
            markup=False,
            soft_wrap=True,
        )
        for problem in problems:
            console.print(f"  {problem}", markup=False, soft_wrap=True)
        sys.exit(1)
    if not bar.n:
        console.print(
            f"preflight: nothing left to train in {grid_dir}", markup=False, soft_wrap=True
        )
        return
    console.print(
        f"preflight: every method drew its mixes on every subset left to train ({bar.n} "
        f"method × size × seed; the finished ones in {grid_dir} were not drawn again)",
        markup=False,
        soft_wrap=True,
    )


def _name_list(text: str | None) -> list[str] | None:
    return [part.strip() for part in text.split(",") if part.strip()] if text else None


def _int_list(option: str, text: str | None) -> list[int] | None:
    names = _name_list(text)
    if names is None:
        return None
    try:
        return [int(n) for n in names]
    except ValueError:
        raise ConfigError(
            f"{option}: expected whole numbers separated by commas, got {text!r}"
        ) from None


def _print_plan(console, spec, grid_dir: Path, reuse_from: Sequence[str] = ()) -> None:
    """``--dry-run``: every cell known before training, and the count of the rest; with
    ``--reuse-from``, which of them would be copied in, and for a searched grid which final
    cells the sources hold at each lr candidate (which are copied depends on dev's choice)."""
    from rich.table import Table

    from segmix.experiment import planned_cells
    from segmix.experiment.cells import total_cells
    from segmix.experiment.runner import finished_elsewhere, reuse_sources, search_seeds_text
    from segmix.runs import is_finished

    try:
        sources = reuse_sources(reuse_from, grid_dir)
    except (FileNotFoundError, ValueError) as err:
        _fail(err)
    cells = planned_cells(spec, grid_dir)
    table = Table(title=f"{spec.name}: {spec.task}, {spec.budget} budget, metric {spec.metric}")
    for col in ("id", "phase", "method", "size", "seed", "lr", spec.budget, "state"):
        table.add_column(col, justify="left" if col in ("id", "method", "state") else "right")
    copies = 0
    for c in cells:
        state = "finished" if is_finished(c.run_dir) else ""
        source = None if state or not sources else finished_elsewhere(c, sources)
        if source is not None:
            state, copies = f"copied in from {source}", copies + 1
        table.add_row(
            c.id,
            str(c.phase),
            c.variant.label,
            str(c.size),
            str(c.seed),
            f"{c.lr:g}" if c.lr is not None else "–",
            str(spec.budgets[c.size]),
            state,
        )
    console.print(table)
    total = total_cells(spec)
    if spec.lr_search:
        references = len(spec.seeds) * sum(
            v.reference for size in spec.sizes for v in spec.variants_at(size)
        )
        console.print(
            f"{len(cells)} cells choose the lr on dev ({search_seeds_text(spec)}; "
            f"candidates {_candidates_listed(spec)}); then "
            f"{total - len(cells)} more at the chosen lr"
            + (f" ({references} of them reference cells, which take no lr)" if references else "")
            + f": {total} cells in all",
            markup=False,
            soft_wrap=True,
        )
    else:
        console.print(f"{total} cells in all", markup=False)
    if sources:
        _print_copies(console, spec, grid_dir, sources, len(cells), copies)
    console.print(
        f"grid folder: {grid_dir} (nothing trained: --dry-run)", markup=False, soft_wrap=True
    )


def _candidates_listed(spec) -> str:
    """'5e-05, 0.0001, 0.0002, 0.0004 (0.0004 at 50, 100 only)': the lr candidates, with the
    sizes of any searched at some sizes only."""
    listed = ", ".join(f"{lr:g}" for lr in spec.lrs)
    limited = "; ".join(
        f"{lr:g} at {', '.join(map(str, at))} only" for lr, at in spec.lr_sizes.items()
    )
    return listed + (f" ({limited})" if limited else "")


def _print_copies(
    console, spec, grid_dir: Path, sources: list[Path], listed: int, copies: int
) -> None:
    """The ``--reuse-from`` lines of ``--dry-run``: how many listed cells would be copied in,
    and for a searched grid the final cells the sources hold at each lr candidate."""
    from segmix.experiment.runner import final_cells_elsewhere

    named = ", ".join(str(s) for s in sources)
    console.print(
        f"--reuse-from {named}: {copies} of the {listed} cells above would be copied in",
        markup=False,
        soft_wrap=True,
    )
    if not spec.lr_search:
        return
    found = final_cells_elsewhere(spec, grid_dir, sources)
    if not found:
        console.print("  no final cell at any lr candidate is there", markup=False)
        return

    def bounds(by_lr: dict, size: int) -> tuple[int, int]:
        if None in by_lr:  # a reference row takes no lr: copied whatever dev chooses
            return len(by_lr[None]), len(by_lr[None])
        counts = [len(by_lr.get(lr, [])) for lr in spec.lrs_at(size)]
        return min(counts), max(counts)

    least = sum(bounds(by_lr, size)[0] for (_, size), by_lr in found.items())
    most = sum(bounds(by_lr, size)[1] for (_, size), by_lr in found.items())
    console.print(
        f"  of the final cells, {least} to {most} would be copied in, by the lr dev chooses:",
        markup=False,
        soft_wrap=True,
    )
    for (label, size), by_lr in sorted(found.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        at = "; ".join(
            f"{'no lr' if lr is None else f'{lr:g}'}: seeds {', '.join(map(str, seeds))}"
            for lr, seeds in sorted(by_lr.items(), key=lambda kv: kv[0] or 0.0)
        )
        console.print(f"  {label} at {size}: {at}", markup=False, soft_wrap=True)


def _short_verdict(verdict: str) -> str:
    """The table's verdict without its reasons (report.md gives them)."""
    return verdict.split(" (")[0].split(";")[0]


@app.command()
@click.argument("grid_dir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--bootstrap",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="Two-way bootstrap resamples (seeds × test sentences; 0 skips it: no row shows evidence).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for report.md, report.csv, report.json and plots/ [default: GRID_DIR].",
)
def report(grid_dir: str, bootstrap: int, out: str | None) -> None:
    """Report a grid: test scores, paired gains with their evidence, plots, a recommendation."""
    import logging

    from rich.console import Console
    from rich.table import Table

    from segmix.experiment.report import write_report

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        path = write_report(grid_dir, bootstrap=bootstrap, out=out)
    except (ValueError, OSError) as err:
        _fail(err)
    summary = json.loads(path.with_name("report.json").read_text(encoding="utf-8"))
    table = Table(title=f"{summary['grid']['name']} · {summary['grid']['task']} · test score")
    for col in ("size", "label", "seeds", "test mean ± std", "gain ± std", "95 % interval"):
        table.add_column(col, justify="left" if col == "label" else "right")
    table.add_column("verdict")
    for r in summary["rows"]:
        std = f" ± {r['test_std']:.2f}" if r["test_std"] is not None else ""
        gain, interval = "–", "–"
        if r.get("gain_mean") is not None:
            gain = f"{r['gain_mean']:+.2f}" + (
                f" ± {r['gain_std']:.2f}" if r["gain_std"] is not None else ""
            )
        if r.get("interval"):
            interval = f"[{r['interval']['low']:+.2f}, {r['interval']['high']:+.2f}]"
        table.add_row(
            str(r["size"]),
            r.get("title") or r["label"],
            str(r["n"]),
            f"{r['test_mean']:.2f}{std}",
            gain,
            interval,
            _short_verdict(r["verdict"]),
        )
    console = Console()
    console.print(table)
    for rec in summary["recommendations"]:
        console.print(f"size {rec['size']}: {rec['text'].replace('**', '')}", markup=False)
    if summary["missing"]:
        console.print(f"{len(summary['missing'])} cells missing or unusable: see the report")
    console.print(f"report written to [bold]{path}[/bold] (and report.csv, report.json, plots/)")


if __name__ == "__main__":
    app()
