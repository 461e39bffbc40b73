"""The benchmark matrix: resolving user selections into cells, each with a stable key.

One cell = (dataset, model, seed, outer fold); model is encoder + backbone (+ pretrained flag) or
a baseline. A table without an official test split is tested by repeated stratified k-fold: the
seed is the repeat and each of its K folds is a cell (see :mod:`tabbench.data.folds`).
A cell's key is a hash of its full canonical config (plugin versions and all options with defaults
filled in), so equal work always has the same key and the store can skip what is finished.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from tabbench.core.choices import Choice, DatasetChoice, config_key
from tabbench.core.components import DatasetSource
from tabbench.core.contracts import ContractViolation
from tabbench.core.errors import TabbenchError
from tabbench.core.registry import Registry
from tabbench.core.specs import Spec
from tabbench.data.cache import DataCache
from tabbench.data.files import FILE_DATASET, DataFiles, looks_like_table_file
from tabbench.data.folds import DEFAULT_FOLDS, check_folds
from tabbench.matrix.tuning import TuningBudget, check_overrides, configure, model_space
from tabbench.training.config import TrainConfig

ALL = "all"
DEFAULT_DATASETS = ["iris", "wine"]
DEFAULT_MODELS = {"encoders": ["pixel"], "backbones": ["resnet18"], "baselines": ["logreg"]}


@dataclass(frozen=True)
class Cell:
    dataset: DatasetChoice
    seed: int
    encoder: Choice | None = None
    backbone: Choice | None = None
    baseline: Choice | None = None
    training: TrainConfig | None = None
    fold: int | None = None  # the outer fold tested; None: the official or the fixed test split
    folds: int = 1  # outer folds per repeat (1: no folds)
    tuning: TuningBudget | None = None  # a tuned cell: its best trial on validation is scored

    @property
    def kind(self) -> str:
        return "baseline" if self.baseline else "image"

    @property
    def model(self) -> str:
        tuned = f" ({self.tuning.label})" if self.tuning else ""
        if self.baseline:
            return self.baseline.label() + tuned
        flavour = "pretrained" if self.backbone.options.get("pretrained") else "scratch"
        tuned = f", {self.tuning.label}" if self.tuning else ""
        return f"{self.encoder_label} + {self.backbone_label} ({flavour}{tuned})"

    @property
    def space(self) -> dict[str, Any]:
        """What tuning this cell searches (see :mod:`tabbench.matrix.tuning`)."""
        return model_space(self.baseline, self.encoder, self.backbone, self.tuning)

    def configured(self, params: dict[str, Any]) -> Cell:
        """The untuned cell that a trial's parameters make of this one."""
        fields = configure(self.baseline, self.encoder, self.backbone, self.training, params)
        return replace(self, tuning=None, **fields)

    @property
    def encoder_label(self) -> str:
        return self.encoder.label(always=("img_size",))

    @property
    def backbone_label(self) -> str:
        """The backbone with the options that differ from its defaults, without the flavour."""
        options = {k: v for k, v in self.backbone.options.items() if k != "pretrained"}
        return Choice(self.backbone.cls, options).label()

    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "dataset": self.dataset.config(),
            "seed": self.seed,
            "kind": self.kind,
        }
        if self.fold is not None:  # absent otherwise, so single-split keys are what they were
            config["outer"] = {"folds": self.folds, "fold": self.fold}
        if self.baseline:
            config["baseline"] = self.baseline.config()
        else:
            config["encoder"] = self.encoder.config()
            config["backbone"] = self.backbone.config()
            config["training"] = asdict(self.training)
        if self.tuning:  # absent otherwise, so untuned keys are what they were
            config["tuning"] = self.tuning.config(self.space)
        return config

    @property
    def key(self) -> str:
        return config_key(self.config())


@dataclass
class MatrixRequest:
    """What the user asked for, before resolution."""

    datasets: list[Spec]
    encoders: list[Spec]
    backbones: list[Spec]
    baselines: list[Spec]
    seeds: list[int]
    training: TrainConfig = field(default_factory=TrainConfig)
    img_size: int | None = None
    target: str | None = None
    flavours: list[str] = field(
        default_factory=list
    )  # "pretrained"/"scratch": each backbone in each
    folds: int = DEFAULT_FOLDS  # outer folds for tables without an official test split
    tuning: TuningBudget | None = None  # --tune/--tune-time: every model with a space is tuned


