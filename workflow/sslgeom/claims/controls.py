"""The known-answer controls' claims: K1–K7 on shapes' latent views (what the views resample
must be lost, what they share kept), Z1 and Z3 on Zimmermann et al.'s vectors, Z2 and Z4–Z7 on
von Kügelgen et al.'s content and style (Z4–Z7 along exact latent tangents)."""

from collections.abc import Iterator

import numpy as np
import pandas as pd

from sslgeom.analyses.geometry import LATENT_BLOCKS, LATENT_FAMILY_PREFIX, latent_family
from sslgeom.claims.rule import (
    TWO_SIDED,
    Claim,
    strength_mean,
)
from sslgeom.claims.values import difference, log10, seed_values, strengths_of
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
    "K6": "A redraw of {latent}, which the views resample, moves the projector output less "
    "than a random move of the same encoder-space length in the data span: log10 step "
    "sensitivity",
    "K7": "A redraw of {latent}, which the views share, moves the projector output more than "
    "a random move of the same encoder-space length in the data span: log10 step sensitivity",
    "Z1": "InfoNCE on sphere latents at the matched temperature recovers the latents better "
    "than on box latents, which the spherical loss does not match: encoder linear R², mean "
    "over latents, matched − mismatched",
    "Z2": "Views that share the content and change the style recover the content, not the "
    "style: {layer} kernel-ridge R², mean over content latents − mean over style latents",
    "Z4": "Along exact latent tangents the loss-facing output moves less per unit of style than "
    "per unit of content: log10 of the output gain, mean over style latents / mean over "
    "content latents",
    "Z5": "The projector shrinks the exact tangents of the style latents: ρ − ρ(random "
    "direction in the data span), mean over style latents",
    "Z6": "The projector keeps the exact tangents of the style latents less than those of the "
    "content latents: ρ, mean over style latents − mean over content latents",
    "Z7": "A redraw of a style latent moves the projector output less than a random move of "
    "the same encoder-space length in the data span: log10 step sensitivity of the style "
    "redraws",
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
    "K6": (-1, "Cosentino et al. 2022 (K2 as a finite redraw)"),
    "K7": (+1, "Cosentino et al. 2022 (K3 as a finite redraw)"),
    "Z1": (+1, "Zimmermann et al. 2021"),
    "Z2": (+1, "von Kügelgen et al. 2021"),
    "Z3": (+1, "Zimmermann et al. 2021"),
    "Z4": (-1, "von Kügelgen et al. 2021"),
    "Z5": (-1, "Cosentino et al. 2022"),
    "Z6": (-1, "Cosentino et al. 2022"),
    "Z7": (-1, "Cosentino et al. 2022"),
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
            redraw = {"family": latent_family(latent), "metric": "step_sensitivity"}
            step = log10(seed_values(geometry[geometry["resampled_latents"] == choice], **redraw))
            if step:
                claim = "K6" if latent in resampled else "K7"
                effect = strength_mean(step, strengths_of(step))
                yield control_claim(claim, latent=latent), effect, seeds, where


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


def content_style_geometry_claims(
    geometry: pd.DataFrame,
) -> Iterator[tuple[Claim, callable, list, dict]]:
    """(claim, effect, seeds, description) of Z4–Z7 for one group's geometry rows on content
    and style vectors (exact latent tangents of c1, … and s1, …)."""
    seeds = sorted(geometry["seed"].unique())

    def values(family: str, metric: str) -> dict:
        return seed_values(geometry, family=family, metric=metric)

    def latent_mean(block: str, metric: str) -> dict:
        """The mean over the block's single latents (families ``latent:{name}``)."""
        single = geometry["family"].str.startswith(LATENT_FAMILY_PREFIX)
        names = geometry["family"].str.removeprefix(LATENT_FAMILY_PREFIX)
        rows = geometry[single & names.map(LATENT_BLOCKS[block]) & (geometry["metric"] == metric)]
        return seed_values(rows.groupby(["seed", "strength"], as_index=False)["value"].mean())

    style_gain, content_gain = (log10(values(b, "output_gain")) for b in ("style", "content"))
    effects = {
        "Z4": (difference(style_gain, content_gain), "output_gain"),
        "Z5": (
            latent_mean("style", "sensitivity_minus_random_span"),
            "sensitivity_minus_random_span",
        ),
        "Z6": (
            difference(latent_mean("style", "sensitivity"), latent_mean("content", "sensitivity")),
            "sensitivity",
        ),
        "Z7": (log10(values("style", "step_sensitivity")), "step_sensitivity"),
    }
    for claim, (effect, metric) in effects.items():
        if effect:
            where = {"metric": metric}
            yield control_claim(claim), strength_mean(effect, strengths_of(effect)), seeds, where
