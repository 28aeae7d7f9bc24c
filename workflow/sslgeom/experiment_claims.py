"""The claims of one experiment, computed from its tables: the Cosentino et al. claims on the
strength axis, the tangent-geometry claims, the identifiability claims (I1, I2 within a group;
I3 across the values of a grid factor such as the method or the backbone) and the
known-answer controls' claims (latent views on shapes, vectors), each only where the
experiment has its inputs, one row per claim and group of runs (dataset, method and any other
grid factor but strength and seed; the controls compare across resampled latents and
datasets).

    python -m sslgeom.experiment_claims results/augstrength/claims.csv

prints an experiment's claims as the Markdown table the pipeline writes beside it.
"""

import argparse
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from sslgeom.claims import (
    CLAIM_COLUMNS,
    Claim,
    assess,
    pair_mean,
    strength_mean,
    strength_slope,
)
from sslgeom.claims_resampling import test_set_resamples
from sslgeom.data.shapes import SHAPE_CLASSES, STYLE_LATENTS
from sslgeom.geometry_run import latent_family

COSENTINO_CLAIMS = {
    "C1": Claim(
        "C1",
        "The projector's invariance to the reference views rises more with strength than the "
        "encoder's: slope over s > 0 of projector − encoder invariance_ref",
        +1,
    ),
    "C2a": Claim(
        "C2a",
        "The encoder transfers better than the projector: encoder − projector linear-probe "
        "accuracy, mean over s > 0",
        +1,
    ),
    "C2b": Claim(
        "C2b",
        "The encoder − projector probe gap widens with strength: its slope over s > 0",
        +1,
    ),
    "C3": Claim(
        "C3",
        "The projector's effective rank falls with strength: slope over s > 0 of its RankMe",
        -1,
    ),
}
GEOMETRY_CLAIMS = {
    "G1": Claim(
        "G1",
        "The subspace the projector keeps is closer to the data tangent than random directions "
        "in the data span are: angle(data) − angle(random in span, same dimension), mean over "
        "s > 0 (degrees)",
        -1,
    ),
    "G2a": Claim(
        "G2a",
        "The projector keeps augmentation directions less than data directions: ρ(augmentation) "
        "− ρ(data), both of dimension k, mean over s > 0",
        -1,
    ),
    "G2b": Claim(
        "G2b",
        "The projector keeps style directions less than data directions: ρ − ρ(random in span, "
        "same dimension) of style minus that of data, mean over s > 0",
        -1,
    ),
}
GROUP_COLUMNS_EXCLUDED = ("strength", "seed")
DESCRIPTION_COLUMNS = ["factor", "layer", "metric"]
ALL_VALUES = "all"  # the group column of the factor that an I3 claim compares across


def base_rows(table: pd.DataFrame, base: dict, free: tuple[str, ...] = ()) -> pd.DataFrame:
    """The rows whose varied factors (``base``: factor → base value) are at their base value,
    except the ``free`` ones."""
    keep = np.ones(len(table), dtype=bool)
    for factor, value in base.items():
        if factor not in free:
            keep &= (table[factor] == value).to_numpy()
    return table[keep]


def run_values(table: pd.DataFrame, **match) -> dict[tuple, float]:
    """(seed, strength) → value of the rows whose columns equal ``match`` (e.g. metric, layer)."""
    keep = np.logical_and.reduce([table[column] == value for column, value in match.items()])
    return {(r.seed, r.strength): r.value for r in table[keep].itertuples()}


def positive_strengths(values: dict[tuple, float], seeds: list) -> list[float]:
    """The strengths s > 0 measured for every seed."""
    found = {s for _, s in values}
    return sorted(s for s in found if s > 0 and all((seed, s) in values for seed in seeds))


def with_resamples(observed: dict, resamples: dict | None) -> dict[tuple, np.ndarray]:
    """(seed, strength) → [observed, resample 1, …] (just [observed] without resamples)."""
    if resamples is None:
        return {key: np.array([value]) for key, value in observed.items()}
    return {key: np.concatenate([[value], resamples[key]]) for key, value in observed.items()}


def seed_values(table: pd.DataFrame, **match) -> dict[tuple, np.ndarray]:
    """(seed, strength) → [value] of the rows matching ``match``, as the effects read them."""
    return with_resamples(run_values(table, **match), None)


def difference(first: dict, second: dict) -> dict:
    """first − second, key by key (the keys of ``first``)."""
    return {key: first[key] - second[key] for key in first}


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


