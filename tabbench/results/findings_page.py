"""``tabbench publish --config PRESET``: the findings page (index.html, README.md and the plots as SVG
files) from the runs of a preset. Every sentence is made from the numbers it states."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tabbench.core.errors import TabbenchError
from tabbench.core.version import __version__
from tabbench.results.claims import PAPER, REPRODUCTION, REPRODUCTION_CLAIMS
from tabbench.results.findings import (
    EncoderRanking,
    Headline,
    Paired,
    best_by_validation,
    best_versus_best,
    encoder_ranking,
    images_per_second,
    order_effects,
    pareto_front,
    pretraining_effects,
    validation_scores,
)
from tabbench.results.findings_prose import (
    claim_sentences,
    headline_sentences,
    reproduction_sentences,
)
from tabbench.results.findings_tables import (
    claims_table,
    cost_table,
    encoder_table,
    headline_table,
    paired_table,
)
from tabbench.results.leaderboard import Entry, rank
from tabbench.results.publish import _asset, page_policy
from tabbench.results.report import ReportTable, markdown_text, to_html, to_markdown
from tabbench.results.store import RunRecord


@dataclass
class Findings:
    """Every question's answer, computed once from the preset's runs."""

    boards: dict[str, list[Entry]]
    headlines: list[Headline]
    encoders: EncoderRanking | None
    orders: list[Paired]
    pretraining: list[Paired]
    same_method: dict[str, Entry]  # dataset -> the best SuperTML text model (by validation)
    rates: dict[str, float]  # configuration key -> training images per second
    time_by_kind: dict[str, float]  # "baseline", "image (backbone)" -> total seconds
    presets: list[str] = field(default_factory=list)  # lines on the GPU-scale presets


def build_findings(records: list[RunRecord], presets: list[str] | None = None) -> Findings:
    boards = rank(records)
    if not boards:
        raise TabbenchError("no finished runs of the preset in the store; run it first")
    valid = validation_scores(records)
    same = {}
    for dataset, entries in boards.items():
        text = [e for e in entries if (e.encoder_name or "").startswith("supertml")]
        if chosen := best_by_validation(text, valid):
            same[base_name(dataset)] = chosen
    return Findings(
        boards=boards,
        headlines=best_versus_best(boards, valid),
        encoders=encoder_ranking(boards, valid),
        orders=order_effects(boards),
        pretraining=pretraining_effects(boards),
        same_method=same,
        rates=images_per_second(records),
        time_by_kind=time_by_kind(records),
        presets=presets or [],
    )


def base_name(dataset: str) -> str:
    """``adult[rows=2000]`` -> ``adult``: the plugin a board's dataset came from."""
    return dataset.split("[")[0].split(" ")[0]


def time_by_kind(records: list[RunRecord]) -> dict[str, float]:
    """Total seconds of the runs, per baseline and per image backbone."""
    out: dict[str, float] = {}
    for r in records:
        kind = "baselines" if r.model_kind == "baseline" else f"image models on {r.backbone}"
        out[kind] = out.get(kind, 0.0) + (r.total_seconds or 0.0)
    return dict(sorted(out.items(), key=lambda item: -item[1]))


def tables(f: Findings) -> list[ReportTable]:
    out = [headline_table(f.headlines)]
    if f.encoders:
        out.append(encoder_table(f.encoders))
    if f.orders:
        title = "3. Feature order: reordered vs as given"
        out.append(paired_table(title, "q3", f.orders, ("reordered", "as given")))
    if f.pretraining:
        title = "4. Pretrained vs scratch, same backbone"
        out.append(paired_table(title, "q4", f.pretraining, ("pretrained", "scratch")))
    out.append(cost_table(f.boards, f.headlines, f.rates))
    out.append(claims_table(f.headlines, f.same_method, claim_sentences(f)))
    return out


def plots(f: Findings) -> dict[str, str]:
    """File name -> SVG: the critical-difference diagram and one Pareto plot per dataset."""
    from tabbench.results.plots import critical_difference_diagram, pareto_plot

    out = {}
    if f.encoders and f.encoders.test:
        out["encoders-cd.svg"] = critical_difference_diagram(f.encoders.test)
    for dataset, entries in f.boards.items():
        slug = "".join(c if c.isalnum() else "-" for c in dataset).strip("-")
        out[f"cost-{slug}.svg"] = pareto_plot(dataset, entries, pareto_front(entries))
    return out


PLOTS_OF = {"q2": "encoders", "q5": "cost"}  # table slug -> the prefix of its plots' file names


def plots_of(table: ReportTable, images: dict[str, str]) -> list[str]:
    prefix = PLOTS_OF.get(table.slug)
    return [name for name in images if prefix and name.startswith(prefix)]


