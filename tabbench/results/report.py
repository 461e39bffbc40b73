"""Leaderboard tables in one neutral form, rendered to the terminal (rich), Markdown or HTML.

Every cell has the text shown and, for numbers, a value to sort by; names are plain text here
and escaped by each renderer, so a plugin called ``<script>`` is shown, never run.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from tabbench.results.leaderboard import (
    CONFIDENCE,
    OPTIMISTIC_LABELS,
    OPTIMISTIC_NOTE,
    CrossDatasetRow,
    Entry,
    PretrainingDelta,
    across_datasets,
    encoder_by_backbone,
    format_interval,
    format_mean_std,
    format_parameters,
    mean_std,
    pretraining_deltas,
    standing,
)

CI = f"{CONFIDENCE:.0%} CI"


@dataclass
class Cell:
    text: str
    sort: float | str | None = None  # numbers sort numerically; None sorts by text


@dataclass
class Column:
    name: str
    numeric: bool = False
    dim: bool = False  # optimistic columns: shown, never ranked on
    wide: bool = False  # left out of terminal tables (detail the page and Markdown have room for)


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
    columns = [
        Column("rank", numeric=True), Column("vs leader"), Column("model"), Column("kind"),
        Column(f"{metric} mean ± std", numeric=True), Column(CI, numeric=True),
        *(Column(OPTIMISTIC_LABELS.get(x, f"{x}*"), numeric=True, dim=True) for x in extras),
        Column("seeds", numeric=True), Column("fit s", numeric=True), Column("params", numeric=True),
    ]  # fmt: skip
    table = ReportTable(f"{dataset}: ranked by {metric}", columns, slug=f"dataset-{dataset}")
    table.caption = f"{CI}: Student-t interval of the mean over seeds; 'tied': its interval overlaps the leader's."
    if extras:
        table.caption += " " + OPTIMISTIC_NOTE
    for entry in entries:
        optimistic = [
            Cell(
                format_mean_std(entry.optimistic.get(x, [])),
                mean_std(entry.optimistic[x])[0] if x in entry.optimistic else None,
            )
            for x in extras
        ]
        low = entry.interval[0] if entry.interval else None
        table.rows.append([
            Cell(str(entry.rank), entry.rank), Cell(standing(entry)), Cell(entry.model),
            Cell(entry.kind), Cell(format_mean_std(entry.values), entry.mean),
            Cell(format_interval(entry.interval), low), *optimistic,
            Cell(str(len(entry.values)), len(entry.values)),
            Cell(f"{entry.fit_seconds:.1f}", entry.fit_seconds),
            Cell(format_parameters(entry.parameters), entry.parameters),
        ])  # fmt: skip
    return table


def cross_dataset_table(rows: list[CrossDatasetRow], datasets: list[str]) -> ReportTable:
    columns = [
        Column("model"), Column("kind"), Column("average rank", numeric=True),
        Column("datasets", numeric=True), Column("wins", numeric=True),
        Column("first or tied", numeric=True),
        *(Column(f"rank: {d}", numeric=True, wide=True) for d in datasets),
    ]  # fmt: skip
    table = ReportTable("Across datasets: average rank", columns, slug="across-datasets")
    table.caption = (
        "Average of the per-dataset ranks over the datasets the configuration ran on (see "
        "'datasets'); wins: datasets where it ranks first; first or tied: and where its interval "
        "overlaps the leader's."
    )
    for row in rows:
        per_dataset = [
            Cell(str(row.ranks[d]), row.ranks[d]) if d in row.ranks else Cell("-", None)
            for d in datasets
        ]
        table.rows.append([
            Cell(row.model), Cell(row.kind), Cell(f"{row.average_rank:.2f}", row.average_rank),
            Cell(str(len(row.ranks)), len(row.ranks)), Cell(str(row.wins), row.wins),
            Cell(str(row.top), row.top), *per_dataset,
        ])  # fmt: skip
    return table


def encoder_backbone_table(dataset: str, entries: list[Entry]) -> ReportTable | None:
    encoders, backbones, grid = encoder_by_backbone(entries)
    if not grid:
        return None
    metric = entries[0].metric
    columns = [Column("encoder"), *(Column(b, numeric=True) for b in backbones)]
    table = ReportTable(
        f"{dataset}: encoder x backbone ({metric}, mean ± std)", columns, slug=f"grid-{dataset}"
    )
    table.caption = "Each cell: the best configuration of that encoder and backbone."
    for encoder in encoders:
        cells = [Cell(encoder)]
        for backbone in backbones:
            entry = grid.get((encoder, backbone))
            cells.append(
                Cell(format_mean_std(entry.values), entry.mean) if entry else Cell("-", None)
            )
        table.rows.append(cells)
    return table


def pretraining_table(deltas: list[PretrainingDelta]) -> ReportTable:
    columns = [
        Column("dataset"), Column("encoder"), Column("backbone"), Column("metric"),
        Column("scratch", numeric=True), Column("pretrained", numeric=True),
        Column("delta", numeric=True), Column(f"delta {CI}", numeric=True),
        Column("paired seeds", numeric=True),
    ]  # fmt: skip
    table = ReportTable("Pretrained vs scratch", columns, slug="pretrained-vs-scratch")
    table.caption = (
        "delta = pretrained - scratch, the mean of per-seed differences (same seed, same split); "
        f"{CI} of that mean."
    )
    for d in deltas:
        low = d.interval[0] if d.interval else None
        table.rows.append([
            Cell(d.dataset), Cell(d.encoder), Cell(d.backbone), Cell(d.metric),
            Cell(format_mean_std(d.scratch.values), d.scratch.mean),
            Cell(format_mean_std(d.pretrained.values), d.pretrained.mean),
            Cell(f"{d.delta:+.4f}", d.delta), Cell(format_interval(d.interval), low),
            Cell(str(len(d.differences)), len(d.differences)),
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
    summary: list[ReportTable]  # across datasets (several datasets), pretrained vs scratch (pairs)

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
    summary = [cross_dataset_table(across, list(boards))] if len(boards) > 1 else []
    if deltas:
        summary.append(pretraining_table(deltas))
    return Report(
        boards, across, deltas,
        rankings={name: dataset_table(name, entries) for name, entries in boards.items()},
        grids={name: grid for name, grid in grids.items() if grid is not None},
        summary=summary,
    )  # fmt: skip


# --- renderers -------------------------------------------------------------------------------


def to_rich(table: ReportTable):
    from rich.table import Table as RichTable
    from rich.text import Text

    rich = RichTable(title=Text(table.title), title_justify="left")
    shown = [i for i, column in enumerate(table.columns) if not column.wide]
    for i in shown:
        column = table.columns[i]
        rich.add_column(
            Text(column.name), justify="right" if column.numeric else "left",
            style="dim" if column.dim else None,
        )  # fmt: skip
    for row in table.rows:
        rich.add_row(*(Text(row[i].text) for i in shown))
    if table.caption:
        rich.caption = Text(table.caption)
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
