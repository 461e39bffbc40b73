"""Leaderboard tables in one neutral form, rendered to the terminal (rich), Markdown or HTML.

Every cell has the text shown and, for numbers, a value to sort by; names are plain text here
and escaped by each renderer, so a plugin called ``<script>`` is shown, never run.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from tabbench.results.comparison import CrossDatasetTest, friedman_nemenyi, why_no_test
from tabbench.results.leaderboard import (
    ALPHA,
    COMPANION_LABELS,
    CONFIDENCE,
    OPTIMISTIC_LABELS,
    OPTIMISTIC_NOTE,
    CrossDatasetRow,
    Entry,
    PretrainingDelta,
    TuningGain,
    across_datasets,
    encoder_by_backbone,
    format_interval,
    format_mean_std,
    format_parameters,
    mean_std,
    pretraining_deltas,
    rank,
    standing,
    tuning_gains,
)

CI = f"{CONFIDENCE:.0%} CI"


@dataclass
class Cell:
    text: str
    sort: float | str | None = None  # numbers sort numerically; None sorts by text
    brief: str | None = None  # a narrow terminal shows this, and the full text in a footnote


@dataclass
class Column:
    name: str
    numeric: bool = False
    dim: bool = False  # optimistic columns: shown, never ranked on
    wide: bool = False  # left out of terminal tables unless --wide (detail the page has room for)
    brief: str | None = None  # the terminal's header, when shorter than the name
    drop: int = 0  # a terminal too narrow leaves columns out in this order (1 first); 0: never


@dataclass
class ReportTable:
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    caption: str = ""
    slug: str = ""


def dataset_table(dataset: str, entries: list[Entry]) -> ReportTable:
    """One dataset's ranking: rank, standing, model, metric mean ± std and CI, seeds, time, size."""
    metric = entries[0].metric
    extras = list(entries[0].optimistic)
    companions = list(entries[0].companions)
    columns = [
        Column("rank", numeric=True, brief="#"), Column("vs leader", brief="vs #1", drop=7),
        Column("model"), Column("kind", drop=3),
        Column(f"{metric} mean ± std", numeric=True, brief=metric), Column(CI, numeric=True, drop=6),
        *(Column(COMPANION_LABELS.get(x, x), numeric=True, drop=4) for x in companions),
        *(Column(OPTIMISTIC_LABELS.get(x, f"{x}*"), numeric=True, dim=True, drop=4) for x in extras),
        Column("runs", numeric=True, drop=5), Column("fit s", numeric=True, drop=2),
        Column("predict s", numeric=True, wide=True), Column("params", numeric=True, drop=1),
    ]  # fmt: skip
    table = ReportTable(f"{dataset}: ranked by {metric}", columns, slug=f"dataset-{dataset}")
    table.caption = protocol_caption(entries)
    if extras:
        table.caption += " " + OPTIMISTIC_NOTE
    for entry in entries:
        optimistic = [_mean_cell(entry.optimistic.get(x, [])) for x in extras]
        shown = [_mean_cell(entry.companions.get(x, [])) for x in companions]
        low = entry.interval[0] if entry.interval else None
        table.rows.append([
            Cell(str(entry.rank), entry.rank), Cell(standing(entry)),
            Cell(entry.model, brief=entry.short), Cell(entry.kind), Cell(format_mean_std(entry.values), entry.mean),
            Cell(format_interval(entry.interval), low), *shown, *optimistic,
            Cell(runs_text(entry), len(entry.values)),
            Cell(f"{entry.fit_seconds:.1f}", entry.fit_seconds),
            Cell(f"{entry.predict_seconds or 0.0:.2f}", entry.predict_seconds),
            Cell(format_parameters(entry.parameters), entry.parameters),
        ])  # fmt: skip
    return table


def _mean_cell(values: list[float]) -> Cell:
    return Cell(format_mean_std(values), mean_std(values)[0] if values else None)


