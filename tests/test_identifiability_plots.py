"""Tests for sslgeom.figures.identifiability on the figure tables of a synthetic star design."""

import numpy as np
import pandas as pd
import pytest
from synthetic_tables import (
    STAR_DESIGN,
    STAR_FACTORS,
    STAR_LAYERS,
    convergence_table,
    latent_metrics_table,
    similarity_table,
    star_runs,
)

from sslgeom.config.experiments import Design
from sslgeom.figures import identifiability as plots
from sslgeom.figures import tables as figure_tables


def panels(fig) -> list:
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def test_heatmap_has_a_symmetric_run_by_run_panel_per_metric_and_layer():
    similarity = similarity_table()
    pairs = figure_tables.labelled_similarity(similarity, STAR_DESIGN)
    fig = plots.plot_similarity_heatmap(pairs, STAR_FACTORS)
    assert len(panels(fig)) == len(plots.HEATMAP_METRICS) * len(STAR_LAYERS)
    ax = panels(fig)[0]
    image = ax.images[0].get_array()
    assert image.shape == (len(star_runs()),) * 2
    assert np.allclose(np.diag(image), 1.0) and np.allclose(image, image.T)
    labels = [tick.get_text() for tick in ax.get_xticklabels()]
    row = similarity.query("metric == 'debiased_cka' and layer == 'encoder'").iloc[0]
    a, b = labels.index("simclr base s0"), labels.index("simclr base s1")
    assert (row["run_a"], row["run_b"]) == ("run0", "run1")
    assert image[a, b] == pytest.approx(row["value"])


def test_similarity_vs_factor_draws_a_bar_per_layer_and_pair_kind():
    bars = figure_tables.similarity_by_pair_kind(similarity_table(), STAR_DESIGN)
    fig = plots.plot_similarity_vs_factor(bars, STAR_FACTORS)
    titles = [ax.get_title() for ax in fig.axes[:3]]
    assert titles == [f"runs that differ in {f}" for f in ("method", "strength", "optimizer")]
    assert len(fig.axes) == 3 * 3
    ax = fig.axes[1]  # debiased CKA, strength
    heights = [patch.get_height() for patch in ax.patches]
    assert len(heights) == len(plots.PAIR_BARS) * len(STAR_LAYERS)
    expected = bars.query("metric == 'debiased_cka' and factor == 'strength'")
    expected = expected.set_index(["pair_kind", "layer"])["mean"]
    drawn = [expected[kind, layer] for kind in plots.PAIR_BARS for layer in STAR_LAYERS]
    np.testing.assert_allclose(heights, drawn)
    ticks = [tick.get_text() for tick in ax.get_xticklabels()]
    assert ticks == ["seed only,\nuntrained", "seed\nonly", "strength\nonly", "strength\n+ seed"]


def test_setting_similarity_draws_each_cell_trained_and_untrained():
    cells = figure_tables.setting_similarity(similarity_table(), STAR_DESIGN)
    fig = plots.plot_setting_similarity(cells, STAR_FACTORS)
    assert len(panels(fig)) == len(plots.HEATMAP_METRICS) * len(STAR_LAYERS) * 2
    trained, untrained = panels(fig)[:2]  # debiased CKA at the encoder
    labels = [tick.get_text() for tick in trained.get_xticklabels()]
    assert len(labels) == 6  # 2 methods × (base, strength=1.0, optimizer=sgd)
    cell = cells.query(
        "metric == 'debiased_cka' and layer == 'encoder' and setting_a == 'barlow base' "
        "and setting_b == 'simclr base'"
    ).iloc[0]
    a, b = labels.index("barlow base"), labels.index("simclr base")
    for ax, column in ((trained, "mean"), (untrained, "mean_untrained")):
        image = ax.images[0].get_array()
        assert image[a, b] == pytest.approx(cell[column]) == pytest.approx(image[b, a])


