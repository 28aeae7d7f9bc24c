"""The core figures: metrics against augmentation strength, spectra, training curves, latent
R² along the network, the projector-size sweep, and example augmented views.

Each figure draws a table of :mod:`sslgeom.figures.tables` (seed means and stds already
computed) in the shared style of :mod:`sslgeom.figures.style`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sslgeom.data.shapes import CONTENT_LATENTS, STYLE_LATENTS
from sslgeom.figures.style import (
    add_figure_legend,
    draw_reference_line,
    facet_columns,
    format_strength_axis,
    format_strength_panel,
    identical_views_handle,
    is_bottom_panel,
    is_identical_views,
    iter_panels,
    line_styles,
    make_grid,
    make_panel_grid,
    no_data_figure,
    panel_keys,
    panel_label,
    panel_title,
    plot_mean_band,
    plot_strength_line,
    plot_strength_series,
    ramp_colours,
    reference_handle,
    select_panel,
    show_no_data,
    sort_layers,
    strength_handles,
    style_handles,
    wrap_columns,
    wrap_label,
)

LATENT_R2_PREFIX = "latent_r2_"
CONTENT_LATENT_CMAP_RANGE = (0.6, 0.95)  # along Greens, the content family's hue
STYLE_LATENT_COLOURS = tuple(
    matplotlib.colormaps["tab10"](i) for i in (0, 1, 3, 4, 5, 6, 8, 9)
)  # tab10 without green (content) and grey (baselines)
PROJECTOR_SIZE_ROWS = {
    "probe_gap": "probe accuracy gap\nencoder − projector",
    "rankme": "RankMe of the\nprojector output",
}
"""Quantities of :func:`plot_projector_size`, one panel row each, with their y-axis labels."""


# --------------------------------------------------------------------------- strength axes


def draw_metric_panel(
    ax: Axes, summary: pd.DataFrame, line_by: str, styles: Mapping[object, Mapping]
) -> None:
    """One metric of one facet: a mean ± std line per value of ``line_by`` against strength."""
    if summary.empty:
        show_no_data(ax)
        return
    for value, style in styles.items():
        series = summary[summary[line_by] == value].sort_values("strength")
        if len(series):
            plot_strength_series(ax, series, style["color"], str(value), style.get("ls", "-"))


def plot_metrics_vs_strength(
    summary: pd.DataFrame,
    metric_labels: Mapping[str, str],
    factors: Sequence[str],
    title: str,
    line_by: str = "layer",
    reference_line: float | None = None,
    reference_label: str | None = None,
    styles: Mapping[object, Mapping] | None = None,
) -> Figure:
    """Grid of metric-vs-strength panels: rows are facets, columns the metrics to show.

    ``summary`` holds the seed ``mean`` and ``std`` of each metric (``metric`` column) per
    setting, as :func:`sslgeom.figures.tables.metrics_summary` writes them. ``metric_labels``
    maps the metrics to show to y-axis labels; each panel has one line per value of ``line_by``
    with the mean ± std as a shaded band, styled by ``styles`` (by default
    :func:`~sslgeom.figures.style.line_styles`). ``reference_line`` adds a dotted horizontal
    baseline at that value, named ``reference_label`` in the legend (by default
    ``"reference = <value>"``). With a single metric the facet panels are wrapped into rows of
    up to :data:`~sslgeom.figures.style.MAX_WRAP_COLUMNS`.
    """
    metric_names = list(metric_labels)
    if reference_label is None and reference_line is not None:
        reference_label = f"reference = {reference_line:g}"
    if styles is None:
        styles = line_styles(line_by, summary.loc[summary["metric"].isin(metric_names), line_by])
    specs = [
        (label, rows[rows["metric"] == metric], metric)
        for label, rows in iter_panels(summary, factors)
        for metric in metric_names
    ]
    ncols = len(metric_names) if len(metric_names) > 1 else wrap_columns(len(specs))
    fig, axes = make_panel_grid(len(specs), ncols, sharex=True)
    strengths = summary["strength"].unique()
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


# --------------------------------------------------------------------------- spectra and training


def draw_spectrum_panel(ax: Axes, summary: pd.DataFrame, xscale: str = "log") -> None:
    """Seed-mean spectra of one panel on a log y axis, one line per strength."""
    if summary.empty:
        show_no_data(ax)
        return
    for strength, curve in summary.groupby("strength", sort=True):
        curve = curve.sort_values("index")
        curve = curve[curve["mean"] > 0]  # log axes cannot show exact zeros
        plot_strength_line(ax, curve["index"], curve["mean"], strength, lw=1.3)
    ax.set_xscale(xscale)
    ax.set_yscale("log")


def plot_spectra(
    summary: pd.DataFrame,
    factors: Sequence[str],
    layers: tuple[str, ...] | None = ("encoder", "projector"),
    ylabel: str = "variance fraction σᵢ² / Σⱼ σⱼ²",
    xscale: str = "log",
    title: str = "Spectra of centred test embeddings (mean over seeds)",
) -> Figure:
    """Seed-mean spectra (log y, ``mean`` against ``index``): rows are facets, columns the given
    layers, colour the strength.

    ``summary`` is by default :func:`sslgeom.figures.tables.normalised_spectra_summary` (the
    fraction of variance along each principal direction). ``layers=None`` is for a table
    without a ``layer`` column: one panel per facet, wrapped into rows of up to
    :data:`~sslgeom.figures.style.MAX_WRAP_COLUMNS`.
    """
    if layers is None:
        specs = list(iter_panels(summary, factors))
        ncols = wrap_columns(len(specs))
    else:
        specs = [
            (panel_title(label, layer), rows[rows["layer"] == layer])
            for label, rows in iter_panels(summary, factors)
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
    add_figure_legend(fig, strength_handles(summary["strength"]), title="augmentation strength")
    fig.suptitle(title)
    return fig


def draw_training_panel(ax: Axes, logs: pd.DataFrame, loss_summary: pd.DataFrame) -> None:
    """Loss against epoch for one facet: thin line per seed, thick seed mean per strength."""
    for (strength, _seed), run in logs.groupby(["strength", "seed"], sort=True):
        run = run.sort_values("epoch")
        plot_strength_line(
            ax, run["epoch"], run["loss"], strength, lw=0.6, alpha=0.35, label="_nolegend_"
        )
    for strength, curve in loss_summary.groupby("strength", sort=True):
        curve = curve.sort_values("epoch")
        plot_strength_line(ax, curve["epoch"], curve["mean"], strength, lw=1.8)


def plot_training_curves(
    train_logs: pd.DataFrame, loss_summary: pd.DataFrame, factors: Sequence[str]
) -> Figure:
    """Training loss against epoch, one panel per facet, one colour per strength: each seed of
    ``train_logs`` thin, the seed mean of ``loss_summary``
    (:func:`sslgeom.figures.tables.train_loss_summary`) thick."""
    columns = facet_columns(loss_summary, factors)
    keys = panel_keys(loss_summary, factors)
    ncols = wrap_columns(len(keys))
    fig, axes = make_panel_grid(len(keys), ncols, sharex=True)
    for index, (ax, key) in enumerate(zip(axes, keys, strict=True)):
        logs, summary = (select_panel(t, columns, key) for t in (train_logs, loss_summary))
        draw_training_panel(ax, logs, summary)
        ax.set_title(panel_label(columns, key), fontsize=9)
        if is_bottom_panel(index, ncols, len(keys)):
            ax.set_xlabel("epoch")
        ax.set_ylabel("training loss")
    handles = strength_handles(loss_summary["strength"])
    add_figure_legend(fig, handles, title="augmentation strength\n(thin: single seeds)")
    fig.suptitle("Pretraining loss (mean over seeds)")
    return fig


# --------------------------------------------------------------------------- strength columns


def draw_line_panel(
    ax: Axes, summary: pd.DataFrame, x: str, line_by: str, styles: Mapping[object, Mapping]
) -> None:
    """Mean ± std against the numeric column ``x``, one line per ``line_by`` value."""
    if summary.empty:
        show_no_data(ax)
        return
    for value, style in styles.items():
        curve = summary[summary[line_by] == value].sort_values(x)
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
    summary: pd.DataFrame,
    factors: Sequence[str],
    content: Sequence[str] = CONTENT_LATENTS,
    style: Sequence[str] = STYLE_LATENTS,
    title: str = "Held-out linear R² of each latent along the network",
) -> Figure:
    """Held-out linear R² of each generating latent against layer, per facet and strength.

    Uses the ``latent_r2_<latent>`` rows of the metrics summary: rows are the facets that have
    them, columns the strengths; x runs through the layers in network order. Content latents
    are thick solid lines, style latents thin dashed ones; mean ± std over seeds.
    """
    latent_rows = summary[summary["metric"].str.startswith(LATENT_R2_PREFIX)]
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


def plot_projector_size(
    summary: pd.DataFrame,
    factors: Sequence[str],
    x: str = "projector_depth",
    line_by: str = "projector_hidden_dim",
    title: str = "Projector size: what the projector discards, and its output rank",
) -> Figure:
    """Projector-size sweep: columns are strengths, rows the quantities of
    :data:`PROJECTOR_SIZE_ROWS` (per facet); x is ``x``, one line per ``line_by`` value.

    ``summary`` is :func:`sslgeom.figures.tables.projector_size`: mean ± std over seeds of
    each run's probe gap and projector RankMe.
    """
    if summary.empty:
        return no_data_figure(title)
    panels = list(iter_panels(summary, [f for f in factors if f not in (x, line_by)]))
    strengths = sorted(summary["strength"].unique())
    styles = line_styles(line_by, summary[line_by])
    x_values = sorted(summary[x].dropna().unique())
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
