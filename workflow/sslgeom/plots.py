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
* tangent families (``geometry`` table): one fixed colour each, ``random`` (the baseline) grey and
  dashed;
* ``s = 0`` (identical views, a trivial contrastive task) is always set apart: a grey band and
  an open marker not joined to the curve on strength axes, a grey panel where strengths are
  panel columns, a dashed line elsewhere;
* seeds are aggregated as mean ± std (``ddof=0``, so a single seed gives zero width).
"""

from __future__ import annotations

import re
import textwrap
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
    "plot_jacobian_spectra",
    "plot_latent_r2_by_layer",
    "plot_metrics_vs_strength",
    "plot_projector_size",
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
SWEEP_CMAP = "PuBu"  # ordinal swept factors (e.g. projector width), away from layers and strengths
SWEEP_CMAP_RANGE = (0.45, 0.95)

FAMILY_STYLES = {
    "augmentation": {"color": "#d62728"},
    "style": {"color": "#1f77b4"},
    "content": {"color": "#2ca02c"},
    "data": {"color": "#9467bd"},
    "random": {"color": "0.45", "ls": "--"},
    "jacobian": {"color": ENCODER_COLOUR},
}
"""Fixed line style of each tangent family; ``random`` is the baseline, grey and dashed."""
OTHER_FAMILY_STYLE = {"color": "0.2", "ls": "-."}

LATENT_R2_PREFIX = "latent_r2_"
STYLE_LATENTS = ("pos_x", "pos_y", "scale", "rotation", "object_hue", "background_hue")
CONTENT_LATENT_CMAP_RANGE = (0.6, 0.95)  # along Greens, the content family's hue
STYLE_LATENT_COLOURS = tuple(
    matplotlib.colormaps["tab10"](i) for i in (0, 1, 3, 4, 5, 6, 8, 9)
)  # tab10 without green (content) and grey (baselines)

REFERENCE_STYLE = {"color": "0.3", "lw": 0.9, "ls": ":"}
BAND_ALPHA = 0.2
STRENGTH_CMAP = "viridis"
STRENGTH_CMAP_MAX = 0.9  # stop before viridis' pale yellow, which is hard to see on white

ZERO_BAND_HALF_WIDTH = 0.035
ZERO_BAND_COLOUR = "0.9"
ZERO_LABEL = "s = 0: identical views"
STRENGTH_AXIS_LABEL = "augmentation strength s"

PANEL_SIZE = (3.4, 2.5)  # inches per panel
LEGEND_WIDTH = 1.6  # inches reserved for a figure legend on the right
MIN_FIGURE_WIDTH = 6.8  # inches: room for the suptitle beside the legend of a one-panel figure
MAX_WRAP_COLUMNS = 3  # panels per row when facets alone make the panels
YLABEL_WIDTH = 34  # characters per line of a y-axis label (a panel is ~2.5 inches tall)

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
    colours = {layer: to_rgba(ENCODER_COLOUR) for layer in head}
    colours.update(ramp_colours(tail, PROJECTOR_CMAP, PROJECTOR_CMAP_RANGE))
    return colours


# --------------------------------------------------------------------------- line groups


def ramp_colours(
    values: Sequence, cmap_name: str, cmap_range: tuple[float, float]
) -> dict[object, tuple[float, ...]]:
    """Colours evenly spaced along part of a colormap, in order; a single value gets the end."""
    cmap = matplotlib.colormaps[cmap_name]
    low, high = cmap_range
    positions = np.linspace(low, high, len(values)) if len(values) > 1 else [high] * len(values)
    return {value: cmap(pos) for value, pos in zip(values, positions, strict=True)}


def sort_families(families: Iterable[str]) -> list[str]:
    """Unique tangent families in :data:`FAMILY_STYLES` order, unknown ones after (by name)."""
    known = list(FAMILY_STYLES)
    return sorted(set(families), key=lambda f: (known.index(f), "") if f in known else (1e9, f))


def line_styles(column: str, values: Iterable) -> dict[object, dict]:
    """Ordered ``{value: line style}`` for the lines of a figure, one per value of ``column``.

    ``layer``: network order and :func:`layer_colours`; ``family``: the fixed
    :data:`FAMILY_STYLES`; any other column (an ordinal swept factor): sorted values along
    :data:`SWEEP_CMAP`.
    """
    if column == "layer":
        return {layer: {"color": c} for layer, c in layer_colours(values).items()}
    if column == "family":
        return {f: FAMILY_STYLES.get(f, OTHER_FAMILY_STYLE) for f in sort_families(values)}
    colours = ramp_colours(sorted(set(values)), SWEEP_CMAP, SWEEP_CMAP_RANGE)
    return {value: {"color": c} for value, c in colours.items()}


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
    width = max(ncols * PANEL_SIZE[0] + (LEGEND_WIDTH if legend else 0.0), MIN_FIGURE_WIDTH)
    height = nrows * PANEL_SIZE[1] + 0.6
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, axes


def make_panel_grid(n_panels: int, ncols: int, **subplot_kw) -> tuple[Figure, list[Axes]]:
    """:func:`make_grid` for ``n_panels`` panels filled row by row, ``ncols`` per row.

    Unused slots of the last row are removed, and the panels above them keep their x tick
    labels (see :func:`is_bottom_panel`).
    """
    fig, axes = make_grid(int(np.ceil(n_panels / ncols)), ncols, **subplot_kw)
    flat = list(axes.ravel())
    for index, ax in enumerate(flat):
        if index >= n_panels:
            ax.remove()
        elif is_bottom_panel(index, ncols, n_panels):
            ax.xaxis.set_tick_params(labelbottom=True)
    return fig, flat[:n_panels]


def wrap_columns(n_panels: int) -> int:
    """Columns for panels that are facets alone: up to :data:`MAX_WRAP_COLUMNS` per row."""
    return min(n_panels, MAX_WRAP_COLUMNS)


def is_bottom_panel(index: int, ncols: int, n_panels: int) -> bool:
    """Whether panel ``index`` of :func:`make_panel_grid` has no panel below it."""
    return index + ncols >= n_panels


def wrap_label(label: str) -> str:
    """A y-axis label broken into lines that fit beside one panel, before ``" ("`` if it can."""
    head, _, note = label.partition(" (")
    if note and max(len(head), len(note) + 1) <= YLABEL_WIDTH < len(label):
        return f"{head}\n({note}"
    return textwrap.fill(label, YLABEL_WIDTH)


def add_figure_legend(fig: Figure, handles: Sequence[Line2D], title: str) -> None:
    """One legend for the whole figure, outside the panels on the right."""
    fig.legend(handles=handles, title=title, loc="outside right upper", frameon=False, fontsize=8)


def show_no_data(ax: Axes) -> None:
    """Mark a panel that has nothing to show."""
    ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", color="0.5")


def no_data_figure(title: str) -> Figure:
    """A single "no data" panel, for a table without any row that the figure shows."""
    fig, axes = make_grid(1, 1, legend=False)
    show_no_data(axes[0, 0])
    fig.suptitle(title)
    return fig


def style_handles(styles: Mapping[object, Mapping]) -> list[Line2D]:
    """Legend handles for ``{value: line style}``, labelled by the value unless styled with one."""
    return [
        Line2D([], [], **{"marker": "o", "ms": 3.5, "label": str(k), **v})
        for k, v in styles.items()
    ]


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


def mark_identical_views_panel(ax: Axes) -> None:
    """Grey panel background where a whole panel is ``s = 0`` (strengths as panel columns)."""
    ax.set_facecolor(to_rgba(ZERO_BAND_COLOUR, 0.5))


def draw_reference_line(ax: Axes, y: float, label: str) -> None:
    """Thin dotted horizontal baseline, drawn under the data."""
    ax.axhline(y, label=label, zorder=0.8, **REFERENCE_STYLE)


def reference_handle(label: str) -> Line2D:
    """Legend handle for :func:`draw_reference_line`."""
    return Line2D([], [], label=label, **REFERENCE_STYLE)


def plot_mean_band(ax: Axes, x, summary: pd.DataFrame, label: str, **style) -> None:
    """Seed mean as a line with markers and ± std as a shaded band of the same colour."""
    style = {"marker": "o", "ms": 3.5, "lw": 1.6, **style}
    mean, std = summary["mean"], summary["std"]
    ax.plot(x, mean, label=label, **style)
    ax.fill_between(x, mean - std, mean + std, color=style["color"], alpha=BAND_ALPHA, lw=0)


def plot_strength_series(
    ax: Axes, summary: pd.DataFrame, colour, label: str, ls: str = "-"
) -> None:
    """Mean ± std against strength; ``s = 0`` is an open marker not joined to the line."""
    zero = summary["strength"].map(is_identical_views)
    swept, identical = summary[~zero], summary[zero]
    if len(swept):
        plot_mean_band(ax, swept["strength"], swept, label, color=colour, ls=ls)
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


def draw_metric_panel(
    ax: Axes, rows: pd.DataFrame, line_by: str, styles: Mapping[object, Mapping]
) -> None:
    """One metric of one facet: a mean ± std line per value of ``line_by`` against strength."""
    if rows.empty:
        show_no_data(ax)
        return
    summary = seed_summary(rows, [line_by, "strength"])
    for value, style in styles.items():
        series = summary[summary[line_by] == value]
        if len(series):
            plot_strength_series(ax, series, style["color"], str(value), style.get("ls", "-"))


def plot_metrics_vs_strength(
    metrics: pd.DataFrame,
    metric_labels: Mapping[str, str],
    factors: Sequence[str],
    title: str,
    line_by: str = "layer",
    reference_line: float | None = None,
    reference_label: str | None = None,
) -> Figure:
    """Grid of metric-vs-strength panels: rows are facets, columns the metrics to show.

    ``metric_labels`` maps metric names (values of the ``metric`` column) to y-axis labels;
    each panel has one line per value of ``line_by`` (``"layer"`` for the metrics table,
    ``"family"`` for the geometry table; see :func:`line_styles`) with the seed mean ± std as a
    shaded band. ``reference_line`` adds a dotted horizontal baseline at that value, named
    ``reference_label`` in the legend (e.g. ``1.0``, ``"random direction"``; by default
    ``"reference = 1"``). With a single
    metric the facet panels are wrapped into rows of up to :data:`MAX_WRAP_COLUMNS`.
    """
    metric_names = list(metric_labels)
    if reference_label is None and reference_line is not None:
        reference_label = f"reference = {reference_line:g}"
    shown = metrics[metrics["metric"].isin(metric_names)]
    styles = line_styles(line_by, shown[line_by])
    specs = [
        (label, rows[rows["metric"] == metric], metric)
        for label, rows in iter_panels(metrics, factors)
        for metric in metric_names
    ]
    ncols = len(metric_names) if len(metric_names) > 1 else wrap_columns(len(specs))
    fig, axes = make_panel_grid(len(specs), ncols, sharex=True)
    strengths = metrics["strength"].unique()
    for index, (ax, (label, rows, metric)) in enumerate(zip(axes, specs, strict=True)):
        draw_metric_panel(ax, rows, line_by, styles)
        if reference_line is not None:
            draw_reference_line(ax, reference_line, reference_label)
        format_strength_axis(ax, strengths, xlabel=is_bottom_panel(index, ncols, len(specs)))
        ax.set_title(label, fontsize=9)
        ax.set_ylabel(wrap_label(metric_labels[metric]))
    handles = style_handles(styles)
    if reference_line is not None:
        handles.append(reference_handle(reference_label))
    add_figure_legend(fig, [*handles, identical_views_handle()], title=line_by)
    fig.suptitle(title)
    return fig


def plot_strength_line(ax: Axes, x, y, strength: float, **style) -> None:
    """A line in the colour and dash style of its augmentation strength."""
    style.setdefault("label", strength_label(strength))
    ax.plot(x, y, color=strength_colour(strength), ls=strength_linestyle(strength), **style)


def panel_title(*parts: str) -> str:
    """Panel title from its non-empty parts, one per line."""
    return "\n".join(part for part in parts if part)


def draw_spectrum_panel(ax: Axes, rows: pd.DataFrame, xscale: str = "log") -> None:
    """Seed-mean spectra of one panel on a log y axis, one line per strength."""
    if rows.empty:
        show_no_data(ax)
        return
    summary = seed_summary(rows, ["strength", "index"])
    for strength, curve in summary.groupby("strength", sort=True):
        curve = curve[curve["mean"] > 0]  # log axes cannot show exact zeros
        plot_strength_line(ax, curve["index"], curve["mean"], strength, lw=1.3)
    ax.set_xscale(xscale)
    ax.set_yscale("log")


def plot_spectra(
    spectra: pd.DataFrame,
    factors: Sequence[str],
    layers: tuple[str, ...] | None = ("encoder", "projector"),
    normalise: bool = True,
    ylabel: str = "variance fraction σᵢ² / Σⱼ σⱼ²",
    xscale: str = "log",
    title: str = "Spectra of centred test embeddings (mean over seeds)",
) -> Figure:
    """Singular-value spectra (log y): rows are facets, columns the given layers.

    With ``normalise``, each run's spectrum becomes σ_i² / Σ_j σ_j² (fraction of variance along
    the i-th principal direction) before averaging over seeds; colour encodes the strength.
    ``layers=None`` is for a table without a ``layer`` column: one panel per facet, wrapped
    into rows of up to :data:`MAX_WRAP_COLUMNS`.
    """
    table = normalised_spectra(spectra, factors) if normalise else spectra
    if layers is None:
        specs = [(label, rows) for label, rows in iter_panels(table, factors)]
        ncols = wrap_columns(len(specs))
    else:
        specs = [
            (panel_title(label, layer), rows[rows["layer"] == layer])
            for label, rows in iter_panels(table, factors)
            for layer in layers
        ]
        ncols = len(layers)
    fig, axes = make_panel_grid(len(specs), ncols)
    for index, (ax, (panel_name, rows)) in enumerate(zip(axes, specs, strict=True)):
        draw_spectrum_panel(ax, rows, xscale)
        ax.set_title(panel_name, fontsize=9)
        if index % ncols == 0:
            ax.set_ylabel(ylabel)
        if is_bottom_panel(index, ncols, len(specs)):
            ax.set_xlabel("singular value index i")
    add_figure_legend(fig, strength_handles(spectra["strength"]), title="augmentation strength")
    fig.suptitle(title)
    return fig


def plot_jacobian_spectra(spectrum: pd.DataFrame, factors: Sequence[str]) -> Figure:
    """Mean singular values of the projector Jacobian (log y), one panel per facet.

    ``spectrum`` is the ``jacobian_spectrum`` table (factor columns, ``index``, ``value``); the
    values are averaged over seeds as they are, one line per strength as in :func:`plot_spectra`.
    """
    return plot_spectra(
        spectrum,
        factors,
        layers=None,
        normalise=False,
        ylabel="mean singular value σᵢ of J",
        xscale="linear",
        title="Projector Jacobian J = ∂g/∂h: mean singular values (mean over seeds)",
    )


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
    ncols = wrap_columns(len(panels))
    fig, axes = make_panel_grid(len(panels), ncols, sharex=True)
    for index, (ax, (label, rows)) in enumerate(zip(axes, panels, strict=True)):
        draw_training_panel(ax, rows)
        ax.set_title(label, fontsize=9)
        if is_bottom_panel(index, ncols, len(panels)):
            ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
    handles = strength_handles(train_logs["strength"])
    add_figure_legend(fig, handles, title="augmentation strength\n(thin: single seeds)")
    fig.suptitle("Pretraining loss (mean over seeds)")
    return fig


# --------------------------------------------------------------------------- strength columns


def format_strength_panel(ax: Axes, facet_label: str, strength: float) -> None:
    """Title of a panel that shows one strength; an ``s = 0`` panel is greyed."""
    ax.set_title(panel_title(facet_label, strength_label(strength)), fontsize=9)
    if is_identical_views(strength):
        mark_identical_views_panel(ax)


def draw_line_panel(
    ax: Axes, rows: pd.DataFrame, x: str, line_by: str, styles: Mapping[object, Mapping]
) -> None:
    """Mean ± std over seeds against the numeric column ``x``, one line per ``line_by`` value."""
    if rows.empty:
        show_no_data(ax)
        return
    summary = seed_summary(rows, [line_by, x])
    for value, style in styles.items():
        curve = summary[summary[line_by] == value]
        if len(curve):
            plot_mean_band(ax, curve[x], curve, **{"label": str(value), **style})


def latent_styles(
    latents: Iterable[str], content: Sequence[str], style: Sequence[str]
) -> dict[str, dict]:
    """Ordered ``{latent: line style}``: content latents thick and solid (greens), then style
    latents thin and dashed, then any other latent thin and dotted; labels name the group."""
    present = set(latents)
    content_latents = [latent for latent in content if latent in present]
    style_latents = [latent for latent in style if latent in present]
    other_latents = sorted(present - set(content_latents) - set(style_latents))
    greens = ramp_colours(content_latents, "Greens", CONTENT_LATENT_CMAP_RANGE)
    styles = {
        latent: {"color": greens[latent], "lw": 2.6, "ms": 4.5, "label": f"content: {latent}"}
        for latent in content_latents
    }
    for i, latent in enumerate([*style_latents, *other_latents]):
        group, ls = ("style", "--") if latent in style_latents else ("other", ":")
        colour = STYLE_LATENT_COLOURS[i % len(STYLE_LATENT_COLOURS)]
        styles[latent] = {
            "color": colour,
            "lw": 1.2,
            "ms": 3,
            "ls": ls,
            "label": f"{group}: {latent}",
        }
    return styles


def plot_latent_r2_by_layer(
    metrics: pd.DataFrame,
    factors: Sequence[str],
    content: Sequence[str] = ("shape",),
    style: Sequence[str] = STYLE_LATENTS,
    title: str = "Held-out linear R² of each latent along the network",
) -> Figure:
    """Held-out linear R² of each generating latent against layer, per facet and strength.

    Uses the ``latent_r2_<latent>`` rows of the metrics table: rows are the facets that have
    them, columns the strengths; x runs through the layers in network order. Content latents
    are thick solid lines, style latents thin dashed ones; mean ± std over seeds.
    """
    latent_rows = metrics[metrics["metric"].str.startswith(LATENT_R2_PREFIX)]
    if latent_rows.empty:
        return no_data_figure(title)
    latent_rows = latent_rows.assign(
        latent=latent_rows["metric"].str.removeprefix(LATENT_R2_PREFIX)
    )
    styles = latent_styles(latent_rows["latent"], content, style)
    panels = list(iter_panels(latent_rows, factors))
    strengths = sorted(latent_rows["strength"].unique())
    fig, axes = make_grid(len(panels), len(strengths), sharey=True)
    for row_index, (label, rows) in enumerate(panels):
        layers = sort_layers(rows["layer"])
        rows = rows.assign(position=rows["layer"].map({layer: i for i, layer in enumerate(layers)}))
        for col_index, strength in enumerate(strengths):
            ax = axes[row_index, col_index]
            draw_line_panel(ax, rows[rows["strength"] == strength], "position", "latent", styles)
            draw_reference_line(ax, 0.0, "R² = 0 (no linear information)")
            ax.set_xticks(range(len(layers)), layers, fontsize=8)
            format_strength_panel(ax, label, strength)
            if col_index == 0:
                ax.set_ylabel("held-out linear R²")
            if row_index == len(panels) - 1:
                ax.set_xlabel("layer")
    handles = [*style_handles(styles), reference_handle("R² = 0 (no linear information)")]
    add_figure_legend(fig, handles, title="generating latent")
    fig.suptitle(title)
    return fig


PROJECTOR_SIZE_ROWS = {
    "probe_gap": "probe accuracy gap\nencoder − projector",
    "rankme": "RankMe of the\nprojector output",
}
"""Quantities of :func:`plot_projector_size`, one panel row each, with their y-axis labels."""


def projector_size_table(metrics: pd.DataFrame, factors: Sequence[str]) -> pd.DataFrame:
    """Per run: the encoder − projector linear-probe gap and the projector's RankMe.

    Tidy: factor columns, ``quantity`` (a key of :data:`PROJECTOR_SIZE_ROWS`) and ``value``.
    """
    run_columns = [f for f in factors if f in metrics.columns]
    probe = metrics[metrics["metric"] == "probe_acc"]
    accuracy = probe.set_index([*run_columns, "layer"])["value"].unstack("layer")
    accuracy = accuracy.reindex(columns=["encoder", "projector"])
    gap = (accuracy["encoder"] - accuracy["projector"]).dropna().rename("value").reset_index()
    rank = metrics[(metrics["metric"] == "rankme") & (metrics["layer"] == "projector")]
    return pd.concat(
        [gap.assign(quantity="probe_gap"), rank[[*run_columns, "value"]].assign(quantity="rankme")],
        ignore_index=True,
    )


def plot_projector_size(
    metrics: pd.DataFrame,
    factors: Sequence[str],
    x: str = "projector_depth",
    line_by: str = "projector_hidden_dim",
    title: str = "Projector size: what the projector discards, and its output rank",
) -> Figure:
    """Projector-size sweep: columns are strengths, rows the quantities of
    :data:`PROJECTOR_SIZE_ROWS` (per facet); x is ``x``, one line per ``line_by`` value.

    Mean ± std over seeds; the probe gap is computed per run before averaging.
    """
    table = projector_size_table(metrics, factors)
    if table.empty:
        return no_data_figure(title)
    panels = list(iter_panels(table, [f for f in factors if f not in (x, line_by)]))
    strengths = sorted(table["strength"].unique())
    styles = line_styles(line_by, table[line_by])
    x_values = sorted(table[x].dropna().unique())
    quantities = list(PROJECTOR_SIZE_ROWS)
    n_rows = len(panels) * len(quantities)
    fig, axes = make_grid(n_rows, len(strengths), sharex=True, sharey="row")
    for panel_index, (label, rows) in enumerate(panels):
        for quantity_index, quantity in enumerate(quantities):
            row_index = panel_index * len(quantities) + quantity_index
            selected = rows[rows["quantity"] == quantity]
            for col_index, strength in enumerate(strengths):
                ax = axes[row_index, col_index]
                draw_line_panel(ax, selected[selected["strength"] == strength], x, line_by, styles)
                if quantity == "probe_gap":
                    draw_reference_line(ax, 0.0, "no gap")
                ax.set_xticks(x_values)
                format_strength_panel(ax, label, strength)
                if col_index == 0:
                    ax.set_ylabel(PROJECTOR_SIZE_ROWS[quantity])
                if row_index == n_rows - 1:
                    ax.set_xlabel(x.replace("_", " "))
    handles = [*style_handles(styles), reference_handle("no gap")]
    add_figure_legend(fig, handles, title=line_by.replace("_", " "))
    fig.suptitle(title)
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
