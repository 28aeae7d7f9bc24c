"""The claims of one experiment, computed from its tables (each family only where the
experiment has its inputs), one row per claim and group of runs (dataset, method and any other
grid factor but strength and seed; the controls compare across resampled latents and
datasets), written to claims.csv and claims.md."""

import time
from pathlib import Path

import numpy as np
import pandas as pd

from sslgeom.claims.controls import (
    content_style_claims,
    content_style_geometry_claims,
    latent_view_claims,
    similarity_claims,
    vectors_claims,
)
from sslgeom.claims.geometry import geometry_claims
from sslgeom.claims.identifiability import (
    crossed_factor_claims,
    identifiability_claims,
    within,
)
from sslgeom.claims.multiplicity import MULTIPLICITY_COLUMNS, with_multiplicity
from sslgeom.claims.resampling import test_set_resamples
from sslgeom.claims.rule import (
    CLAIM_COLUMNS,
    MAX_SEEDS,
    assess,
)
from sslgeom.claims.strength import cosentino_claims
from sslgeom.claims.values import (
    grouped,
    grouped_pairs,
    select,
)
from sslgeom.config.experiments import Design

GROUP_COLUMNS_EXCLUDED = ("strength", "seed")


DESCRIPTION_COLUMNS = ["factor", "layer", "metric"]
RESULT_COLUMNS = [*CLAIM_COLUMNS, "runs_needed", *MULTIPLICITY_COLUMNS]


ALL_VALUES = "all"  # the group column of the factor that an I3 claim compares across


