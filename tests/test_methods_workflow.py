"""VICReg, Barlow Twins, BYOL, SimSiam and the supervised reference through the whole DAG on a
tiny config: each run trains with its own method at the references' settings, keeps the
method's modules apart from the representation, and is analysed and drawn. In the same DAG,
a ViT and an MLP on pixels are trained, embedded and measured by the tangent geometry."""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import CORE_METRICS, REPO, finished_workdir

from sslgeom.analyses.geometry import TANGENT_ARRAYS
from sslgeom.data import load_dataset
from sslgeom.models import MLP, ViT
from sslgeom.models.run_models import load_model
from sslgeom.training.run import pretrain_run
from sslgeom.training.views import to_model_inputs

# trains models: .ci/run repeats these with an AVX2 CPU's kernels
pytestmark = pytest.mark.trains

CONFIG = REPO / "tests" / "fixtures" / "methods_config.yaml"
METHODS = ["vicreg", "barlow", "byol", "simsiam", "supervised"]
RUNS = {method: f"method~{method}/seed~0" for method in METHODS}
# The settings of the reference implementations (Bardes et al. 2022; Zbontar et al. 2021;
# Grill et al. 2020: τ_base 0.996), written out here so that a changed default, or a setting
# lost on its way to the loss, shows; the predictors' widths are checked in the saved state.
REFERENCE_WEIGHTS = {
    "vicreg": {
        "vicreg_invariance_weight": 25,
        "vicreg_variance_weight": 25,
        "vicreg_covariance_weight": 1,
    },
    "barlow": {"barlow_off_diagonal_weight": 5e-3},
    "byol": {"byol_momentum": 0.996, "predictor_hidden_dim": None},
    "simsiam": {"predictor_hidden_dim": None},
    "supervised": {},
}
# The fixture's projector is 32 hidden, 16 out, on shapes' 5 classes: BYOL's predictor as wide
# as the projector's hidden layer, SimSiam's a quarter of its output, one linear head.
METHOD_WEIGHT_SHAPES = {
    "vicreg": {},
    "barlow": {},
    "byol": {"predictor.hidden.0.0.weight": (32, 16), "predictor.output.weight": (16, 32)},
    "simsiam": {"predictor.hidden.0.0.weight": (4, 16), "predictor.output.weight": (16, 4)},
    "supervised": {"head.weight": (5, 16)},
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A working directory in which the methods experiment has run to completion."""
    return finished_workdir(CONFIG, tmp_path_factory.mktemp("methods"))


def test_every_method_is_analysed_and_drawn(workdir):
    results = workdir / "results" / "methods"
    metrics = pd.read_csv(results / "metrics.csv")
    for method in RUNS:
        rows = metrics[metrics["method"] == method]
        assert set(rows["layer"]) == {"encoder", "proj1", "projector"}, method
        assert set(CORE_METRICS) <= set(rows["metric"]), method
        assert rows["value"].notna().all(), method
    assert (results / "figures" / "training_curves.png").stat().st_size > 0


def run_folder(workdir, method: str):
    return workdir / "results" / "methods" / "runs" / RUNS[method]


def logged_losses(path) -> list[float]:
    return pd.read_csv(path)["loss"].tolist()


def replayed_losses(workdir, method: str, tmp_path) -> list[float]:
    """The run trained again outside Snakemake, as the named method at the reference weights."""
    stored = torch.load(run_folder(workdir, method) / "model.pt")["settings"]
    settings = {**stored, "method": method, **REFERENCE_WEIGHTS[method]}
    pretrain_run(
        run_name=f"replay/{method}",
        settings=settings,
        dataset_path=str(workdir / "results/data/shapes.npz"),
        model_path=tmp_path / "model.pt",
        train_log_path=tmp_path / "train_log.csv",
        checkpoint_path=tmp_path / "checkpoint.pt",
        device_name="cpu",  # as the fixture's compute section
        threads=1,
    )
    return logged_losses(tmp_path / "train_log.csv")


@pytest.mark.parametrize("method", RUNS)
def test_each_run_trains_with_its_methods_loss_at_the_reference_weights(workdir, method, tmp_path):
    logged = logged_losses(run_folder(workdir, method) / "train_log.csv")
    # The same code on the same machine and thread count repeats a run exactly.
    assert logged == pytest.approx(replayed_losses(workdir, method, tmp_path), rel=1e-6)


def test_the_methods_losses_differ(workdir):
    first_epoch = {
        method: logged_losses(run_folder(workdir, method) / "train_log.csv")[0] for method in RUNS
    }
    for index, method in enumerate(METHODS):
        for other in METHODS[index + 1 :]:
            assert first_epoch[method] != pytest.approx(first_epoch[other], rel=1e-3)


@pytest.mark.parametrize("method", RUNS)
def test_model_file_keeps_the_methods_modules_apart_from_the_representation(workdir, method):
    state = torch.load(run_folder(workdir, method) / "model.pt", weights_only=False)
    shapes = {name: tuple(value.shape) for name, value in state["method"].items()}
    for name, shape in METHOD_WEIGHT_SHAPES[method].items():
        assert shapes[name] == shape, name
    # BYOL's target is a whole copy of the encoder and projector, kept under its own name.
    targets = {name.removeprefix("target.") for name in shapes if name.startswith("target.")}
    assert targets == (set(state["model"]) if method == "byol" else set())
    assert not any(name.startswith(("predictor", "head", "target")) for name in state["model"])
    with np.load(run_folder(workdir, method) / "embeddings.npz") as embeddings:
        assert embeddings["layers"].tolist() == ["encoder", "proj1", "projector"]


# --- backbones ---------------------------------------------------------------------------

BACKBONE_RUNS = {"vit": "backbone~vit/seed~0", "mlp": "backbone~mlp/seed~0"}
GEOMETRY_FAMILIES = {"jacobian", "augmentation", "data", "style", "content", "random"}


def backbone_folder(workdir, backbone: str):
    return workdir / "results" / "backbones" / "runs" / BACKBONE_RUNS[backbone]


def test_every_backbone_is_analysed_with_its_geometry(workdir):
    results = workdir / "results" / "backbones"
    metrics = pd.read_csv(results / "metrics.csv")
    geometry = pd.read_csv(results / "geometry.csv")
    for backbone in BACKBONE_RUNS:
        rows = metrics[metrics["backbone"] == backbone]
        assert set(rows["layer"]) == {"encoder", "proj1", "projector"}, backbone
        assert set(CORE_METRICS) <= set(rows["metric"]), backbone
        assert rows["value"].notna().all(), backbone
        measured = geometry[geometry["backbone"] == backbone]
        assert set(measured["family"]) >= GEOMETRY_FAMILIES, backbone
        assert np.isfinite(measured["value"]).all(), backbone
    assert (results / "figures" / "tangent_angles.png").stat().st_size > 0


@pytest.mark.parametrize(("backbone", "encoder_type"), [("vit", ViT), ("mlp", MLP)])
def test_each_backbone_run_embeds_and_differentiates_its_own_model(workdir, backbone, encoder_type):
    """The stored encoder outputs are the saved model's on the test images, and the stored
    Jacobians are autograd's of its projector at them (eval mode)."""
    folder = backbone_folder(workdir, backbone)
    model = load_model(str(folder / "model.pt"), torch.device("cpu"))
    assert isinstance(model.encoder, encoder_type)
    assert model.encoder.out_dim == 16  # vit_width and mlp_dims[-1] of the fixture
    dataset = load_dataset(str(workdir / "results/data/shapes.npz"))
    with np.load(folder / "embeddings.npz") as embeddings:
        encoded = embeddings["test_encoder"]
        jacobians = embeddings[TANGENT_ARRAYS["jacobians"]]
    images = to_model_inputs(torch.from_numpy(dataset.test_images))
    with torch.no_grad():
        torch.testing.assert_close(model.encoder(images).numpy(), encoded)
    assert jacobians.shape == (32, 16, 16)  # geometry.n_images × projector_out_dim × width
    for row, jacobian in zip(encoded, jacobians[:4], strict=False):
        expected = torch.autograd.functional.jacobian(model.projector, torch.from_numpy(row)[None])
        torch.testing.assert_close(torch.from_numpy(jacobian), expected[0, :, 0])
