"""The tangent-geometry claims G1–G3 (Cosentino et al. 2022, arXiv 2205.06926): the subspace
the projector keeps lies near the data tangent, and it keeps augmentation and style
directions less than data directions — along local tangents (G2, the sensitivity ρ of the
projector Jacobian) and along finite moves (G3, the step sensitivity)."""

from collections.abc import Iterator

import pandas as pd

from sslgeom.claims.rule import (
    Claim,
    strength_mean,
)
from sslgeom.claims.values import (
    difference,
    log10,
    positive_strengths,
    seed_values,
)

GEOMETRY_CLAIMS = {
    "G1": Claim(
        "G1",
        "The subspace the projector keeps is closer to the data tangent than random directions "
        "in the data span are: angle(data) − angle(random in span, same dimension), mean over "
        "s > 0 (degrees)",
        -1,
        "Cosentino et al. 2022",
    ),
    "G2a": Claim(
        "G2a",
        "The projector keeps augmentation directions less than data directions: ρ(augmentation) "
        "− ρ(data), both of dimension k, mean over s > 0",
        -1,
        "Cosentino et al. 2022",
    ),
    "G2b": Claim(
        "G2b",
        "The projector keeps style directions less than data directions: ρ − ρ(random in span, "
        "same dimension) of style minus that of data, mean over s > 0",
        -1,
        "Cosentino et al. 2022",
    ),
    "G3a": Claim(
        "G3a",
        "The projector's output changes less along augmentations than along moves to "
        "neighbouring data, each against random moves of the same length in the data span: "
        "log10 step sensitivity of augmentation − that of data, mean over s > 0",
        -1,
        "Cosentino et al. 2022",
    ),
    "G3b": Claim(
        "G3b",
        "The projector's output changes less when a style latent is redrawn than along moves "
        "to neighbouring data, each against random moves of the same length in the data span: "
        "log10 step sensitivity of style − that of data, mean over s > 0",
        -1,
        "Cosentino et al. 2022",
    ),
}


def geometry_claims(geometry: pd.DataFrame) -> Iterator[tuple[Claim, callable, list]]:
    """(claim, effect, seeds) of G1, G2 for one group's geometry rows (seed-level only)."""

    def values(family: str, metric: str) -> dict:
        return seed_values(geometry, family=family, metric=metric)

    seeds = sorted(geometry["seed"].unique())
    data_angle = values("data", "angle_minus_random_span")
    strengths = positive_strengths(data_angle, seeds)
    if not strengths:
        return
    yield GEOMETRY_CLAIMS["G1"], strength_mean(data_angle, strengths), seeds
    augmentation = difference(values("augmentation", "sensitivity"), values("data", "sensitivity"))
    yield GEOMETRY_CLAIMS["G2a"], strength_mean(augmentation, strengths), seeds
    style = values("style", "sensitivity_minus_random_span")
    if style:
        excess = difference(style, values("data", "sensitivity_minus_random_span"))
        yield GEOMETRY_CLAIMS["G2b"], strength_mean(excess, strengths), seeds
    data_step = log10(values("data", "step_sensitivity"))
    for claim, family in (("G3a", "augmentation"), ("G3b", "style")):
        step = log10(values(family, "step_sensitivity"))
        if step and data_step:
            effect = difference(step, data_step)
            yield GEOMETRY_CLAIMS[claim], strength_mean(effect, strengths), seeds
