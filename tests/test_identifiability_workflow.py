"""The identifiability experiment through Snakemake on a tiny star design: tables and figures."""

import shutil

import pandas as pd
import pytest
from conftest import REPO, snakemake

from sslgeom.metrics.similarity import SIMILARITY_METRICS

CONFIG = REPO / "tests" / "fixtures" / "identifiability_config.yaml"
FACTORS = ["dataset", "method", "strength", "seed", "optimizer"]
FIGURES = ["similarity_heatmap", "similarity_vs_factor", "convergence_over_epochs"]
N_RUNS = 3 * 2 * 2  # (base + 2 variants) × method × seed


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("ident")
    shutil.copy(CONFIG, workdir / "config.yaml")
    snakemake("--cores", "2", "--configfile", "config.yaml", workdir=workdir)
    return workdir / "results" / "ident"


def test_identifiability_figures_are_drawn(results):
    for name in [*FIGURES, "latent_recovery"]:
        assert (results / f"figures/{name}.png").stat().st_size > 0


def test_similarity_has_every_pair_layer_and_metric(results):
    similarity = pd.read_csv(results / "similarity.csv")
    pair_columns = ["run_a", "run_b", "differs_in"]
    factor_columns = [f"{f}_{side}" for side in ("a", "b") for f in FACTORS]
    value_columns = ["layer", "metric", "value", "null"]
    assert list(similarity.columns) == pair_columns + factor_columns + value_columns
    n_pairs = N_RUNS * (N_RUNS - 1) // 2
    assert len(similarity) == n_pairs * 2 * len(SIMILARITY_METRICS)
    assert set(similarity["layer"]) == {"encoder", "projector"}
    one_factor = set(similarity["differs_in"]) & {"seed", "method", "strength", "optimizer"}
    assert one_factor == {"seed", "method", "strength", "optimizer"}
    assert similarity[["value", "null"]].notna().all().all()
    knn = similarity.query("metric == 'mutual_knn'")
    assert (knn["value"] > knn["null"]).mean() > 0.9, "trained runs share more neighbours"


def test_convergence_covers_snapshots_and_final_epoch(results):
    convergence = pd.read_csv(results / "convergence.csv")
    assert set(convergence["epoch"]) == {1, 2}
    assert set(convergence["comparison"]) == {"to_final", "across_seeds"}
    final = convergence.query("comparison == 'to_final' and epoch == 2")
    exact = final["metric"].isin(["linear_cka", "debiased_cka", "mutual_knn"])
    assert final[exact]["value"].to_numpy() == pytest.approx(1.0)
    assert (final[~exact]["value"] > 0.99).all(), "ridge shrinkage keeps self-R² just below 1"


def test_latent_recovery_metrics_include_kernel_ridge_and_mcc(results):
    metrics = pd.read_csv(results / "metrics.csv")
    names = set(metrics["metric"])
    assert {"latent_r2_kernel_shape", "mcc_content", "mcc_style"} <= names
    mcc = metrics[metrics["metric"].str.startswith("mcc_")]["value"]
    assert mcc.between(0, 1).all()
