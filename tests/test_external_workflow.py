"""Models trained elsewhere through the whole DAG (no pretrain job), alone and beside
pipeline-trained runs, and the notebook API on the results."""

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import REPO, finished_workdir, snakemake
from torch import nn

from sslgeom.results import open_experiment

# trains models: .ci/run repeats these with an AVX2 CPU's kernels
pytestmark = pytest.mark.trains

CONFIG = REPO / "tests" / "fixtures" / "external_models_config.yaml"
FACTORY_MODULE = """
from torch import nn


class Classifier(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, width, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1)
        )
        self.classifier = nn.Linear(width, 5)


def build(width=8):
    return Classifier(width)
"""
FACTORY_MEAN, FACTORY_STD = [0.5, 0.4, 0.3], [0.2, 0.25, 0.3]


class Scripted(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1)
        )
        self.head = nn.Sequential(
            nn.Sequential(nn.Flatten(), nn.Linear(8, 16), nn.ReLU()), nn.Linear(16, 8)
        )

    def forward(self, x):
        return self.head(self.backbone(x))


def scripted_network() -> Scripted:
    torch.manual_seed(0)
    return Scripted().eval()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("external")
    (folder / "models").mkdir()
    torch.jit.save(torch.jit.script(scripted_network()), folder / "models" / "scripted.pt")
    (folder / "ext_factory.py").write_text(FACTORY_MODULE)
    namespace = {}
    exec(FACTORY_MODULE, namespace)
    torch.save(namespace["build"](6).state_dict(), folder / "models" / "factory_weights.pt")
    return finished_workdir(CONFIG, folder)