def claim_rows(
    tables: dict[str, pd.DataFrame],
    design: Design,
    options: dict,
    resamples: dict | None = None,
    dataset_spaces: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Every claim the experiment's tables allow, one row per claim and group.

    ``tables``: ``metrics`` and, where the experiment has them, ``geometry`` and ``similarity``.
    ``design``: the experiment's factors, the base value of each varied factor and its crossed
    grid factors. ``options``: ``confidence`` and ``similarity_metrics``. ``resamples``:
    (metric, layer) → run (tuple of its factor values) → test-set resamples.
    ``dataset_spaces``: the space of the latents of each vectors dataset.
    """
    factors = design.factors
    groups = [f for f in factors if f not in (*GROUP_COLUMNS_EXCLUDED, *design.base)]
    at_base_but_strength = [f for f in design.base if f != "strength"]
    rows = []

    def add(group: dict, claim, effect, seeds, description=None):
        row = assess(claim, effect, seeds, options["confidence"])
        rows.append(group | dict.fromkeys(DESCRIPTION_COLUMNS, "") | (description or {}) | row)

    metrics = design.at_base(tables["metrics"], at_base_but_strength)
    base = design.base_values(tables["metrics"], at_base_but_strength)
    for key, group_metrics in metrics.groupby(groups, sort=True):
        group = dict(zip(groups, key, strict=True))
        group_resamples = resamples_of_group(resamples, group | base, factors)
        for claim, effect, seeds in cosentino_claims(group_metrics, group_resamples):
            add(group, claim, effect, seeds)
    if "geometry" in tables:
        geometry = design.at_base(tables["geometry"], at_base_but_strength)
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
    spaces = dataset_spaces or {}
    if spaces:
        by_group = [g for g in groups if g != "dataset"]
        for group, group_metrics in grouped(metrics[metrics["dataset"].isin(spaces)], by_group):
            for claim, effect, seeds, where in vectors_claims(group_metrics, spaces):
                add(group, claim, effect, seeds, where)
        normal = [name for name, space in spaces.items() if space == "normal"]
        for group, group_metrics in grouped(metrics[metrics["dataset"].isin(normal)], groups):
            for claim, effect, seeds, where in content_style_claims(group_metrics):
                add(group, claim, effect, seeds, where)
        if "geometry" in tables:
            geometry = tables["geometry"]
            on_normal = geometry[geometry["dataset"].isin(normal)]
            for group, group_geometry in grouped(on_normal, groups):
                for claim, effect, seeds, where in content_style_geometry_claims(group_geometry):
                    add(group, claim, effect, seeds, where)
    if "similarity" in design.base:
        for group, group_metrics in grouped(tables["metrics"], groups):
            for claim, effect, seeds, where in similarity_claims(group_metrics):
                add(group, claim, effect, seeds, where)
    if "similarity" in tables:
        similarity = tables["similarity"]
        for key, pairs in similarity.groupby([f"{g}_a" for g in groups], sort=True):
            group = dict(zip(groups, key, strict=True))
            for claim, effect, seeds, description in identifiability_claims(
                pairs, design, options["similarity_metrics"]
            ):
                add(group, claim, effect, seeds, description)
        # runs on different data are not compared
        for factor in [g for g in groups if g in design.crossed and g != "dataset"]:
            shared = [g for g in groups if g != factor]
            for group, pairs in grouped_pairs(within(similarity, shared, design), shared):
                for claim, effect, seeds, description in crossed_factor_claims(
                    pairs, factor, options["similarity_metrics"]
                ):
                    add(group | {factor: ALL_VALUES}, claim, effect, seeds, description)
    claims = pd.DataFrame(rows, columns=[*groups, *DESCRIPTION_COLUMNS, *CLAIM_COLUMNS])
    claims["runs_needed"] = np.ceil(claims["seeds_needed"] * runs_per_seed(tables, factors))
    return with_multiplicity(claims)


def runs_per_seed(tables: dict[str, pd.DataFrame], factors: list[str]) -> float:
    """The experiment's runs per seed (from its metrics table): what one more seed costs."""
    runs = tables["metrics"][factors].drop_duplicates()
    return len(runs) / runs["seed"].nunique()


def resamples_of_group(resamples: dict | None, setting: dict, factors: list[str]) -> dict | None:
    """The resamples of the runs whose factors take the values of ``setting`` (the group's,
    and the base value of each varied factor: the runs whose values the claims read), keyed
    (seed, strength) as those values are; ValueError if two of them share a key."""
    if resamples is None:
        return None
    position = {factor: index for index, factor in enumerate(factors)}
    selected = {}
    for name, by_run in resamples.items():
        selected[name] = {}
        for run, values in by_run.items():
            if not all(run[position[f]] == v for f, v in setting.items()):
                continue
            key = (run[position["seed"]], run[position["strength"]])
            if key in selected[name]:
                raise ValueError(
                    f"two runs of the setting {setting} at (seed, strength) {key}: their "
                    f"factors {factors} must tell them apart"
                )
            selected[name][key] = values
    return selected


def write_claims(
    tables: dict[str, pd.DataFrame],
    embeddings_paths: list[str],
    correct_paths: list[str],
    run_factors: list[dict],
    design: Design,
    options: dict,
    csv_path: str,
    markdown_path: str,
    dataset_spaces: dict[str, str] | None = None,
    log=print,
) -> pd.DataFrame:
    """Compute the claims (with the test-set resamples of every run, from its embeddings and
    per-image correctness) and write both files."""
    started = time.perf_counter()
    resamples = test_set_resamples(
        run_factors,
        embeddings_paths,
        correct_paths,
        design.factors,
        options["n_resamples"],
        options["seed"],
    )
    log(
        f"{options['n_resamples']} test-set resamples of {len(run_factors)} runs in "
        f"{time.perf_counter() - started:.1f} s"
    )
    claims = claim_rows(tables, design, options, resamples, dataset_spaces)
    claims.to_csv(csv_path, index=False)
    Path(markdown_path).write_text(claims_markdown(claims))
    for row in claims.itertuples(index=False):
        log(
            f"{row.claim:>4s} {row.verdict:<13s} {row.estimate:+.4g} [{row.ci_low:.4g}, "
            f"{row.ci_high:.4g}]  {row.statement}"
        )
    log(f"{len(claims)} claims in {time.perf_counter() - started:.1f} s")
    return claims


def format_number(value: float) -> str:
    return "—" if not np.isfinite(value) else f"{value:.3g}"


def format_seeds_needed(seeds: float, runs: float) -> str:
    """How many seeds (and runs of the experiment) would decide an inconclusive claim."""
    return "—" if not np.isfinite(seeds) else f"{seeds:.0f} ({runs:.0f} runs)"


def claims_markdown(claims: pd.DataFrame) -> str:
    """The claims as a readable Markdown table: the decision rule above it, the source of each
    claim's prediction below."""
    groups = [c for c in claims.columns if c not in (*DESCRIPTION_COLUMNS, *RESULT_COLUMNS)]
    confidence = ", ".join(f"{c:.0%}" for c in sorted(set(claims["confidence"])))
    lines = [
        f"Verdicts at {confidence} confidence: for a claim with a predicted sign, *supported* "
        "when the whole interval lies on the predicted side of 0, *contradicted* when it lies on "
        "the other side; for a two-sided claim, *supported* when it excludes 0; *inconclusive* "
        "otherwise. Interval: estimate ± t(dof) · √(se_seed² + se_test²), dof by "
        "Welch–Satterthwaite; p: the two-sided p-value of the same t. Holm: the verdict that "
        "stands after Holm's adjustment over the claims of its id in this experiment (family-wise "
        "error 1 − confidence; m: their number); q: the Benjamini–Hochberg q-value in that "
        "family. Seeds needed: for an inconclusive claim, the fewest seeds at which its estimate "
        "would reach a verdict at the seeds' observed spread (— where none up to "
        f"{MAX_SEEDS} would), and the runs of this experiment at that many seeds.",
        "",
        "| claim | "
        + " | ".join(groups)
        + " | statement | predicted | estimate [interval] | p | seeds | verdict | Holm (m) | q "
        "| seeds needed |",
        "| --- | " + " | ".join("---" for _ in groups) + " |" + " --- |" * 9,
    ]
    for row in claims.itertuples(index=False):
        values = row._asdict()
        interval = f"{format_number(row.estimate)} [{format_number(row.ci_low)}, "
        interval += f"{format_number(row.ci_high)}]"
        cells = [
            row.claim,
            *(str(values[g]) for g in groups),
            row.statement,
            row.predicted,
            interval,
            format_number(row.p_value),
            str(row.n_seeds),
            f"**{row.verdict}**",
            f"{row.verdict_holm} ({row.family_size})",
            format_number(row.q_bh),
            format_seeds_needed(row.seeds_needed, row.runs_needed),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    sources = claims.drop_duplicates("claim")[["claim", "predicted", "source"]]
    lines += ["", "Predictions and their sources:", ""]
    lines += [f"- {r.claim}: {r.predicted}, {r.source}" for r in sources.itertuples()]
    return "\n".join(lines) + "\n"
