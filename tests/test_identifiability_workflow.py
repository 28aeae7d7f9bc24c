"""The identifiability experiment through Snakemake on a tiny star design: tables and figures."""

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, finished_workdir
from scipy.optimize import linear_sum_assignment

from sslgeom.metrics.similarity import SIMILARITY_METRICS

# trains models: .ci/run repeats these with an AVX2 CPU's kernels
pytestmark = pytest.mark.trains

CONFIG = REPO / "tests" / "fixtures" / "identifiability_config.yaml"
FACTORS = ["dataset", "method", "strength", "seed", "optimizer"]
FIGURES = ["similarity_heatmap", "similarity_vs_factor", "convergence_over_epochs"]
N_RUNS = 3 * 2 * 2  # (base + 2 variants) × method × seed


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return finished_workdir(CONFIG, tmp_path_factory.mktemp("ident")) / "results" / "ident"


def test_identifiability_figures_are_drawn(results):
    for name in [*FIGURES, "latent_recovery"]:
        assert (results / f"figures/{name}.png").stat().st_size > 0


def test_similarity_has_every_pair_layer_and_metric(results):
    similarity = pd.read_csv(results / "similarity.csv")
    pair_columns = ["run_a", "run_b", "differs_in"]
    factor_columns = [f"{f}_{side}" for side in ("a", "b") for f in FACTORS]
    null_columns = ["null_mean", "null_q95", "p_value", "null_sd", "null_z", "p_normal"]
    value_columns = ["layer", "metric", "value", *null_columns, "untrained"]
    assert list(similarity.columns) == pair_columns + factor_columns + value_columns
    n_pairs = N_RUNS * (N_RUNS - 1) // 2
    assert len(similarity) == n_pairs * 2 * len(SIMILARITY_METRICS)
    assert set(similarity["layer"]) == {"encoder", "projector"}
    one_factor = set(similarity["differs_in"]) & {"seed", "method", "strength", "optimizer"}
    assert one_factor == {"seed", "method", "strength", "optimizer"}
    with_null = similarity["metric"].isin(["linear_cka", "debiased_cka", "mutual_knn"])
    assert similarity.loc[with_null, value_columns[2:]].notna().all().all()
    assert similarity.loc[~with_null, null_columns].isna().all().all(), "the R² has no null"
    knn = similarity.query("metric == 'mutual_knn'")
    assert (knn["value"] > knn["null_q95"]).mean() > 0.9, "trained runs share more neighbours"
    assert (knn["p_value"] == 1 / 20).mean() > 0.9, "above all 19 shuffles"


def test_convergence_covers_snapshots_and_final_epoch(results):
    convergence = pd.read_csv(results / "convergence.csv")
    assert set(convergence["epoch"]) == {0, 1, 2}
    assert set(convergence["comparison"]) == {"to_final", "across_seeds"}
    final = convergence.query("comparison == 'to_final' and epoch == 2")
    exact = final["metric"].isin(["linear_cka", "debiased_cka", "mutual_knn"])
    assert final[exact]["value"].to_numpy() == pytest.approx(1.0)
    assert (final[~exact]["value"] > 0.99).all(), "ridge shrinkage keeps self-R² just below 1"


def test_latent_recovery_metrics_include_kernel_ridge_and_mcc(results):
    metrics = pd.read_csv(results / "metrics.csv")
    names = set(metrics["metric"])
    assert {"latent_r2_kernel_shape", "mcc"} <= names
    path = sorted((results / "runs").rglob("embeddings.npz"))[0]
    factors = dict(part.split("~") for part in path.parent.relative_to(results / "runs").parts)
    rows = metrics.query("metric == 'mcc' and layer == 'encoder'")
    for factor, value in factors.items():
        rows = rows[rows[factor].astype(str) == value]
    assert len(rows) == 1
    assert rows["value"].iloc[0] == pytest.approx(mcc_by_hand(np.load(path)), abs=1e-6)


def mcc_by_hand(embeddings) -> float:
    """Hungarian matching of |corr| between the test encoder dimensions and pos_x, pos_y,
    scale, cos/sin of rotation (period 2π) and of both hues (period 1)."""
    latents, z = embeddings["test_latents"], embeddings["test_encoder"].astype(np.float64)
    angles = [latents[:, 4], 2 * np.pi * latents[:, 5], 2 * np.pi * latents[:, 6]]
    targets = [latents[:, 1], latents[:, 2], latents[:, 3]]
    targets += [f(angle) for angle in angles for f in (np.cos, np.sin)]
    correlations = np.abs(np.corrcoef(np.column_stack(targets), z, rowvar=False))
    block = np.nan_to_num(correlations[: len(targets), len(targets) :])
    rows, columns = linear_sum_assignment(-block)
    return block[rows, columns].sum() / len(targets)


def test_claims_state_verdicts_on_the_star_design(results):
    """Two seeds per method: C1–C3 on the strength axis (base 0.5, variant 1.0), I1 per metric
    and I2 per varied factor, metric and layer; C3 is the mean over seeds of the projector
    RankMe slope between the two strengths at the base optimizer."""
    claims = pd.read_csv(results / "claims.csv")
    for method, rows in claims[claims["method"] != "all"].groupby("method"):
        counts = rows["claim"].value_counts().to_dict()
        assert counts == {"I2": 2 * 2 * 2, "I1": 2, "C1": 1, "C2a": 1, "C2b": 1, "C3": 1}, method
    assert (claims["n_seeds"] == 2).all()
    assert set(claims["verdict"]) <= {"supported", "contradicted", "inconclusive"}
    metrics = pd.read_csv(results / "metrics.csv")
    rank = metrics.query("metric == 'rankme' and layer == 'projector' and optimizer == 'adamw'")
    for method, rows in rank.groupby("method"):
        by_seed = rows.pivot_table("value", "seed", "strength")
        slope = ((by_seed[1.0] - by_seed[0.5]) / 0.5).mean()
        row = (claims["method"] == method) & (claims["claim"] == "C3")
        estimate = claims.loc[row, "estimate"].item()
        assert estimate == pytest.approx(slope)


def test_the_methods_are_compared_with_their_seed_pairs_at_the_base_setting(results):
    """I3 across the methods, per metric and layer: base-setting pairs of the two methods at
    different seeds, minus the base setting's seed pairs, from similarity.csv by hand."""
    claims = pd.read_csv(results / "claims.csv")
    across = claims[claims["claim"] == "I3"]
    assert set(across["method"]) == {"all"} and set(across["factor"]) == {"method"}
    assert len(across) == 2 * 2  # metrics × layers
    pairs = pd.read_csv(results / "similarity.csv")
    at_base = np.logical_and.reduce(
        [
            pairs[f"{f}_{side}"] == v
            for f, v in (("strength", 0.5), ("optimizer", "adamw"))
            for side in "ab"
        ]
    )
    pairs = pairs[at_base]
    for row in across.itertuples():
        panel = pairs[(pairs["metric"] == row.metric) & (pairs["layer"] == row.layer)]
        differs = panel["differs_in"].map(lambda d: frozenset(d.split("+")))
        by_hand = (
            panel.loc[differs == frozenset({"method", "seed"}), "value"].mean()
            - panel.loc[differs == frozenset({"seed"}), "value"].mean()
        )
        assert row.estimate == pytest.approx(by_hand)
