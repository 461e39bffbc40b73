"""The findings as tables (one per question), for the Markdown and HTML renderings."""

from __future__ import annotations

from tabbench.results.claims import PAPER_CLAIMS, Claim
from tabbench.results.findings import EncoderRanking, Headline, pareto_front
from tabbench.results.leaderboard import (
    Entry,
    Paired,
    format_interval,
    format_mean_std,
    format_p,
    format_parameters,
)
from tabbench.results.report import CI, Cell, Column, ReportTable


def score(entry: Entry | None) -> str:
    """``0.9533 [0.9193, 0.9873]``: the mean and its interval (or the mean alone)."""
    if entry is None:
        return "not run"
    interval = f" {format_interval(entry.interval)}" if entry.interval else ""
    return f"{entry.mean:.4f}{interval}"


def difference(comparison: Paired) -> str:
    interval = f" {format_interval(comparison.interval)}" if comparison.interval else ""
    return f"{comparison.delta:+.4f}{interval}"


def p_text(comparison: Paired) -> str:
    return "n/a" if comparison.p_value is None else format_p(comparison.p_value)


def headline_table(headlines: list[Headline]) -> ReportTable:
    columns = [
        Column("dataset"), Column("best image model (by validation)"), Column(f"test, {CI}"),
        Column("best baseline (by validation)"), Column(f"test, {CI} "),
        Column(f"image - baseline, {CI}"), Column("p"), Column("verdict"),
    ]  # fmt: skip
    table = ReportTable("1. The best image model vs the best baseline", columns, slug="q1")
    table.caption = (
        "Each side's best configuration is the one with the best mean validation score; the test "
        "split only scores the two. Paired on the same seeds and folds; p from the corrected "
        "resampled paired t-test, Holm-corrected over the datasets (the intervals are each "
        "comparison's own, not corrected for the family)."
    )
    for h in headlines:
        c = h.comparison
        table.rows.append([
            Cell(h.dataset), Cell(h.image.model), Cell(score(h.image), h.image.mean),
            Cell(h.baseline.model), Cell(score(h.baseline), h.baseline.mean),
            Cell(difference(c), c.delta), Cell(p_text(c), c.p_value), Cell(c.verdict),
        ])  # fmt: skip
    return table


def encoder_table(ranking: EncoderRanking) -> ReportTable:
    """One row per encoder (by name), its test score on each dataset, its average rank."""
    from tabbench.results.findings import encoder_name

    datasets = list(ranking.boards)
    test = ranking.test
    columns = [Column("encoder"), *(Column(d, numeric=True) for d in datasets)]
    if test:
        columns += [Column("average rank", numeric=True), Column("Nemenyi group")]
    table = ReportTable(f"2. Encoders ranked, on {ranking.backbone}", columns, slug="q2")
    by_encoder: dict[str, dict[str, Entry]] = {}
    for dataset, entries in ranking.boards.items():
        for entry in entries:
            by_encoder.setdefault(encoder_name(entry), {})[dataset] = entry
    order = list(test.models) if test else []
    order += [name for name in by_encoder if name not in order]
    letters = test.letters if test else {}
    for name in order:
        found = by_encoder[name]
        row = [Cell(name)]
        row += [
            Cell(f"{score(found[d])} at {found[d].encoder}", found[d].mean)
            if d in found
            else Cell("not run")
            for d in datasets
        ]
        if test:
            rank = test.average_ranks.get(name)
            row += [
                Cell(f"{rank:.2f}" if rank is not None else "", rank),
                Cell(letters.get(name, "")),
            ]
        table.rows.append(row)
    table.caption = _encoder_caption(ranking)
    return table


def _encoder_caption(ranking: EncoderRanking) -> str:
    text = (
        f"Test {CI} per dataset. Each encoder at its default feature order on {ranking.backbone}."
    )
    if ranking.test:
        t = ranking.test
        text += (
            f" Average rank over {len(t.datasets)} datasets (1 = best); Friedman chi² = "
            f"{t.statistic:.2f}, p = {t.p_value:.3g}; encoders sharing a Nemenyi letter are not "
            "significantly different."
        )
    else:
        text += " Too few datasets for a Friedman test."
    if ranking.left_out:
        text += f" Not ranked (not every encoder ran there): {', '.join(ranking.left_out)}."
    return text


