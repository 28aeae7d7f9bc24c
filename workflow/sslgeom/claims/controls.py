"""The known-answer controls' claims: K1–K5 on shapes' latent views (what the views resample
must be lost, what they share kept), Z1 and Z3 on Zimmermann et al.'s vectors, Z2 on von
Kügelgen et al.'s content and style."""

from collections.abc import Iterator

import numpy as np
import pandas as pd

from sslgeom.analyses.geometry import latent_family
from sslgeom.claims.rule import (
    TWO_SIDED,
    Claim,
    strength_mean,
)
from sslgeom.claims.values import difference, seed_values, strengths_of
from sslgeom.data.shapes import SHAPE_CLASSES, STYLE_LATENTS

CONTROL_CLAIMS = {
    "K1": "The projector output recovers {latent} less when the views resample it than when "
    "they share it: held-out linear R², resampled − shared",
    "K2": "The projector shrinks the tangent of {latent}, which the views resample: "
    "ρ − ρ(random direction in the data span)",
    "K3": "The projector keeps the tangent of {latent}, which the views share: "
    "ρ − ρ(random direction in the data span)",
    "K4": "The projector output keeps the class under latent views: linear-probe accuracy − "
    "chance (1/{classes})",
    "K5": "The projector keeps the tangent of {latent} differently when the views resample it "
    "than when they share it: ρ − ρ(random direction in the data span), resampled − shared",
    "Z1": "InfoNCE on sphere latents at the matched temperature recovers the latents better "
    "than on box latents, which the spherical loss does not match: encoder linear R², mean "
    "over latents, matched − mismatched",
    "Z2": "Views that share the content and change the style recover the content, not the "
    "style: {layer} kernel-ridge R², mean over content latents − mean over style latents",
    "Z3": "On box latents with a Laplace conditional, InfoNCE with the L1 similarity and a box "
    "output identifies each latent up to permutation, the squared-L2 one only up to a "
    "rotation: MCC at the projector output, l1 − l2",
}


# claim → (predicted sign, its source); K5 came after K2's verdict, so it predicts none
PREDICTIONS = {
    "K1": (-1, "von Kügelgen et al. 2021"),
    "K2": (-1, "Cosentino et al. 2022"),
    "K3": (+1, "Cosentino et al. 2022"),
    "K4": (+1, "von Kügelgen et al. 2021"),
    "K5": (TWO_SIDED, "exploratory: added after K2 came out contradicted"),
    "Z1": (+1, "Zimmermann et al. 2021"),
    "Z2": (+1, "von Kügelgen et al. 2021"),
    "Z3": (+1, "Zimmermann et al. 2021"),
}


def control_claim(claim: str, **words) -> Claim:
    return Claim(claim, CONTROL_CLAIMS[claim].format(**words), *PREDICTIONS[claim])


def resampled_minus_shared(table: pd.DataFrame, choice: str, latent: str, **match):
    """The effect: per seed, a value of the runs whose views resample ``latent`` (``choice``)
    minus its mean over the choices that share it; None if every choice resamples it."""
    choices = sorted(table["resampled_latents"].unique())
    shared = [c for c in choices if latent not in c.split("-")]
    if not shared:
        return None
    own = seed_values(table[table["resampled_latents"] == choice], **match)
    others = [seed_values(table[table["resampled_latents"] == c], **match) for c in shared]
    baseline = {key: np.mean([values[key] for values in others], axis=0) for key in own}
    return strength_mean(difference(own, baseline), strengths_of(own))