def resolve_datasets(
    specs: list[Spec], registry: Registry, target: str | None
) -> list[DatasetChoice]:
    choices = []
    used_target = False
    for spec in _expand_all(specs, "datasets", registry, exclude=(FILE_DATASET,)):
        options = dict(spec.options)
        rows = options.pop("rows", None)
        if rows is not None and (not isinstance(rows, int) or isinstance(rows, bool) or rows <= 0):
            raise TabbenchError(
                f"dataset {spec.name!r}: rows={rows} must be a positive whole number"
            )
        if spec.name not in registry.classes["datasets"] and looks_like_table_file(spec.name):
            cls = registry.get("datasets", FILE_DATASET)
            options = {"path": spec.name, **options}
        else:
            cls = registry.get("datasets", spec.name)
        if cls.name == FILE_DATASET and target and "target" not in options:
            options["target"] = target
            used_target = True
        resolved = cls.resolve_options(options)
        source: DatasetSource = cls(**resolved)
        choices.append(DatasetChoice(cls, resolved, rows=rows, fingerprint=source.fingerprint()))
    if target and not used_target:
        raise TabbenchError(
            "--target names the label column of a data file; none of --datasets is a file"
        )
    return choices


def resolve(
    specs: list[Spec], kind: str, registry: Registry, extra: dict[str, Any] | None = None
) -> list[Choice]:
    """Look up every spec, validate its options and fill in defaults (``extra`` where the plugin accepts it)."""
    choices = []
    for spec in _expand_all(specs, kind, registry):
        cls = registry.get(kind, spec.name)
        options = dict(spec.options)
        for key, value in (extra or {}).items():
            if value is not None and key in cls.option_defaults():
                options.setdefault(key, value)
        given = {cls.positional_option if k == "" else k for k in options} - {None}
        choices.append(Choice(cls, cls.resolve_options(options), given=frozenset(given)))
    return choices


def with_flavours(specs: list[Spec], flavours: list[str], registry: Registry) -> list[Choice]:
    """Backbones, each once per flavour (unless its spec sets ``pretrained`` itself)."""
    if not flavours:
        return resolve(specs, "backbones", registry)
    expanded = []
    for spec in _expand_all(specs, "backbones", registry):
        if "pretrained" in spec.options:
            expanded.append(spec)
            continue
        expanded += [
            Spec(spec.name, {**spec.options, "pretrained": f == "pretrained"}) for f in flavours
        ]
    return resolve(expanded, "backbones", registry)


def _expand_all(
    specs: list[Spec], kind: str, registry: Registry, exclude: tuple[str, ...] = ()
) -> list[Spec]:
    out = []
    for spec in specs:
        if spec.name == ALL:
            out.extend(
                Spec(name, dict(spec.options))
                for name in registry.names(kind)
                if name not in exclude
            )
        else:
            out.append(spec)
    return out


def training_for(training: TrainConfig, backbone: Choice) -> TrainConfig:
    """The recipe resolved for this backbone and flavour (schedule, learning rate): what is hashed."""
    return training.resolved(
        pretrained=bool(backbone.options.get("pretrained", False)),
        default_lr=backbone.cls.default_lr,
    )


def expand(
    request: MatrixRequest,
    registry: Registry,
    *,
    check_ready: bool = True,
    data: DataCache | None = None,
    notes: list[str] | None = None,
) -> list[Cell]:
    """Every cell of the request: datasets x (encoders x backbones + baselines) x seeds x folds.

    With ``check_ready``, backbones that are bound to fail (pretrained weights missing offline)
    stop the run here, before any cell runs. With ``folds`` > 1 each dataset is loaded (from
    ``data``) to learn whether it has an official test split and whether its classes allow the folds.
    What was left out of an ``all`` is said in ``notes``.
    """
    if bool(request.encoders) != bool(request.backbones):
        given, missing = (
            ("--encoders", "--backbones") if request.encoders else ("--backbones", "--encoders")
        )
        raise TabbenchError(
            f"{given} needs {missing} too: an image model is an encoder plus a backbone"
        )
    if not request.seeds:
        raise TabbenchError("no seeds: pass --seeds N (a count) or a list such as --seeds 0,1,2")
    datasets = resolve_datasets(request.datasets, registry, request.target)
    notes = [] if notes is None else notes
    models = resolve_models(request, registry, check_ready=check_ready, notes=notes)
    models = with_tuning(models, request.tuning, notes)
    data = data or DataCache(DataFiles())
    cells = []
    for dataset in datasets:
        folds = outer_folds(dataset, request.folds, data)
        for seed in request.seeds:
            for fold in folds:
                count = 1 if fold is None else request.folds
                cells += [Cell(dataset, seed, **m, fold=fold, folds=count) for m in models]
    unique = {cell.key: cell for cell in cells}
    return list(unique.values())


