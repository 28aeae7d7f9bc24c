"""Tests for sslgeom.figures.style and sslgeom.figures.core on small synthetic figure tables."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from figure_checks import labelled_lines, legend_texts, line_by_label, preview, reference_lines
from matplotlib.figure import Figure
from synthetic_tables import (
    DATASETS,
    DEPTHS,
    DESIGN,
    FACTORS,
    HIDDEN_DIMS,
    LAYERS,
    SEEDS,
    SIZE_DESIGN,
    SIZE_FACTORS,
    STRENGTHS,
    expected_gap,
    make_examples,
    make_latent_metrics,
    make_metrics,
    make_projector_sweep,
    make_spectra,
    make_train_logs,
)

from sslgeom.config.experiments import Design
from sslgeom.data.shapes import STYLE_LATENTS
from sslgeom.figures import core, style
from sslgeom.figures import tables as figure_tables

PROBE_LABELS = {"probe_acc": "linear probe accuracy", "knn_acc": "kNN accuracy (k=20)"}
LONG_LABEL = "projector sensitivity ρ (1 = random direction)"
LONGER_LABEL = "mean principal angle to the Jacobian's kept subspace (°)"


def metrics_summary(metrics: pd.DataFrame, design=DESIGN) -> pd.DataFrame:
    return figure_tables.metrics_summary(metrics, design)


def training_figure(logs: pd.DataFrame) -> Figure:
    return core.plot_training_curves(logs, figure_tables.train_loss_summary(logs, DESIGN), FACTORS)


def test_sort_layers_puts_proj10_after_proj2():
    layers = ["projector", "proj10", "encoder", "proj2", "proj1", "proj2"]
    assert style.sort_layers(layers) == ["encoder", "proj1", "proj2", "proj10", "projector"]


def test_layer_colours_encoder_fixed_and_projector_at_cmap_end():
    colours = style.layer_colours(["projector", "encoder", "proj1", "proj2"])
    assert list(colours) == ["encoder", "proj1", "proj2", "projector"]
    assert colours["encoder"] == matplotlib.colors.to_rgba(style.ENCODER_COLOUR)
    only_projector = style.layer_colours(["encoder", "projector"])
    assert only_projector["projector"] == colours["projector"]


def test_panel_keys_and_labels():
    metrics = make_metrics()
    keys = style.panel_keys(metrics, FACTORS)
    assert keys == [("mnist5k", "simclr"), ("shapes", "simclr")]
    assert style.panel_label(["dataset", "method"], keys[1]) == "shapes · simclr"
    assert style.panel_keys(metrics, ["strength", "seed"]) == [()]


def test_metrics_vs_strength_panels_and_lines_at_the_seed_mean():
    metrics = make_metrics()
    fig = core.plot_metrics_vs_strength(
        metrics_summary(metrics), PROBE_LABELS, FACTORS, "Probe accuracy"
    )
    assert isinstance(fig, Figure)
    assert len(fig.axes) == len(DATASETS) * len(PROBE_LABELS)
    for ax in fig.axes:
        assert labelled_lines(ax) == list(LAYERS)
    assert fig.axes[0].get_ylabel() == "linear probe accuracy"
    assert fig.axes[0].get_title() == "mnist5k · simclr"
    assert not any(reference_lines(ax) for ax in fig.axes)
    probe = metrics.query("dataset == 'mnist5k' and metric == 'probe_acc' and layer == 'proj1'")
    seed_means = [probe[probe["strength"] == s]["value"].sum() / len(SEEDS) for s in (0.5, 1.0)]
    np.testing.assert_allclose(line_by_label(fig.axes[0], "proj1").get_ydata(), seed_means)
    preview(fig, "probe_vs_strength")


def test_identical_views_point_is_not_joined_to_the_line():
    summary = metrics_summary(make_metrics())
    fig = core.plot_metrics_vs_strength(summary, PROBE_LABELS, FACTORS, "Probe accuracy")
    ax = fig.axes[0]
    for line in ax.lines:
        if not line.get_label().startswith("_"):
            assert min(line.get_xdata()) > 0
    markers = [line for line in ax.lines if line.get_marker() == "o"]
    zero_markers = [line for line in markers if list(line.get_xdata()) == [0.0]]
    assert len(zero_markers) == len(LAYERS)
    assert all(line.get_markerfacecolor() == "white" for line in zero_markers)
    assert any(text.get_text() == style.ZERO_LABEL for text in ax.texts)


def test_single_seed_tables():
    summary = metrics_summary(make_metrics(seeds=(0,)))
    fig = core.plot_metrics_vs_strength(summary, PROBE_LABELS, FACTORS, "One seed")
    assert len(fig.axes) == len(DATASETS) * len(PROBE_LABELS)
    spectra = figure_tables.normalised_spectra_summary(make_spectra(seeds=(0,)), DESIGN)
    assert len(core.plot_spectra(spectra, FACTORS).axes) == len(DATASETS) * 2
    latent_summary = metrics_summary(make_latent_metrics(seeds=(0,)))
    assert len(core.plot_latent_r2_by_layer(latent_summary, FACTORS).axes) == len(STRENGTHS)
    size = figure_tables.projector_size(make_projector_sweep(seeds=(0,)), SIZE_DESIGN)
    size_fig = core.plot_projector_size(size, SIZE_FACTORS)
    assert len(size_fig.axes) == len(DATASETS) * 2 * len(STRENGTHS)
    assert len(training_figure(make_train_logs(seeds=(0,))).axes) == len(DATASETS)


def test_extra_swept_factor_adds_facet_rows():
    factors = [*FACTORS, "projector_depth"]
    summary = metrics_summary(make_metrics(projector_depth=(1, 3)), Design(factors))
    keys = style.panel_keys(summary, factors)
    assert len(keys) == len(DATASETS) * 2
    labels = {"invariance": "invariance (cosine of views)", "rankme": "RankMe (effective rank)"}
    fig = core.plot_metrics_vs_strength(summary, labels, factors, "Invariance and rank")
    assert len(fig.axes) == len(keys) * len(labels)
    assert fig.axes[0].get_title() == "mnist5k · simclr · projector_depth = 1"
    preview(fig, "metrics_with_depth")


def test_missing_metric_panel_shows_no_data():
    labels = {"probe_acc": "linear probe accuracy", "alpha_req": "power-law exponent α"}
    fig = core.plot_metrics_vs_strength(
        metrics_summary(make_metrics()), labels, FACTORS, "Missing metric"
    )
    assert any(text.get_text() == "no data" for text in fig.axes[1].texts)


def test_spectra_panels_and_lines_at_the_variance_fractions():
    fig = core.plot_spectra(
        figure_tables.normalised_spectra_summary(make_spectra(), DESIGN), FACTORS
    )
    assert len(fig.axes) == len(DATASETS) * 2
    for ax in fig.axes:
        assert len(labelled_lines(ax)) == len(STRENGTHS)
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    index = np.arange(1, 33)
    power = index ** -(2 * 0.5)  # σᵢ² at s = 1 (see make_spectra)
    line = line_by_label(fig.axes[0], style.strength_label(1.0))
    np.testing.assert_allclose(line.get_ydata(), power / power.sum())
    preview(fig, "spectra")


def test_latent_r2_rows_are_facets_with_latents_columns_strengths():
    fig = core.plot_latent_r2_by_layer(metrics_summary(make_latent_metrics()), FACTORS)
    assert len(fig.axes) == len(STRENGTHS)  # only shapes has latent rows
    expected = ["content: shape", *(f"style: {name}" for name in STYLE_LATENTS)]
    for ax, strength in zip(fig.axes, STRENGTHS, strict=True):
        assert labelled_lines(ax) == expected
        assert [t.get_text() for t in ax.get_xticklabels()] == list(LAYERS)
        assert len(reference_lines(ax)) == 1
        content, pos_x = line_by_label(ax, "content: shape"), line_by_label(ax, "style: pos_x")
        assert content.get_linestyle() == "-" and pos_x.get_linestyle() == "--"
        assert content.get_linewidth() > pos_x.get_linewidth()
        assert ax.get_title() == f"shapes · simclr\n{style.strength_label(strength)}"
    grey = matplotlib.colors.to_rgba(style.ZERO_BAND_COLOUR, 0.5)
    assert fig.axes[0].get_facecolor() == grey and fig.axes[1].get_facecolor() != grey
    assert fig.axes[0].get_ylabel() == "held-out linear R²"
    assert legend_texts(fig)[: len(expected)] == expected
    preview(fig, "latent_r2_by_layer")


def test_latent_r2_without_latent_rows_shows_no_data():
    fig = core.plot_latent_r2_by_layer(metrics_summary(make_metrics()), FACTORS)
    assert len(fig.axes) == 1
    assert any(text.get_text() == "no data" for text in fig.axes[0].texts)


def test_projector_size_rows_quantities_columns_strengths():
    summary = figure_tables.projector_size(make_projector_sweep(), SIZE_DESIGN)
    fig = core.plot_projector_size(summary, SIZE_FACTORS)
    axes = np.array(fig.axes).reshape(len(DATASETS) * 2, len(STRENGTHS))
    for row_index, row in enumerate(axes):
        is_gap = row_index % 2 == 0
        for ax in row:
            assert labelled_lines(ax) == [str(w) for w in HIDDEN_DIMS]
            assert len(reference_lines(ax)) == int(is_gap)
        expected_label = core.PROJECTOR_SIZE_ROWS["probe_gap" if is_gap else "rankme"]
        assert row[0].get_ylabel() == expected_label
    assert axes[0, 1].get_title() == f"mnist5k · simclr\n{style.strength_label(0.5)}"
    gap_line = line_by_label(axes[0, 2], "512")
    assert list(gap_line.get_xdata()) == list(DEPTHS)
    gaps = [np.mean([expected_gap(d, 512, 1.0, seed) for seed in SEEDS]) for d in DEPTHS]
    np.testing.assert_allclose(gap_line.get_ydata(), gaps)
    assert axes[-1, 0].get_xlabel() == "projector depth"
    assert "no gap" in legend_texts(fig)
    preview(fig, "projector_size")


def test_long_ylabels_wrap_before_the_parenthesis():
    assert style.wrap_label("RankMe (effective rank)") == "RankMe (effective rank)"
    assert style.wrap_label(LONG_LABEL) == "projector sensitivity ρ\n(1 = random direction)"
    lines = style.wrap_label(LONGER_LABEL).split("\n")
    assert len(lines) > 1 and all(len(line) <= style.YLABEL_WIDTH for line in lines)


def test_training_curves_panels_and_lines():
    fig = training_figure(make_train_logs())
    assert len(fig.axes) == len(DATASETS)
    for ax in fig.axes:
        assert len(labelled_lines(ax)) == len(STRENGTHS)
        assert len(ax.lines) == len(STRENGTHS) * (len(SEEDS) + 1)
    preview(fig, "training_curves")


def test_training_curves_give_each_method_its_panel_its_y_scale_and_its_seed_mean():
    logs = make_train_logs()
    vicreg = logs.assign(method="vicreg", loss=logs["loss"] * 10)  # a loss on another scale
    fig = training_figure(pd.concat([logs, vicreg], ignore_index=True))
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["mnist5k · simclr", "mnist5k · vicreg", "shapes · simclr", "shapes · vicreg"]
    assert fig.axes[1].get_ylim()[1] > 5 * fig.axes[0].get_ylim()[1]
    rows = vicreg.query("dataset == 'mnist5k' and strength == 0.5")
    seed_mean = [rows[rows["epoch"] == epoch]["loss"].sum() / 2 for epoch in range(1, 11)]
    np.testing.assert_allclose(line_by_label(fig.axes[1], "s = 0.5").get_ydata(), seed_mean)
    seed_one = rows[rows["seed"] == 1]["loss"]
    thin = [line.get_ydata() for line in fig.axes[1].lines if line.get_alpha() == 0.35]
    assert any(np.allclose(ydata, seed_one) for ydata in thin)


def test_wrapped_facets_drop_empty_slots_and_keep_tick_labels_above_them():
    logs = make_train_logs()
    logs = pd.concat([logs, logs.assign(method="byol")], ignore_index=True)  # 4 facets, 3 columns
    fig = training_figure(logs)
    assert len(fig.axes) == 4
    fig.canvas.draw()
    for index, ax in enumerate(fig.axes):
        has_tick_labels = any(t.get_text() for t in ax.get_xticklabels())
        assert has_tick_labels == (index != 0)  # only panel 0 has a panel below it
        assert bool(ax.get_xlabel()) == has_tick_labels


def test_augmentations_one_row_per_strength_and_dataset():
    fig = core.plot_augmentations(make_examples())
    assert len(fig.axes) == len(DATASETS) * len(STRENGTHS)
    assert all(not ax.axison for ax in fig.axes)
    preview(fig, "augmentations")


@pytest.mark.parametrize("suffix", ["figure", "nested/deeper"])
def test_save_figure_writes_pdf_and_png(tmp_path, suffix):
    fig = training_figure(make_train_logs())
    pdf, png = tmp_path / suffix / "curves.pdf", tmp_path / suffix / "curves.png"
    style.save_figure(fig, pdf, png, dpi=60)
    assert pdf.stat().st_size > 0 and png.stat().st_size > 0
    assert png.read_bytes().startswith(b"\x89PNG") and pdf.read_bytes().startswith(b"%PDF")
