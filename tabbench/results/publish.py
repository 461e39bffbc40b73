"""``tabbench publish``: the leaderboard as leaderboard.md, .csv, .json and one self-contained index.html.

The page needs no server and no network: CSS, the sorting script, the plots (SVG) and the encoder
previews (PNG, base64) are all inline, and its Content-Security-Policy forbids loading anything.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import json
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any

from tabbench.core.errors import TabbenchError
from tabbench.core.version import __version__
from tabbench.results.leaderboard import (
    COMPANION_LABELS,
    CONFIDENCE,
    OPTIMISTIC_LABELS,
    Entry,
    Paired,
    PretrainingDelta,
    TuningGain,
    mean_std,
    rank,
    standing_kind,
)
from tabbench.results.report import Report, build_report, to_html, to_markdown
from tabbench.results.store import RunRecord

JSON_SCHEMA = "tabbench-leaderboard"
JSON_SCHEMA_VERSION = 2  # 2: folds, tests against the leader, friedman; paired_runs
CSV_FIELDS = [
    "dataset", "rank", "standing", "model", "kind", "encoder", "backbone", "pretrained",
    "metric", "mean", "std", "ci_low", "ci_high", "p_vs_leader", "runs", "fit_seconds", "parameters",
    "optimistic", "config_key",
]  # fmt: skip


def page_policy(script: str) -> str:
    """Content-Security-Policy: nothing loads from anywhere, and only the page's own script runs
    (allowed by its hash), so even a name that slipped through escaping could not execute."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{digest}'"


