"""The ``tabbench`` command line: list, run, leaderboard."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from tabbench.core.contracts import ContractViolation
from tabbench.core.errors import TabbenchError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="tabbench: benchmark tabular-to-image encoders + vision backbones against tabular baselines.",
)
out = Console()
err = Console(stderr=True)

KIND_NAMES = ("datasets", "encoders", "backbones", "baselines")


def _registry():
    from tabbench.core.registry import registry

    found = registry()
    for problem in found.problems:
        err.print(Text(f"warning: {problem}"), style="yellow")
    return found


@app.command("list")
def list_plugins(
    kind: Annotated[
        str | None,
        typer.Argument(help="datasets, encoders, backbones or baselines; all kinds when omitted."),
    ] = None,
) -> None:
    """List the registered plugins of each kind with their options and where they come from.

    A plugin whose optional dependency is not installed is listed too, marked with the pip
    command that installs it."""
    from tabbench.core.registry import missing_requirements

    if kind is not None and kind not in KIND_NAMES:
        raise TabbenchError(f"unknown kind {kind!r}; choose one of {', '.join(KIND_NAMES)}")
    found = _registry()
    for name in [kind] if kind else KIND_NAMES:
        table = RichTable(title=name, title_justify="left")
        for column in ("name", "options (defaults)", "plugin", "description"):
            table.add_column(column)
        for plugin_name in found.names(name):
            cls = found.classes[name][plugin_name]
            options = ", ".join(f"{k}={v!r}" for k, v in cls.option_defaults().items())
            description = Text(cls.description)
            for module, extra in missing_requirements(cls):
                description.append(
                    f" [not installed: {module}; pip install 'tabbench[{extra}]']", style="red"
                )
            table.add_row(
                Text(plugin_name),
                Text(options),
                Text(found.origin[(name, plugin_name)]),
                description,
            )
        out.print(table)


# The options of `tabbench run`, one alias each (the command's signature lists them). A new
# training flag: an alias here, a parameter of run() and an entry of its `flags`.
RunConfig = Annotated[
    Path | None,
    typer.Option(help="TOML file with the matrix (see benchmarks/presets/); flags given here win."),
]
RunDatasets = Annotated[
    list[str] | None,
    typer.Option(
        "--datasets",
        "-d",
        help="Registered names and/or CSV/Parquet paths, comma-separated; NAME:rows=N subsamples. Default: iris,wine.",
    ),
]
RunEncoders = Annotated[
    list[str] | None,
    typer.Option(
        "--encoders",
        "-e",
        help="Encoders, e.g. pixel or pixel:layout=square,img_size=32; 'all' for every one.",
    ),
]
RunBackbones = Annotated[
    list[str] | None,
    typer.Option("--backbones", "-b", help="Backbones, e.g. resnet18,vit; 'all' for every one."),
]
RunFlavours = Annotated[
    list[str] | None,
    typer.Option(
        help="pretrained and/or scratch: every backbone in each (unless its spec sets pretrained)."
    ),
]
RunBaselines = Annotated[
    list[str] | None,
    typer.Option("--baselines", help="Tabular baselines, e.g. logreg:C=0.5; 'all' for every one."),
]
RunSeeds = Annotated[
    str | None,
    typer.Option(
        help="Number of seeds (0..N-1), or a list such as 0,4,7: each repeats the outer folds with its own shuffle, validation carve and initialisation. Default 1."
    ),
]
RunFolds = Annotated[
    int | None,
    typer.Option(
        help="Outer folds: a table without an official test split is tested by stratified K-fold, "
        "repeated once per seed, so every row is tested once per seed. Default 5; 1: one fixed "
        "20% test split. Tables with an official test split (adult) keep it.",
    ),
]
RunTarget = Annotated[
    str | None, typer.Option(help="Label column of the data files given to --datasets.")
]
RunSteps = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="A fixed training budget for image models, in optimizer steps at --batch-size. "
        "Default: 20 passes over the training split, but at least 300 and at most 3000 steps "
        "(min_steps/max_steps in a config file), so small tables get enough updates.",
    ),
]
RunEpochs = Annotated[
    int | None,
    typer.Option(min=1, help="A budget in passes over the training split instead of --steps."),
]
RunBatchSize = Annotated[
    int | None, typer.Option(min=2, help="Training batch size of image models. Default 32.")
]
RunLr = Annotated[
    str | None,
    typer.Option(
        help="Peak AdamW learning rate; default: the backbone's own (1e-3 for CNNs, 3e-4 for "
        "ViT); auto: a range test on the training split chooses it (stored in the run's notes)."
    ),
]
RunSchedule = Annotated[
    str | None,
    typer.Option(
        help="auto (default): scratch for random init (one stage, full rate), finetune for "
        "pretrained weights (head alone for 10% of the budget, then the body at 0.1x)."
    ),
]
RunPatience = Annotated[
    float | None,
    typer.Option(
        min=0.0,
        max=1.0,
        help="Stop once this share of the budget brings no lower validation loss (checked at up "
        "to 40 validation rounds); the best round's weights are kept. 0: never. Default 0.25.",
    ),
]
RunBalance = Annotated[
    bool | None,
    typer.Option("--balance/--no-balance", help="Weight the loss by inverse class frequency."),
]
RunImgSize = Annotated[
    int | None, typer.Option(min=1, help="Image size for encoders that do not set img_size.")
]
RunTune = Annotated[
    int | None,
    typer.Option(
        help="Tune every model with N trials per cell (Optuna TPE, seeded; image models' trials "
        "pruned by their validation curve), each fitted on train and scored on validation; the "
        "best is the run scored on test. Tuned cells are their own leaderboard entries, "
        "e.g. 'xgboost (tuned 20)'. Options you set are not tuned. Needs tabbench[tune].",
    ),
]
RunTuneTime = Annotated[
    float | None,
    typer.Option(
        "--tune-time",
        help="Tune every model for this many seconds per cell (the same budget for each); "
        "with --tune, whichever runs out first.",
    ),
]
RunTuneSpace = Annotated[
    list[str] | None,
    typer.Option(
        "--tune-space",
        help="Change what --tune searches for a model: NAME:OPTION=LOW..HIGH, log(LOW..HIGH) or "
        "A|B|C, e.g. 'xgboost:max_depth=3..8,learning_rate=log(0.01..0.3)' (a backbone's "
        "training settings as training.lr).",
    ),
]
RunWeightsDir = Annotated[
    Path | None,
    typer.Option(
        help="Folder of pretrained weights (NAME.safetensors or .pth); else $TABBENCH_WEIGHTS_DIR."
    ),
]
RunDevice = Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")]
RunStore = Annotated[Path, typer.Option(help="SQLite results store (created if absent).")]
RunDataDir = Annotated[
    Path | None,
    typer.Option(
        help="Where dataset files are looked up first (then $TABBENCH_DATA_DIR, then the user cache)."
    ),
]
RunRetryFailed = Annotated[
    bool, typer.Option("--retry-failed", help="Run again the cells stored as failed.")
]
RunDryRun = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Print the cells, how many are finished and an estimated cost; run nothing.",
    ),
]
RunQuiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="Plain log lines instead of progress bars.")
]
RunWorkers = Annotated[
    int,
    typer.Option(
        min=1, help="Worker processes running cells in parallel (one per GPU; CPU cores split)."
    ),
]
RunExecutor = Annotated[
    str,
    typer.Option(
        help="local (this machine, see --workers) or ray (each cell a Ray task; needs tabbench[ray])."
    ),
]
RunAddress = Annotated[
    str | None,
    typer.Option(
        help="Ray cluster to join, e.g. ray://head:10001 or auto; without it a local Ray instance starts."
    ),
]


@app.command()
def run(
    config: RunConfig = None,
    datasets: RunDatasets = None,
    encoders: RunEncoders = None,
    backbones: RunBackbones = None,
    flavours: RunFlavours = None,
    baselines: RunBaselines = None,
    seeds: RunSeeds = None,
    folds: RunFolds = None,
    target: RunTarget = None,
    steps: RunSteps = None,
    epochs: RunEpochs = None,
    batch_size: RunBatchSize = None,
    lr: RunLr = None,
    schedule: RunSchedule = None,
    patience: RunPatience = None,
    balance: RunBalance = None,
    img_size: RunImgSize = None,
    tune: RunTune = None,
    tune_time: RunTuneTime = None,
    tune_space: RunTuneSpace = None,
    weights_dir: RunWeightsDir = None,
    device: RunDevice = "auto",
    store: RunStore = Path("results/tabbench.sqlite"),
    data_dir: RunDataDir = None,
    retry_failed: RunRetryFailed = False,
    dry_run: RunDryRun = False,
    quiet: RunQuiet = False,
    workers: RunWorkers = 1,
    executor: RunExecutor = "local",
    address: RunAddress = None,
) -> None:
    """Run every cell of datasets x (encoders x backbones x flavours + baselines) x seeds x folds, skipping finished ones.

    With no --encoders/--backbones/--baselines (here or in --config), runs the demo models: pixel +
    resnet18 and logreg.
    """
    from tabbench.matrix.runner import ExecutorOptions
    from tabbench.matrix.session import RunOptions, run_matrix

    if weights_dir is not None:  # read by backbones, here and in workers
        os.environ["TABBENCH_WEIGHTS_DIR"] = str(weights_dir)
    flags = dict(
        datasets=datasets, encoders=encoders, backbones=backbones, flavours=flavours, baselines=baselines,
        seeds=seeds, folds=folds, target=target, steps=steps, epochs=epochs, batch_size=batch_size, lr=lr,
        schedule=schedule, patience=patience, balance=balance, img_size=img_size, tune=tune,
        tune_time=tune_time, tune_space=tune_space,
    )  # fmt: skip
    options = RunOptions(
        config=config, store=store, retry_failed=retry_failed, dry_run=dry_run, quiet=quiet,
        executor=ExecutorOptions(executor, workers, address, device, data_dir),
    )  # fmt: skip
    status = run_matrix(flags, options, _registry, out, err)
    if status:
        raise typer.Exit(status)


def _check_metric(metric: str | None) -> None:
    from tabbench.results.metrics import METRICS

    if metric is not None and metric not in METRICS:
        raise TabbenchError(f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")


@app.command()
def leaderboard(
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    metric: Annotated[
        str | None,
        typer.Option(help="Rank by this metric instead of each dataset's primary metric."),
    ] = None,
    store: Annotated[Path, typer.Option(help="SQLite results store to read.")] = Path(
        "results/tabbench.sqlite"
    ),
    wide: Annotated[
        bool,
        typer.Option(
            "--wide",
            help="Every column and full model names, however wide (else fitted to the terminal).",
        ),
    ] = False,
) -> None:
    """Print ranked tables: per dataset (mean ± std, 95% CI, ties), across datasets, encoder x
    backbone, and pretrained vs scratch."""
    from tabbench.results.report import print_leaderboard
    from tabbench.results.store import Store

    _check_metric(metric)
    records = list(Store(store, create=False).records(dataset))
    if not print_leaderboard(out, records, metric, wide=wide):
        raise TabbenchError(
            f"no finished runs in {store}" + (f" for dataset {dataset!r}" if dataset else "")
        )


@app.command()
def publish(
    out_dir: Annotated[
        Path,
        typer.Option("--out", help="Folder for leaderboard.md/.csv/.json and index.html."),
    ] = Path("site"),
    store: Annotated[Path, typer.Option(help="SQLite results store to read.")] = Path(
        "results/tabbench.sqlite"
    ),
    dataset: Annotated[str | None, typer.Option(help="Only this dataset.")] = None,
    metric: Annotated[
        str | None,
        typer.Option(help="Rank by this metric instead of each dataset's primary metric."),
    ] = None,
    previews: Annotated[
        bool,
        typer.Option(
            "--previews/--no-previews",
            help="Show each encoder's images on the page (needs the datasets' files; skipped if absent).",
        ),
    ] = True,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where dataset files are looked up first (for previews).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            help="A preset (config file): write its findings page (index.html, README.md, plots) "
            "from its runs alone, instead of the leaderboard.",
        ),
    ] = None,
) -> None:
    """Write the leaderboard as Markdown, CSV, JSON and one self-contained HTML page with plots;
    with --config, the findings page of that preset."""
    if config is not None:
        _publish_findings(config, store, out_dir, data_dir)
        return
    from functools import partial

    from tabbench.matrix.previews import preview_images
    from tabbench.results.publish import publish_site
    from tabbench.results.store import Store

    _check_metric(metric)
    records = list(Store(store, create=False).records(dataset))
    draw = None
    if previews:
        draw = partial(preview_images, registry=_registry(), data_dir=data_dir, log=err)
    written = publish_site(
        records, out_dir, store=store, dataset=dataset, metric=metric, previews=draw
    )
    for path in written:
        out.print(Text(str(path)))


def _publish_findings(config: Path, store: Path, out_dir: Path, data_dir: Path | None) -> None:
    """The findings page of a preset: its cells' runs only, and a line on each other preset."""
    from tabbench.data.cache import DataCache
    from tabbench.data.files import DataFiles
    from tabbench.matrix.presets import describe_preset, preset_cells
    from tabbench.results.findings_page import write_findings
    from tabbench.results.store import Store

    registry, data = _registry(), DataCache(DataFiles(data_dir))
    keys = {cell.key for cell in preset_cells(config, registry, data)}
    records = [r for r in Store(store, create=False).records() if r.key in keys]
    others = sorted(p for p in config.parent.glob("*.toml") if p.resolve() != config.resolve())
    command = (
        f"tabbench run --config {config} --store {store} && "
        f"tabbench publish --config {config} --store {store} --out {out_dir}"
    )
    presets = [describe_preset(p, registry, data, store) for p in others]
    for path in write_findings(records, out_dir, store=store, command=command, presets=presets):
        out.print(Text(str(path)))