def runs_text(entry: Entry) -> str:
    """How many runs an entry averages: ``10 (2x5)`` for 2 seeds x 5 folds, ``3`` for seeds alone,
    ``9 of 10 (2x5)`` when a fold is missing."""
    n = len(entry.values)
    if entry.outer_folds == 1:
        return str(n)
    grid = f"{len(set(entry.seeds))}x{entry.outer_folds}"
    return f"{n} ({grid})" if entry.complete else f"{n} of {entry.expected_runs} ({grid})"


def protocol_caption(entries: list[Entry]) -> str:
    """What the runs, the interval and the 'vs leader' column of a dataset's ranking mean."""
    folds = max(entry.outer_folds for entry in entries)
    if folds > 1:
        runs = (
            f"runs: seeds x {folds} outer folds (every row tested once per seed). {CI}: corrected "
            f"resampled t (Nadeau & Bengio), variance x (1/n + 1/{folds - 1}), as the folds' "
            "training parts overlap."
        )
    else:
        runs = (
            f"runs: seeds on one fixed test split. {CI}: Student-t over seeds, which measures "
            "the seeds' variance only, not which rows were tested."
        )
    incomplete = (
        " 'n of m': folds missing (failed or not run), the mean is over the others."
        if any(not entry.complete for entry in entries)
        else ""
    )
    return (
        f"{runs} vs leader: paired corrected t-test on the same seeds and folds, Holm-corrected; "
        f"'worse' where p < {ALPHA}, else 'tied' (by interval overlap below two pairs).{incomplete}"
    )


def cross_dataset_table(
    rows: list[CrossDatasetRow], datasets: list[str], test: CrossDatasetTest | None, why: str | None
) -> ReportTable:
    columns = [
        Column("model"), Column("kind", drop=1),
        Column("average rank", numeric=True, brief="avg rank"),
        Column("Nemenyi group", brief="group", drop=5),
        Column("datasets", numeric=True, drop=4), Column("wins", numeric=True, drop=3),
        Column("first or tied", numeric=True, brief="top", drop=2),
        *(Column(f"rank: {d}", numeric=True, wide=True) for d in datasets),
    ]  # fmt: skip
    table = ReportTable("Across datasets: average rank", columns, slug="across-datasets")
    table.caption = (
        "Average of the per-dataset ranks over the datasets the configuration ran on (see "
        "'datasets'); wins: datasets where it ranks first; first or tied: and where it "
        "is not significantly worse than the leader."
    )
    table.caption += " " + friedman_caption(test, why)
    letters = test.letters if test else {}
    for row in rows:
        per_dataset = [
            Cell(str(row.ranks[d]), row.ranks[d]) if d in row.ranks else Cell("-", None)
            for d in datasets
        ]
        table.rows.append([
            Cell(row.model, brief=row.short), Cell(row.kind),
            Cell(f"{row.average_rank:.2f}", row.average_rank),
            Cell(letters.get(row.key, "-")), Cell(str(len(row.ranks)), len(row.ranks)), Cell(str(row.wins), row.wins),
            Cell(str(row.top), row.top), *per_dataset,
        ])  # fmt: skip
    return table


def friedman_caption(test: CrossDatasetTest | None, why: str | None) -> str:
    if test is None:
        return f"No Friedman test: {why}."
    left = f"; left out (not on every dataset): {', '.join(test.left_out)}" if test.left_out else ""
    verdict = "the models differ" if test.p_value < ALPHA else "no significant difference"
    return (
        f"Friedman test over {len(test.datasets)} datasets and {len(test.models)} models: "
        f"chi² = {test.statistic:.2f}, p = {test.p_value:.3g} ({verdict}). Nemenyi group: "
        f"models that share a letter are not significantly different (p >= {ALPHA}){left}."
    )