CONTROL_CLAIMS = {
    "K1": "The projector output recovers {latent} less when the views resample it than when "
    "they share it: held-out linear R², resampled − shared",
    "K2": "The projector shrinks the tangent of {latent}, which the views resample: "
    "ρ − ρ(random direction in the data span)",
    "K3": "The projector keeps the tangent of {latent}, which the views share: "
    "ρ − ρ(random direction in the data span)",
    "K4": "The projector output keeps the class under latent views: linear-probe accuracy − "
    "chance (1/{classes})",
    "K5": "The projector keeps the tangent of {latent} less when the views resample it than "
    "when they share it: ρ − ρ(random direction in the data span), resampled − shared",
    "Z1": "InfoNCE on sphere latents at the matched temperature recovers the latents better "
    "than on box latents, which the spherical loss does not match: encoder linear R², mean "
    "over latents, matched − mismatched",
}
DIRECTIONS = {"K1": -1, "K2": -1, "K3": +1, "K4": +1, "K5": -1, "Z1": +1}


def control_claim(claim: str, **words) -> Claim:
    return Claim(claim, CONTROL_CLAIMS[claim].format(**words), DIRECTIONS[claim])


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


def strengths_of(values: dict[tuple, np.ndarray]) -> list[float]:
    """Every strength the (seed, strength) keys hold."""
    return sorted({strength for _, strength in values})


def similarity_values(pairs: pd.DataFrame, metric: str, layer: str) -> dict[tuple, float]:
    """(seed of run a, seed of run b) → value, for pairs whose run-a columns lost their suffix."""
    rows = pairs[(pairs["metric"] == metric) & (pairs["layer"] == layer)]
    return {(r.seed, r.seed_b): r.value for r in rows.itertuples()}


def difference_of_means(first: dict | list, second: dict | list):
    """The effect: mean over the kept seed pairs of ``first`` minus that of ``second`` (each
    as :func:`sslgeom.claims.pair_mean` takes them)."""
    return lambda seeds: pair_mean(first)(seeds) - pair_mean(second)(seeds)


def identifiability_claims(
    similarity: pd.DataFrame, base: dict, metrics: list[str]
) -> Iterator[tuple[Claim, callable, list, dict]]:
    """(claim, effect, seeds, description) of I1 and I2 for one group's similarity rows.

    I1: over the base setting's seed pairs, encoder − projector similarity (predicted > 0).
    I2: for each variant of each varied factor, the mean similarity of its seed pairs minus
    that of the base setting's seed pairs (predicted < 0: the variant's runs agree less).
    """
    seed_only = similarity[similarity["differs_in"] == "seed"]
    side_a = seed_only.rename(columns=lambda c: c[:-2] if c.endswith("_a") else c)
    at_base = base_rows(side_a, base)
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
                Claim("I1", statement, +1),
                difference_of_means(encoder, projector),
                seeds,
                {"metric": metric},
            )
        for factor, base_value in base.items():
            for value in sorted(set(side_a[factor]) - {base_value}, key=str):
                variant = base_rows(side_a[side_a[factor] == value], base, free=(factor,))
                for layer in layers:
                    statement = (
                        f"Seed pairs trained with {factor} = {value} agree less than base-setting "
                        f"seed pairs (base {factor} = {base_value}; {metric}, {layer}): "
                        "variant − base"
                    )
                    yield (
                        Claim("I2", statement, -1),
                        difference_of_means(
                            similarity_values(variant, metric, layer),
                            similarity_values(at_base, metric, layer),
                        ),
                        seeds,
                        {"factor": factor, "metric": metric, "layer": layer},
                    )


def crossed_factors(similarity: pd.DataFrame, groups: list[str]) -> list[str]:
    """The grid factors whose runs are paired across their values: every group column but the
    dataset (runs on different data are not compared) with several values."""
    return [
        factor
        for factor in groups
        if factor != "dataset"
        and pd.concat([similarity[f"{factor}_a"], similarity[f"{factor}_b"]]).nunique() > 1
    ]


