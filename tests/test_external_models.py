"""Models trained elsewhere: the adapter's layers, refusing pickled code, and config checks."""

import copy
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import REPO
from torch import nn

from sslgeom.config.validate import ConfigError, validate_config
from sslgeom.data import Dataset, save_dataset
from sslgeom.embedding.run import embed_run
from sslgeom.models.external import load_external_model, load_state_dict
from sslgeom.models.run_models import external_run_models

# trains models: .ci/run repeats these with an AVX2 CPU's kernels
pytestmark = pytest.mark.trains

SCHEMAS = REPO / "workflow" / "schemas"


class TwoPart(nn.Module):
    """A network whose encoder and projector are separate submodules."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.ReLU())
        self.head = nn.Sequential(
            nn.Sequential(nn.Linear(4 * 7 * 7, 6), nn.ReLU()), nn.Linear(6, 3)
        )

    def forward(self, x):
        return self.head(self.backbone(x).flatten(1))


def build_two_part():
    return TwoPart()


SPEC = {
    "factory": f"{__name__}:build_two_part",
    "factory_arguments": {},
    "encoder": ["backbone."],
    "projector": ["head.0", "head.1"],
    "input_shape": [3, 16, 16],
    "mean": [0.5, 0.5, 0.5],
    "std": [0.25, 0.5, 1.0],
}


@pytest.fixture
def trained(tmp_path):
    """A seeded TwoPart and its SPEC, its weights saved as a state dict."""
    torch.manual_seed(0)
    network = TwoPart().eval()
    torch.save(network.state_dict(), tmp_path / "weights.pt")
    return network, SPEC | {"weights": str(tmp_path / "weights.pt")}


def test_layers_are_the_submodules_outputs_on_normalised_inputs(trained):
    network, spec = trained
    x = torch.rand(5, 3, 16, 16)
    model = load_external_model(spec, torch.device("cpu"))
    assert model.layer_names == ["encoder", "proj1", "projector"]
    normalised = (x - 0.5) / torch.tensor([0.25, 0.5, 1.0]).view(1, 3, 1, 1)
    with torch.no_grad():
        encoder = network.backbone(normalised).flatten(1)
        hidden = torch.relu(encoder @ network.head[0][0].weight.T + network.head[0][0].bias)
        output = hidden @ network.head[1].weight.T + network.head[1].bias
        outputs = model.forward_all(x)
        assert torch.allclose(outputs["encoder"], encoder)
        assert torch.allclose(outputs["proj1"], hidden)
        assert torch.allclose(outputs["projector"], output, atol=1e-6)
        assert torch.allclose(model(x), output, atol=1e-6)


def test_without_projector_the_encoder_alone_is_embedded(trained):
    network, spec = trained
    model = load_external_model(spec | {"projector": [], "mean": None, "std": None}, "cpu")
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        assert list(model.forward_all(x)) == ["encoder"]
        assert torch.allclose(model.forward_all(x)["encoder"], network.backbone(x).flatten(1))


def test_torchscript_submodules(tmp_path, trained):
    network, spec = trained
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(network), path)
    scripted = {key: spec[key] for key in ("encoder", "projector", "input_shape", "mean", "std")}
    model = load_external_model(scripted | {"torchscript": str(path)}, torch.device("cpu"))
    x = torch.rand(3, 3, 16, 16)
    with torch.no_grad():
        normalised = (x - 0.5) / torch.tensor([0.25, 0.5, 1.0]).view(1, 3, 1, 1)
        assert torch.allclose(model(x), network(normalised), atol=1e-6)


def test_an_unknown_module_is_named(trained):
    _, spec = trained
    with pytest.raises(ValueError, match=r"no module 'neck'.*'backbone'"):
        load_external_model(spec | {"projector": ["neck"]}, torch.device("cpu"))


def test_weights_that_do_not_fit_the_factory_are_named(tmp_path, trained):
    _, spec = trained
    torch.save({"backbone.0.weight": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(
        ValueError,
        match=r"other.pt does not fit .*Missing key\(s\) in state_dict: \"backbone.0.bias",
    ):
        load_external_model(spec | {"weights": str(tmp_path / "other.pt")}, "cpu")


class CreatesFileWhenUnpickled:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def test_a_state_dict_that_pickles_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "code_ran"
    path = tmp_path / "weights.pt"
    torch.save({"weight": torch.zeros(2), "payload": CreatesFileWhenUnpickled(marker)}, path)
    with pytest.raises(ValueError, match=r"^refused to load .*weights\.pt: it holds pickled obj"):
        load_state_dict(path)
    assert not marker.exists()


def test_a_file_that_is_not_a_state_dict_is_refused(tmp_path):
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    with pytest.raises(ValueError, match="not a state dict"):
        load_state_dict(tmp_path / "list.pt")


def test_the_embed_job_names_an_input_shape_mismatch(tmp_path, trained):
    _, spec = trained
    images = np.zeros((4, 12, 12, 3), np.uint8)
    dataset = Dataset(
        "folder", images, np.zeros(4, np.int64), images, np.zeros(4, np.int64), None, None
    )
    save_dataset(dataset, tmp_path / "folder.npz")
    settings = {"dataset": "folder", "strength": 0.5, "views": "augmentation"}
    models = external_run_models("two_part", spec, settings, torch.device("cpu"))
    with pytest.raises(
        ValueError,
        match=r"at models.two_part.input_shape: \[3, 16, 16\], but folder gives inputs of "
        r"shape \[3, 12, 12\]",
    ):
        embed_run(
            models, str(tmp_path / "folder.npz"), str(tmp_path / "e.npz"), {"batch_size": 4}, 2
        )


# --------------------------------------------------------------------------- config checks

CONFIG = {
    "datasets": {"shapes": {"size": 16}, "mnist5k": {}},
    "models": {
        "ours": {"torchscript": "m.pt", "encoder": ["backbone"], "input_shape": [3, 16, 16]},
    },
    "experiments": {
        "ext": {
            "analyses": [],
            "grid": {"model": ["pipeline", "ours"]},
            "settings": {"dataset": "shapes", "strength": 0.5, "seed": 0},
        }
    },
}


def checked(change) -> dict:
    config = copy.deepcopy(CONFIG)
    change(config)
    return validate_config(config, SCHEMAS)


def test_a_valid_models_section_gives_runs_of_each_model():
    runs = checked(lambda config: None)["ext"]
    assert [settings["model"] for settings in runs.values()] == ["pipeline", "ours"]
    assert list(runs) == ["model~pipeline", "model~ours"]


def set_in(path, value):
    def change(config):
        *parents, key = path
        node = config
        for parent in parents:
            node = node[parent]
        node[key] = value

    return change


def sweep_seeds(config):
    experiment = config["experiments"]["ext"]
    experiment["grid"]["seed"] = [0, 1]
    del experiment["settings"]["seed"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            set_in(("experiments", "ext", "grid", "model"), ["pipeline", "theirs"]),
            "at experiments.ext.grid.model[1]: 'theirs' is not declared under models; "
            "allowed: pipeline, ours",
        ),
        (
            set_in(("experiments", "ext", "settings", "dataset"), "mnist5k"),
            r"at models.ours.input_shape: [3, 16, 16], but mnist5k (run setting at "
            r"experiments.ext.settings.dataset) gives inputs of shape [3, 32, 32]",
        ),
        (
            set_in(("models", "ours", "mean"), [0.5, 0.5]),
            "at models.ours.mean: 2 values for 3 input channels",
        ),
        (
            set_in(("models", "ours", "weights"), "w.pt"),
            "at models.ours: give either torchscript (a TorchScript file) or factory and weights",
        ),
        (
            set_in(
                ("models", "ours"),
                {"factory": "pkg.mod:build", "encoder": ["a"], "input_shape": [3, 16, 16]},
            ),
            "at models.ours: missing key 'weights'",
        ),
        (
            set_in(("models", "ours", "factory"), "pkg.mod.build"),
            "at models.ours.factory: 'pkg.mod.build' is not allowed",
        ),
        (
            set_in(("models", "pipeline"), CONFIG["models"]["ours"]),
            "at models: invalid name 'pipeline'",
        ),
        (
            set_in(("experiments", "ext", "analyses"), ["geometry"]),
            "at experiments.ext.analyses: the geometry measures the projector, which model ours "
            "has none of",
        ),
        (
            set_in(("experiments", "ext", "analyses"), ["identifiability"]),
            "at identifiability.layers: model ours (experiment ext) has no layer 'projector'; "
            "its layers: encoder",
        ),
        (
            sweep_seeds,
            "at experiments.ext.grid.seed[1]: model ours is trained elsewhere, so its runs at "
            "seeds 0 and 1 would be the same",
        ),
    ],
)
def test_model_mistakes_fail_before_any_job(change, message):
    with pytest.raises(ConfigError) as error:
        checked(change)
    assert message in str(error.value)
