"""The claims of Cosentino et al. 2022 (arXiv 2205.06926) on the augmentation-strength axis,
C1–C3: the projector, not the encoder, becomes invariant, loses rank and transfers worse
as the augmentations get stronger."""

from collections.abc import Iterator

import pandas as pd

from sslgeom.claims.rule import (
    Claim,
    strength_mean,
    strength_slope,
)
from sslgeom.claims.values import (
    difference,
    positive_strengths,
    run_values,
    with_resamples,
)

COSENTINO_CLAIMS = {
    "C1": Claim(
        "C1",
        "The projector's invariance to the reference views rises more with strength than the "
        "encoder's: slope over s > 0 of projector − encoder invariance_ref",
        +1,
        "Cosentino et al. 2022",
    ),
    "C2a": Claim(
        "C2a",
        "The encoder transfers better than the projector: encoder − projector linear-probe "
        "accuracy, mean over s > 0",
        +1,
        "Cosentino et al. 2022",
    ),
    "C2b": Claim(
        "C2b",
        "The encoder − projector probe gap widens with strength: its slope over s > 0",
        +1,
        "Cosentino et al. 2022",
    ),
    "C3": Claim(
        "C3",
        "The projector's effective rank falls with strength: slope over s > 0 of its RankMe",
        -1,
        "Cosentino et al. 2022",
    ),
}


def cosentino_claims(
    metrics: pd.DataFrame, resamples: dict | None
) -> Iterator[tuple[Claim, callable, list]]:
    """(claim, effect, seeds) of C1–C3 for one group's metrics (one row per run, layer, metric).

    ``resamples``: (metric, layer) → (seed, strength) → test-set resamples of the metric, or None.
    """
    layers = ("encoder", "projector")
    if "projector" not in set(metrics["layer"]):  # a model trained elsewhere, without one
        return
    values = {
        (metric, layer): with_resamples(
            run_values(metrics, metric=metric, layer=layer),
            None if resamples is None else resamples.get((metric, layer)),
        )
        for metric in ("invariance_ref", "probe_acc", "rankme")
        for layer in layers
    }
    seeds = sorted(metrics["seed"].unique())
    strengths = positive_strengths(values["rankme", "projector"], seeds)
    gap = difference(values["probe_acc", "encoder"], values["probe_acc", "projector"])
    if strengths:
        yield COSENTINO_CLAIMS["C2a"], strength_mean(gap, strengths), seeds
    if len(strengths) < 2:
        return
    rise = difference(values["invariance_ref", "projector"], values["invariance_ref", "encoder"])
    yield COSENTINO_CLAIMS["C1"], strength_slope(rise, strengths), seeds
    yield COSENTINO_CLAIMS["C2b"], strength_slope(gap, strengths), seeds
    rank = values["rankme", "projector"]
    yield COSENTINO_CLAIMS["C3"], strength_slope(rank, strengths), seeds