def encoder_backbone_table(dataset: str, entries: list[Entry]) -> ReportTable | None:
    encoders, backbones, grid = encoder_by_backbone(entries)
    if not grid:
        return None
    metric = entries[0].metric
    names = {entry.encoder: entry.encoder_name for entry in grid.values()}
    columns = [Column("encoder")] + [
        Column(b, numeric=True, drop=len(backbones) - i if i else 0)  # narrow: the last go first
        for i, b in enumerate(backbones)
    ]
    table = ReportTable(
        f"{dataset}: encoder x backbone ({metric}, mean ± std)", columns, slug=f"grid-{dataset}"
    )
    table.caption = "Each cell: the best configuration of that encoder and backbone."
    for encoder in encoders:
        cells = [Cell(encoder, brief=names[encoder])]
        for backbone in backbones:
            entry = grid.get((encoder, backbone))
            cells.append(
                Cell(format_mean_std(entry.values), entry.mean) if entry else Cell("-", None)
            )
        table.rows.append(cells)
    return table


def pretraining_table(deltas: list[PretrainingDelta]) -> ReportTable:
    columns = [
        Column("dataset"), Column("encoder"), Column("backbone"), Column("metric", drop=1),
        Column("scratch", numeric=True, drop=3), Column("pretrained", numeric=True, drop=4),
        Column("delta", numeric=True), Column(f"delta {CI}", numeric=True, drop=5),
        Column("paired runs", numeric=True, brief="pairs", drop=2),
    ]  # fmt: skip
    table = ReportTable("Pretrained vs scratch", columns, slug="pretrained-vs-scratch")
    table.caption = (
        "delta = pretrained - scratch, the mean of per-run differences (same seed, same fold); "
        f"{CI} of that mean (corrected resampled t with outer folds)."
    )
    for d in deltas:
        low = d.interval[0] if d.interval else None
        table.rows.append([
            Cell(d.dataset), Cell(d.encoder, brief=d.pretrained.encoder_name),
            Cell(d.backbone, brief=d.pretrained.backbone_name), Cell(d.metric),
            Cell(format_mean_std(d.scratch.values), d.scratch.mean),
            Cell(format_mean_std(d.pretrained.values), d.pretrained.mean),
            Cell(f"{d.delta:+.4f}", d.delta), Cell(format_interval(d.interval), low),
            Cell(str(len(d.differences)), len(d.differences)),
        ])  # fmt: skip
    return table


def tuning_table(gains: list[TuningGain]) -> ReportTable:
    """Each tuned model beside its default run: means and the paired gain with its interval."""
    columns = [
        Column("dataset"), Column("model"), Column("budget", drop=3),
        Column("metric", drop=1), Column("default", numeric=True), Column("tuned", numeric=True),
        Column("gain", numeric=True), Column(f"gain {CI}", numeric=True, drop=5),
        Column("paired runs", brief="pairs", drop=2),
        Column("tuned fit s", numeric=True, brief="fit s", drop=4),
    ]  # fmt: skip
    table = ReportTable("Tuned vs default", columns, slug="tuned-vs-default")
    table.caption = (
        "gain = tuned - default, the mean of per-run differences (same seed, same fold); "
        f"{CI} of that mean (corrected resampled t with outer folds). Trials were scored on the "
        "validation split; these numbers are the test scores of each run's best trial. "
        "tuned fit s: the whole search and the final model, per run."
    )
    for g in gains:
        low = g.interval[0] if g.interval else None
        table.rows.append([
            Cell(g.dataset), Cell(g.default.model, brief=g.default.short), Cell(g.tuned.tuned or ""),
            Cell(g.tuned.metric), Cell(f"{g.default.mean:.4f}", g.default.mean),
            Cell(f"{g.tuned.mean:.4f}", g.tuned.mean), Cell(f"{g.gain:+.4f}", g.gain),
            Cell(format_interval(g.interval), low), Cell(str(len(g.differences)), len(g.differences)),
            Cell(f"{g.tuned.fit_seconds:.1f}", g.tuned.fit_seconds),
        ])  # fmt: skip
    return table