def test_latent_recovery_draws_content_and_style_per_method():
    recovery = figure_tables.latent_recovery(latent_metrics_table(), STAR_DESIGN)
    fig = plots.plot_latent_recovery(recovery, STAR_FACTORS)
    assert len(fig.axes) == 2 * 3
    lines = fig.axes[0].get_lines()
    assert {line.get_linestyle() for line in lines} >= {"-", "--"}
    content = recovery.query(
        "layer == 'encoder' and score == 'linear R²' and method == 'barlow' and group == 'content'"
    )
    (drawn,) = [line for line in lines if np.allclose(line.get_ydata(), content["mean"])]
    assert drawn.get_linestyle() == "-"


def test_latent_recovery_without_kernel_r2_shows_no_data():
    metrics = latent_metrics_table()
    linear_only = metrics[~metrics["metric"].str.startswith("latent_r2_kernel_")]
    recovery = figure_tables.latent_recovery(linear_only, STAR_DESIGN)
    fig = plots.plot_latent_recovery(recovery, STAR_FACTORS)
    assert any(text.get_text() == "no data" for text in fig.axes[0].texts)


def test_convergence_has_both_comparisons_and_the_null():
    summary = figure_tables.convergence_summary(convergence_table(), STAR_DESIGN)
    fig = plots.plot_convergence_over_epochs(summary, STAR_FACTORS)
    assert len(fig.axes) == 2 * len(STAR_LAYERS)
    lines = fig.axes[0].get_lines()
    assert {line.get_linestyle() for line in lines} >= {"-", "--", ":"}
    (null,) = [line for line in lines if line.get_linestyle() == ":"]
    assert null.get_ydata()[0] == pytest.approx(summary["mean_null_q95"].iloc[0])


@pytest.mark.parametrize(
    "plot, table",
    [
        (plots.plot_similarity_heatmap, figure_tables.labelled_similarity),
        (plots.plot_similarity_vs_factor, figure_tables.similarity_by_pair_kind),
        (plots.plot_setting_similarity, figure_tables.setting_similarity),
        (plots.plot_latent_recovery, figure_tables.latent_recovery),
        (plots.plot_convergence_over_epochs, figure_tables.convergence_summary),
    ],
)
def test_empty_tables_give_a_no_data_figure(plot, table):
    columns = ["run_a", "run_b", "differs_in", "layer", "metric", "value", "null_mean"]
    columns += ["null_q95", "p_value", "untrained", "comparison", "epoch", *STAR_FACTORS]
    columns += [f"{f}_{side}" for side in "ab" for f in STAR_FACTORS]
    empty = pd.DataFrame(columns=columns, dtype=object)
    fig = plot(table(empty, STAR_DESIGN), STAR_FACTORS)
    assert any(text.get_text() == "no data" for text in fig.axes[0].texts)


def test_figures_of_one_base_setting_name_the_values_they_fixed(tmp_path):
    metrics = latent_metrics_table()
    crossed = pd.concat([metrics.assign(backbone=b) for b in ("vit", "resnet")])
    design = Design([*STAR_FACTORS, "backbone"], STAR_DESIGN.base, ["method", "backbone"])
    recovery = figure_tables.latent_recovery(crossed, design)
    assert set(recovery["backbone"]) == {"resnet"}  # the first of the tied values
    fig = plots.plot_latent_recovery(recovery, STAR_FACTORS)
    assert fig._suptitle.get_text().endswith("(optimizer = adamw, backbone = resnet)")
    # a star design fixes only its varied factors; written and read back, as the figure job does
    path = tmp_path / "recovery.csv"
    figure_tables.latent_recovery(metrics.query("optimizer == 'adamw'"), STAR_DESIGN).to_csv(path)
    fig = plots.plot_latent_recovery(pd.read_csv(path), STAR_FACTORS)
    assert fig._suptitle.get_text().endswith("other factors at their base value")
