"""Figures of the identifiability analysis: similarity between runs, latent recovery, convergence.

Each draws a table of :mod:`sslgeom.figures.tables` (run labels, means over pairs and seeds, base
settings already chosen) in the shared style of :mod:`sslgeom.figures.style`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from sslgeom.figures.style import (
    add_figure_legend,
    layer_colours,
    make_grid,
    no_data_figure,
    sort_layers,
)

SIMILARITY_LABELS = {
    "linear_cka": "linear CKA",
    "debiased_cka": "debiased CKA",
    "mutual_knn": "mutual k-NN",
    "linear_r2": "linear R² (mean of both directions)",
}
HEATMAP_METRICS = ("debiased_cka", "mutual_knn")
FACTOR_METRICS = ("debiased_cka", "mutual_knn", "linear_r2")
NULL_STYLE = {"color": "0.55", "marker": "_", "ms": 9, "mew": 1.6, "ls": "none"}
# the null of a ridge map scored on shuffled rows sits near −R², not at a chance floor
METRICS_WITH_NULL_FLOOR = ("linear_cka", "debiased_cka", "mutual_knn")
METHOD_CMAP = "tab10"
PAIR_BARS = {
    "seed only, untrained": ("seed only,\nuntrained", "xx"),
    "seed only": ("seed\nonly", ""),
    "factor only": ("{factor}\nonly", "//"),
    "factor + seed": ("{factor}\n+ seed", ".."),
}
"""Tick label and hatch of each kind of run pair (the ``pair_kind`` column), in drawing order."""


def method_colours(methods: Sequence[str]) -> dict[str, tuple]:
    cmap = matplotlib.colormaps[METHOD_CMAP]
    return {method: cmap(index) for index, method in enumerate(sorted(methods))}


def method_handles(colours: dict[str, tuple]) -> list[Line2D]:
    return [Line2D([], [], color=c, marker="o", label=m) for m, c in colours.items()]


def draw_method_lines(
    ax: Axes, rows: pd.DataFrame, x: str, solid: tuple[str, object], colours: dict[str, tuple]
) -> None:
    """Mean ± std against ``x``: one line per method (coloured) and value of the column
    ``solid[0]``, solid where it is ``solid[1]`` and dashed elsewhere."""
    column, solid_value = solid
    for (method, value), line in rows.groupby(["method", column]):
        line = line.sort_values(x)
        ax.errorbar(
            line[x],
            line["mean"],
            yerr=line["std"],
            color=colours[method],
            ls="-" if value == solid_value else "--",
            marker="o",
            ms=3.5,
            capsize=2,
        )


def run_axis_labels(pairs: pd.DataFrame) -> list[str]:
    """The run labels of :func:`sslgeom.figures.tables.labelled_similarity`, in position order."""
    sides = [
        pairs[[f"position_{side}", f"label_{side}"]].set_axis(["position", "label"], axis=1)
        for side in ("a", "b")
    ]
    runs = pd.concat(sides).drop_duplicates("position").sort_values("position")
    return runs["label"].tolist()


def similarity_matrix(rows: pd.DataFrame, n_runs: int) -> np.ndarray:
    """Symmetric run × run matrix of ``value`` at the runs' positions, with ones on the
    diagonal."""
    matrix = np.eye(n_runs)
    for a, b, value in rows[["position_a", "position_b", "value"]].itertuples(index=False):
        matrix[a, b] = matrix[b, a] = value
    return matrix


def plot_similarity_heatmap(pairs: pd.DataFrame, factors: Sequence[str]) -> Figure:
    """Runs × runs similarity, one row per metric, one column per layer, runs in the order of
    :func:`sslgeom.figures.tables.labelled_similarity` (``factors``: unused, the runs are
    labelled there)."""
    title = "Similarity between every pair of runs"
    if pairs.empty:
        return no_data_figure(title)
    labels = run_axis_labels(pairs)
    layers = sort_layers(pairs["layer"])
    fig, axes = make_grid(len(HEATMAP_METRICS), len(layers), legend=False)
    fig.set_size_inches(4.2 * len(layers) + 1.0, 4.0 * len(HEATMAP_METRICS) + 0.6)
    fontsize = max(2.5, min(7.0, 260 / len(labels)))
    for row, metric in enumerate(HEATMAP_METRICS):
        for column, layer in enumerate(layers):
            ax = axes[row, column]
            rows = pairs[(pairs["metric"] == metric) & (pairs["layer"] == layer)]
            image = ax.imshow(similarity_matrix(rows, len(labels)), vmin=0, vmax=1, cmap="viridis")
            ticks = np.arange(len(labels))
            ax.set_xticks(ticks, labels, rotation=90, fontsize=fontsize)
            ax.set_yticks(ticks, labels if column == 0 else [], fontsize=fontsize)
            null, untrained = rows[["mean_null", "mean_untrained"]].iloc[0]
            ax.set_title(
                f"{layer}: {SIMILARITY_LABELS[metric]}\n"
                f"(null ≈ {null:.2f}, untrained ≈ {untrained:.2f})",
                fontsize=9,
            )
        fig.colorbar(image, ax=axes[row, :], shrink=0.8, label=SIMILARITY_LABELS[metric])
    fig.suptitle(f"{title}\nruns grouped by method and variant, then seed")
    return fig


def setting_matrix(cells: pd.DataFrame, column: str, n_settings: int) -> np.ndarray:
    """Symmetric setting × setting matrix of ``column`` at the settings' positions."""
    matrix = np.full((n_settings, n_settings), np.nan)
    for a, b, value in cells[["position_a", "position_b", column]].itertuples(index=False):
        matrix[a, b] = matrix[b, a] = value
    return matrix


