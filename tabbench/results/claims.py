"""Published claims that the findings page checks: the SuperTML paper's numbers and what the public
reproduction of it reported. These are the only numbers typed in; tabbench's side is measured."""

from __future__ import annotations

from dataclasses import dataclass

PAPER = "Sun et al. 2019, SuperTML"
REPRODUCTION = "the public SuperTML reproduction on HiggsML"


@dataclass(frozen=True)
class Claim:
    dataset: str  # tabbench's dataset plugin name
    metric: str
    value: float
    model: str  # what the paper ran
    protocol: str  # what the paper tested on, as far as it says


PAPER_CLAIMS = (
    Claim(
        "iris",
        "accuracy",
        0.9333,
        "SuperTML-VF + SENet-154 (ImageNet-pretrained), 224 px",
        "one held-out split (93.33% is 28 of 30 rows)",
    ),
    Claim(
        "wine",
        "accuracy",
        0.9730,
        "SuperTML-VF + SENet-154 (ImageNet-pretrained), 224 px",
        "one held-out split (97.30% is 36 of 37 rows)",
    ),
    Claim(
        "adult",
        "accuracy",
        0.8764,
        "SuperTML-VF + SENet-154 (ImageNet-pretrained), 224 px",
        "the official test split (16,281 rows); XGBoost 87.32% in the same paper",
    ),
    Claim(
        "higgs",
        "ams",
        3.979,
        "SuperTML + SENet-154 (ImageNet-pretrained), 224 px",
        "the challenge's AMS on the full release (818,238 events)",
    ),
)

# The reproduction's findings, each checked by one question of the page.
REPRODUCTION_CLAIMS = {
    "encoders": "text rendering is weak; pixel blocks (intensity per feature) do better",
    "order": "the order of the features in the image matters",
    "pretraining": "ImageNet pretraining is of little help",
    "cost": "generating the images is slow: 1M images in 4 hours, 13 GB on disk",
}
