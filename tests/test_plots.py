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
FAMILIES = ("augmentation", "style", "content", "data", "random")
SENSITIVITY_LABELS = {"sensitivity": "projector sensitivity ρ (1 = random direction)"}
ANGLE_LABELS = {"angle": "mean principal angle to the Jacobian's kept subspace (°)"}
LATENTS = ("shape", *plots.STYLE_LATENTS)
DEPTHS = (1, 2, 3)
HIDDEN_DIMS = (128, 512)


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


def make_geometry(seeds=SEEDS) -> pd.DataFrame:
    """Tidy geometry table: the projector shrinks augmentation directions more as s grows."""
    rng = np.random.default_rng(3)
    slopes = {"augmentation": -0.8, "style": -0.4, "content": 0.3, "data": -0.1, "random": 0.0}
    rows = []
    for run in runs(seeds):
        s = run["strength"]
        for family, slope in slopes.items():
            values = {
                "sensitivity": 1 + slope * s + rng.normal(0, 0.03),
                "angle": 80 + 25 * slope * s + rng.normal(0, 1),
            }
            rows += [{**run, "family": family, "metric": m, "value": v} for m, v in values.items()]
        for metric, value in {"stable_rank": 3 + 4 * s, "effective_rank": 10 + 20 * s}.items():
            rows.append({**run, "family": "jacobian", "metric": metric, "value": value})
    return pd.DataFrame(rows)


def make_jacobian_spectrum(seeds=SEEDS, n_values: int = 24) -> pd.DataFrame:
    """Tidy Jacobian spectrum: singular values decaying faster at low strength."""
    index = np.arange(1, n_values + 1)
    rows = []
    for run in runs(seeds):
        sigma = 2 * np.exp(-index * (0.4 - 0.3 * run["strength"])) + 0.01 * run["seed"]
        rows += [{**run, "index": i, "value": v} for i, v in zip(index, sigma, strict=True)]
    return pd.DataFrame(rows)


def make_latent_metrics(seeds=SEEDS) -> pd.DataFrame:
    """Metrics table plus latent R² rows for the shapes dataset only: along the network,
    content stays decodable and style is lost, more so at high strength."""
    rng = np.random.default_rng(4)
    rows = []
    for run in runs(seeds):
        if run["dataset"] != "shapes":
            continue
        for depth, layer in enumerate(LAYERS):
            for latent in LATENTS:
                if latent == "shape":
                    r2 = 0.5 + 0.3 * run["strength"] + 0.05 * depth
                else:
                    r2 = 0.9 - depth * (0.1 + 0.3 * run["strength"]) - 0.05 * LATENTS.index(latent)
                metric = f"{plots.LATENT_R2_PREFIX}{latent}"
                value = r2 + rng.normal(0, 0.02)
                rows.append({**run, "layer": layer, "metric": metric, "value": value})
    return pd.concat([make_metrics(seeds), pd.DataFrame(rows)], ignore_index=True)


def expected_gap(depth: int, hidden_dim: int, strength: float) -> float:
    """Encoder − projector probe accuracy gap used by :func:`make_projector_sweep`."""
    return 0.02 * depth * (1 + strength) + 10 / hidden_dim


def make_projector_sweep(seeds=SEEDS) -> pd.DataFrame:
    """Metrics of a projector depth × width sweep with a known probe gap per run."""
    rows = []
    for run in runs(seeds, projector_depth=DEPTHS, projector_hidden_dim=HIDDEN_DIMS):
        depth, width, s = run["projector_depth"], run["projector_hidden_dim"], run["strength"]
        encoder_acc = 0.5 + 0.3 * s + 0.01 * run["seed"]
        values = {
            ("encoder", "probe_acc"): encoder_acc,
            ("projector", "probe_acc"): encoder_acc - expected_gap(depth, width, s),
            ("encoder", "rankme"): 200.0,
            ("projector", "rankme"): width / 8 * (0.3 + s) / depth,
        }
        rows += [{**run, "layer": la, "metric": m, "value": v} for (la, m), v in values.items()]
    return pd.DataFrame(rows)


def make_examples(n_images: int = 3, n_views: int = 2, size: int = 16) -> dict:
    """Random uint8 views for every dataset and strength."""
    rng = np.random.default_rng(2)
    shape = (n_images, n_views, size, size, 3)
    return {
        d: {s: rng.integers(0, 256, shape, dtype=np.uint8) for s in STRENGTHS} for d in DATASETS
    }


def labelled_lines(ax) -> list[str]:
    """Labels of the legend-worthy data lines drawn in ``ax`` (baselines excluded)."""
    return [
        line.get_label()
        for line in ax.lines
        if not line.get_label().startswith("_") and line not in reference_lines(ax)
    ]


def reference_lines(ax) -> list:
    """Dotted horizontal baselines drawn by :func:`plots.draw_reference_line`."""
    return [line for line in ax.lines if line.get_linestyle() == ":"]