def test_a_projector_that_skips_a_module_stops_snakemake_before_any_job(tmp_path):
    (tmp_path / "models").mkdir()
    torch.jit.save(torch.jit.script(scripted_network()), tmp_path / "models" / "scripted.pt")
    config = yaml.safe_load(CONFIG.read_text())
    config["models"]["scripted"]["projector"] = ["head.1"]  # head.0 skipped
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    result = snakemake("-n", "--configfile", "config.yaml", workdir=tmp_path, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert (
        "config error at models.scripted.projector[0]: module 'head.1' fails on the flattened "
        "output of 'backbone' (input 2×8): mat1 and mat2 shapes cannot be multiplied (2x8 and "
        "16x8)" in output
    )
    assert "Traceback" not in output
    assert not (tmp_path / "results").exists()


def test_images(workdir) -> torch.Tensor:
    with np.load(workdir / "results" / "data" / "shapes.npz") as data:
        return torch.from_numpy(data["test_images"]).permute(0, 3, 1, 2).float() / 255


def embeddings(workdir, exp, run) -> dict:
    with np.load(workdir / "results" / exp / "runs" / run / "embeddings.npz") as arrays:
        return dict(arrays)


def test_models_trained_elsewhere_are_never_pretrained(workdir):
    for run in ("model~scripted", "model~factory"):
        assert not (workdir / "results" / "external" / "runs" / run / "model.pt").exists()
    pretrained = sorted(p.name for p in (workdir / "results" / "mixed" / "runs").rglob("model.pt"))
    assert len(pretrained) == 2  # the two pipeline seeds, not the scripted model
    assert not (workdir / "results" / "external" / "logs" / "pretrain").exists()


def test_torchscript_layers_are_its_modules_outputs(workdir):
    network = scripted_network()  # the eager module that was scripted
    arrays = embeddings(workdir, "external", "model~scripted")
    assert arrays["layers"].tolist() == ["encoder", "proj1", "projector"]
    with torch.no_grad():
        encoder = network.backbone(test_images(workdir)).flatten(1)
        hidden = network.head[0](encoder)
        output = network.head[1](hidden)
        np.testing.assert_allclose(output, network(test_images(workdir)), rtol=1e-6)
    np.testing.assert_allclose(arrays["test_encoder"], encoder.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(arrays["test_proj1"], hidden.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(arrays["test_projector"], output.numpy(), rtol=1e-5, atol=1e-6)
    assert int(arrays["final_epoch"]) == -1 and arrays["snapshot_epochs"].size == 0


def test_factory_without_projector_embeds_the_normalised_encoder_alone(workdir):
    namespace = {}
    exec(FACTORY_MODULE, namespace)
    network = namespace["build"](6)
    network.load_state_dict(torch.load(workdir / "models" / "factory_weights.pt"))
    arrays = embeddings(workdir, "external", "model~factory")
    assert arrays["layers"].tolist() == ["encoder"]
    mean = torch.tensor(FACTORY_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(FACTORY_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = network.features((test_images(workdir) - mean) / std).flatten(1)
    np.testing.assert_allclose(arrays["test_encoder"], expected.numpy(), rtol=1e-5, atol=1e-6)
    metrics = pd.read_csv(workdir / "results" / "external" / "metrics.csv")
    assert set(metrics.query("model == 'factory'")["layer"]) == {"encoder"}


def test_external_figures_are_drawn_without_training_curves(workdir):
    figures = workdir / "results" / "external" / "figures"
    assert (figures / "probe_vs_strength.png").stat().st_size > 0
    assert not (figures / "training_curves.png").exists()


def test_pipeline_runs_and_a_model_from_elsewhere_are_compared_pairwise(workdir):
    similarity = pd.read_csv(workdir / "results" / "mixed" / "similarity.csv")
    assert set(similarity["differs_in"]) == {"seed", "model", "seed+model"}
    assert set(similarity["model_b"]) == {"pipeline", "scripted"}
    assert similarity["value"].notna().all()
    convergence = pd.read_csv(workdir / "results" / "mixed" / "convergence.csv")
    assert set(convergence["model"]) == {"pipeline"}, "no training to converge over"
    train_log = pd.read_csv(workdir / "results" / "mixed" / "train_log.csv")
    assert set(train_log["seed"]) == {0, 1} and set(train_log["model"]) == {"pipeline"}
    geometry = pd.read_csv(workdir / "results" / "mixed" / "geometry.csv")
    assert set(geometry["model"]) == {"pipeline", "scripted"}


def test_results_api_opens_tables_runs_and_embeddings(workdir):
    exp = open_experiment("mixed", config=workdir / "config.yaml", results=workdir / "results")
    runs = exp.runs
    assert list(runs.index) == exp.run_ids
    assert list(runs.index) == [
        "seed~0/model~pipeline/dataset~shapes",
        "seed~1/model~pipeline/dataset~shapes",
        "seed~0/model~scripted/dataset~shapes",
    ]
    assert runs["model"].tolist() == ["pipeline", "pipeline", "scripted"]
    assert runs.loc[exp.run_ids[0], "encoder_blocks"] == "1-1"
    assert exp.factors == ["dataset", "method", "strength", "seed", "model"]
    assert {"metrics", "similarity", "geometry", "claims", "train_log"} <= set(exp.tables)
    metrics = exp.table("metrics")
    assert list(metrics.columns) == [*exp.factors, "layer", "metric", "value"]
    on_disk = pd.read_csv(workdir / "results" / "mixed" / "metrics.csv")
    pd.testing.assert_frame_equal(metrics, on_disk)
    run = exp.run_ids[2]
    layers = exp.embeddings(run)
    arrays = embeddings(workdir, "mixed", run)
    assert list(layers) == ["encoder", "proj1", "projector"] == exp.layers(run)
    for layer, value in layers.items():
        np.testing.assert_array_equal(value, arrays[f"test_{layer}"])
    np.testing.assert_array_equal(exp.labels(run), arrays["test_labels"])
    latents = exp.latents(run, split="train")
    assert list(latents.columns) == arrays["latent_names"].tolist()
    np.testing.assert_array_equal(latents.to_numpy(), arrays["train_latents"])
    with pytest.raises(KeyError, match="no run 'nope'"):
        exp.embeddings("nope")
    with pytest.raises(FileNotFoundError, match="similarity_typo.csv does not exist"):
        exp.table("similarity_typo")