@dataclass
class Report:
    """Every leaderboard table, computed once from the ranked boards, for each output to render."""

    boards: dict[str, list[Entry]]
    across: list[CrossDatasetRow]
    deltas: list[PretrainingDelta]
    rankings: dict[str, ReportTable]  # dataset -> its ranking
    grids: dict[str, ReportTable]  # dataset -> encoder x backbone (datasets with image models)
    summary: list[ReportTable]  # across datasets (several datasets), pretrained vs scratch and
    # tuned vs default (where there are pairs)
    comparison: CrossDatasetTest | None = None  # Friedman and Nemenyi, where possible
    no_comparison: str | None = None  # why there is none
    gains: list[TuningGain] = field(default_factory=list)

    @property
    def tables(self) -> list[ReportTable]:
        """Each dataset's ranking and grid, then the summary tables."""
        tables = []
        for name in self.boards:
            tables += [self.rankings[name], *([self.grids[name]] if name in self.grids else [])]
        return tables + self.summary


def build_report(boards: dict[str, list[Entry]]) -> Report:
    across, deltas = across_datasets(boards), pretraining_deltas(boards)
    grids = {name: encoder_backbone_table(name, entries) for name, entries in boards.items()}
    why = why_no_test(boards)
    test = friedman_nemenyi(boards) if why is None else None
    summary = [cross_dataset_table(across, list(boards), test, why)] if len(boards) > 1 else []
    if deltas:
        summary.append(pretraining_table(deltas))
    gains = tuning_gains(boards)
    if gains:
        summary.append(tuning_table(gains))
    return Report(
        boards, across, deltas,
        rankings={name: dataset_table(name, entries) for name, entries in boards.items()},
        grids={name: grid for name, grid in grids.items() if grid is not None},
        summary=summary, comparison=test, no_comparison=why, gains=gains,
    )  # fmt: skip


def print_leaderboard(console, records, metric: str | None = None, *, wide: bool = False) -> int:
    """Rank ``records`` and print every table to ``console``, fitted to its width unless ``wide``;
    returns how many datasets had finished runs."""
    boards = rank(records, metric)
    for table in build_report(boards).tables:
        console.print(to_terminal(table, None if wide else console.width), crop=False)
    return len(boards)


# --- renderers -------------------------------------------------------------------------------


def to_rich(table: ReportTable):
    """The table as a rich Table with every column the terminal shows and full names."""
    return _Layout(table, _terminal_columns(table, wide=False), headers_wrap=False).render()


def to_terminal(table: ReportTable, width: int | None = None):
    """The table for a terminal ``width`` columns wide, every row on one line, names never cut.

    The first layout that fits is shown: full headers and names; brief headers (``Column.brief``);
    brief names too (``Cell.brief``, the full name in a numbered footnote below the table); then
    fewer columns, left out in their ``Column.drop`` order and named below the table.
    ``width=None`` (``--wide``): every column and full names, as wide as they need to be.
    """
    from rich.console import Group
    from rich.text import Text

    shown = _terminal_columns(table, wide=width is None)
    layout = _Layout(table, shown, headers_wrap=False)
    if width is not None:
        for layout in _narrower(table, shown):  # none fits: the narrowest
            if layout.width <= width:
                break
    footnotes = (Text(note, no_wrap=True, overflow="ignore") for note in layout.footnotes)
    return Group(layout.render(), *footnotes, *(Text(note) for note in layout.left_out()))


def _terminal_columns(table: ReportTable, *, wide: bool) -> list[int]:
    return [i for i, column in enumerate(table.columns) if wide or not column.wide]


def _narrower(table: ReportTable, shown: list[int]):
    """Layouts from the widest to the narrowest."""
    yield _Layout(table, shown, headers_wrap=False)
    yield _Layout(table, shown, brief_headers=True, headers_wrap=False)
    yield _Layout(table, shown, brief_headers=True)
    columns = list(shown)
    yield _Layout(table, columns, brief_headers=True, brief_names=True)
    for level in sorted({table.columns[i].drop for i in shown} - {0}):
        columns = [i for i in columns if table.columns[i].drop != level]
        yield _Layout(table, columns, brief_headers=True, brief_names=True, shown=shown)


