"""What every figure of the pipeline shares: its conventions, colours, facets, panel grids,
legends, strength axes, and writing to disk.

Figures take tidy pandas tables (as written by the pipeline) and return a
:class:`matplotlib.figure.Figure` built with the object API (no pyplot state, no ``show``), so
they are safe under any backend, ``Agg`` included. They draw what a table holds: the quantities
they show (seed means and stds included) are computed by :mod:`sslgeom.figures.tables`.

Conventions shared by all figures:

* facets: one panel (row) per unique combination of the factor columns other than
  ``strength`` and ``seed`` (e.g. ``dataset``, ``method``, ``projector_depth``);
* layers: ordered ``encoder, proj1, proj2, ..., projector``; the encoder is drawn in a fixed
  dark colour, projector layers along a sequential colormap that ends at the projector output;
* strengths: coloured along ``viridis`` on the fixed range [0, 1], so a given ``s`` has the same
  colour in every figure;
* ``s = 0`` (identical views, a trivial contrastive task) is always set apart: a grey band and
  an open marker not joined to the curve on strength axes, a grey panel where strengths are
  panel columns, a dashed line elsewhere;
* seeds are shown as their mean ± std (``ddof=0``, so a single seed gives zero width).
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

NON_FACET_FACTORS = ("strength", "seed")
"""Factors that are never facets: ``strength`` is an axis or a colour, ``seed`` is averaged."""

UNLABELLED_FACETS = ("dataset", "method")
"""Facet columns whose values are self-explanatory; others are shown as ``name = value``."""

ENCODER_COLOUR = "#1b1b3a"
PROJECTOR_CMAP = "YlOrRd"
PROJECTOR_CMAP_RANGE = (0.4, 0.95)
SWEEP_CMAP = "PuBu"  # ordinal swept factors (e.g. projector width), away from layers and strengths
SWEEP_CMAP_RANGE = (0.45, 0.95)

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


def line_styles(column: str, values: Iterable) -> dict[object, dict]:
    """Ordered ``{value: line style}`` for the lines of a figure, one per value of ``column``.

    ``layer``: network order and :func:`layer_colours`; any other column (an ordinal swept
    factor): sorted values along :data:`SWEEP_CMAP`.
    """
    if column == "layer":
        return {layer: {"color": c} for layer, c in layer_colours(values).items()}
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


def plot_strength_line(ax: Axes, x, y, strength: float, **style) -> None:
    """A line in the colour and dash style of its augmentation strength."""
    style.setdefault("label", strength_label(strength))
    ax.plot(x, y, color=strength_colour(strength), ls=strength_linestyle(strength), **style)


def panel_title(*parts: str) -> str:
    """Panel title from its non-empty parts, one per line."""
    return "\n".join(part for part in parts if part)


def format_strength_panel(ax: Axes, facet_label: str, strength: float) -> None:
    """Title of a panel that shows one strength; an ``s = 0`` panel is greyed."""
    ax.set_title(panel_title(facet_label, strength_label(strength)), fontsize=9)
    if is_identical_views(strength):
        mark_identical_views_panel(ax)


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