def expand_all(
    requests: list[MatrixRequest],
    registry: Registry,
    *,
    check_ready: bool = True,
    data: DataCache | None = None,
    notes: list[str] | None = None,
) -> list[Cell]:
    """The union of several requests' cells (a config file's grids), in order, each cell once."""
    data = data or DataCache(DataFiles())
    unique: dict[str, Cell] = {}
    for request in requests:
        for cell in expand(request, registry, check_ready=check_ready, data=data, notes=notes):
            unique.setdefault(cell.key, cell)
    return list(unique.values())


def resolve_models(
    request: MatrixRequest, registry: Registry, *, check_ready: bool, notes: list[str]
) -> list[dict[str, Any]]:
    """Every model of the request as Cell fields: image models (with their resolved recipe), then
    baselines; each plugin created once so bad option values fail before any work."""
    encoders = resolve(request.encoders, "encoders", registry, {"img_size": request.img_size})
    backbones = with_flavours(request.backbones, request.flavours, registry)
    baselines = ready_baselines(request.baselines, registry, check_ready=check_ready, notes=notes)
    for choice in encoders:
        choice.create()
    for choice in backbones:
        backbone = choice.create()
        if check_ready:
            backbone.check_ready()
    images = [
        {"encoder": e, "backbone": b, "training": training_for(request.training, b)}
        for e in encoders
        for b in backbones
    ]
    return images + [{"baseline": choice} for choice in baselines]


def with_tuning(
    models: list[dict[str, Any]], budget: TuningBudget | None, notes: list[str]
) -> list[dict[str, Any]]:
    """The models as tuned cells' fields, when there is a budget: those with a search space get
    it; one without (nothing to tune, or the user set every option in it) runs with its options,
    with a note. A space naming a training setting that does not exist fails here, before work."""
    if budget is None:
        return models
    plugins = {
        choice.cls.name: choice.cls
        for model in models
        for choice in (model.get("baseline"), model.get("encoder"), model.get("backbone"))
        if choice is not None
    }
    check_overrides(budget, plugins)
    tuned = []
    for model in models:
        fields = {k: model.get(k) for k in ("baseline", "encoder", "backbone")}
        if model_space(**fields, budget=budget):
            tuned.append({**model, "tuning": budget})
            continue
        baseline, encoder, backbone = fields.values()
        name = baseline.name if baseline else f"{encoder.name} + {backbone.name}"
        notes.append(f"--tune: {name} has nothing to tune (no search space left); runs untuned")
        tuned.append(model)
    return tuned


def ready_baselines(
    specs: list[Spec], registry: Registry, *, check_ready: bool, notes: list[str]
) -> list[Choice]:
    """The baselines asked for, each created once (bad options fail at once). One that came from
    ``all`` and cannot run here (its extra not installed, no checkpoint) is left out with a note;
    one named by the user runs, and its cells fail with the plugin's one-line message."""
    named = {spec.name for spec in specs if spec.name != ALL}
    kept = []
    for choice in resolve(specs, "baselines", registry):
        try:
            baseline = choice.create()
            if choice.name not in named:
                baseline.check_ready()
        except TabbenchError as exc:
            if choice.name in named:
                raise
            notes.append(f"baseline {choice.name!r} left out of 'all': {exc}")
            continue
        kept.append(choice)
    return kept


def outer_folds(dataset: DatasetChoice, folds: int, data: DataCache) -> list[int | None]:
    """The folds a dataset's cells test: [None] for an official test split or ``folds=1``."""
    if folds == 1:
        return [None]
    try:
        table = data.table(dataset, folds)
    except ContractViolation:
        return [None]  # a dataset plugin that cannot load: its cells fail with its message
    check_folds(folds, table)
    return [None] if table.scored_subsets else list(range(folds))
