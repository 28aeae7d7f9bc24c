"""The README's worked example (examples/own_data_and_model.py) runs as written: the files it
makes go through the whole DAG, the folder's images become the dataset and the scripted network
is compared with the pipeline's runs."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import REPO, snakemake
from PIL import Image

from sslgeom.data import load_dataset

# trains models: .ci/run repeats these with an AVX2 CPU's kernels
pytestmark = pytest.mark.trains

EXAMPLE = REPO / "examples" / "own_data_and_model.py"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("example")
    subprocess.run([sys.executable, str(EXAMPLE), "example"], cwd=workdir, check=True)
    snakemake("--cores", "2", "--configfile", "example/config.yaml", workdir=workdir)
    return workdir


def test_the_folder_becomes_the_dataset(workdir):
    dataset = load_dataset(str(workdir / "results" / "data" / "example_images.npz"))
    images = sorted((workdir / "example" / "images").rglob("*.png"))
    assert len(dataset.train_images) + len(dataset.test_images) == len(images) == 240
    assert len(dataset.test_images) == 60  # test_fraction 0.25, 20 of each class
    assert np.bincount(dataset.test_labels).tolist() == [20, 20, 20]
    stored = {
        image.tobytes() for image in np.concatenate([dataset.train_images, dataset.test_images])
    }
    assert np.asarray(Image.open(images[0]).convert("RGB")).tobytes() in stored


def test_the_scripted_network_is_compared_with_the_pipelines_runs(workdir):
    similarity = pd.read_csv(workdir / "results" / "example" / "similarity.csv")
    kinds = set(similarity["differs_in"])
    assert kinds == {"seed", "model", "seed+model"}
    runs = set(similarity["run_a"]) | set(similarity["run_b"])
    assert len(runs) == 3
    external = next(run for run in runs if "example_net" in run)
    assert not (workdir / "results" / "example" / "runs" / external / "model.pt").exists()
    config = yaml.safe_load((workdir / "example" / "config.yaml").read_text())
    network = torch.jit.load(str(workdir / config["models"]["example_net"]["torchscript"]))
    dataset = load_dataset(str(workdir / "results" / "data" / "example_images.npz"))
    images = torch.from_numpy(dataset.test_images).permute(0, 3, 1, 2).float() / 255
    with torch.no_grad():
        expected = network.backbone((images - 0.5) / 0.25).numpy()
    with np.load(workdir / "results" / "example" / "runs" / external / "embeddings.npz") as stored:
        np.testing.assert_allclose(stored["test_encoder"], expected, rtol=1e-4, atol=1e-5)
    figures = workdir / "results" / "example" / "figures"
    assert (figures / "setting_similarity.png").stat().st_size > 0
