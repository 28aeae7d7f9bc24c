"""Figures of the known-answer controls: what each layer recovers of every generating latent,
and how much the projector keeps each latent's tangent, with the latents that the views
resample set apart (theory: lost after the projector, their tangents shrunk).

They draw the tables of :func:`sslgeom.figures.tables.controls_latent_recovery` and
:func:`sslgeom.figures.tables.controls_tangent_sensitivity`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sslgeom.data.shapes import LATENT_NAMES
from sslgeom.figures.style import (
    draw_reference_line,
    facet_columns,
    make_grid,
    make_panel_grid,
    no_data_figure,
    panel_keys,
    panel_label,
    select_panel,
    sort_layers,
    wrap_columns,
)
from sslgeom.figures.tables import CLASS_ACCURACY

RESAMPLED_COLOUR = "#d62728"
KEPT_COLOUR = "#1f77b4"
RESAMPLED_MARK = " ↻"


def quantity_rank(quantity: str) -> tuple:
    """Class accuracy first, then the shapes latents in their order, then others in natural
    order (z2 before z10)."""
    if quantity == CLASS_ACCURACY:
        return (0, 0, ())
    if quantity in LATENT_NAMES:
        return (1, LATENT_NAMES.index(quantity), ())
    parts = re.split(r"(\d+)", quantity)
    return (2, 0, tuple(int(p) if p.isdigit() else p for p in parts))


def sort_quantities(quantities: Iterable[str]) -> list[str]:
    return sorted(set(quantities), key=quantity_rank)


def setting_title(columns: Sequence[str], key: tuple) -> str:
    """A panel's title from the factors that differ between settings, the resampled latents
    as a list: ``resampled: pos_x, pos_y``."""
    parts = [
        f"resampled: {', '.join(str(value).split('-'))}"
        if column == "resampled_latents"
        else panel_label([column], (value,))
        for column, value in zip(columns, key, strict=True)
    ]
    return " · ".join(parts) or "all runs"


def setting_panels(table: pd.DataFrame, factors: Sequence[str]) -> list[tuple[str, pd.DataFrame]]:
    """(title, rows) of each setting: facets of the factors whose values differ in ``table``
    (what every control shares, such as its method, is left out of the titles)."""
    columns = [c for c in facet_columns(table, factors) if table[c].nunique(dropna=False) > 1]
    return [
        (setting_title(columns, key), select_panel(table, columns, key))
        for key in panel_keys(table, columns)
    ]


def plot_controls_latent_recovery(recovery: pd.DataFrame, factors: Sequence[str]) -> Figure:
    """One heatmap per setting: rows the class accuracy and each latent's linear R² (mean over
    seeds, ± std in the cell), columns the layers; resampled latents are marked ↻."""
    title = "Known-answer control: what each layer recovers of the generating latents"
    if recovery.empty:
        return no_data_figure(title)
    panels = setting_panels(recovery, factors)
    n_rows = len(sort_quantities(recovery["quantity"]))
    fig, axes = make_panel_grid(len(panels), wrap_columns(len(panels)))
    fig.set_figheight(max(fig.get_figheight(), 0.32 * n_rows * np.ceil(len(panels) / 3) + 1.4))
    for ax, (label, panel) in zip(axes, panels, strict=True):
        layers = sort_layers(panel["layer"])
        quantities = sort_quantities(panel["quantity"])
        table = panel.set_index(["quantity", "layer"])
        mean = table["mean"].unstack("layer").reindex(index=quantities, columns=layers)
        std = table["std"].unstack("layer").reindex(index=quantities, columns=layers)
        image = ax.imshow(mean.clip(lower=0).to_numpy(), vmin=0, vmax=1, cmap="viridis")
        for (row, column), value in np.ndenumerate(mean.to_numpy()):
            colour = "black" if value > 0.6 else "white"
            text = f"{value:.2f}\n±{std.to_numpy()[row, column]:.2f}"
            ax.text(column, row, text, ha="center", va="center", fontsize=6, color=colour)
        resampled = set(panel.loc[panel["resampled"].astype(bool), "quantity"])
        ax.set_yticks(range(len(quantities)))
        ax.set_yticklabels(
            [q + (RESAMPLED_MARK if q in resampled else "") for q in quantities], fontsize=8
        )
        for tick, quantity in zip(ax.get_yticklabels(), quantities, strict=True):
            if quantity in resampled:
                tick.set_color(RESAMPLED_COLOUR)
        ax.set_xticks(range(len(layers)))
        ax.set_xticklabels(layers, fontsize=8, rotation=30)
        ax.set_title(label, fontsize=9)
    fig.colorbar(image, ax=axes, shrink=0.6, label="accuracy or R² (colour from 0)")
    subtitle = "class: linear-probe accuracy; latents: held-out linear R²; mean ± std over seeds"
    if recovery["resampled"].astype(bool).any():
        subtitle += "\n↻ resampled by the views (theory: not recoverable after the projector)"
    fig.suptitle(f"{title}\n{subtitle}", fontsize=10)
    return fig


# the rows of the tangent figure: metric → (y label, reference line's label)
TANGENT_ROWS = {
    "sensitivity_minus_random_span": (
        "local: ρ(latent) − ρ(random\ndirection in data span)",
        "as kept as random directions in the data span",
    ),
    "log10_step_sensitivity": (
        "global: log10 output change\nredrawn / random move",
        "moved as much as by a random move of the same length",
    ),
}


def plot_controls_tangent_sensitivity(table: pd.DataFrame, factors: Sequence[str]) -> Figure:
    """Bar charts, one column per setting: in the first row ρ(latent tangent) − ρ(random
    directions in the data span), in the second (where measured) log10 of the step sensitivity
    of the latent's redraws; mean ± std over seeds, latents the views change in red (theory:
    below 0, shrunk), kept in blue."""
    title = "Known-answer control: how much the projector keeps each latent's tangent"
    rows = [metric for metric in TANGENT_ROWS if (table["metric"] == metric).any()]
    if TANGENT_ROWS_FIRST not in rows:
        return no_data_figure(title)
    settings = setting_panels(table[table["metric"] == TANGENT_ROWS_FIRST], factors)
    fig, grid = make_grid(len(rows), len(settings), sharey="row")
    for row, metric in enumerate(rows):
        shown = table[table["metric"] == metric]
        for column, (label, _) in enumerate(settings):
            panel = dict(setting_panels(shown, factors)).get(label, shown.iloc[:0])
            draw_latent_bars(grid[row, column], panel, TANGENT_ROWS[metric][1])
            grid[row, column].set_title(label if row == 0 else "", fontsize=9)
        grid[row, 0].set_ylabel(TANGENT_ROWS[metric][0])
    handles = [
        Patch(color=RESAMPLED_COLOUR, label="changed by the views (theory: below 0, shrunk)"),
        Patch(color=KEPT_COLOUR, label="shared by the views (theory: kept, above 0)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, frameon=False, fontsize=8)
    fig.suptitle(
        f"{title}\nlocal: projector sensitivity ρ along the latent's encoder-space tangent "
        "minus ρ along a random direction\nin the span of the encoder's test embeddings; "
        "global: the output change when only that latent is redrawn,\nover that of a random "
        "move of the same encoder-space length in that span; mean ± std over seeds",
        fontsize=10,
    )
    return fig


TANGENT_ROWS_FIRST = next(iter(TANGENT_ROWS))


def draw_latent_bars(ax, panel: pd.DataFrame, reference: str) -> None:
    """One bar per latent (mean ± std), coloured by whether the views change it."""
    panel = panel.set_index("latent").loc[sort_quantities(panel["latent"])]
    colours = [RESAMPLED_COLOUR if r else KEPT_COLOUR for r in panel["resampled"]]
    positions = np.arange(len(panel))
    ax.bar(positions, panel["mean"], yerr=panel["std"], color=colours, capsize=2)
    draw_reference_line(ax, 0.0, reference)
    ax.set_xticks(positions)
    ax.set_xticklabels(panel.index, rotation=40, ha="right", fontsize=8)