def reproduction_rows(f: Findings) -> list[tuple[str, str]]:
    sentences = reproduction_sentences(f)
    return [(claim, sentences[key]) for key, claim in REPRODUCTION_CLAIMS.items()]


def about_line(records: list[RunRecord], store: Path) -> str:
    hours = sum(r.total_seconds or 0.0 for r in records) / 3600
    when = datetime.now(UTC).isoformat(timespec="seconds")
    return (
        f"{len(records)} runs ({hours:.1f} h of compute) from {store}, generated {when} by "
        f"tabbench {__version__}."
    )


def markdown_page(f: Findings, about: str, images: dict[str, str], command: str) -> str:
    lines = ["# What tabbench found", "", *headline_sentences(f), "", f"_{markdown_text(about)}_"]
    lines += ["", "Regenerate:", "", "```bash", command, "```", ""]
    for table in tables(f):
        lines.append(to_markdown(table).replace("### ", "## ", 1))
        for name in plots_of(table, images):
            lines += [f"![{name}]({name})", ""]
    lines += ["## What the reproduction reported, checked", ""]
    lines += ["| claim | what tabbench measured |", "| :--- | :--- |"]
    lines += [f"| {markdown_text(c)} | {markdown_text(s)} |" for c, s in reproduction_rows(f)]
    lines += ["", *_cost_lines(f), "", *_preset_lines(f)]
    return "\n".join(lines) + "\n"


def _cost_lines(f: Findings) -> list[str]:
    total = sum(f.time_by_kind.values()) or 1.0
    out = ["## Where the time went", "", "| runs | minutes | share |", "| :--- | ---: | ---: |"]
    for kind, seconds in f.time_by_kind.items():
        out.append(f"| {kind} | {seconds / 60:.1f} | {seconds / total:.0%} |")
    return out


def _preset_lines(f: Findings) -> list[str]:
    if not f.presets:
        return []
    return ["## The other presets", "", *(f"- {markdown_text(line)}" for line in f.presets)]


def html_page(f: Findings, about: str, images: dict[str, str], command: str) -> str:
    e = html.escape
    parts = [f"<p>{e(s)}</p>" for s in headline_sentences(f)]
    parts.append(f"<p class='caption'>{e(about)} Regenerate: <code>{e(command)}</code></p>")
    for table in tables(f):
        parts.append(to_html(table))
        shown = [images[name] for name in plots_of(table, images)]
        if shown:
            parts.append(f'<div class="plots">{"".join(shown)}</div>')
    rows = "".join(f"<tr><td>{e(c)}</td><td>{e(s)}</td></tr>" for c, s in reproduction_rows(f))
    parts.append(
        "<section><h3>What the reproduction reported, checked</h3><table><thead><tr>"
        f"<th>claim</th><th>what tabbench measured</th></tr></thead><tbody>{rows}</tbody></table>"
        "</section>"
    )
    parts += [_markdown_block(_cost_lines(f)), _markdown_block(_preset_lines(f))]
    script = _asset("sort.js")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{page_policy(script)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>What tabbench found</title><style>{_asset('page.css')}</style></head><body>"
        f"<header><h1>What tabbench found</h1><p>Checked against {e(PAPER)} and {e(REPRODUCTION)}."
        f"</p></header><main>{''.join(parts)}</main><script>{script}</script></body></html>\n"
    )


def _markdown_block(lines: list[str]) -> str:
    """The few plain sections (a heading, a list or a simple table) as HTML."""
    if not lines:
        return ""
    e = html.escape
    out = [f"<h3>{e(lines[0].lstrip('# '))}</h3>"]
    rows = [line for line in lines[1:] if line.startswith("|") and "---" not in line]
    items = [line[2:] for line in lines[1:] if line.startswith("- ")]
    if rows:
        cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
        head = "".join(f"<th>{e(c)}</th>" for c in cells[0])
        body = "".join(
            "<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in cells[1:]
        )
        out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    if items:
        out.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>")
    return "<section>" + "".join(out) + "</section>"


def write_findings(
    records: list[RunRecord], out: Path, *, store: Path, command: str, presets: list[str]
) -> list[Path]:
    """Write index.html, README.md and the plots into ``out``; returns the paths written."""
    findings = build_findings(records, presets)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TabbenchError(f"cannot create {out}: {exc.strerror}; choose another --out") from None
    images = plots(findings)
    about = about_line(records, store)
    written = []
    for name, svg in images.items():
        (out / name).write_text(svg, encoding="utf-8")
        written.append(out / name)
    (out / "README.md").write_text(markdown_page(findings, about, images, command), "utf-8")
    (out / "index.html").write_text(html_page(findings, about, images, command), "utf-8")
    return [*written, out / "README.md", out / "index.html"]