def legend_texts(fig: Figure) -> list[str]:
    """Entries of the figure legend."""
    return [text.get_text() for legend in fig.legends for text in legend.get_texts()]


def line_by_label(ax, label: str):
    """The data line of ``ax`` with that label."""
    (line,) = [line for line in ax.lines if line.get_label() == label]
    return line


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
    assert not any(reference_lines(ax) for ax in fig.axes)
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
    geometry_fig = plots.plot_metrics_vs_strength(
        make_geometry(seeds=(0,)), SENSITIVITY_LABELS, FACTORS, "One seed", line_by="family"
    )
    assert len(geometry_fig.axes) == len(DATASETS)
    jacobian_fig = plots.plot_jacobian_spectra(make_jacobian_spectrum(seeds=(0,)), FACTORS)
    assert len(jacobian_fig.axes) == len(DATASETS)
    latent_fig = plots.plot_latent_r2_by_layer(make_latent_metrics(seeds=(0,)), FACTORS)
    assert len(latent_fig.axes) == len(STRENGTHS)
    size_factors = [*FACTORS, "projector_depth", "projector_hidden_dim"]
    size_fig = plots.plot_projector_size(make_projector_sweep(seeds=(0,)), size_factors)
    assert len(size_fig.axes) == len(DATASETS) * 2 * len(STRENGTHS)
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


def test_geometry_sensitivity_one_line_per_family_and_random_direction_baseline():
    fig = plots.plot_metrics_vs_strength(
        make_geometry(),
        SENSITIVITY_LABELS,
        FACTORS,
        "Projector sensitivity along tangent families",
        line_by="family",
        reference_line=1.0,
        reference_label="random direction",
    )
    assert len(fig.axes) == len(DATASETS)
    for ax in fig.axes:
        assert labelled_lines(ax) == list(FAMILIES)
        (baseline,) = reference_lines(ax)
        assert list(baseline.get_ydata()) == [1.0, 1.0]
        assert baseline.get_label() == "random direction"
        assert ax.get_ylabel().replace("\n", " ") == SENSITIVITY_LABELS["sensitivity"]
        random = line_by_label(ax, "random")
        assert random.get_linestyle() == "--"
        assert matplotlib.colors.same_color(
            random.get_color(), plots.FAMILY_STYLES["random"]["color"]
        )
        augmentation = line_by_label(ax, "augmentation")
        assert augmentation.get_linestyle() == "-"
        assert augmentation.get_color() == plots.FAMILY_STYLES["augmentation"]["color"]
    entries = legend_texts(fig)
    assert [*FAMILIES, "random direction", plots.ZERO_LABEL] == entries
    assert fig.legends[0].get_title().get_text() == "family"
    preview(fig, "tangent_sensitivity_vs_strength")


def test_geometry_angles_use_the_random_family_as_baseline():
    fig = plots.plot_metrics_vs_strength(
        make_geometry(), ANGLE_LABELS, FACTORS, "Principal angles", line_by="family"
    )
    for ax in fig.axes:
        assert labelled_lines(ax) == list(FAMILIES)
        assert not reference_lines(ax)
        assert line_by_label(ax, "random").get_linestyle() == "--"
    assert "jacobian" not in legend_texts(fig)
    preview(fig, "tangent_angles")


def test_reference_line_default_label_names_its_value():
    fig = plots.plot_metrics_vs_strength(
        make_geometry(), SENSITIVITY_LABELS, FACTORS, "ρ", line_by="family", reference_line=1.0
    )
    assert reference_lines(fig.axes[0])[0].get_label() == "reference = 1"
    assert "reference = 1" in legend_texts(fig)


def test_jacobian_spectra_one_panel_per_facet_raw_values():
    spectrum = make_jacobian_spectrum()
    fig = plots.plot_jacobian_spectra(spectrum, FACTORS)
    assert len(fig.axes) == len(DATASETS)
    for ax in fig.axes:
        assert len(labelled_lines(ax)) == len(STRENGTHS)
        assert ax.get_yscale() == "log" and ax.get_xscale() == "linear"
        zero = line_by_label(ax, plots.strength_label(0.0))
        assert zero.get_linestyle() == "--"
    first = spectrum[(spectrum["dataset"] == "mnist5k") & (spectrum["strength"] == 1.0)]
    line = line_by_label(fig.axes[0], plots.strength_label(1.0))
    np.testing.assert_allclose(line.get_ydata()[0], first[first["index"] == 1]["value"].mean())
    assert fig.axes[0].get_title() == "mnist5k · simclr"
    assert fig.get_suptitle().startswith("Projector Jacobian")
    assert fig.axes[-1].get_xlabel() == "singular value index i"
    assert fig.axes[0].get_ylabel() == "mean singular value σᵢ of J"
    preview(fig, "jacobian_spectra")


