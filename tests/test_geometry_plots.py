"""Tests for sslgeom.figures.geometry on small synthetic figure tables."""

import matplotlib
import numpy as np
from figure_checks import labelled_lines, legend_texts, line_by_label, preview, reference_lines
from synthetic_tables import (
    DATASETS,
    DESIGN,
    FACTORS,
    FAMILIES,
    SEEDS,
    STRENGTHS,
    make_geometry,
    make_jacobian_spectrum,
)

from sslgeom.figures import geometry, style
from sslgeom.figures import tables as figure_tables

SENSITIVITY_LABELS = {"sensitivity": "projector sensitivity ρ (1 = random direction)"}
ANGLE_LABELS = {"angle": "mean principal angle to the Jacobian's kept subspace (°)"}


def tangent_figure(labels, seeds=SEEDS, **options):
    summary = figure_tables.geometry_summary(make_geometry(seeds), DESIGN)
    return geometry.plot_tangent_metrics_vs_strength(summary, labels, FACTORS, "ρ", **options)


def test_sensitivity_one_line_per_family_and_a_named_baseline():
    fig = tangent_figure(SENSITIVITY_LABELS, reference_line=1.0, reference_label="random direction")
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
            random.get_color(), geometry.FAMILY_STYLES["random"]["color"]
        )
        augmentation = line_by_label(ax, "augmentation")
        assert augmentation.get_linestyle() == "-"
        assert augmentation.get_color() == geometry.FAMILY_STYLES["augmentation"]["color"]
    assert legend_texts(fig) == [*FAMILIES, "random direction", style.ZERO_LABEL]
    assert fig.legends[0].get_title().get_text() == "family"
    preview(fig, "tangent_sensitivity_vs_strength")


def test_angles_without_a_baseline_leave_out_the_jacobian_family():
    fig = tangent_figure(ANGLE_LABELS)
    for ax in fig.axes:
        assert labelled_lines(ax) == list(FAMILIES)
        assert not reference_lines(ax)
        assert line_by_label(ax, "random").get_linestyle() == "--"
    assert "jacobian" not in legend_texts(fig)
    preview(fig, "tangent_angles")


def test_reference_line_default_label_names_its_value():
    fig = tangent_figure(SENSITIVITY_LABELS, reference_line=1.0)
    assert reference_lines(fig.axes[0])[0].get_label() == "reference = 1"
    assert "reference = 1" in legend_texts(fig)


def test_unknown_families_come_last_in_one_style():
    styles = geometry.family_styles(["zeta", "random", "alpha", "augmentation"])
    assert list(styles) == ["augmentation", "random", "alpha", "zeta"]
    assert styles["alpha"] == styles["zeta"] == geometry.OTHER_FAMILY_STYLE


def test_single_seed_tables():
    assert len(tangent_figure(SENSITIVITY_LABELS, seeds=(0,)).axes) == len(DATASETS)
    summary = figure_tables.jacobian_spectrum_summary(make_jacobian_spectrum(seeds=(0,)), DESIGN)
    assert len(geometry.plot_jacobian_spectra(summary, FACTORS).axes) == len(DATASETS)


def test_jacobian_spectra_one_panel_per_facet_at_the_seed_mean():
    summary = figure_tables.jacobian_spectrum_summary(make_jacobian_spectrum(), DESIGN)
    fig = geometry.plot_jacobian_spectra(summary, FACTORS)
    assert len(fig.axes) == len(DATASETS)
    for ax in fig.axes:
        assert len(labelled_lines(ax)) == len(STRENGTHS)
        assert ax.get_yscale() == "log" and ax.get_xscale() == "linear"
        assert line_by_label(ax, style.strength_label(0.0)).get_linestyle() == "--"
    index = np.arange(1, 25)
    seed_mean = 2 * np.exp(-index * (0.4 - 0.3)) + 0.01 * np.mean(SEEDS)  # s = 1
    line = line_by_label(fig.axes[0], style.strength_label(1.0))
    np.testing.assert_allclose(line.get_ydata(), seed_mean)
    assert fig.axes[0].get_title() == "mnist5k · simclr"
    assert fig.get_suptitle().startswith("Projector Jacobian")
    assert fig.axes[-1].get_xlabel() == "singular value index i"
    assert fig.axes[0].get_ylabel() == "mean singular value σᵢ of J"
    preview(fig, "jacobian_spectra")