def annotate_cells(ax: Axes, matrix: np.ndarray, fontsize: float) -> None:
    for (row, column), value in np.ndenumerate(matrix):
        if np.isfinite(value):
            colour = "black" if value > 0.6 else "white"
            ax.text(
                column,
                row,
                f"{value:.2f}",
                ha="center",
                va="center",
                fontsize=fontsize,
                color=colour,
            )


def plot_setting_similarity(cells: pd.DataFrame, factors: Sequence[str]) -> Figure:
    """Which settings converge with which: ``cells`` is
    :func:`sslgeom.figures.tables.setting_similarity` (``factors``: unused, the settings are
    labelled there). One row per metric of :data:`HEATMAP_METRICS`; per layer, the mean
    similarity of the runs of two settings after training and, beside it where the runs kept
    their epoch-0 snapshots, the same pairs before training; the diagonal holds each setting's
    seed pairs."""
    title = "Similarity between settings (mean over their run pairs)"
    if cells.empty:
        return no_data_figure(title)
    sides = [cells[[f"position_{s}", f"setting_{s}"]].set_axis(["p", "name"], axis=1) for s in "ab"]
    names = pd.concat(sides).drop_duplicates("p").sort_values("p")["name"].tolist()
    layers = sort_layers(cells["layer"])
    states = ["mean", "mean_untrained"] if cells["mean_untrained"].notna().any() else ["mean"]
    panels = [(layer, state) for layer in layers for state in states]
    fig, axes = make_grid(len(HEATMAP_METRICS), len(panels), legend=False)
    side = max(3.2, 0.32 * len(names) + 1.2)
    fig.set_size_inches(side * len(panels) + 1.0, side * len(HEATMAP_METRICS) + 0.8)
    fontsize = max(3.0, min(7.0, 150 / len(names)))
    for row, metric in enumerate(HEATMAP_METRICS):
        for column, (layer, value) in enumerate(panels):
            ax = axes[row, column]
            rows = cells[(cells["metric"] == metric) & (cells["layer"] == layer)]
            matrix = setting_matrix(rows, value, len(names))
            image = ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis")
            annotate_cells(ax, matrix, fontsize * 0.8)
            ticks = np.arange(len(names))
            ax.set_xticks(ticks, names, rotation=90, fontsize=fontsize)
            ax.set_yticks(ticks, names if column == 0 else [], fontsize=fontsize)
            state = "trained" if value == "mean" else "untrained (epoch 0)"
            null = rows["mean_null_q95"].mean()
            ax.set_title(
                f"{layer}, {state}: {SIMILARITY_LABELS[metric]}\n(null 95th pct ≈ {null:.2f})",
                fontsize=9,
            )
        fig.colorbar(image, ax=axes[row, :], shrink=0.8, label=SIMILARITY_LABELS[metric])
    fig.suptitle(f"{title}; diagonal: the seed pairs of one setting")
    return fig


def draw_pair_bars(ax: Axes, panel: pd.DataFrame, colours: dict, show_null: bool) -> None:
    """One (metric, factor) panel: for each kind of pair of :data:`PAIR_BARS`, a bar per layer
    (mean ± std over pairs) and, with ``show_null``, a mark at the mean null's 95th percentile."""
    width = 0.8 / len(colours)
    for kind_index, (kind, (_, hatch)) in enumerate(PAIR_BARS.items()):
        for layer_index, (layer, colour) in enumerate(colours.items()):
            bar = panel[(panel["pair_kind"] == kind) & (panel["layer"] == layer)]
            if bar.empty:
                continue
            mean, std, null = bar[["mean", "std", "mean_null_q95"]].iloc[0]
            x = kind_index + (layer_index - (len(colours) - 1) / 2) * width
            ax.bar(x, mean, width, yerr=std, color=colour, hatch=hatch, edgecolor="white")
            if show_null:
                ax.plot(x, null, **NULL_STYLE)


