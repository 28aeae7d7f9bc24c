"""Tests for sslgeom.analyses.identifiability: every pair of runs and every snapshot, from
embeddings."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ortho_group

from sslgeom.analyses.identifiability import compare_runs
from sslgeom.io.artifacts import save_npz_atomically
from sslgeom.metrics.similarity import (
    SIMILARITY_METRICS,
    pair_similarities,
    representation_stats,
)

LAYERS = ["encoder", "projector"]
OPTIONS = {
    "layers": LAYERS,
    "knn_k": 5,
    "ridge_alpha": 1.0,
    "fit_images": 60,
    "null_seed": 0,
    "n_permutations": 19,
}
N_TRAIN, N_TEST, DIMS, FINAL_EPOCH = 80, 50, 6, 3
RUN_FACTORS = [
    {"method": "simclr", "seed": 0},
    {"method": "simclr", "seed": 1},
    {"method": "barlow", "seed": 0},
]


def write_embeddings(path, features: dict[int, np.ndarray], snapshot_epochs: list[int]) -> str:
    """An embeddings.npz whose every layer at ``epoch`` holds ``features[epoch]`` (train rows
    first), the final model's under the unprefixed names."""
    arrays = {"snapshot_epochs": np.array(snapshot_epochs), "final_epoch": np.array(FINAL_EPOCH)}
    for epoch, values in features.items():
        prefix = "" if epoch == FINAL_EPOCH else f"epoch{epoch}_"
        for layer in LAYERS:
            arrays[f"{prefix}train_{layer}"] = values[:N_TRAIN]
            arrays[f"{prefix}test_{layer}"] = values[N_TRAIN:]
    save_npz_atomically(arrays, path)
    return str(path)


@pytest.fixture
def compared(tmp_path):
    """Run 1 is run 0 rotated and scaled at every epoch; run 2 is unrelated noise."""
    rng = np.random.default_rng(0)
    rotation = ortho_group.rvs(DIMS, random_state=1)
    epochs = [0, 1, FINAL_EPOCH]
    first = {epoch: rng.standard_normal((N_TRAIN + N_TEST, DIMS)) for epoch in epochs}
    runs = [
        first,
        {epoch: 3 * values @ rotation for epoch, values in first.items()},
        {epoch: rng.standard_normal((N_TRAIN + N_TEST, DIMS)) for epoch in epochs},
    ]
    paths = [write_embeddings(tmp_path / f"{i}.npz", run, [0, 1]) for i, run in enumerate(runs)]
    similarity, convergence = compare_runs(
        ["r0", "r1", "r2"], paths, RUN_FACTORS, OPTIONS, log=lambda _: None
    )
    return pd.DataFrame(similarity), pd.DataFrame(convergence), runs


def test_every_pair_layer_and_metric_has_one_row(compared):
    similarity, _, _ = compared
    assert len(similarity) == 3 * len(LAYERS) * len(SIMILARITY_METRICS)
    pairs = similarity.groupby(["run_a", "run_b"])["differs_in"].first().to_dict()
    assert pairs == {("r0", "r1"): "seed", ("r0", "r2"): "method", ("r1", "r2"): "method+seed"}
    expected = {"method_a", "seed_a", "method_b", "seed_b", "null_mean", "null_q95", "p_value"}
    assert expected | {"untrained"} <= set(similarity.columns)


def test_rotated_scaled_copy_is_identical_and_unrelated_run_is_near_null(compared):
    similarity, _, _ = compared
    values = similarity.set_index(["run_a", "run_b", "layer", "metric"])["value"]
    for layer in LAYERS:
        for metric in SIMILARITY_METRICS:
            expected = 1.0 if metric.endswith(("cka", "knn")) else 0.99
            assert values["r0", "r1", layer, metric] == pytest.approx(expected, abs=0.01)
        assert abs(values["r0", "r2", layer, "debiased_cka"]) < 0.1
    copy = similarity.query("run_a == 'r0' and run_b == 'r1'")
    with_null = copy[copy["metric"].isin(["linear_cka", "debiased_cka", "mutual_knn"])]
    assert (with_null["null_q95"] < 0.6).all(), "a shuffled copy must not look identical"
    assert with_null["p_value"].to_numpy() == pytest.approx(1 / 20), "above all 19 shuffles"
    assert (with_null["p_normal"] < 1e-6).all(), "the fitted tail resolves below 1/20"
    r2 = copy[copy["metric"].str.startswith("linear_r2")]
    assert r2[["null_mean", "null_q95", "p_value", "p_normal"]].isna().all().all(), "no R² null"
    unrelated = similarity.query("run_a == 'r0' and run_b == 'r2' and metric == 'debiased_cka'")
    assert (unrelated["p_value"] > 0.05).all()


def test_untrained_column_is_the_epoch_zero_similarity(compared):
    similarity, _, runs = compared
    stats = [
        representation_stats(run[0][:60], run[0][N_TRAIN:], k=5, ridge_alpha=1.0) for run in runs
    ]
    rows = similarity.query("layer == 'encoder'").set_index(["run_a", "run_b", "metric"])
    for (i, a), (j, b) in [((0, "r0"), (2, "r2")), ((1, "r1"), (2, "r2"))]:
        for metric, value in pair_similarities(stats[i], stats[j]).items():
            assert rows.loc[(a, b, metric), "untrained"] == pytest.approx(value)


def test_convergence_compares_snapshots_to_final_and_seed_pairs_only(compared):
    _, convergence, _ = compared
    to_final = convergence.query("comparison == 'to_final'")
    assert set(to_final["epoch"]) == {0, 1, FINAL_EPOCH}
    at_final = to_final.query("epoch == @FINAL_EPOCH and metric == 'linear_cka'")
    assert at_final["value"].to_numpy() == pytest.approx(1.0)
    across = convergence.query("comparison == 'across_seeds'")
    assert set(zip(across["run_a"], across["run_b"], strict=True)) == {("r0", "r1")}
    assert len(across) == 3 * len(LAYERS) * len(SIMILARITY_METRICS)