def test_latent_r2_rows_are_facets_with_latents_columns_strengths():
    fig = plots.plot_latent_r2_by_layer(make_latent_metrics(), FACTORS)
    assert len(fig.axes) == len(STRENGTHS)  # only shapes has latent rows
    expected = ["content: shape", *(f"style: {name}" for name in plots.STYLE_LATENTS)]
    for ax, strength in zip(fig.axes, STRENGTHS, strict=True):
        assert labelled_lines(ax) == expected
        assert [t.get_text() for t in ax.get_xticklabels()] == list(LAYERS)
        assert len(reference_lines(ax)) == 1
        content, style = line_by_label(ax, "content: shape"), line_by_label(ax, "style: pos_x")
        assert content.get_linestyle() == "-" and style.get_linestyle() == "--"
        assert content.get_linewidth() > style.get_linewidth()
        assert ax.get_title() == f"shapes · simclr\n{plots.strength_label(strength)}"
    grey = matplotlib.colors.to_rgba(plots.ZERO_BAND_COLOUR, 0.5)
    assert fig.axes[0].get_facecolor() == grey and fig.axes[1].get_facecolor() != grey
    assert fig.axes[0].get_ylabel() == "held-out linear R²"
    assert legend_texts(fig)[: len(expected)] == expected
    preview(fig, "latent_r2_by_layer")


def test_latent_r2_without_latent_rows_shows_no_data():
    fig = plots.plot_latent_r2_by_layer(make_metrics(), FACTORS)
    assert len(fig.axes) == 1
    assert any(text.get_text() == "no data" for text in fig.axes[0].texts)


def test_projector_size_rows_quantities_columns_strengths():
    factors = [*FACTORS, "projector_depth", "projector_hidden_dim"]
    fig = plots.plot_projector_size(make_projector_sweep(), factors)
    axes = np.array(fig.axes).reshape(len(DATASETS) * 2, len(STRENGTHS))
    for row_index, row in enumerate(axes):
        is_gap = row_index % 2 == 0
        for ax in row:
            assert labelled_lines(ax) == [str(w) for w in HIDDEN_DIMS]
            assert len(reference_lines(ax)) == int(is_gap)
        expected_label = plots.PROJECTOR_SIZE_ROWS["probe_gap" if is_gap else "rankme"]
        assert row[0].get_ylabel() == expected_label
    assert axes[0, 1].get_title() == f"mnist5k · simclr\n{plots.strength_label(0.5)}"
    gap_line = line_by_label(axes[0, 2], "512")
    assert list(gap_line.get_xdata()) == list(DEPTHS)
    np.testing.assert_allclose(gap_line.get_ydata(), [expected_gap(d, 512, 1.0) for d in DEPTHS])
    assert axes[-1, 0].get_xlabel() == "projector depth"
    assert "no gap" in legend_texts(fig)
    preview(fig, "projector_size")


def test_long_ylabels_wrap_before_the_parenthesis():
    assert plots.wrap_label("RankMe (effective rank)") == "RankMe (effective rank)"
    wrapped = plots.wrap_label(SENSITIVITY_LABELS["sensitivity"])
    assert wrapped == "projector sensitivity ρ\n(1 = random direction)"
    assert all(
        len(line) <= plots.YLABEL_WIDTH
        for line in plots.wrap_label(ANGLE_LABELS["angle"]).split("\n")
    )


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


def test_training_curves_give_each_method_its_panel_its_y_scale_and_its_seed_mean():
    logs = make_train_logs()
    vicreg = logs.assign(method="vicreg", loss=logs["loss"] * 10)  # a loss on another scale
    fig = plots.plot_training_curves(pd.concat([logs, vicreg], ignore_index=True), FACTORS)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["mnist5k · simclr", "mnist5k · vicreg", "shapes · simclr", "shapes · vicreg"]
    assert fig.axes[1].get_ylim()[1] > 5 * fig.axes[0].get_ylim()[1]
    rows = vicreg.query("dataset == 'mnist5k' and strength == 0.5")
    seed_mean = [rows[rows["epoch"] == epoch]["loss"].mean() for epoch in range(1, 11)]
    np.testing.assert_allclose(line_by_label(fig.axes[1], "s = 0.5").get_ydata(), seed_mean)


def test_wrapped_facets_drop_empty_slots_and_keep_tick_labels_above_them():
    logs = make_train_logs()
    logs = pd.concat([logs, logs.assign(method="byol")], ignore_index=True)  # 4 facets, 3 columns
    fig = plots.plot_training_curves(logs, FACTORS)
    assert len(fig.axes) == 4
    fig.canvas.draw()
    for index, ax in enumerate(fig.axes):
        has_tick_labels = any(t.get_text() for t in ax.get_xticklabels())
        assert has_tick_labels == (index != 0)  # only panel 0 has a panel below it
        assert bool(ax.get_xlabel()) == has_tick_labels


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