def latent_view_claims(
    metrics: pd.DataFrame, geometry: pd.DataFrame | None
) -> Iterator[tuple[Claim, callable, list, dict]]:
    """(claim, effect, seeds, description) of K1–K5 for one group of latent-view runs on
    shapes, whose ``resampled_latents`` column names each run's resampled latents (joined by
    "-"); the description names the choice."""
    seeds = sorted(metrics["seed"].unique())
    projector = metrics[metrics["layer"] == "projector"]
    for choice in sorted(metrics["resampled_latents"].unique()):
        resampled, where = choice.split("-"), {"resampled_latents": choice}
        for latent in resampled:
            effect = resampled_minus_shared(projector, choice, latent, metric=f"latent_r2_{latent}")
            if effect is not None:
                yield control_claim("K1", latent=latent), effect, seeds, where
        accuracy = seed_values(
            projector[projector["resampled_latents"] == choice], metric="probe_acc"
        )
        chance = {key: np.array([1 / len(SHAPE_CLASSES)]) for key in accuracy}
        effect = strength_mean(difference(accuracy, chance), strengths_of(accuracy))
        yield control_claim("K4", classes=len(SHAPE_CLASSES)), effect, seeds, where
        if geometry is None:
            continue
        for latent in STYLE_LATENTS:
            tangent = {"family": latent_family(latent), "metric": "sensitivity_minus_random_span"}
            excess = seed_values(geometry[geometry["resampled_latents"] == choice], **tangent)
            claim = "K2" if latent in resampled else "K3"
            effect = strength_mean(excess, strengths_of(excess))
            yield control_claim(claim, latent=latent), effect, seeds, where
            if latent in resampled:
                effect = resampled_minus_shared(geometry, choice, latent, **tangent)
                if effect is not None:
                    yield control_claim("K5", latent=latent), effect, seeds, where


def vectors_claims(
    metrics: pd.DataFrame, spaces: dict[str, str]
) -> Iterator[tuple[Claim, callable, list, dict]]:
    """(claim, effect, seeds, description) of Z1 for one group's runs on vectors datasets:
    each sphere dataset against each box dataset (``spaces``: dataset → its latent space)."""
    seeds = sorted(metrics["seed"].unique())
    encoder = metrics[(metrics["layer"] == "encoder") & metrics["metric"].str.match(r"latent_r2_z")]
    mean_r2 = encoder.groupby(["dataset", "seed", "strength"], as_index=False)["value"].mean()
    present = set(mean_r2["dataset"])
    for matched in sorted(d for d in present if spaces.get(d) == "sphere"):
        for mismatched in sorted(d for d in present if spaces.get(d) == "box"):
            effect = difference(
                seed_values(mean_r2, dataset=matched), seed_values(mean_r2, dataset=mismatched)
            )
            where = {"dataset": f"{matched} − {mismatched}"}
            yield control_claim("Z1"), strength_mean(effect, strengths_of(effect)), seeds, where


def content_style_claims(metrics: pd.DataFrame) -> Iterator[tuple[Claim, callable, list, dict]]:
    """(claim, effect, seeds, description) of Z2 for one group's runs on content/style vectors
    (latents named c1, … and s1, …), at the encoder and the projector output."""
    seeds = sorted(metrics["seed"].unique())
    for layer in ("encoder", "projector"):
        at_layer = metrics[metrics["layer"] == layer]
        blocks = []
        for prefix in ("c", "s"):
            block = at_layer[at_layer["metric"].str.fullmatch(rf"latent_r2_kernel_{prefix}\d+")]
            mean = block.groupby(["seed", "strength"], as_index=False)["value"].mean()
            blocks.append(seed_values(mean))
        if all(blocks):
            effect = difference(*blocks)
            yield (
                control_claim("Z2", layer=layer),
                strength_mean(effect, strengths_of(effect)),
                seeds,
                {"layer": layer, "metric": "latent_r2_kernel"},
            )


def similarity_claims(metrics: pd.DataFrame) -> Iterator[tuple[Claim, callable, list, dict]]:
    """(claim, effect, seeds, description) of Z3 for one group's runs that differ in
    ``similarity``: those with l1 against those with l2."""
    seeds = sorted(metrics["seed"].unique())
    mcc = metrics[(metrics["layer"] == "projector") & (metrics["metric"] == "mcc")]
    l1, l2 = (seed_values(mcc[mcc["similarity"] == value]) for value in ("l1", "l2"))
    if l1 and l2:
        effect = difference(l1, l2)
        where = {"factor": "similarity", "layer": "projector", "metric": "mcc"}
        yield control_claim("Z3"), strength_mean(effect, strengths_of(effect)), seeds, where
