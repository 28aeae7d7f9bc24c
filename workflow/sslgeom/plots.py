"""Figures for the sslgeom pipeline.

Every public function takes tidy pandas tables (as written by the pipeline) and returns a
:class:`matplotlib.figure.Figure` built with the object API (no pyplot state, no ``show``), so
the module is safe under any backend, ``Agg`` included.

Conventions shared by all figures:

* facets: one panel (row) per unique combination of the factor columns other than
  ``strength`` and ``seed`` (e.g. ``dataset``, ``method``, ``projector_depth``);
* layers: ordered ``encoder, proj1, proj2, ..., projector``; the encoder is drawn in a fixed
  dark colour, projector layers along a sequential colormap that ends at the projector output;
* strengths: coloured along ``viridis`` on the fixed range [0, 1], so a given ``s`` has the same
  colour in every figure;
* ``s = 0`` (identical views, a trivial contrastive task) is always set apart: a grey band and
  an open marker not joined to the curve on strength axes, a dashed line elsewhere;
* seeds are aggregated as mean ± std (``ddof=0``, so a single seed gives zero width).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

__all__ = [
    "facet_columns",
    "iter_panels",
    "layer_colours",
    "layer_rank",
    "panel_keys",
    "panel_label",
    "plot_augmentations",
    "plot_metrics_vs_strength",
    "plot_spectra",
    "plot_training_curves",
    "save_figure",
    "seed_summary",
    "sort_layers",
    "strength_colour",
]

NON_FACET_FACTORS = ("strength", "seed")
"""Factors that are never facets: ``strength`` is an axis or a colour, ``seed`` is averaged."""

UNLABELLED_FACETS = ("dataset", "method")
"""Facet columns whose values are self-explanatory; others are shown as ``name = value``."""

ENCODER_COLOUR = "#1b1b3a"
PROJECTOR_CMAP = "YlOrRd"
PROJECTOR_CMAP_RANGE = (0.4, 0.95)
STRENGTH_CMAP = "viridis"
STRENGTH_CMAP_MAX = 0.9  # stop before viridis' pale yellow, which is hard to see on white

ZERO_BAND_HALF_WIDTH = 0.035
ZERO_BAND_COLOUR = "0.9"
ZERO_LABEL = "s = 0: identical views"
STRENGTH_AXIS_LABEL = "augmentation strength s"

PANEL_SIZE = (3.4, 2.5)  # inches per panel
LEGEND_WIDTH = 1.6  # inches reserved for a figure legend on the right

_PROJ_LAYER = re.compile(r"proj(\d+)")


# --------------------------------------------------------------------------- layers


def layer_rank(layer: str) -> tuple[int, int, str]:
    """Sort key for a layer name: encoder, proj1, proj2, ..., projector, then unknown names."""
    if layer == "encoder":
        return (0, 0, "")
    match = _PROJ_LAYER.fullmatch(layer)
    if match:
        return (1, int(match.group(1)), "")
    if layer == "projector":
        return (2, 0, "")
    return (3, 0, layer)


def sort_layers(layers: Iterable[str]) -> list[str]:
    """Unique layer names in network order (``proj10`` comes after ``proj2``)."""
    return sorted(set(layers), key=layer_rank)


def layer_colours(layers: Iterable[str]) -> dict[str, tuple[float, ...]]:
    """One colour per layer: encoder fixed and dark, the rest along a sequential colormap.

    Layers after the encoder are spaced evenly on the colormap so that the last one (the
    projector output) always gets its darkest end.
    """
    ordered = sort_layers(layers)
    head = [layer for layer in ordered if layer == "encoder"]
    tail = [layer for layer in ordered if layer != "encoder"]
    cmap = matplotlib.colormaps[PROJECTOR_CMAP]
    low, high = PROJECTOR_CMAP_RANGE
    positions = np.linspace(low, high, len(tail)) if len(tail) > 1 else [high] * len(tail)
    colours = {layer: to_rgba(ENCODER_COLOUR) for layer in head}
    colours.update({layer: cmap(pos) for layer, pos in zip(tail, positions, strict=True)})
    return colours


# --------------------------------------------------------------------------- strengths


def strength_colour(strength: float) -> tuple[float, ...]:
    """Colour of an augmentation strength, fixed on [0, 1] so it matches across figures."""
    cmap = matplotlib.colormaps[STRENGTH_CMAP]
    return cmap(STRENGTH_CMAP_MAX * float(np.clip(strength, 0.0, 1.0)))


def is_identical_views(strength: float) -> bool:
    """Whether a strength means identical views (``s = 0``)."""
    return bool(np.isclose(strength, 0.0))


def strength_label(strength: float) -> str:
    """Legend label for a strength, flagging the identical-views case."""
    suffix = " (identical views)" if is_identical_views(strength) else ""
    return f"s = {strength:g}{suffix}"


def strength_linestyle(strength: float) -> str:
    """Dashed for ``s = 0`` so the degenerate run stands out from the sweep."""
    return "--" if is_identical_views(strength) else "-"


def strength_handles(strengths: Iterable[float]) -> list[Line2D]:
    """Legend handles, one per strength, in increasing order."""
    return [
        Line2D([], [], color=strength_colour(s), ls=strength_linestyle(s), label=strength_label(s))
        for s in sorted(set(strengths))
    ]


# --------------------------------------------------------------------------- facets


def facet_columns(table: pd.DataFrame, factors: Sequence[str]) -> list[str]:
    """Factor columns that define facets: all factors in ``table`` but strength and seed."""
    return [f for f in factors if f not in NON_FACET_FACTORS and f in table.columns]


def panel_keys(table: pd.DataFrame, factors: Sequence[str]) -> list[tuple]:
    """Sorted unique combinations of the facet columns (``[()]`` when there are none)."""
    columns = facet_columns(table, factors)
    if not columns:
        return [()]
    combos = table[columns].drop_duplicates().sort_values(columns)
    return [tuple(row) for row in combos.itertuples(index=False, name=None)]


def panel_label(columns: Sequence[str], key: tuple) -> str:
    """Human-readable facet label, e.g. ``"shapes · simclr · projector_depth = 3"``."""
    parts = [
        str(value) if column in UNLABELLED_FACETS else f"{column} = {value}"
        for column, value in zip(columns, key, strict=True)
    ]
    return " · ".join(parts)


def select_panel(table: pd.DataFrame, columns: Sequence[str], key: tuple) -> pd.DataFrame:
    """Rows of ``table`` belonging to one facet (missing values match missing values)."""
    mask = np.ones(len(table), dtype=bool)
    for column, value in zip(columns, key, strict=True):
        mask &= table[column].isna() if pd.isna(value) else table[column] == value
    return table[mask]


def iter_panels(table: pd.DataFrame, factors: Sequence[str]) -> Iterator[tuple[str, pd.DataFrame]]:
    """Yield ``(label, rows)`` for every facet of ``table``, in :func:`panel_keys` order."""
    columns = facet_columns(table, factors)
    for key in panel_keys(table, factors):
        yield panel_label(columns, key), select_panel(table, columns, key)


# --------------------------------------------------------------------------- aggregation


def seed_summary(table: pd.DataFrame, by: Sequence[str], value: str = "value") -> pd.DataFrame:
    """Mean, std (``ddof=0``) and count of ``value`` over seeds, one row per ``by`` group."""
    grouped = table.groupby(list(by), sort=True, dropna=False)[value]
    summary = grouped.agg(mean="mean", std=lambda v: v.std(ddof=0), n="count")
    return summary.reset_index()


def normalised_spectra(spectra: pd.DataFrame, factors: Sequence[str]) -> pd.DataFrame:
    """Replace singular values by the explained-variance fraction σ_i² / Σ_j σ_j² per run."""
    run_columns = [*facet_columns(spectra, factors), "strength", "seed", "layer"]
    run_columns = [c for c in run_columns if c in spectra.columns]
    squared = spectra["value"].astype(float) ** 2
    totals = squared.groupby([spectra[c] for c in run_columns], dropna=False).transform("sum")
    return spectra.assign(value=squared / totals)


# --------------------------------------------------------------------------- layout helpers


def make_grid(
    nrows: int, ncols: int, legend: bool = True, **subplot_kw
) -> tuple[Figure, np.ndarray]:
    """Constrained-layout figure with a 2-D array of axes sized by :data:`PANEL_SIZE`."""
    width = ncols * PANEL_SIZE[0] + (LEGEND_WIDTH if legend else 0.0)
    height = nrows * PANEL_SIZE[1] + 0.6
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, axes


def add_figure_legend(fig: Figure, handles: Sequence[Line2D], title: str) -> None:
    """One legend for the whole figure, outside the panels on the right."""
    fig.legend(handles=handles, title=title, loc="outside right upper", frameon=False, fontsize=8)


def show_no_data(ax: Axes) -> None:
    """Mark a panel that has nothing to show."""
    ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", color="0.5")


# --------------------------------------------------------------------------- strength axes


def identical_views_label_side(ax: Axes) -> tuple[float, str]:
    """Axes-fraction y and vertical alignment that keep the band label away from s = 0 data.

    Call after the data are drawn: the label goes to the end of the band (top or bottom)
    farther from every line point plotted at ``x = 0`` (markers and error-bar caps).
    """
    points = np.array(
        [
            (x, y)
            for line in ax.lines
            for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True)
            if is_identical_views(x)
        ]
    )
    if not len(points):
        return 0.03, "bottom"
    ax.get_ylim()  # finish autoscaling before converting to axes coordinates
    fractions = ax.transAxes.inverted().transform(ax.transData.transform(points))[:, 1]
    return (0.03, "bottom") if fractions.min() > 1 - fractions.max() else (0.97, "top")


def mark_identical_views(ax: Axes) -> None:
    """Grey band around ``x = 0`` with a small label: ``s = 0`` is a degenerate task."""
    ax.axvspan(-ZERO_BAND_HALF_WIDTH, ZERO_BAND_HALF_WIDTH, color=ZERO_BAND_COLOUR, lw=0, zorder=0)
    y, vertical_alignment = identical_views_label_side(ax)
    ax.text(
        0.0,
        y,
        ZERO_LABEL,
        transform=ax.get_xaxis_transform(),
        rotation=90,
        ha="center",
        va=vertical_alignment,
        fontsize=6,
        color="0.4",
        zorder=0.5,
    )


def format_strength_axis(ax: Axes, strengths: Iterable[float], xlabel: bool) -> None:
    """Limits, band for ``s = 0`` and label of a strength x axis."""
    strengths = list(strengths)
    if any(is_identical_views(s) for s in strengths):
        mark_identical_views(ax)
    upper = max([1.0, *strengths])
    ax.set_xlim(-2 * ZERO_BAND_HALF_WIDTH, upper + ZERO_BAND_HALF_WIDTH)
    if xlabel:
        ax.set_xlabel(STRENGTH_AXIS_LABEL)


def plot_strength_series(ax: Axes, summary: pd.DataFrame, colour, label: str) -> None:
    """Mean ± std against strength; ``s = 0`` is an open marker not joined to the line."""
    zero = summary["strength"].map(is_identical_views)
    swept, identical = summary[~zero], summary[zero]
    if len(swept):
        x, mean, std = swept["strength"], swept["mean"], swept["std"]
        ax.plot(x, mean, color=colour, marker="o", ms=3.5, lw=1.6, label=label)
        ax.fill_between(x, mean - std, mean + std, color=colour, alpha=0.2, lw=0)
    if len(identical):
        ax.errorbar(
            identical["strength"],
            identical["mean"],
            yerr=identical["std"],
            fmt="o",
            ms=5,
            mfc="white",
            mec=colour,
            ecolor=colour,
            capsize=2,
            label="_nolegend_" if len(swept) else label,
        )


def identical_views_handle() -> Line2D:
    """Legend handle explaining the open ``s = 0`` marker."""
    return Line2D([], [], ls="none", marker="o", mfc="white", mec="0.3", label=ZERO_LABEL)


# --------------------------------------------------------------------------- figures


def draw_metric_panel(ax: Axes, rows: pd.DataFrame, colours: Mapping[str, tuple]) -> None:
    """One metric of one facet: a mean ± std line per layer against strength."""
    if rows.empty:
        show_no_data(ax)
        return
    summary = seed_summary(rows, ["layer", "strength"])
    for layer in sort_layers(summary["layer"]):
        plot_strength_series(ax, summary[summary["layer"] == layer], colours[layer], layer)


def plot_metrics_vs_strength(
    metrics: pd.DataFrame,
    metric_labels: Mapping[str, str],
    factors: Sequence[str],
    title: str,
) -> Figure:
    """Grid of metric-vs-strength panels: rows are facets, columns the metrics to show.

    ``metric_labels`` maps metric names (values of the ``metric`` column) to y-axis labels;
    each panel has one line per layer with the seed mean ± std as a shaded band.
    """
    metric_names = list(metric_labels)
    panels = list(iter_panels(metrics, factors))
    colours = layer_colours(metrics["layer"])
    fig, axes = make_grid(len(panels), len(metric_names), sharex=True)
    strengths = metrics["strength"].unique()
    for row_index, (label, rows) in enumerate(panels):
        for ax, metric in zip(axes[row_index], metric_names, strict=True):
            draw_metric_panel(ax, rows[rows["metric"] == metric], colours)
            format_strength_axis(ax, strengths, xlabel=row_index == len(panels) - 1)
            ax.set_title(label, fontsize=9)
            ax.set_ylabel(metric_labels[metric])
    handles = [Line2D([], [], color=c, marker="o", ms=3.5, label=k) for k, c in colours.items()]
    add_figure_legend(fig, [*handles, identical_views_handle()], title="layer")
    fig.suptitle(title)
    return fig


def plot_strength_line(ax: Axes, x, y, strength: float, **style) -> None:
    """A line in the colour and dash style of its augmentation strength."""
    style.setdefault("label", strength_label(strength))
    ax.plot(x, y, color=strength_colour(strength), ls=strength_linestyle(strength), **style)


def draw_spectrum_panel(ax: Axes, rows: pd.DataFrame) -> None:
    """Seed-mean normalised spectra of one layer, one line per strength."""
    if rows.empty:
        show_no_data(ax)
        return
    summary = seed_summary(rows, ["strength", "index"])
    for strength, curve in summary.groupby("strength", sort=True):
        curve = curve[curve["mean"] > 0]  # log axes cannot show exact zeros
        plot_strength_line(ax, curve["index"], curve["mean"], strength, lw=1.3)
    ax.set_xscale("log")
    ax.set_yscale("log")


def plot_spectra(
    spectra: pd.DataFrame,
    factors: Sequence[str],
    layers: tuple[str, ...] = ("encoder", "projector"),
) -> Figure:
    """Normalised singular-value spectra (log-log): rows are facets, columns the given layers.

    Each run's spectrum is normalised to σ_i² / Σ_j σ_j² (fraction of variance along the i-th
    principal direction) before averaging over seeds; colour encodes the strength.
    """
    normalised = normalised_spectra(spectra, factors)
    panels = list(iter_panels(normalised, factors))
    fig, axes = make_grid(len(panels), len(layers))
    for row_index, (label, rows) in enumerate(panels):
        for col_index, layer in enumerate(layers):
            ax = axes[row_index, col_index]
            draw_spectrum_panel(ax, rows[rows["layer"] == layer])
            ax.set_title(f"{label}\n{layer}", fontsize=9)
            if col_index == 0:
                ax.set_ylabel("variance fraction σᵢ² / Σⱼ σⱼ²")
            if row_index == len(panels) - 1:
                ax.set_xlabel("singular value index i")
    add_figure_legend(fig, strength_handles(spectra["strength"]), title="augmentation strength")
    fig.suptitle("Spectra of centred test embeddings (mean over seeds)")
    return fig


def draw_training_panel(ax: Axes, rows: pd.DataFrame) -> None:
    """Loss against epoch for one facet: thin line per seed, thick seed mean per strength."""
    for (strength, _seed), run in rows.groupby(["strength", "seed"], sort=True):
        run = run.sort_values("epoch")
        plot_strength_line(
            ax, run["epoch"], run["loss"], strength, lw=0.6, alpha=0.35, label="_nolegend_"
        )
    summary = seed_summary(rows, ["strength", "epoch"], value="loss")
    for strength, curve in summary.groupby("strength", sort=True):
        plot_strength_line(ax, curve["epoch"], curve["mean"], strength, lw=1.8)


def plot_training_curves(train_logs: pd.DataFrame, factors: Sequence[str]) -> Figure:
    """Training loss against epoch, one panel per facet, one colour per strength."""
    panels = list(iter_panels(train_logs, factors))
    ncols = min(len(panels), 3)
    nrows = int(np.ceil(len(panels) / ncols))
    fig, axes = make_grid(nrows, ncols, sharex=True)
    flat_axes = axes.ravel()
    for ax, (label, rows) in zip(flat_axes, panels, strict=False):
        draw_training_panel(ax, rows)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
    for ax in flat_axes[len(panels) :]:
        ax.set_axis_off()
    handles = strength_handles(train_logs["strength"])
    add_figure_legend(fig, handles, title="augmentation strength\n(thin: single seeds)")
    fig.suptitle("Contrastive training loss (mean over seeds)")
    return fig


# --------------------------------------------------------------------------- augmentations


def view_mosaic(batch: np.ndarray) -> tuple[np.ndarray, list[float], list[float]]:
    """Lay ``(n_images, n_views, H, W, 3)`` out side by side on a white background.

    Returns the mosaic, the x centre of every view column and the x position of every
    separator between consecutive images (pixel coordinates).
    """
    n_images, n_views, height, width, _ = batch.shape
    view_gap, image_gap = max(1, width // 16), max(4, width // 3)
    stride = n_views * width + (n_views - 1) * view_gap + image_gap
    total = n_images * stride - image_gap
    mosaic = np.full((height, total, 3), 255, dtype=np.uint8)
    centres = []
    for image in range(n_images):
        for view in range(n_views):
            left = image * stride + view * (width + view_gap)
            mosaic[:, left : left + width] = batch[image, view]
            centres.append(left + width / 2 - 0.5)
    separators = [image * stride - image_gap / 2 - 0.5 for image in range(1, n_images)]
    return mosaic, centres, separators


def label_mosaic_columns(ax: Axes, centres: Sequence[float], n_views: int) -> None:
    """Column headers: ``image k`` over each image and ``view v`` over each of its views."""
    for image in range(len(centres) // n_views):
        group = centres[image * n_views : (image + 1) * n_views]
        offset = 10 if n_views > 1 else 2
        header = dict(xycoords=("data", "axes fraction"), textcoords="offset points")
        ax.annotate(
            f"image {image + 1}",
            (np.mean(group), 1),
            xytext=(0, offset),
            ha="center",
            fontsize=8,
            **header,
        )
        if n_views == 1:
            continue
        for view, centre in enumerate(group):
            ax.annotate(
                f"view {view + 1}", (centre, 1), xytext=(0, 2), ha="center", fontsize=7, **header
            )


def draw_augmentation_row(ax: Axes, batch: np.ndarray, strength: float, header: bool) -> None:
    """One strength of one dataset: all images and views, labelled on the left."""
    mosaic, centres, separators = view_mosaic(batch)
    ax.imshow(mosaic, interpolation="nearest")
    for x in separators:
        ax.axvline(x, color="0.6", lw=0.8)
    ax.set_axis_off()
    label = f"s = {strength:g}" + ("\n(identical views)" if is_identical_views(strength) else "")
    ax.annotate(
        label,
        (0, 0.5),
        xycoords="axes fraction",
        xytext=(-4, 0),
        textcoords="offset points",
        ha="right",
        va="center",
        fontsize=8,
    )
    if header:
        label_mosaic_columns(ax, centres, batch.shape[1])


def plot_augmentations(examples: Mapping[str, Mapping[float, np.ndarray]]) -> Figure:
    """Augmented views per dataset: one block per dataset, one row per strength.

    ``examples[dataset][strength]`` is a uint8 array ``(n_images, n_views, H, W, 3)``; the
    same source images are expected across strengths so that rows can be compared.
    """
    datasets = list(examples)
    row_counts = [len(examples[d]) for d in datasets]
    n_columns = max(
        batch.shape[0] * batch.shape[1] for b in examples.values() for batch in b.values()
    )
    width = 1.3 + 0.75 * n_columns
    height = sum(0.8 * n + 0.6 for n in row_counts)
    fig = Figure(figsize=(width, height), layout="constrained")
    subfigs = np.atleast_1d(fig.subfigures(len(datasets), 1, height_ratios=row_counts))
    for subfig, dataset in zip(subfigs.ravel(), datasets, strict=True):
        strengths = sorted(examples[dataset])
        axes = subfig.subplots(len(strengths), 1, squeeze=False)[:, 0]
        for row_index, (ax, strength) in enumerate(zip(axes, strengths, strict=True)):
            draw_augmentation_row(ax, examples[dataset][strength], strength, header=row_index == 0)
        subfig.suptitle(dataset, fontweight="bold")
    return fig


# --------------------------------------------------------------------------- output


def save_figure(fig: Figure, pdf_path: str | Path, png_path: str | Path, dpi: int = 150) -> None:
    """Write ``fig`` as PDF and PNG (creating parent folders), then close it."""
    for path in (Path(pdf_path), Path(png_path)):
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi)
    if fig.canvas.manager is not None:  # registered with pyplot: release it there too
        import matplotlib.pyplot as plt

        plt.close(fig)
    fig.clear()