@dataclass
class _Layout:
    """Which columns a terminal table shows, with which headers and names, and how wide it is."""

    table: ReportTable
    columns: list[int]
    brief_headers: bool = False
    brief_names: bool = False
    shown: list[int] | None = None  # the columns before any was left out for width
    headers_wrap: bool = True  # between their words, when the column is narrower

    def __post_init__(self) -> None:
        from rich.cells import cell_len

        self.headers = [
            (c.brief if self.brief_headers and c.brief else c.name)
            for c in (self.table.columns[i] for i in self.columns)
        ]
        marks: dict[str, int] = {}
        self.rows = []
        for row in self.table.rows:
            texts = []
            for i in self.columns:
                cell = row[i]
                if self.brief_names and cell.brief and cell.brief != cell.text:
                    mark = marks.setdefault(cell.text, len(marks) + 1)
                    texts.append(f"{cell.brief} [{mark}]")
                else:
                    texts.append(cell.text)
            self.rows.append(texts)
        self.footnotes = [f"[{mark}] {text}" for text, mark in marks.items()]
        self.widths = [
            max(
                [cell_len(w) for w in (header.split() if self.headers_wrap else [header])]
                + [cell_len(r[j]) for r in self.rows]
            )
            for j, header in enumerate(self.headers)
        ]  # a cell never wraps

    @property
    def width(self) -> int:
        """Characters per line: each column padded by one space a side, a rule between columns."""
        return sum(self.widths) + 3 * len(self.widths) + 1

    def left_out(self) -> list[str]:
        names = [self.table.columns[i].name for i in self.shown or [] if i not in self.columns]
        if not names:
            return []
        return [f"left out for width: {', '.join(names)} (tabbench leaderboard --wide shows all)"]

    def render(self):
        from rich.table import Table as RichTable
        from rich.text import Text

        rich = RichTable(title=Text(self.table.title), title_justify="left", width=self.width)
        for i, header, width in zip(self.columns, self.headers, self.widths, strict=True):
            column = self.table.columns[i]
            rich.add_column(
                Text(header), justify="right" if column.numeric else "left", width=width,
                style="dim" if column.dim else None,
            )  # fmt: skip
        for texts in self.rows:
            rich.add_row(*(Text(text) for text in texts))
        if self.table.caption:
            rich.caption = Text(self.table.caption)
        return rich


# Inside a table cell only these can turn text into markup (emphasis, code, links, cell breaks);
# HTML is entity-escaped first.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def markdown_text(text: str) -> str:
    """Plain text safe in a Markdown table cell: HTML and Markdown syntax shown literally."""
    escaped = html.escape(text, quote=False)
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", escaped)
    return escaped.replace("\n", " ")


def to_markdown(table: ReportTable) -> str:
    align = ["---:" if c.numeric else ":---" for c in table.columns]
    lines = [
        f"### {markdown_text(table.title)}",
        "",
        "| " + " | ".join(markdown_text(c.name) for c in table.columns) + " |",
        "| " + " | ".join(align) + " |",
    ]
    lines += ["| " + " | ".join(markdown_text(c.text) for c in row) + " |" for row in table.rows]
    if table.caption:
        lines += ["", f"_{markdown_text(table.caption)}_"]
    return "\n".join(lines) + "\n"


def to_html(table: ReportTable) -> str:
    """A sortable table (the page's script sorts by ``data-sort`` when a header is clicked)."""
    head = "".join(
        f'<th scope="col" class="{"num" if c.numeric else "text"}{" dim" if c.dim else ""}"'
        f' data-type="{"number" if c.numeric else "text"}" aria-sort="none" tabindex="0">'
        f"{html.escape(c.name)}</th>"
        for c in table.columns
    )
    body = []
    for row in table.rows:
        cells = []
        for column, cell in zip(table.columns, row, strict=True):
            sort = "" if cell.sort is None else f' data-sort="{html.escape(str(cell.sort))}"'
            cls = ' class="num"' if column.numeric else ""
            cells.append(f"<td{cls}{sort}>{html.escape(cell.text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    caption = f"<p class='caption'>{html.escape(table.caption)}</p>" if table.caption else ""
    return (
        f'<section id="{html.escape(table.slug)}"><h3>{html.escape(table.title)}</h3>'
        f'<table class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>{caption}</section>"
    )
