"""Figure tables: the numbers that the figures draw, computed from the experiment's tables.

The ``figure_table`` rule writes ``results/{exp}/figure_data/{name}.csv`` with the function of
that name, called on the collected table it derives from and the experiment's design
(:class:`~sslgeom.config.experiments.Design`: its factor columns, the base value of each
factor it varies one at a time, and the grid factors crossed with the rest); the figure jobs
then only read them and draw (:mod:`sslgeom.figures`). Seeds are summarised as their mean, std
(``ddof=0``, so a single seed gives zero width) and count ``n``.

A crossed factor has no base: the run labels name its value and the seed-pair baseline takes
all of them; the figures of one base setting (latent recovery, convergence) take its first
value and name it.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sslgeom.analyses.geometry import LATENT_FAMILY_PREFIX
from sslgeom.config.experiments import PIPELINE_MODEL, Design
from sslgeom.data.shapes import CONTENT_LATENTS, STYLE_LATENTS
from sslgeom.data.vectors import is_style_name
from sslgeom.io.artifacts import load_npz, rebuild_hint, save_npz_atomically
from sslgeom.metrics.similarity import NULL_SUMMARY_COLUMNS

GROUPING_FACTORS = ("dataset", "method")
"""Factors that group the runs of an identifiability experiment rather than vary around a base."""
PAIR_KINDS = ("seed only, untrained", "seed only", "factor only", "factor + seed")
"""The kinds of run pairs of :func:`similarity_by_pair_kind`, in the order they are drawn."""


# --------------------------------------------------------------------------- summaries


def population_std(values: pd.Series) -> float:
    return values.std(ddof=0)


def summarise(
    table: pd.DataFrame, by: Sequence[str], value: str = "value", **extra
) -> pd.DataFrame:
    """Mean, std (``ddof=0``) and count ``n`` of ``value`` per ``by`` group, plus the named
    aggregations ``extra`` (``name=(column, function)``, as in pandas' ``agg``)."""
    grouped = table.groupby(list(by), sort=True, dropna=False)
    summary = grouped.agg(
        mean=(value, "mean"), std=(value, population_std), n=(value, "count"), **extra
    )
    return summary.reset_index()


def over_seeds(
    table: pd.DataFrame, factors: Sequence[str], index: Sequence[str], value: str = "value"
) -> pd.DataFrame:
    """:func:`summarise` over seeds: one row per setting (the factors but the seed) and
    ``index`` value."""
    settings = [factor for factor in factors if factor != "seed" and factor in table]
    return summarise(table, [*settings, *index], value)


# --------------------------------------------------------------------------- core and geometry


def metrics_summary(metrics: pd.DataFrame, design: Design) -> pd.DataFrame:
    """Every metric of every layer over seeds."""
    return over_seeds(metrics, design.factors, ["layer", "metric"])


def geometry_summary(geometry: pd.DataFrame, design: Design) -> pd.DataFrame:
    """Every geometry metric of every tangent family over seeds; the single style latents'
    families are drawn by the controls figures (:func:`latent_tangent_summary`)."""
    families = geometry[~geometry["family"].str.startswith(LATENT_FAMILY_PREFIX)]
    return over_seeds(families, design.factors, ["family", "metric"])


def jacobian_spectrum_summary(spectrum: pd.DataFrame, design: Design) -> pd.DataFrame:
    """The projector Jacobian's singular values over seeds, as they are."""
    return over_seeds(spectrum, design.factors, ["index"])


def train_loss_summary(train_log: pd.DataFrame, design: Design) -> pd.DataFrame:
    """The training loss of every epoch over seeds."""
    return over_seeds(train_log, design.factors, ["epoch"], value="loss")


def normalised_spectra(spectra: pd.DataFrame, factors: Sequence[str]) -> pd.DataFrame:
    """Each run's singular values σ_i (per layer) replaced by its explained-variance fractions
    σ_i² / Σ_j σ_j²."""
    run_columns = [*(factor for factor in factors if factor in spectra), "layer"]
    squared = spectra["value"].astype(float) ** 2
    totals = squared.groupby([spectra[c] for c in run_columns], dropna=False).transform("sum")
    return spectra.assign(value=squared / totals)


def normalised_spectra_summary(spectra: pd.DataFrame, design: Design) -> pd.DataFrame:
    """The explained-variance fractions (:func:`normalised_spectra`) over seeds."""
    return over_seeds(
        normalised_spectra(spectra, design.factors), design.factors, ["layer", "index"]
    )


def probe_gap_and_projector_rank(metrics: pd.DataFrame, factors: Sequence[str]) -> pd.DataFrame:
    """Per run: the encoder − projector linear-probe accuracy gap (``quantity`` ``probe_gap``)
    and the projector output's RankMe (``rankme``), as tidy ``quantity``/``value`` rows."""
    run_columns = [factor for factor in factors if factor in metrics]
    probe = metrics[metrics["metric"] == "probe_acc"]
    accuracy = probe.set_index([*run_columns, "layer"])["value"].unstack("layer")
    accuracy = accuracy.reindex(columns=["encoder", "projector"])
    gap = (accuracy["encoder"] - accuracy["projector"]).dropna().rename("value").reset_index()
    rank = metrics[(metrics["metric"] == "rankme") & (metrics["layer"] == "projector")]
    return pd.concat(
        [gap.assign(quantity="probe_gap"), rank[[*run_columns, "value"]].assign(quantity="rankme")],
        ignore_index=True,
    )


def projector_size(metrics: pd.DataFrame, design: Design) -> pd.DataFrame:
    """Each run's probe gap and projector RankMe (:func:`probe_gap_and_projector_rank`) over
    seeds: the gap is taken per run, before averaging."""
    return over_seeds(
        probe_gap_and_projector_rank(metrics, design.factors), design.factors, ["quantity"]
    )


# --------------------------------------------------------------------------- identifiability


def at_base(table: pd.DataFrame, design: Design, free: Sequence[str]) -> pd.DataFrame:
    """The rows whose factors other than ``free`` all take their base setting
    (:meth:`Design.base_values`), with the column ``base_setting`` naming the values so fixed
    where the table held others ("backbone = mlp"; empty where none)."""
    fixed = [factor for factor in design.factors if factor not in free and factor in table]
    if table.empty or not fixed:
        return table.assign(base_setting="")
    base = design.base_values(table, fixed)
    varied = [factor for factor in fixed if table[factor].nunique() > 1]
    kept = design.at_base(table, fixed)
    return kept.assign(base_setting=", ".join(f"{f} = {base[f]}" for f in varied))


def run_labels(similarity: pd.DataFrame, design: Design) -> pd.DataFrame:
    """One row per run of the pairs: its id, factor values, a short label of what sets it apart
    (each crossed factor's value, and each varied factor's value other than its base) and its
    ``variant`` (the label but the seed), sorted by dataset, variant and seed."""
    factors = design.factors
    halves = []
    for side in ("a", "b"):
        columns = {f"run_{side}": "run", **{f"{f}_{side}": f for f in factors}}
        halves.append(similarity[list(columns)].rename(columns=columns))
    runs = pd.concat(halves).drop_duplicates("run")
    varied = [f for f in factors if f not in (*GROUPING_FACTORS, "seed") and runs[f].nunique() > 1]
    base = design.base_values(runs, varied)

    def label(row) -> str:
        changed = [f"{f}={row[f]}" for f in varied if f in design.crossed or row[f] != base[f]]
        trained_here = row.get("model", PIPELINE_MODEL) == PIPELINE_MODEL
        method = [row["method"]] if trained_here else []  # not a setting of an external model
        return " ".join([*method, *(changed or ["base"]), f"s{row['seed']}"])

    labels = [label(row) for _, row in runs.iterrows()]
    runs = runs.assign(label=labels, variant=[name.rsplit(" ", 1)[0] for name in labels])
    return runs.sort_values(["dataset", "variant", "seed"]).reset_index(drop=True)


def labelled_similarity(similarity: pd.DataFrame, design: Design) -> pd.DataFrame:
    """Every run pair's similarity with both runs' labels (:func:`run_labels`) and positions in
    label order (``label_a``, ``position_a``, ...), and the mean over the pairs of each metric
    and layer of their permutation null (``mean_null``) and untrained value
    (``mean_untrained``)."""
    runs = run_labels(similarity, design).rename_axis("position").reset_index()
    runs = runs.set_index("run")
    panels = similarity.groupby(["metric", "layer"])
    return similarity[["metric", "layer", "run_a", "run_b", "value"]].assign(
        **{
            f"{name}_{side}": similarity[f"run_{side}"].map(runs[name])
            for side in ("a", "b")
            for name in ("label", "position")
        },
        mean_null=panels["null_mean"].transform("mean"),
        mean_untrained=panels["untrained"].transform("mean"),
    )


def with_mean_linear_r2(similarity: pd.DataFrame) -> pd.DataFrame:
    """Add ``linear_r2`` rows: the mean of the two directions' identifiability R² (and of
    their untrained values); the directions' nulls do not average into one, so it has none."""
    directions = similarity[similarity["metric"].isin(["linear_r2_ab", "linear_r2_ba"])]
    averaged = ["value", "untrained"]
    dropped = ("metric", *averaged, *NULL_SUMMARY_COLUMNS)
    keys = [c for c in similarity.columns if c not in dropped]
    mean = directions.groupby(keys, sort=False, dropna=False)[averaged].mean()
    return pd.concat([similarity, mean.reset_index().assign(metric="linear_r2")])


def base_seed_pairs(similarity: pd.DataFrame, design: Design) -> pd.Series:
    """Which rows compare two runs of the base setting that differ only in their seed: the
    baseline of every factor (a grouping or crossed factor, such as the method, may take any
    value)."""
    seed_only = similarity["differs_in"] == "seed"
    grouping = (*GROUPING_FACTORS, "seed", *design.crossed)
    fixed = [f for f in design.factors if f not in grouping and f"{f}_a" in similarity]
    base = design.base_values(run_labels(similarity, design), fixed)
    at_base_setting = [similarity[f"{factor}_a"] == value for factor, value in base.items()]
    return np.logical_and.reduce([seed_only, *at_base_setting])


def factor_pair_kinds(
    similarity: pd.DataFrame, factor: str, design: Design
) -> dict[str, pd.DataFrame]:
    """The rows of each of :data:`PAIR_KINDS`: the base setting's seed pairs before training
    (their ``untrained`` column as the value, without a null) and after, and the pairs that
    differ in ``factor`` only and in both ``factor`` and the seed."""
    differs = similarity["differs_in"]
    base_seeds = similarity[base_seed_pairs(similarity, design)]
    both = {f"{factor}+seed", f"seed+{factor}"}
    kinds = (
        base_seeds.assign(value=base_seeds["untrained"], null_q95=np.nan),
        base_seeds,
        similarity[differs == factor],
        similarity[differs.isin(both)],
    )
    return dict(zip(PAIR_KINDS, kinds, strict=True))


def similarity_by_pair_kind(similarity: pd.DataFrame, design: Design) -> pd.DataFrame:
    """For each factor in which some run pairs differ alone, each kind of pair
    (:func:`factor_pair_kinds`, ``pair_kind``), metric and layer: the mean, std and count of the
    pairs' similarity and the mean 95th percentile of their permutation nulls
    (``mean_null_q95``). ``linear_r2`` is the mean of both directions (:func:`with_mean_linear_r2`).
    """
    varied = [f for f in design.factors if f != "seed" and (similarity["differs_in"] == f).any()]
    table = with_mean_linear_r2(similarity)
    kinds = [
        rows.assign(factor=factor, pair_kind=kind)
        for factor in varied
        for kind, rows in factor_pair_kinds(table, factor, design).items()
    ]
    pairs = pd.concat(kinds) if kinds else table.iloc[:0].assign(factor="", pair_kind="")
    keys = ["factor", "pair_kind", "metric", "layer"]
    return summarise(pairs, keys, mean_null_q95=("null_q95", "mean"))


def setting_similarity(similarity: pd.DataFrame, design: Design) -> pd.DataFrame:
    """Which settings converge to the same representation: for each unordered pair of settings
    (a setting is a run's ``variant`` of :func:`run_labels`: its method and what it changes
    from the base; a setting paired with itself means its seed pairs), metric and layer, the
    mean, std and count of its run pairs' similarity, of their untrained similarity
    (``mean_untrained``), the mean 95th percentile of their permutation nulls
    (``mean_null_q95``) and the share of pairs whose p-value is at most 0.05
    (``share_above_null``; empty for the mean ``linear_r2``, which has no null). ``position_a``
    ≤ ``position_b`` place the settings in :func:`run_labels` order."""
    runs = run_labels(similarity, design)
    variants = runs.drop_duplicates("variant")["variant"].tolist()
    position = pd.Series(range(len(variants)), index=variants)
    variant_of = runs.set_index("run")["variant"]
    table = with_mean_linear_r2(similarity)
    sides = np.sort(
        np.stack([table[f"run_{side}"].map(variant_of).map(position) for side in "ab"]), axis=0
    )
    table = table.assign(
        position_a=sides[0],
        position_b=sides[1],
        significant=(table["p_value"] <= 0.05).astype(float).where(table["p_value"].notna()),
    )
    summary = summarise(
        table,
        ["position_a", "position_b", "metric", "layer"],
        mean_untrained=("untrained", "mean"),
        mean_null_q95=("null_q95", "mean"),
        share_above_null=("significant", "mean"),
    )
    return summary.assign(
        setting_a=summary["position_a"].map(dict(enumerate(variants))),
        setting_b=summary["position_b"].map(dict(enumerate(variants))),
    )


def latent_group_scores(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per run and layer: mean linear and kernel R² of the content and the style latents, and
    the MCC of the continuous latents, which on ``shapes`` are the style latents."""
    scores = []
    for group, latents in (("content", CONTENT_LATENTS), ("style", STYLE_LATENTS)):
        for score, prefix in (("linear R²", "latent_r2_"), ("kernel R²", "latent_r2_kernel_")):
            names = [f"{prefix}{latent}" for latent in latents]
            scores.append(metrics[metrics["metric"].isin(names)].assign(score=score, group=group))
    scores.append(metrics[metrics["metric"] == "mcc"].assign(score="MCC", group="style"))
    table = pd.concat(scores)
    keys = [c for c in table.columns if c not in ("metric", "value")]
    return table.groupby(keys, sort=False, dropna=False)["value"].mean().reset_index()


def latent_recovery(metrics: pd.DataFrame, design: Design) -> pd.DataFrame:
    """The latent group scores (:func:`latent_group_scores`) over seeds, of the runs whose
    factors other than the method and the strength take their base value."""
    runs = at_base(metrics, design, free=("method", "strength", "seed"))
    return over_seeds(
        latent_group_scores(runs), design.factors, ["layer", "score", "group", "base_setting"]
    )


def convergence_summary(convergence: pd.DataFrame, design: Design) -> pd.DataFrame:
    """Each snapshot's similarity to its run's final model and across seeds, over runs and seed
    pairs, of the runs whose factors other than the method take their base value; with the
    mean 95th percentile of the permutation nulls of each metric and layer
    (``mean_null_q95``)."""
    table = at_base(convergence, design, free=("method", "seed"))
    index = ["metric", "layer", "comparison", "epoch", "base_setting"]
    summary = over_seeds(table, design.factors, index)
    null = table.groupby(["metric", "layer"])["null_q95"].mean().rename("mean_null_q95")
    return summary.join(null, on=["metric", "layer"])


# --------------------------------------------------------------------------- controls

CLASS_ACCURACY = "class accuracy"
"""The ``quantity`` of the linear-probe class accuracy in :func:`controls_latent_recovery`."""


def resampled_by_views(table: pd.DataFrame, quantities: pd.Series) -> pd.Series:
    """Whether each row's latent (``quantities``) is one its runs' views change: named in the
    ``resampled_latents`` factor column (shapes), or a style latent of content/style vectors."""
    if "resampled_latents" in table:
        resampled = table["resampled_latents"].fillna("").astype(str).str.split("-")
    else:
        resampled = pd.Series([[]] * len(table), index=table.index)
    return pd.Series(
        [
            quantity in names or is_style_name(str(quantity))
            for quantity, names in zip(quantities, resampled, strict=True)
        ],
        index=table.index,
    )


def controls_latent_recovery(metrics: pd.DataFrame, design: Design) -> pd.DataFrame:
    """Per setting and layer, over seeds: the linear-probe class accuracy and the held-out
    linear R² of each generating latent (``quantity``: ``class accuracy`` or the latent's name),
    with ``resampled``: whether the setting's latent views draw that latent anew."""
    latent = metrics["metric"].str.fullmatch(r"latent_r2_(?!kernel_).+")
    rows = metrics[latent | (metrics["metric"] == "probe_acc")]
    quantity = rows["metric"].str.removeprefix("latent_r2_").replace("probe_acc", CLASS_ACCURACY)
    summary = over_seeds(rows.assign(quantity=quantity), design.factors, ["layer", "quantity"])
    return summary.assign(resampled=resampled_by_views(summary, summary["quantity"]))


def controls_tangent_sensitivity(geometry: pd.DataFrame, design: Design) -> pd.DataFrame:
    """Per setting, over seeds: how much the projector keeps each latent's tangent,
    ρ(latent) − ρ(random directions in the data span) and − ρ(random directions), and its
    redraws, log10 of the step sensitivity (``metric``), with ``latent`` and ``resampled``
    (whether the setting's views change it)."""
    single = geometry[geometry["family"].str.startswith(LATENT_FAMILY_PREFIX)]
    steps = single[single["metric"] == "step_sensitivity"]
    steps = steps.assign(metric="log10_step_sensitivity", value=np.log10(steps["value"]))
    local = single[single["metric"].str.startswith("sensitivity_minus_")]
    rows = pd.concat([local, steps])
    rows = rows.assign(latent=rows["family"].str.removeprefix(LATENT_FAMILY_PREFIX))
    summary = over_seeds(rows, design.factors, ["latent", "metric"])
    return summary.assign(resampled=resampled_by_views(summary, summary["latent"]))


# --------------------------------------------------------------------------- augmentations


def save_augmentation_examples(
    examples: Mapping[str, Mapping[float, np.ndarray]], path: str | Path
) -> None:
    """Write ``examples[dataset][strength]`` (uint8 views ``(n_images, n_views, H, W, 3)``) as
    an npz: per dataset its strengths and its views at each of them, stacked."""
    arrays = {}
    for dataset, views in examples.items():
        strengths = sorted(views)
        arrays[f"{dataset}/strengths"] = np.array(strengths)
        arrays[f"{dataset}/views"] = np.stack([views[strength] for strength in strengths])
    save_npz_atomically(arrays, path)


def load_augmentation_examples(path: str | Path) -> dict[str, dict[float, np.ndarray]]:
    """The ``examples[dataset][strength]`` written by :func:`save_augmentation_examples`."""
    arrays = load_npz(path, rebuild_hint("augmentation_examples", path))
    datasets = dict.fromkeys(key.split("/")[0] for key in arrays)
    return {
        dataset: dict(
            zip(arrays[f"{dataset}/strengths"].tolist(), arrays[f"{dataset}/views"], strict=True)
        )
        for dataset in datasets
    }
