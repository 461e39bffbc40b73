"""The findings page's sentences, each made from the numbers it states (no sentence is typed in
with a result in it, so the page stays true when the runs change)."""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from tabbench.results.claims import PAPER_CLAIMS, Claim
from tabbench.results.leaderboard import Entry, Paired, format_p

if TYPE_CHECKING:
    from tabbench.results.findings_page import Findings


def _names(items: list[str]) -> str:
    if not items:
        return "none"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def headline_sentences(f: Findings) -> list[str]:
    """Two sentences: who wins per dataset, and at what cost."""
    if not f.headlines:
        return ["No dataset has both an image model and a baseline yet."]
    verdicts: dict[str, list[str]] = {"better": [], "tied": [], "worse": [], "untested": []}
    for h in f.headlines:
        verdicts[h.comparison.verdict].append(h.dataset)
    n = len(f.headlines)
    if verdicts["better"]:
        first = (
            f"The best image model (chosen on validation) beats the best baseline significantly on "
            f"{_names(verdicts['better'])} of the {n} datasets"
        )
    else:
        first = (
            f"On none of the {n} datasets does the best image model (chosen on validation) beat "
            "the best baseline significantly: it"
        )
    parts = []
    if verdicts["worse"]:
        parts.append(f"is significantly worse on {_names(verdicts['worse'])}")
    if verdicts["tied"]:
        parts.append(f"is statistically tied on {_names(verdicts['tied'])}")
    if verdicts["untested"]:
        parts.append(f"cannot be tested (one run) on {_names(verdicts['untested'])}")
    joiner = "; it " if verdicts["better"] else " "
    first += (joiner + " and ".join(parts) if parts else "") + "."
    ratios = sorted(h.image.fit_seconds / max(h.baseline.fit_seconds, 1e-3) for h in f.headlines)
    second = (
        f"It takes {_ratio(ratios[0])} to {_ratio(ratios[-1])} the best baseline's fit time "
        f"(median {_ratio(statistics.median(ratios))}) on this CPU."
    )
    return [first, second]


def _ratio(value: float) -> str:
    return f"{value:,.0f}x" if value >= 10 else f"{value:.1f}x"


def claim_sentences(f: Findings) -> dict[str, str]:
    """Per claimed dataset: where the paper's figure lies against tabbench's measurements."""
    found = {_base(h.dataset): h for h in f.headlines}
    return {
        c.dataset: _claim_sentence(c, f.same_method.get(c.dataset), found.get(c.dataset))
        for c in PAPER_CLAIMS
    }


def _base(dataset: str) -> str:
    return dataset.split("[")[0].split(" ")[0]


def _claim_sentence(claim: Claim, same: Entry | None, headline) -> str:
    if headline is None:
        return f"Not run: the preset has no image model and baseline on {claim.dataset}."
    parts = []
    if same is None:
        parts.append("SuperTML text was not run on this table (see the preset for why).")
    else:
        parts.append(
            f"The claimed {_fmt(claim, claim.value)} is {_where(claim.value, same)} tabbench's "
            f"{same.encoder} + {same.backbone_flavour} ({_fmt(claim, same.mean)})."
        )
    base = headline.baseline
    reach = "reaches" if _at_least(claim, base.mean) else "stays below"
    parts.append(f"The best baseline here ({base.model}, {_fmt(claim, base.mean)}) {reach} it.")
    parts.append(
        "The paper fine-tuned an ImageNet-pretrained SENet-154 at 224 px; tabbench ran CPU-sized "
        "models (benchmarks/presets/paper.toml is the paper's grid)."
    )
    return " ".join(parts)


def _fmt(claim: Claim, value: float) -> str:
    return f"{value:.2%}" if claim.metric == "accuracy" else f"{value:.3f}"


def _at_least(claim: Claim, value: float) -> bool:
    return value >= claim.value if claim.metric in ("accuracy", "ams") else value <= claim.value


def _where(value: float, entry: Entry) -> str:
    if entry.interval is None:
        return "above" if value > entry.mean else "below"
    low, high = entry.interval
    if value > high:
        return "above the 95% interval of"
    if value < low:
        return "below the 95% interval of"
    return "inside the 95% interval of"


def reproduction_sentences(f: Findings) -> dict[str, str]:
    return {
        "encoders": _encoder_sentence(f),
        "order": _paired_sentence(f.orders, "a reordering of the features"),
        "pretraining": _paired_sentence(f.pretraining, "pretraining"),
        "cost": _cost_sentence(f),
    }


def _encoder_sentence(f: Findings) -> str:
    ranking = f.encoders
    if ranking is None or ranking.test is None:
        return "Not tested: too few datasets or encoders for a Friedman test."
    test = ranking.test
    ranks = ", ".join(f"{name} {test.average_ranks[name]:.2f}" for name in test.models)
    pixel = [name for name in test.models if name == "pixel"]
    text = [name for name in test.models if name.startswith("supertml")]
    sentence = f"Average ranks over {len(test.datasets)} datasets (1 = best): {ranks}."
    if pixel and text:
        pairs = [(t, test.pairwise[pixel[0]][t]) for t in text]
        apart = sum(p < 0.05 for _, p in pairs)
        verdict = (
            "significantly apart"
            if apart == len(pairs)
            else "not significantly apart"
            if not apart
            else "not all significantly apart"
        )
        listed = ", ".join(f"{format_p(p)} ({name})" for name, p in pairs)
        sentence += f" Pixel blocks vs text, Nemenyi: {listed}: {verdict}."
    return sentence + f" Friedman p = {test.p_value:.3g}."


def _paired_sentence(comparisons: list[Paired], what: str) -> str:
    if not comparisons:
        return "Not tested: no such pairs in the runs."
    verdicts = [c.verdict for c in comparisons]
    deltas = [c.delta for c in comparisons]
    significant = [c for c in comparisons if c.verdict in ("better", "worse")]
    sentence = (
        f"{len(comparisons)} paired comparison{'s' if len(comparisons) > 1 else ''} of {what}: "
        f"mean difference{'s' if len(comparisons) > 1 else ''} from "
        f"{min(deltas):+.4f} to {max(deltas):+.4f}; "
        f"{verdicts.count('better')} significantly better, {verdicts.count('worse')} worse, "
        f"{verdicts.count('tied')} tied (Holm-corrected)."
    )
    if significant:
        sentence += (
            " Significant: "
            + "; ".join(f"{c.first.dataset} {c.first.model} ({c.delta:+.4f})" for c in significant)
            + "."
        )
    return sentence


def _cost_sentence(f: Findings) -> str:
    rates = sorted(f.rates.values())
    if not rates:
        return "No image model ran."
    return (
        f"Images are drawn on the fly in each training batch, never written to disk: "
        f"{rates[0]:,.0f} to {rates[-1]:,.0f} training images per second of fit here "
        f"(encoding, forward and backward pass together, on 2 CPU cores)."
    )