@app.command()
def preview(
    dataset: Annotated[
        str, typer.Option(help="Registered name or a CSV/Parquet path (with --target).")
    ] = "iris",
    encoders: Annotated[
        list[str] | None,
        typer.Option(
            "--encoders", "-e", help="Encoders to preview, e.g. pixel,gadf; 'all' for every one."
        ),
    ] = None,
    rows: Annotated[int, typer.Option(min=1, max=64, help="How many validation rows to show.")] = 8,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the PNG files (one per encoder).")
    ] = Path("previews"),
    img_size: Annotated[
        int | None, typer.Option(min=1, help="Image size for encoders that do not set it.")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Label column when --dataset is a file.")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where dataset files are looked up first.")
    ] = None,
) -> None:
    """Write one PNG per encoder: a labelled grid of the images the model would see for a few rows.

    Encoders are fitted on the training split, the rows come from validation. An image size too small
    for the dataset is raised to the smallest that works, and the command says so.
    """
    from tabbench.core.specs import parse_specs
    from tabbench.data.cache import DataCache
    from tabbench.data.files import DataFiles
    from tabbench.encoding.preview import write_preview
    from tabbench.matrix.cells import resolve, resolve_datasets

    found = _registry()
    (choice,) = resolve_datasets(parse_specs([dataset]), found, target)
    chosen = resolve(parse_specs(encoders or ["all"]), "encoders", found, {"img_size": img_size})
    split = DataCache(DataFiles(data_dir)).split(choice, seed=0)
    for encoder in chosen:
        result = write_preview(encoder, split, choice.display, rows, out_dir)
        note = f" ({result.note})" if result.note else ""
        out.print(Text(f"{encoder.label()}: {result.path}{note}"))


def main() -> None:
    """Entry point: user mistakes become one line on stderr and exit code 2."""
    try:
        app()
    except TabbenchError as exc:
        err.print(Text(f"tabbench: error: {exc}"), style="red", soft_wrap=True)
        sys.exit(2)
    except ContractViolation as exc:  # a plugin broke its contract outside a run (e.g. preview)
        err.print(Text(f"tabbench: error: {exc}"), style="red", soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
