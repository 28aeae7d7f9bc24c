"""Figures of the identifiability analysis: similarity between runs, latent recovery, convergence.

Same conventions as :mod:`sslgeom.plots` (tidy tables in, a Figure out, no pyplot state). The
experiments behind them vary factors one at a time around a base setting, so the base value of a
factor is the one most runs share (:func:`base_values`).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from sslgeom.data.shapes import CONTENT_LATENTS, STYLE_LATENTS
from sslgeom.plots import (
    add_figure_legend,
    layer_colours,
    make_grid,
    no_data_figure,
    seed_summary,
    sort_layers,
)

SIMILARITY_LABELS = {
    "linear_cka": "linear CKA",
    "debiased_cka": "debiased CKA",
    "mutual_knn": "mutual k-NN",
    "linear_r2": "linear R² (mean of both directions)",
}
HEATMAP_METRICS = ("debiased_cka", "mutual_knn")
GROUPING_FACTORS = ("dataset", "method")
NULL_STYLE = {"color": "0.55", "marker": "_", "ms": 9, "mew": 1.6, "ls": "none"}
# the null of a ridge map scored on shuffled rows sits near −R², not at a chance floor
NULL_COLUMNS = ("null_mean", "null_q95", "p_value")
METRICS_WITH_NULL_FLOOR = ("linear_cka", "debiased_cka", "mutual_knn")
METHOD_CMAP = "tab10"
PAIR_KINDS = ("seed only, untrained", "seed only", "{factor} only", "{factor} + seed")
PAIR_HATCHES = ("xx", "", "//", "..")


def base_values(table: pd.DataFrame, factors: Sequence[str]) -> dict:
    """The base value of each factor: the one most rows have (a star design's centre)."""
    return {factor: table[factor].mode().iloc[0] for factor in factors if factor in table}


def at_base(table: pd.DataFrame, factors: Sequence[str], free: Sequence[str]) -> pd.DataFrame:
    """The rows whose factors other than ``free`` all take their base value."""
    fixed = [factor for factor in factors if factor not in free and factor in table]
    base = base_values(table, fixed)
    keep = np.logical_and.reduce([table[factor] == base[factor] for factor in fixed])
    return table[keep] if fixed else table


def with_mean_linear_r2(similarity: pd.DataFrame) -> pd.DataFrame:
    """Add ``linear_r2`` rows: the mean of the two directions' identifiability R² (and of
    their untrained values); the directions' nulls do not average into one, so it has none."""
    directions = similarity[similarity["metric"].isin(["linear_r2_ab", "linear_r2_ba"])]
    averaged = ["value", "untrained"]
    dropped = ("metric", *averaged, *NULL_COLUMNS)
    keys = [c for c in similarity.columns if c not in dropped]
    mean = directions.groupby(keys, sort=False, dropna=False)[averaged].mean()
    return pd.concat([similarity, mean.reset_index().assign(metric="linear_r2")])


def method_colours(methods: Sequence[str]) -> dict[str, tuple]:
    cmap = matplotlib.colormaps[METHOD_CMAP]
    return {method: cmap(index) for index, method in enumerate(sorted(methods))}


def run_labels(similarity: pd.DataFrame, factors: Sequence[str]) -> pd.DataFrame:
    """One row per run: its id, factor values, and a short label of what sets it apart."""
    halves = []
    for side in ("a", "b"):
        columns = {f"run_{side}": "run", **{f"{f}_{side}": f for f in factors}}
        halves.append(similarity[list(columns)].rename(columns=columns))
    runs = pd.concat(halves).drop_duplicates("run")
    varied = [f for f in factors if f not in (*GROUPING_FACTORS, "seed") and runs[f].nunique() > 1]
    base = base_values(runs, varied)

    def label(row) -> str:
        changed = [f"{f}={row[f]}" for f in varied if row[f] != base[f]]
        return " ".join([row["method"], *(changed or ["base"]), f"s{row['seed']}"])

    runs["label"] = runs.apply(label, axis=1)
    runs["variant"] = runs["label"].str.rsplit(" ", n=1).str[0]
    return runs.sort_values(["dataset", "variant", "seed"]).reset_index(drop=True)


def similarity_matrix(rows: pd.DataFrame, order: Sequence[str]) -> np.ndarray:
    """Symmetric run × run matrix of ``value`` with ones on the diagonal."""
    position = {run: index for index, run in enumerate(order)}
    matrix = np.eye(len(order))
    for run_a, run_b, value in rows[["run_a", "run_b", "value"]].itertuples(index=False):
        matrix[position[run_a], position[run_b]] = matrix[position[run_b], position[run_a]] = value
    return matrix


def plot_similarity_heatmap(similarity: pd.DataFrame, factors: Sequence[str]) -> Figure:
    """Runs × runs similarity, one row per metric, one column per layer."""
    title = "Similarity between every pair of runs"
    if similarity.empty:
        return no_data_figure(title)
    runs = run_labels(similarity, factors)
    layers = sort_layers(similarity["layer"])
    fig, axes = make_grid(len(HEATMAP_METRICS), len(layers), legend=False)
    fig.set_size_inches(4.2 * len(layers) + 1.0, 4.0 * len(HEATMAP_METRICS) + 0.6)
    fontsize = max(2.5, min(7.0, 260 / len(runs)))
    for row, metric in enumerate(HEATMAP_METRICS):
        for column, layer in enumerate(layers):
            ax = axes[row, column]
            rows = similarity[(similarity["metric"] == metric) & (similarity["layer"] == layer)]
            image = ax.imshow(similarity_matrix(rows, runs["run"]), vmin=0, vmax=1, cmap="viridis")
            ticks = np.arange(len(runs))
            ax.set_xticks(ticks, runs["label"], rotation=90, fontsize=fontsize)
            ax.set_yticks(ticks, runs["label"] if column == 0 else [], fontsize=fontsize)
            null, untrained = rows["null_mean"].mean(), rows["untrained"].mean()
            ax.set_title(
                f"{layer}: {SIMILARITY_LABELS[metric]}\n"
                f"(null ≈ {null:.2f}, untrained ≈ {untrained:.2f})",
                fontsize=9,
            )
        fig.colorbar(image, ax=axes[row, :], shrink=0.8, label=SIMILARITY_LABELS[metric])
    fig.suptitle(f"{title}\nruns grouped by method and variant, then seed")
    return fig


def base_seed_pairs(similarity: pd.DataFrame, factors: Sequence[str]) -> pd.Series:
    """Which rows compare two runs of the base setting that differ only in their seed: the
    baseline of every factor (a grouping factor such as the method may take any value)."""
    seed_only = similarity["differs_in"] == "seed"
    fixed = [f for f in factors if f not in (*GROUPING_FACTORS, "seed") and f"{f}_a" in similarity]
    runs = run_labels(similarity, factors)
    base = base_values(runs, fixed)
    at_base = [similarity[f"{factor}_a"] == base[factor] for factor in fixed]
    return np.logical_and.reduce([seed_only, *at_base])


def factor_pair_kinds(
    similarity: pd.DataFrame, factor: str, factors: Sequence[str]
) -> dict[str, pd.DataFrame]:
    """The base setting's seed pairs before training (their ``untrained`` column as the
    value) and after, and the pairs that differ in ``factor`` only and in both."""
    differs = similarity["differs_in"]
    base_seeds = similarity[base_seed_pairs(similarity, factors)]
    both = {f"{factor}+seed", f"seed+{factor}"}
    kinds = (
        base_seeds.assign(value=base_seeds["untrained"], null_q95=np.nan),
        base_seeds,
        similarity[differs == factor],
        similarity[differs.isin(both)],
    )
    return {
        template.format(factor=factor): kind
        for template, kind in zip(PAIR_KINDS, kinds, strict=True)
    }


def plot_similarity_vs_factor(similarity: pd.DataFrame, factors: Sequence[str]) -> Figure:
    """How much changing each factor moves the runs apart, against the seed-only baseline.

    One panel per (metric, varied factor): bars of the mean similarity, for each layer, of the
    base setting's seed pairs before training and after it, and of the run pairs that differ
    only in that factor and in both; the grey marks are the mean 95th percentile of the same
    pairs' permutation nulls (for CKA and mutual k-NN); whiskers are the std over pairs.
    """
    title = "Cross-run similarity by the factor in which two runs differ"
    varied = [f for f in factors if f != "seed" and (similarity["differs_in"] == f).any()]
    if similarity.empty or not varied:
        return no_data_figure(title)
    table = with_mean_linear_r2(similarity)
    metrics = ["debiased_cka", "mutual_knn", "linear_r2"]
    layers = sort_layers(table["layer"])
    colours = layer_colours(layers)
    fig, axes = make_grid(len(metrics), len(varied), sharey="row")
    width = 0.8 / len(layers)
    for row, metric in enumerate(metrics):
        for column, factor in enumerate(varied):
            ax = axes[row, column]
            rows = table[table["metric"] == metric]
            kinds = factor_pair_kinds(rows, factor, factors).values()
            for kind_index, pairs in enumerate(kinds):
                for layer_index, layer in enumerate(layers):
                    values = pairs[pairs["layer"] == layer]
                    x = kind_index + (layer_index - (len(layers) - 1) / 2) * width
                    ax.bar(
                        x,
                        values["value"].mean(),
                        width,
                        yerr=values["value"].std(ddof=0),
                        color=colours[layer],
                        hatch=PAIR_HATCHES[kind_index],
                        edgecolor="white",
                    )
                    if metric in METRICS_WITH_NULL_FLOOR:
                        ax.plot(x, values["null_q95"].mean(), **NULL_STYLE)
            ax.set_xticks(range(len(PAIR_KINDS)), [k.format(factor=factor) for k in PAIR_KINDS])
            ax.tick_params(axis="x", labelsize=7)
            if column == 0:
                ax.set_ylabel(SIMILARITY_LABELS[metric])
            if row == 0:
                ax.set_title(f"runs that differ in {factor}", fontsize=9)
    handles = [Patch(color=colours[layer], label=layer) for layer in layers]
    handles.append(Line2D([], [], label="permutation null (95th percentile)", **NULL_STYLE))
    add_figure_legend(fig, handles, "layer")
    fig.suptitle(f"{title} (mean ± std over pairs)")
    return fig


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


def plot_latent_recovery(metrics: pd.DataFrame, factors: Sequence[str]) -> Figure:
    """Content vs style latent recovery by method and strength, encoder vs projector."""
    title = "Recovery of the generating latents: content (solid) vs style (dashed)"
    has_kernel = metrics["metric"].str.startswith("latent_r2_kernel_").any()
    if metrics.empty or not has_kernel:
        return no_data_figure(title)
    table = latent_group_scores(at_base(metrics, factors, free=("method", "strength", "seed")))
    layers = [layer for layer in ("encoder", "projector") if layer in set(table["layer"])]
    scores = ["linear R²", "kernel R²", "MCC"]
    colours = method_colours(table["method"].unique())
    fig, axes = make_grid(len(layers), len(scores), sharey=True)
    for row, layer in enumerate(layers):
        for column, score in enumerate(scores):
            ax = axes[row, column]
            rows = table[(table["layer"] == layer) & (table["score"] == score)]
            summary = seed_summary(rows, ["method", "group", "strength"])
            for (method, group), line in summary.groupby(["method", "group"]):
                ax.errorbar(
                    line["strength"],
                    line["mean"],
                    yerr=line["std"],
                    color=colours[method],
                    ls="-" if group == "content" else "--",
                    marker="o",
                    ms=3.5,
                    capsize=2,
                )
            ax.set_title(f"{layer}: {score}", fontsize=9)
            ax.set_xlabel("augmentation strength s")
    handles = [Line2D([], [], color=c, marker="o", label=m) for m, c in colours.items()]
    handles += [
        Line2D([], [], color="0.3", ls="-", label="content (shape class)"),
        Line2D([], [], color="0.3", ls="--", label="style (position, scale, rotation, hues)"),
    ]
    add_figure_legend(fig, handles, "method / latents")
    fig.suptitle(f"{title}\nmean ± std over seeds, other factors at their base value")
    return fig


def plot_convergence_over_epochs(convergence: pd.DataFrame, factors: Sequence[str]) -> Figure:
    """Similarity of each snapshot to the run's final model, and across seeds at the same epoch."""
    title = "Convergence: to the final model (solid) and across seeds (dashed)"
    if convergence.empty:
        return no_data_figure(title)
    table = at_base(convergence, factors, free=("method", "seed"))
    metrics = ["debiased_cka", "mutual_knn"]
    layers = sort_layers(table["layer"])
    colours = method_colours(table["method"].unique())
    fig, axes = make_grid(len(metrics), len(layers), sharey="row")
    for row, metric in enumerate(metrics):
        for column, layer in enumerate(layers):
            ax = axes[row, column]
            rows = table[(table["metric"] == metric) & (table["layer"] == layer)]
            summary = seed_summary(rows, ["method", "comparison", "epoch"])
            for (method, comparison), line in summary.groupby(["method", "comparison"]):
                ax.errorbar(
                    line["epoch"],
                    line["mean"],
                    yerr=line["std"],
                    color=colours[method],
                    ls="-" if comparison == "to_final" else "--",
                    marker="o",
                    ms=3.5,
                    capsize=2,
                )
            ax.axhline(rows["null_q95"].mean(), color="0.55", lw=0.9, ls=":")
            ax.set_title(f"{layer}: {SIMILARITY_LABELS[metric]}", fontsize=9)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles = [Line2D([], [], color=c, marker="o", label=m) for m, c in colours.items()]
    handles += [
        Line2D([], [], color="0.3", ls="-", label="snapshot vs final model"),
        Line2D([], [], color="0.3", ls="--", label="seed vs seed, same epoch"),
        Line2D([], [], color="0.55", ls=":", label="permutation null (95th percentile)"),
    ]
    add_figure_legend(fig, handles, "method / comparison")
    fig.suptitle(f"{title}\nmean ± std over runs and seed pairs, other factors at their base value")
    return fig
