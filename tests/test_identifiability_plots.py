"""Tests for sslgeom.identifiability_plots on small synthetic tables of a star design."""

import itertools

import numpy as np
import pandas as pd
import pytest

from sslgeom import identifiability_plots as plots
from sslgeom.data.shapes import CONTENT_LATENTS, STYLE_LATENTS
from sslgeom.metrics.similarity import SIMILARITY_METRICS

FACTORS = ["dataset", "method", "strength", "seed", "optimizer"]
BASE = {"dataset": "shapes", "strength": 0.5, "optimizer": "adamw"}
VARIANTS = [{}, {"strength": 1.0}, {"optimizer": "sgd"}]
LAYERS = ["encoder", "projector"]


def star_runs() -> list[dict]:
    """Base and one-factor variants, crossed with two methods and two seeds."""
    return [
        {"run": f"run{i}", **BASE, **variant, "method": method, "seed": seed}
        for i, (variant, method, seed) in enumerate(
            itertools.product(VARIANTS, ["simclr", "barlow"], [0, 1])
        )
    ]


def similarity_table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for a, b in itertools.combinations(star_runs(), 2):
        differs = [f for f in FACTORS if a[f] != b[f]]
        pair = {"run_a": a["run"], "run_b": b["run"], "differs_in": "+".join(differs)}
        pair |= {f"{f}_a": a[f] for f in FACTORS} | {f"{f}_b": b[f] for f in FACTORS}
        for layer, metric in itertools.product(LAYERS, SIMILARITY_METRICS):
            value = 0.9 - 0.2 * len(differs) + 0.05 * rng.standard_normal()
            nulls = {"null_mean": 0.05, "null_q95": 0.08, "p_value": 0.01}
            untrained = 0.3 + 0.01 * rng.standard_normal()
            rows.append(
                pair
                | {"layer": layer, "metric": metric, "value": value, **nulls}
                | {"untrained": untrained}
            )
    return pd.DataFrame(rows)


def latent_metrics_table() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    names = [
        f"{prefix}{latent}"
        for prefix in ("latent_r2_", "latent_r2_kernel_")
        for latent in (*CONTENT_LATENTS, *STYLE_LATENTS)
    ] + ["mcc"]
    rows = [
        {**{f: run[f] for f in FACTORS}, "layer": layer, "metric": name, "value": rng.uniform()}
        for run in star_runs()
        for layer in ("encoder", "proj1", "projector")
        for name in names
    ]
    return pd.DataFrame(rows)


def convergence_table() -> pd.DataFrame:
    rows = []
    for run, epoch, layer, metric in itertools.product(
        star_runs(), [1, 2, 4], LAYERS, SIMILARITY_METRICS
    ):
        factors = {f: run[f] for f in FACTORS}
        for comparison in ("to_final", "across_seeds"):
            value = epoch / 4 if comparison == "to_final" else 0.3
            rows.append(
                {"run_a": run["run"], "run_b": run["run"], **factors, "epoch": epoch}
                | {"comparison": comparison, "layer": layer, "metric": metric}
                | {"value": value, "null_mean": 0.0, "null_q95": 0.02, "p_value": 0.01}
            )
    return pd.DataFrame(rows)


def panels(fig) -> list:
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def test_heatmap_has_a_run_by_run_panel_per_metric_and_layer():
    fig = plots.plot_similarity_heatmap(similarity_table(), FACTORS)
    assert len(panels(fig)) == len(plots.HEATMAP_METRICS) * len(LAYERS)
    image = panels(fig)[0].images[0].get_array()
    assert image.shape == (len(star_runs()),) * 2
    assert np.allclose(np.diag(image), 1.0) and np.allclose(image, image.T)


def test_run_labels_name_what_sets_a_run_apart():
    labels = plots.run_labels(similarity_table(), FACTORS)["label"]
    assert {"simclr base s0", "barlow strength=1.0 s1", "simclr optimizer=sgd s0"} <= set(labels)


def test_similarity_vs_factor_has_a_panel_per_metric_and_varied_factor():
    fig = plots.plot_similarity_vs_factor(similarity_table(), FACTORS)
    titles = {ax.get_title() for ax in fig.axes}
    assert {f"runs that differ in {f}" for f in ("method", "strength", "optimizer")} <= titles
    assert len(fig.axes) == 3 * 3


def test_seed_only_bars_average_the_base_settings_seed_pairs():
    table = plots.with_mean_linear_r2(similarity_table())
    kinds = plots.factor_pair_kinds(table, "strength", FACTORS)
    seed_pairs = kinds["seed only"]
    assert set(seed_pairs["differs_in"]) == {"seed"}
    # one seed pair per method at the base (the strength and optimizer variants are left out)
    assert set(seed_pairs["run_a"]) == {"run0", "run2"}
    assert set(seed_pairs["strength_a"]) == {0.5} and set(seed_pairs["optimizer_a"]) == {"adamw"}
    untrained = kinds["seed only, untrained"]
    assert untrained["value"].to_numpy() == pytest.approx(seed_pairs["untrained"].to_numpy())
    linear = seed_pairs.query("metric == 'linear_r2' and layer == 'encoder'")
    directions = seed_pairs.query("metric in ['linear_r2_ab', 'linear_r2_ba']")
    expected = directions.query("layer == 'encoder'")["value"].mean()
    assert linear["value"].mean() == pytest.approx(expected)


def test_latent_recovery_draws_content_and_style_per_method():
    fig = plots.plot_latent_recovery(latent_metrics_table(), FACTORS)
    assert len(fig.axes) == 2 * 3
    lines = fig.axes[0].get_lines()
    assert {line.get_linestyle() for line in lines} >= {"-", "--"}


def test_convergence_has_both_comparisons():
    fig = plots.plot_convergence_over_epochs(convergence_table(), FACTORS)
    assert len(fig.axes) == 2 * len(LAYERS)
    assert {line.get_linestyle() for line in fig.axes[0].get_lines()} >= {"-", "--", ":"}


@pytest.mark.parametrize(
    "plot",
    [
        plots.plot_similarity_heatmap,
        plots.plot_similarity_vs_factor,
        plots.plot_latent_recovery,
        plots.plot_convergence_over_epochs,
    ],
)
def test_empty_tables_give_a_no_data_figure(plot):
    empty = pd.DataFrame(
        columns=["differs_in", "metric", "value", "null_mean", "layer", *FACTORS], dtype=object
    )
    fig = plot(empty, FACTORS)
    assert any(text.get_text() == "no data" for text in fig.axes[0].texts)