def within(similarity: pd.DataFrame, same: list[str], base: dict) -> pd.DataFrame:
    """The pairs whose runs share their ``same`` factors and are both at the base setting."""
    keep = np.ones(len(similarity), dtype=bool)
    for factor in same:
        keep &= (similarity[f"{factor}_a"] == similarity[f"{factor}_b"]).to_numpy()
    for factor, value in base.items():
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
    minus that of the seed pairs (predicted < 0: another value of the factor moves a run further
    than another initialisation does). Dropping a seed drops every pair with a run of it."""
    differs = pairs["differs_in"].str.split("+").map(frozenset)
    across = pairs[differs == frozenset({factor, "seed"})]
    seed_pairs = pairs[differs == frozenset({"seed"})]
    seeds = sorted(set(pairs["seed_a"]) | set(pairs["seed_b"]))
    for metric in metrics:
        for layer in sorted(set(pairs["layer"])):
            statement = (
                f"Runs that differ in {factor} agree less than seed pairs ({metric}, {layer}): "
                f"mean over pairs that differ in {factor} and seed − mean over seed pairs"
            )
            yield (
                Claim("I3", statement, -1),
                difference_of_means(
                    pair_items(across, metric, layer), pair_items(seed_pairs, metric, layer)
                ),
                seeds,
                {"factor": factor, "metric": metric, "layer": layer},
            )


def claim_rows(
    tables: dict[str, pd.DataFrame],
    design: dict,
    options: dict,
    resamples: dict | None = None,
) -> pd.DataFrame:
    """Every claim the experiment's tables allow, one row per claim and group.

    ``tables``: ``metrics`` and, where the experiment has them, ``geometry`` and ``similarity``.
    ``design``: ``factors`` (the factor columns), ``base`` (each varied factor → its base
    value, as written in the tables) and, for vectors datasets, ``dataset_spaces`` (dataset →
    the space of its latents). ``options``: ``confidence`` and ``similarity_metrics``.
    ``resamples``: (metric, layer) → run (tuple of its factor values) → test-set resamples.
    """
    factors, base = design["factors"], design["base"]
    groups = [f for f in factors if f not in (*GROUP_COLUMNS_EXCLUDED, *base)]
    rows = []

    def add(group: dict, claim, effect, seeds, description=None):
        row = assess(claim, effect, seeds, options["confidence"])
        rows.append(group | dict.fromkeys(DESCRIPTION_COLUMNS, "") | (description or {}) | row)

    metrics = base_rows(tables["metrics"], base, free=("strength",))
    for key, group_metrics in metrics.groupby(groups, sort=True):
        group = dict(zip(groups, key, strict=True))
        group_resamples = resamples_of_group(resamples, group, factors)
        for claim, effect, seeds in cosentino_claims(group_metrics, group_resamples):
            add(group, claim, effect, seeds)
    if "geometry" in tables:
        geometry = base_rows(tables["geometry"], base, free=("strength",))
        for key, group_geometry in geometry.groupby(groups, sort=True):
            for claim, effect, seeds in geometry_claims(group_geometry):
                add(dict(zip(groups, key, strict=True)), claim, effect, seeds)
    if "resampled_latents" in factors:
        geometry = tables.get("geometry")
        by_group = [g for g in groups if g != "resampled_latents"]
        for group, group_metrics in grouped(metrics.dropna(subset="resampled_latents"), by_group):
            group_geometry = None if geometry is None else select(geometry, group)
            for claim, effect, seeds, where in latent_view_claims(group_metrics, group_geometry):
                add(group, claim, effect, seeds, where)
    spaces = design.get("dataset_spaces", {})
    if spaces:
        by_group = [g for g in groups if g != "dataset"]
        for group, group_metrics in grouped(metrics[metrics["dataset"].isin(spaces)], by_group):
            for claim, effect, seeds, where in vectors_claims(group_metrics, spaces):
                add(group, claim, effect, seeds, where)
    if "similarity" in tables:
        similarity = tables["similarity"]
        for key, pairs in similarity.groupby([f"{g}_a" for g in groups], sort=True):
            group = dict(zip(groups, key, strict=True))
            for claim, effect, seeds, description in identifiability_claims(
                pairs, base, options["similarity_metrics"]
            ):
                add(group, claim, effect, seeds, description)
        for factor in crossed_factors(similarity, groups):
            shared = [g for g in groups if g != factor]
            for group, pairs in grouped_pairs(within(similarity, shared, base), shared):
                for claim, effect, seeds, description in crossed_factor_claims(
                    pairs, factor, options["similarity_metrics"]
                ):
                    add(group | {factor: ALL_VALUES}, claim, effect, seeds, description)
    return pd.DataFrame(rows, columns=[*groups, *DESCRIPTION_COLUMNS, *CLAIM_COLUMNS])


def grouped_pairs(pairs: pd.DataFrame, columns: list[str]) -> Iterator[tuple[dict, pd.DataFrame]]:
    """:func:`grouped` by run a's ``columns`` (pairs that share them)."""
    for group, rows in grouped(pairs, [f"{column}_a" for column in columns]):
        yield {column.removesuffix("_a"): value for column, value in group.items()}, rows


