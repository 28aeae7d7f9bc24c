"""The known-answer controls through the whole DAG on a tiny config: latent views on shapes
and vectors train, embed, analyse, state their claims and draw their figures."""

import shutil

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import REPO, snakemake

from sslgeom.data import load_dataset
from sslgeom.data.vectors import mixing_weights

# trains models: .ci/run repeats these with an AVX2 CPU's kernels
pytestmark = pytest.mark.trains

CONFIG = REPO / "tests" / "fixtures" / "controls_config.yaml"


# What the controls add; the core figures are covered by the other whole-DAG tests.
TARGETS = [
    "results/latent_views/claims.csv",
    "results/latent_views/figures/controls_latent_recovery.png",
    "results/latent_views/figures/controls_tangent_sensitivity.png",
    "results/vectors/claims.csv",
    "results/vectors/figures/controls_latent_recovery.png",
]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("controls")
    shutil.copy(CONFIG, workdir / "config.yaml")
    snakemake(*TARGETS, "--cores", "2", "--configfile", "config.yaml", workdir=workdir)
    return workdir


def test_latent_view_runs_state_the_control_claims_and_draw_them(workdir):
    results = workdir / "results" / "latent_views"
    claims = pd.read_csv(results / "claims.csv")
    # K1 and K5 for pos_x and pos_y (each shared by the other choice) and object_hue; K4 per
    # choice; one tangent claim (K2 or K3) and one redraw claim (K6 or K7) per style latent and
    # choice
    counts = claims["claim"].value_counts().to_dict()
    assert counts == {"K1": 3, "K4": 2, "K2": 3, "K3": 9, "K5": 3, "K6": 3, "K7": 9}
    assert set(claims["resampled_latents"]) == {"pos_x-pos_y", "object_hue"}
    assert set(claims["n_seeds"]) == {2}
    metrics = pd.read_csv(results / "metrics.csv")
    r2 = metrics.query("layer == 'projector' and metric == 'latent_r2_object_hue'")
    by_run = r2.set_index(["resampled_latents", "seed"])["value"]
    gap = np.mean([by_run["object_hue", s] - by_run["pos_x-pos_y", s] for s in (0, 1)])
    k1 = claims[(claims["claim"] == "K1") & claims["statement"].str.contains("object_hue")]
    assert k1["estimate"].iloc[0] == pytest.approx(gap)
    for figure in ("controls_latent_recovery", "controls_tangent_sensitivity"):
        assert (results / "figures" / f"{figure}.png").stat().st_size > 0
    assert not (results / "figures" / "augmentations.png").exists()


def test_vector_runs_recover_latents_and_compare_sphere_with_box(workdir):
    results = workdir / "results" / "vectors"
    metrics = pd.read_csv(results / "metrics.csv")
    encoder = metrics[metrics["layer"] == "encoder"]
    assert {f"latent_r2_z{i}" for i in range(1, 5)} | {"mcc"} <= set(encoder["metric"])
    claims = pd.read_csv(results / "claims.csv")
    assert list(claims["claim"]) == ["Z1"]
    assert claims["dataset"].iloc[0] == "vectors − vectors_box"
    assert (results / "figures" / "controls_latent_recovery.png").stat().st_size > 0


def test_vectors_dataset_is_the_mixed_latents(workdir):
    dataset = load_dataset(workdir / "results" / "data" / "vectors_box.npz")
    weights = [torch.from_numpy(w) for w in mixing_weights(4, 3, 0)]
    observed = torch.from_numpy(dataset.train_latents).double()
    for index, weight in enumerate(weights):  # x = W3 σ(W2 σ(W1 z)), σ leaky ReLU of slope 0.2
        observed = observed @ weight.T
        if index < len(weights) - 1:
            observed = torch.nn.functional.leaky_relu(observed, 0.2)
    assert np.allclose(dataset.train_images, observed.numpy(), atol=1e-5)
    assert dataset.train_latents.min() >= 0 and dataset.train_latents.max() <= 1