def paired_table(title: str, slug: str, comparisons: list[Paired], labels: tuple[str, str]):
    """A table of paired comparisons, ``labels`` naming the two sides (first, second)."""
    columns = [
        Column("dataset"), Column("model"), Column(labels[0]), Column(labels[1]),
        Column(f"difference, {CI}"), Column("pairs", numeric=True), Column("p"), Column("verdict"),
    ]  # fmt: skip
    table = ReportTable(title, columns, slug=slug)
    for c in comparisons:
        table.rows.append([
            Cell(c.first.dataset), Cell(c.first.model),
            Cell(score(c.first), c.first.mean), Cell(score(c.second), c.second.mean),
            Cell(difference(c), c.delta), Cell(str(len(c.differences)), len(c.differences)),
            Cell(p_text(c), c.p_value), Cell(c.verdict),
        ])  # fmt: skip
    table.caption = (
        f"difference = {labels[0]} - {labels[1]}, the mean of per-run differences (same seed and "
        f"fold), with its {CI}; p from the corrected resampled paired t-test, Holm-corrected "
        "over this table's rows."
    )
    return table


def cost_table(
    boards: dict[str, list[Entry]], chosen: list[Headline], rates: dict[str, float]
) -> ReportTable:
    """Per dataset: the entries on the score / fit-time Pareto front and each side's chosen best."""
    from tabbench.results.findings import entry_key

    columns = [
        Column("dataset"), Column("model"), Column("kind"), Column("score", numeric=True),
        Column("fit s", numeric=True), Column("train images/s", numeric=True),
        Column("params", numeric=True), Column("why shown"),
    ]  # fmt: skip
    table = ReportTable("5. What it costs", columns, slug="q5")
    best = {
        h.dataset: {h.image.model: "best image", h.baseline.model: "best baseline"} for h in chosen
    }
    for dataset, entries in boards.items():
        front = pareto_front(entries)
        shown = front + [e for e in entries if e.model in best.get(dataset, {}) and e not in front]
        for e in shown:
            reasons = [best.get(dataset, {}).get(e.model, "")] + (
                ["Pareto front"] if e in front else []
            )
            rate = rates.get(entry_key(e))
            table.rows.append([
                Cell(dataset), Cell(e.model), Cell(e.kind), Cell(format_mean_std(e.values), e.mean),
                Cell(f"{e.fit_seconds:.1f}", e.fit_seconds),
                Cell(f"{rate:,.0f}" if rate else "", rate), Cell(format_parameters(e.parameters), e.parameters),
                Cell(", ".join(r for r in reasons if r)),
            ])  # fmt: skip
    table.caption = (
        "Fit seconds per run on this machine (mean over runs); train images/s: images fed to the "
        "network during fine-tuning, encoded on the fly, per second of fit. The Pareto front: no "
        "other model on the dataset scores higher in less fit time."
    )
    return table


def claims_table(
    headlines: list[Headline], same_method: dict[str, Entry], sentences: dict[str, str]
) -> ReportTable:
    columns = [
        Column("dataset"), Column("the paper"), Column("claimed", numeric=True),
        Column("tabbench, SuperTML text"), Column("tabbench, best image"),
        Column("tabbench, best baseline"), Column("the difference"),
    ]  # fmt: skip
    table = ReportTable("6. The paper's numbers next to tabbench's", columns, slug="q6")
    found = {h.dataset.split(" ")[0].split("[")[0]: h for h in headlines}
    for claim in PAPER_CLAIMS:
        h = found.get(claim.dataset)
        same = same_method.get(claim.dataset)
        table.rows.append([
            Cell(claim.dataset), Cell(f"{claim.model}; {claim.protocol}"), Cell(_claimed(claim), claim.value),
            Cell(f"{same.model}: {score(same)}" if same else "not run"),
            Cell(f"{h.image.model}: {score(h.image)}" if h else "not run"),
            Cell(f"{h.baseline.model}: {score(h.baseline)}" if h else "not run"),
            Cell(sentences.get(claim.dataset, "")),
        ])  # fmt: skip
    table.caption = "tabbench: test mean with its interval, by the protocol of the page."
    return table


def _claimed(claim: Claim) -> str:
    return f"{claim.value:.2%}" if claim.metric == "accuracy" else f"{claim.value:.3f}"