def grouped(table: pd.DataFrame, columns: list[str]) -> Iterator[tuple[dict, pd.DataFrame]]:
    """(column → value, rows) of each group of ``table`` by ``columns`` (one group if none)."""
    if not columns:
        yield {}, table
        return
    for key, rows in table.groupby(columns, sort=True):
        yield dict(zip(columns, key, strict=True)), rows


def select(table: pd.DataFrame, group: dict) -> pd.DataFrame:
    """The rows of ``table`` in ``group`` (column → value)."""
    keep = np.ones(len(table), dtype=bool)
    for column, value in group.items():
        keep &= (table[column] == value).to_numpy()
    return table[keep]


def resamples_of_group(resamples: dict | None, group: dict, factors: list[str]) -> dict | None:
    """The group's runs' resamples keyed (seed, strength) instead of by all factor values."""
    if resamples is None:
        return None
    position = {factor: index for index, factor in enumerate(factors)}
    selected = {}
    for name, by_run in resamples.items():
        selected[name] = {
            (run[position["seed"]], run[position["strength"]]): values
            for run, values in by_run.items()
            if all(run[position[f]] == v for f, v in group.items())
        }
    return selected


def write_claims(
    tables: dict[str, pd.DataFrame],
    embeddings_paths: list[str],
    run_factors: list[dict],
    design: dict,
    options: dict,
    csv_path: str,
    markdown_path: str,
    log=print,
) -> pd.DataFrame:
    """Compute the claims (with the test-set resamples of every run) and write both files."""
    started = time.perf_counter()
    resamples = test_set_resamples(
        tables["metrics"],
        run_factors,
        embeddings_paths,
        design["factors"],
        options["n_resamples"],
        options["seed"],
    )
    log(
        f"{options['n_resamples']} test-set resamples of {len(run_factors)} runs in "
        f"{time.perf_counter() - started:.1f} s"
    )
    claims = claim_rows(tables, design, options, resamples)
    claims.to_csv(csv_path, index=False)
    Path(markdown_path).write_text(claims_markdown(claims))
    for row in claims.itertuples(index=False):
        log(
            f"{row.claim:>4s} {row.verdict:<13s} {row.estimate:+.4g} [{row.ci_low:.4g}, "
            f"{row.ci_high:.4g}]  {row.statement}"
        )
    log(f"{len(claims)} claims in {time.perf_counter() - started:.1f} s")
    return claims


# --- Markdown ----------------------------------------------------------------------------------


def format_number(value: float) -> str:
    return "—" if not np.isfinite(value) else f"{value:.3g}"


def claims_markdown(claims: pd.DataFrame) -> str:
    """The claims as a readable Markdown table, with the decision rule above it."""
    groups = [c for c in claims.columns if c not in (*DESCRIPTION_COLUMNS, *CLAIM_COLUMNS)]
    confidence = ", ".join(f"{c:.0%}" for c in sorted(set(claims["confidence"])))
    lines = [
        f"Verdicts at {confidence} confidence: *supported* when the whole interval lies on "
        "the predicted side of 0, *contradicted* when it lies on the other side, *inconclusive* "
        "otherwise. Interval: estimate ± t(n_seeds − 1) · √(se_seed² + se_test²).",
        "",
        "| claim | "
        + " | ".join(groups)
        + " | statement | estimate [interval] | seeds | verdict |",
        "| --- | " + " | ".join("---" for _ in groups) + " | --- | --- | --- | --- |",
    ]
    for row in claims.itertuples(index=False):
        values = row._asdict()
        interval = f"{format_number(row.estimate)} [{format_number(row.ci_low)}, "
        interval += f"{format_number(row.ci_high)}]"
        cells = [row.claim, *(str(values[g]) for g in groups), row.statement, interval]
        lines.append("| " + " | ".join([*cells, str(row.n_seeds), f"**{row.verdict}**"]) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description="Print an experiment's claims.csv as Markdown.")
    parser.add_argument("claims_csv")
    args = parser.parse_args()
    print(claims_markdown(pd.read_csv(args.claims_csv)), end="")


if __name__ == "__main__":
    main()
