"""Tests for sslgeom.plots on small synthetic tables."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sslgeom import plots

FACTORS = ["dataset", "method", "strength", "seed"]
DATASETS = ("shapes", "mnist5k")
STRENGTHS = (0.0, 0.5, 1.0)
SEEDS = (0, 1)
LAYERS = ("encoder", "proj1", "projector")
PROBE_LABELS = {"probe_acc": "linear probe accuracy", "knn_acc": "kNN accuracy (k=20)"}
PREVIEW_DIR = os.environ.get("SSLGEOM_PLOTS_PREVIEW")


def runs(seeds=SEEDS, **extra_factors) -> list[dict]:
    """One dict of factor values per (dataset, strength, seed[, extra factors]) run."""
    extra_names = list(extra_factors)
    grid = itertools.product(DATASETS, STRENGTHS, seeds, *extra_factors.values())
    return [
        {"dataset": d, "method": "simclr", "strength": s, "seed": seed}
        | dict(zip(extra_names, extra, strict=True))
        for d, s, seed, *extra in grid
    ]


def make_metrics(seeds=SEEDS, **extra_factors) -> pd.DataFrame:
    """Tidy metrics table: accuracies rise with strength, invariance falls."""
    rng = np.random.default_rng(0)
    rows = []
    for run in runs(seeds, **extra_factors):
        for depth, layer in enumerate(LAYERS):
            base = 0.3 + 0.5 * run["strength"] - 0.05 * depth
            values = {
                "probe_acc": base + rng.normal(0, 0.02),
                "knn_acc": base - 0.05 + rng.normal(0, 0.02),
                "invariance": 1 - 0.6 * run["strength"] + rng.normal(0, 0.02),
                "rankme": 100 * (1 - 0.3 * depth) * (0.2 + run["strength"]),
            }
            rows += [{**run, "layer": layer, "metric": m, "value": v} for m, v in values.items()]
    return pd.DataFrame(rows)


def make_spectra(seeds=SEEDS, n_values: int = 32) -> pd.DataFrame:
    """Tidy spectra table with power-law singular values, steeper at low strength."""
    index = np.arange(1, n_values + 1)
    rows = []
    for run in runs(seeds):
        for layer in LAYERS:
            sigma = index ** -(0.5 + 1.5 * (1 - run["strength"]))
            rows += [
                {**run, "layer": layer, "index": i, "value": v}
                for i, v in zip(index, sigma, strict=True)
            ]
    return pd.DataFrame(rows)


def make_train_logs(seeds=SEEDS, n_epochs: int = 10) -> pd.DataFrame:
    """Tidy training log: loss decays over epochs, more slowly at high strength."""
    rng = np.random.default_rng(1)
    rows = []
    for run in runs(seeds):
        for epoch in range(1, n_epochs + 1):
            loss = 1 + 4 * run["strength"] + 5 * np.exp(-epoch / 3) + rng.normal(0, 0.05)
            rows.append({**run, "epoch": epoch, "loss": loss, "lr": 0.1, "seconds": 1.0})
    return pd.DataFrame(rows).assign(views_per_s=1000.0)


def make_examples(n_images: int = 3, n_views: int = 2, size: int = 16) -> dict:
    """Random uint8 views for every dataset and strength."""
    rng = np.random.default_rng(2)
    shape = (n_images, n_views, size, size, 3)
    return {
        d: {s: rng.integers(0, 256, shape, dtype=np.uint8) for s in STRENGTHS} for d in DATASETS
    }


def labelled_lines(ax) -> list[str]:
    """Labels of the legend-worthy lines drawn in ``ax``."""
    return [line.get_label() for line in ax.lines if not line.get_label().startswith("_")]


def preview(fig: Figure, name: str) -> None:
    """Save a PNG for visual inspection when SSLGEOM_PLOTS_PREVIEW names a folder."""
    if PREVIEW_DIR:
        Path(PREVIEW_DIR).mkdir(parents=True, exist_ok=True)
        fig.savefig(Path(PREVIEW_DIR) / f"{name}.png", dpi=110)


def test_sort_layers_puts_proj10_after_proj2():
    layers = ["projector", "proj10", "encoder", "proj2", "proj1", "proj2"]
    assert plots.sort_layers(layers) == ["encoder", "proj1", "proj2", "proj10", "projector"]


def test_layer_colours_encoder_fixed_and_projector_at_cmap_end():
    colours = plots.layer_colours(["projector", "encoder", "proj1", "proj2"])
    assert list(colours) == ["encoder", "proj1", "proj2", "projector"]
    assert colours["encoder"] == matplotlib.colors.to_rgba(plots.ENCODER_COLOUR)
    only_projector = plots.layer_colours(["encoder", "projector"])
    assert only_projector["projector"] == colours["projector"]


def test_panel_keys_and_labels():
    metrics = make_metrics()
    keys = plots.panel_keys(metrics, FACTORS)
    assert keys == [("mnist5k", "simclr"), ("shapes", "simclr")]
    assert plots.panel_label(["dataset", "method"], keys[1]) == "shapes · simclr"
    assert plots.panel_keys(metrics, ["strength", "seed"]) == [()]


def test_seed_summary_single_seed_has_zero_std():
    table = pd.DataFrame({"strength": [0.5, 0.5, 1.0], "seed": [0, 1, 0], "value": [1, 3, 2]})
    summary = plots.seed_summary(table, ["strength"]).set_index("strength")
    assert summary.loc[0.5, "mean"] == 2 and summary.loc[0.5, "std"] == 1
    assert summary.loc[1.0, "std"] == 0 and summary.loc[1.0, "n"] == 1


def test_metrics_vs_strength_panels_and_lines():
    fig = plots.plot_metrics_vs_strength(make_metrics(), PROBE_LABELS, FACTORS, "Probe accuracy")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == len(DATASETS) * len(PROBE_LABELS)
    for ax in fig.axes:
        assert labelled_lines(ax) == list(LAYERS)
    assert fig.axes[0].get_ylabel() == "linear probe accuracy"
    assert fig.axes[0].get_title() == "mnist5k · simclr"
    preview(fig, "probe_vs_strength")


def test_identical_views_point_is_not_joined_to_the_line():
    fig = plots.plot_metrics_vs_strength(make_metrics(), PROBE_LABELS, FACTORS, "Probe accuracy")
    ax = fig.axes[0]
    for line in ax.lines:
        if not line.get_label().startswith("_"):
            assert min(line.get_xdata()) > 0
    markers = [line for line in ax.lines if line.get_marker() == "o"]
    zero_markers = [line for line in markers if list(line.get_xdata()) == [0.0]]
    assert len(zero_markers) == len(LAYERS)
    assert all(line.get_markerfacecolor() == "white" for line in zero_markers)
    assert any(text.get_text() == plots.ZERO_LABEL for text in ax.texts)


def test_single_seed_table():
    metrics = make_metrics(seeds=(0,))
    fig = plots.plot_metrics_vs_strength(metrics, PROBE_LABELS, FACTORS, "One seed")
    assert len(fig.axes) == len(DATASETS) * len(PROBE_LABELS)
    spectra_fig = plots.plot_spectra(make_spectra(seeds=(0,)), FACTORS)
    assert len(spectra_fig.axes) == len(DATASETS) * 2
    train_fig = plots.plot_training_curves(make_train_logs(seeds=(0,)), FACTORS)
    assert len(train_fig.axes) == len(DATASETS)


def test_extra_swept_factor_adds_facet_rows():
    metrics = make_metrics(projector_depth=(1, 3))
    factors = [*FACTORS, "projector_depth"]
    keys = plots.panel_keys(metrics, factors)
    assert len(keys) == len(DATASETS) * 2
    labels = {"invariance": "invariance (cosine of views)", "rankme": "RankMe (effective rank)"}
    fig = plots.plot_metrics_vs_strength(metrics, labels, factors, "Invariance and rank")
    assert len(fig.axes) == len(keys) * len(labels)
    assert fig.axes[0].get_title() == "mnist5k · simclr · projector_depth = 1"
    preview(fig, "metrics_with_depth")


def test_missing_metric_panel_shows_no_data():
    labels = {"probe_acc": "linear probe accuracy", "alpha_req": "power-law exponent α"}
    fig = plots.plot_metrics_vs_strength(make_metrics(), labels, FACTORS, "Missing metric")
    assert any(text.get_text() == "no data" for text in fig.axes[1].texts)


def test_spectra_panels_and_lines():
    fig = plots.plot_spectra(make_spectra(), FACTORS)
    assert len(fig.axes) == len(DATASETS) * 2
    for ax in fig.axes:
        assert len(labelled_lines(ax)) == len(STRENGTHS)
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    preview(fig, "spectra")


def test_spectra_are_normalised_per_run():
    normalised = plots.normalised_spectra(make_spectra(), FACTORS)
    totals = normalised.groupby(["dataset", "strength", "seed", "layer"])["value"].sum()
    np.testing.assert_allclose(totals, 1.0)


def test_training_curves_panels_and_lines():
    fig = plots.plot_training_curves(make_train_logs(), FACTORS)
    assert len(fig.axes) == len(DATASETS)
    for ax in fig.axes:
        assert len(labelled_lines(ax)) == len(STRENGTHS)
        assert len(ax.lines) == len(STRENGTHS) * (len(SEEDS) + 1)
    preview(fig, "training_curves")


def test_augmentations_one_row_per_strength_and_dataset():
    fig = plots.plot_augmentations(make_examples())
    assert len(fig.axes) == len(DATASETS) * len(STRENGTHS)
    assert all(not ax.axison for ax in fig.axes)
    preview(fig, "augmentations")


@pytest.mark.parametrize("suffix", ["figure", "nested/deeper"])
def test_save_figure_writes_pdf_and_png(tmp_path, suffix):
    fig = plots.plot_training_curves(make_train_logs(), FACTORS)
    pdf, png = tmp_path / suffix / "curves.pdf", tmp_path / suffix / "curves.png"
    plots.save_figure(fig, pdf, png, dpi=60)
    assert pdf.stat().st_size > 0 and png.stat().st_size > 0
    assert png.read_bytes().startswith(b"\x89PNG") and pdf.read_bytes().startswith(b"%PDF")
