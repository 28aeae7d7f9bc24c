"""The identifiability claims (Reizinger et al. 2025, arXiv 2504.13101): I1 encoder against
projector across seeds, I2 each varied factor's variant against the base setting, I3 runs
that differ in a grid factor crossed with the seeds against seed pairs."""

from collections.abc import Iterator

import numpy as np
import pandas as pd

from sslgeom.claims.rule import (
    TWO_SIDED,
    Claim,
    pair_mean,
)
from sslgeom.config.experiments import Design

# Reizinger et al. 2025 ask which training factors decide whether runs converge, and predict no
# sign for any of them; I3 was added after the results it is tested on had been seen.
I2_SOURCE = "exploratory: Reizinger et al. 2025 ask the question, predicting no sign"
I3_SOURCE = "exploratory: added after the objectives-and-encoders results"


def similarity_values(pairs: pd.DataFrame, metric: str, layer: str) -> dict[tuple, float]:
    """(seed of run a, seed of run b) → value, for pairs whose run-a columns lost their suffix."""
    rows = pairs[(pairs["metric"] == metric) & (pairs["layer"] == layer)]
    return {(r.seed, r.seed_b): r.value for r in rows.itertuples()}


def difference_of_means(first: dict | list, second: dict | list):
    """The effect: mean over the kept seed pairs of ``first`` minus that of ``second`` (each
    as :func:`sslgeom.claims.rule.pair_mean` takes them)."""
    return lambda seeds: pair_mean(first)(seeds) - pair_mean(second)(seeds)


def identifiability_claims(
    similarity: pd.DataFrame, design: Design, metrics: list[str]
) -> Iterator[tuple[Claim, callable, list, dict]]:
    """(claim, effect, seeds, description) of I1 and I2 for one group's similarity rows.

    I1: over the base setting's seed pairs, encoder − projector similarity (predicted > 0).
    I2: for each variant of each varied factor, the mean similarity of its seed pairs minus
    that of the base setting's seed pairs (two-sided: no source predicts its sign).
    """
    seed_only = similarity[similarity["differs_in"] == "seed"]
    side_a = seed_only.rename(columns=lambda c: c[:-2] if c.endswith("_a") else c)
    at_base = design.at_base(side_a, list(design.base))
    seeds = sorted(set(seed_only["seed_a"]) | set(seed_only["seed_b"]))
    layers = sorted(set(similarity["layer"]))
    for metric in metrics:
        if {"encoder", "projector"} <= set(layers):
            encoder = similarity_values(at_base, metric, "encoder")
            projector = similarity_values(at_base, metric, "projector")
            statement = (
                f"Across seeds the encoder is more similar than the projector output ({metric}, "
                "base-setting seed pairs): encoder − projector"
            )
            yield (
                Claim("I1", statement, +1, "Reizinger et al. 2025"),
                difference_of_means(encoder, projector),
                seeds,
                {"metric": metric},
            )
        for factor, base_value in design.base.items():
            for value in sorted(set(side_a[factor]) - {base_value}, key=str):
                others = [f for f in design.base if f != factor]
                variant = design.at_base(side_a[side_a[factor] == value], others)
                for layer in layers:
                    statement = (
                        f"Seed pairs trained with {factor} = {value} agree differently from "
                        f"base-setting seed pairs (base {factor} = {base_value}; {metric}, "
                        f"{layer}): variant − base"
                    )
                    yield (
                        Claim("I2", statement, TWO_SIDED, I2_SOURCE),
                        difference_of_means(
                            similarity_values(variant, metric, layer),
                            similarity_values(at_base, metric, layer),
                        ),
                        seeds,
                        {"factor": factor, "metric": metric, "layer": layer},
                    )


def within(similarity: pd.DataFrame, same: list[str], design: Design) -> pd.DataFrame:
    """The pairs whose runs share their ``same`` factors and are both at the base setting."""
    keep = np.ones(len(similarity), dtype=bool)
    for factor in same:
        keep &= (similarity[f"{factor}_a"] == similarity[f"{factor}_b"]).to_numpy()
    for factor, value in design.base.items():
        for side in "ab":
            keep &= (similarity[f"{factor}_{side}"] == value).to_numpy()
    return similarity[keep]


def pair_items(pairs: pd.DataFrame, metric: str, layer: str) -> list[tuple[tuple, float]]:
    """((seed of run a, seed of run b), value) of each pair at ``metric`` and ``layer``."""
    rows = pairs[(pairs["metric"] == metric) & (pairs["layer"] == layer)]
    return [((r.seed_a, r.seed_b), r.value) for r in rows.itertuples()]


def crossed_factor_claims(
    pairs: pd.DataFrame, factor: str, metrics: list[str]
) -> Iterator[tuple[Claim, callable, list, dict]]:
    """(claim, effect, seeds, description) of I3 for the pairs of one group (every other factor
    shared): the mean similarity of the run pairs that differ in ``factor`` and in their seed,
    minus that of the seed pairs (two-sided: exploratory). Dropping a seed drops every pair
    with a run of it."""
    differs = pairs["differs_in"].str.split("+").map(frozenset)
    across = pairs[differs == frozenset({factor, "seed"})]
    seed_pairs = pairs[differs == frozenset({"seed"})]
    seeds = sorted(set(pairs["seed_a"]) | set(pairs["seed_b"]))
    for metric in metrics:
        for layer in sorted(set(pairs["layer"])):
            statement = (
                f"Runs that differ in {factor} agree differently from seed pairs ({metric}, "
                f"{layer}): mean over pairs that differ in {factor} and seed − mean over seed pairs"
            )
            yield (
                Claim("I3", statement, TWO_SIDED, I3_SOURCE),
                difference_of_means(
                    pair_items(across, metric, layer), pair_items(seed_pairs, metric, layer)
                ),
                seeds,
                {"factor": factor, "metric": metric, "layer": layer},
            )