def plot_similarity_vs_factor(bars: pd.DataFrame, factors: Sequence[str]) -> Figure:
    """How much changing each factor moves the runs apart, against the seed-only baseline.

    ``bars`` is :func:`sslgeom.figures.tables.similarity_by_pair_kind`. One panel per (metric,
    varied factor, in ``factors`` order): bars of the mean similarity, for each layer, of the
    base setting's seed pairs before training and after it, and of the run pairs that differ
    only in that factor and in both; the grey marks are the mean 95th percentile of the same
    pairs' permutation nulls (for CKA and mutual k-NN); whiskers are the std over pairs.
    """
    title = "Cross-run similarity by the factor in which two runs differ"
    if bars.empty:
        return no_data_figure(title)
    varied = [factor for factor in factors if factor in set(bars["factor"])]
    colours = layer_colours(bars["layer"])
    fig, axes = make_grid(len(FACTOR_METRICS), len(varied), sharey="row")
    for row, metric in enumerate(FACTOR_METRICS):
        for column, factor in enumerate(varied):
            ax = axes[row, column]
            panel = bars[(bars["metric"] == metric) & (bars["factor"] == factor)]
            draw_pair_bars(ax, panel, colours, show_null=metric in METRICS_WITH_NULL_FLOOR)
            ticks = [label.format(factor=factor) for label, _ in PAIR_BARS.values()]
            ax.set_xticks(range(len(PAIR_BARS)), ticks)
            ax.tick_params(axis="x", labelsize=7)
            if column == 0:
                ax.set_ylabel(SIMILARITY_LABELS[metric])
            if row == 0:
                ax.set_title(f"runs that differ in {factor}", fontsize=9)
    handles = [Patch(color=colour, label=layer) for layer, colour in colours.items()]
    handles.append(Line2D([], [], label="permutation null (95th percentile)", **NULL_STYLE))
    add_figure_legend(fig, handles, "layer")
    fig.suptitle(f"{title} (mean ± std over pairs)")
    return fig


def base_setting_words(table: pd.DataFrame) -> str:
    """What a figure of one base setting fixed: its ``base_setting`` column, in words."""
    named = table["base_setting"].dropna()  # empty in a CSV reads back as NaN
    words = "other factors at their base value"
    return f"{words} ({named.iloc[0]})" if len(named) and named.iloc[0] else words


def plot_latent_recovery(recovery: pd.DataFrame, factors: Sequence[str]) -> Figure:
    """Content vs style latent recovery by method and strength, encoder vs projector.

    ``recovery`` is :func:`sslgeom.figures.tables.latent_recovery` (``factors``: unused, its runs
    are at the base setting); without kernel R² (no identifiability analysis) nothing is drawn.
    """
    title = "Recovery of the generating latents: content (solid) vs style (dashed)"
    if recovery.empty or not (recovery["score"] == "kernel R²").any():
        return no_data_figure(title)
    layers = [layer for layer in ("encoder", "projector") if layer in set(recovery["layer"])]
    scores = ["linear R²", "kernel R²", "MCC"]
    colours = method_colours(recovery["method"].unique())
    fig, axes = make_grid(len(layers), len(scores), sharey=True)
    for row, layer in enumerate(layers):
        for column, score in enumerate(scores):
            ax = axes[row, column]
            rows = recovery[(recovery["layer"] == layer) & (recovery["score"] == score)]
            draw_method_lines(ax, rows, "strength", ("group", "content"), colours)
            ax.set_title(f"{layer}: {score}", fontsize=9)
            ax.set_xlabel("augmentation strength s")
    handles = [
        *method_handles(colours),
        Line2D([], [], color="0.3", ls="-", label="content (shape class)"),
        Line2D([], [], color="0.3", ls="--", label="style (position, scale, rotation, hues)"),
    ]
    add_figure_legend(fig, handles, "method / latents")
    fig.suptitle(f"{title}\nmean ± std over seeds, {base_setting_words(recovery)}")
    return fig


def plot_convergence_over_epochs(summary: pd.DataFrame, factors: Sequence[str]) -> Figure:
    """Similarity of each snapshot to the run's final model, and across seeds at the same epoch;
    ``summary`` is :func:`sslgeom.figures.tables.convergence_summary` (``factors``: unused, its
    runs are at the base setting)."""
    title = "Convergence: to the final model (solid) and across seeds (dashed)"
    if summary.empty:
        return no_data_figure(title)
    metrics = ["debiased_cka", "mutual_knn"]
    layers = sort_layers(summary["layer"])
    colours = method_colours(summary["method"].unique())
    fig, axes = make_grid(len(metrics), len(layers), sharey="row")
    for row, metric in enumerate(metrics):
        for column, layer in enumerate(layers):
            ax = axes[row, column]
            rows = summary[(summary["metric"] == metric) & (summary["layer"] == layer)]
            draw_method_lines(ax, rows, "epoch", ("comparison", "to_final"), colours)
            ax.axhline(rows["mean_null_q95"].iloc[0], color="0.55", lw=0.9, ls=":")
            ax.set_title(f"{layer}: {SIMILARITY_LABELS[metric]}", fontsize=9)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles = [
        *method_handles(colours),
        Line2D([], [], color="0.3", ls="-", label="snapshot vs final model"),
        Line2D([], [], color="0.3", ls="--", label="seed vs seed, same epoch"),
        Line2D([], [], color="0.55", ls=":", label="permutation null (95th percentile)"),
    ]
    add_figure_legend(fig, handles, "method / comparison")
    fig.suptitle(f"{title}\nmean ± std over runs and seed pairs, {base_setting_words(summary)}")
    return fig