def publish_site(
    records: list[RunRecord],
    out: Path,
    *,
    store: Path,
    dataset: str | None = None,
    metric: str | None = None,
    previews: Callable[[list[RunRecord]], list[tuple[str, bytes]]] | None = None,
) -> list[Path]:
    """Write the four files into ``out``. ``previews`` draws encoder images for the records, as
    (caption, PNG) pairs (the CLI passes one that knows the plugins and the data); ``dataset`` names
    the only dataset the records were read for (for the message when empty)."""
    boards = rank(records, metric)
    if not boards:
        scope = f" for dataset {dataset!r}" if dataset else ""
        raise TabbenchError(
            f"nothing to publish: no finished runs{scope} in {store}; run `tabbench run` first"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TabbenchError(f"cannot create {out}: {exc.strerror}; choose another --out") from None
    about = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "tabbench_version": __version__,
        "store": str(store),
        "runs": sum(len(e.values) for entries in boards.values() for e in entries),
    }
    images = previews(records) if previews is not None else []
    paths = {name: out / name for name in ("leaderboard.md", "leaderboard.csv", "leaderboard.json", "index.html")}  # fmt: skip
    report = build_report(boards)
    paths["leaderboard.md"].write_text(markdown_page(report, about), encoding="utf-8")
    write_csv(boards, paths["leaderboard.csv"])
    paths["leaderboard.json"].write_text(
        json.dumps(json_document(report, about), indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    paths["index.html"].write_text(html_page(report, about, images), encoding="utf-8")
    return list(paths.values())


# --- Markdown, CSV, JSON ---------------------------------------------------------------------


def markdown_page(report: Report, about: dict) -> str:
    intro = (
        f"## tabbench leaderboard\n\n{about['runs']} runs, generated {about['generated_at']} by "
        f"tabbench {about['tabbench_version']}. Mean ± std over seeds and outer folds, "
        f"{CONFIDENCE:.0%} confidence intervals (each table says which); 'worse' marks a model "
        "significantly worse than the leader in a paired, Holm-corrected test.\n"
    )
    return intro + "\n" + "\n".join(to_markdown(t) for t in report.tables)


def _spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula (=, +, -, @ first) is quoted with a '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(boards: dict[str, list[Entry]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for entries in boards.values():
            for entry in entries:
                row = _entry_json(entry)
                row["optimistic"] = (
                    json.dumps(row["optimistic"], sort_keys=True) if row["optimistic"] else ""
                )
                row["runs"] = len(entry.values)
                writer.writerow({k: _spreadsheet_safe(row[k]) for k in CSV_FIELDS})


def _entry_json(entry: Entry) -> dict[str, Any]:
    low, high = entry.interval or (None, None)
    return {
        "dataset": entry.dataset,
        "rank": entry.rank,
        "standing": standing_kind(entry),
        "complete": entry.complete,
        "model": entry.model,
        "kind": entry.kind,
        "encoder": entry.encoder,
        "backbone": entry.backbone,
        "pretrained": entry.pretrained,
        "baseline": entry.model if entry.kind == "baseline" else None,
        "tuned": entry.tuned,
        "metric": entry.metric,
        "mean": entry.mean,
        "std": entry.std,
        "ci_low": low,
        "ci_high": high,
        "seeds": entry.seeds,
        "folds": entry.folds,
        "outer_folds": entry.outer_folds,
        "values": entry.values,
        "p_vs_leader": entry.p_value,
        "significantly_worse": entry.worse,
        "fit_seconds": entry.fit_seconds,
        "parameters": entry.parameters,
        "companions": {
            name: {"label": COMPANION_LABELS.get(name, name), "mean": mean_std(v)[0], "values": v}
            for name, v in entry.companions.items()
        },
        "optimistic": {
            name: {"label": OPTIMISTIC_LABELS.get(name, name), "mean": mean_std(v)[0], "values": v}
            for name, v in entry.optimistic.items()
        },
        "config_key": entry.model_key,
        "config": entry.config,
    }


def json_document(report: Report, about: dict) -> dict[str, Any]:
    """The documented, versioned JSON form (see README, 'leaderboard.json')."""
    from tabbench.results.metrics import higher_is_better

    return {
        "schema": JSON_SCHEMA,
        "schema_version": JSON_SCHEMA_VERSION,
        **about,
        "confidence": CONFIDENCE,
        "datasets": [
            {
                "name": name,
                "metric": entries[0].metric,
                "higher_is_better": higher_is_better(entries[0].metric),
                "entries": [_entry_json(e) for e in entries],
            }
            for name, entries in report.boards.items()
        ],
        "across_datasets": [
            {
                "model": row.model,
                "kind": row.kind,
                "average_rank": row.average_rank,
                "datasets": len(row.ranks),
                "wins": row.wins,
                "first_or_tied": row.top,
                "ranks": row.ranks,
            }
            for row in report.across
        ],
        "pretrained_vs_scratch": [_pretraining_json(d) for d in report.deltas],
        "tuned_vs_default": [_tuning_json(g) for g in report.gains],
        "friedman": _friedman_json(report),
    }


def _paired_json(pair: Paired) -> dict[str, Any]:
    """The interval and pair count every paired comparison reports."""
    return {
        "ci_low": pair.interval[0] if pair.interval else None,
        "ci_high": pair.interval[1] if pair.interval else None,
        "paired_runs": len(pair.differences),
    }


def _pretraining_json(d: PretrainingDelta) -> dict[str, Any]:
    return {
        "dataset": d.dataset, "encoder": d.encoder, "backbone": d.backbone, "metric": d.metric,
        "scratch_mean": d.scratch.mean, "pretrained_mean": d.pretrained.mean, "delta": d.delta,
        **_paired_json(d),
    }  # fmt: skip


def _tuning_json(g: TuningGain) -> dict[str, Any]:
    return {
        "dataset": g.dataset, "model": g.default.model, "tuned_model": g.tuned.model,
        "budget": g.tuned.tuned, "metric": g.tuned.metric, "default_mean": g.default.mean,
        "tuned_mean": g.tuned.mean, "gain": g.gain, **_paired_json(g),
        "tuned_fit_seconds": g.tuned.fit_seconds,
    }  # fmt: skip


def _friedman_json(report: Report) -> dict[str, Any]:
    test = report.comparison
    if test is None:
        return {"performed": False, "reason": report.no_comparison}
    return {
        "performed": True,
        "datasets": test.datasets,
        "models": [test.names[key] for key in test.models],
        "config_keys": test.models,
        "average_ranks": [test.average_ranks[key] for key in test.models],
        "statistic": test.statistic,
        "p_value": test.p_value,
        "nemenyi_p_values": [[test.pairwise[a][b] for b in test.models] for a in test.models],
        "cliques": [[test.names[key] for key in clique] for clique in test.cliques],
        "left_out": test.left_out,
    }


# --- HTML ------------------------------------------------------------------------------------


def _asset(name: str) -> str:
    return files("tabbench.results.assets").joinpath(name).read_text(encoding="utf-8")


def html_page(report: Report, about: dict, images: list[tuple[str, bytes]]) -> str:
    from tabbench.results.plots import (
        critical_difference_diagram,
        encoder_backbone_heatmap,
        ranking_bars,
    )

    e = html.escape
    sections, nav = [], []
    for name, entries in report.boards.items():
        ranking = report.rankings[name]
        nav.append(f'<a href="#{e(ranking.slug)}">{e(name)}</a>')
        parts = [to_html(ranking)]
        if name in report.grids:
            parts.append(to_html(report.grids[name]))
        plots = [ranking_bars(name, entries)]
        heatmap = encoder_backbone_heatmap(name, entries)
        if heatmap:
            plots.append(heatmap)
        parts.append(f'<div class="plots">{"".join(plots)}</div>')
        sections.append(f"<h2>{e(name)}</h2>" + "".join(parts))
    if report.summary:
        nav.append('<a href="#summary">across datasets</a>')
        diagram = (
            f'<div class="plots">{critical_difference_diagram(report.comparison)}</div>'
            if report.comparison
            else ""
        )
        sections.append(
            '<h2 id="summary">Across datasets</h2>'
            + "".join(to_html(t) for t in report.summary)
            + diagram
        )
    if images:
        nav.append('<a href="#previews">encoder previews</a>')
        figures = "".join(
            f'<figure><img alt="{e(caption)}" src="data:image/png;base64,'
            f'{base64.b64encode(png).decode()}"><figcaption>{e(caption)}</figcaption></figure>'
            for caption, png in images
        )
        sections.append(
            '<h2 id="previews">What the models see</h2><p class="caption">A few validation rows '
            'of each dataset, as each encoder draws them.</p><div class="previews">'
            f"{figures}</div>"
        )
    script = _asset("sort.js")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{page_policy(script)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>tabbench leaderboard</title><style>{_asset('page.css')}</style></head><body>"
        f"<header><h1>tabbench leaderboard</h1><p>{about['runs']} runs from {e(about['store'])}, "
        f"generated {e(about['generated_at'])} by tabbench {e(about['tabbench_version'])}. "
        f"Mean ± std over seeds and folds, {CONFIDENCE:.0%} confidence intervals; click a column header to "
        f"sort.</p><nav>{''.join(nav)}</nav></header><main>{''.join(sections)}</main>"
        f"<script>{script}</script></body></html>\n"
    )
