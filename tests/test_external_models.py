"""Models trained elsewhere: the adapter's layers, refusing pickled code, and config checks."""

import copy
import sys
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
    """A network whose encoder and projector are separate submodules; its last layer takes
    ``head_input`` features (other than 6, its head cannot run)."""

    def __init__(self, head_input: int = 6):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.ReLU())
        self.head = nn.Sequential(
            nn.Sequential(nn.Linear(4 * 7 * 7, 6), nn.ReLU()), nn.Linear(head_input, 3)
        )

    def forward(self, x):
        return self.head(self.backbone(x).flatten(1))


def build_two_part():
    return TwoPart()


SPEC = {
    "factory": f"{__name__}:build_two_part",
    "factory_arguments": {},
    "weights_key": None,
    "strip_prefix": [],
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
        (
            set_in(("models", "ours", "weight_key"), "state_dict"),
            "at models.ours: unknown key 'weight_key' (did you mean 'weights_key'?)",
        ),
        (
            set_in(("models", "ours", "strip_prefix"), "module."),
            "at models.ours.strip_prefix: 'module.' has no effect: a TorchScript file holds no "
            "state dict; allowed: with factory and weights only",
        ),
        (
            set_in(("models", "ours", "torchscript"), "nets/{simclr}.pt"),
            "at models.ours.torchscript: 'nets/{simclr}.pt' has a brace, which Snakemake reads as "
            "a wildcard in a job's input; allowed: a path without { or }",
        ),
    ],
)
def test_model_mistakes_fail_before_any_job(change, message):
    with pytest.raises(ConfigError) as error:
        checked(change)
    assert message in str(error.value)


# ------------------------------------------- the chain on a dummy batch, checkpoints, factories

SHAPES_RUN = {"dataset": "shapes", "strength": 0.5, "seed": 0}
VECTORS_RUN = {"dataset": "vectors", "views": "latent", "strength": 0, "seed": 0}
ALLOWED_CHAIN = (
    "; allowed: modules that each take the previous one's output, the first the inputs of "
    "input_shape [3, 16, 16]"
)


def config_of(spec: dict, run: dict = SHAPES_RUN) -> dict:
    """A config whose one experiment analyses model ``mine`` (its entry ``spec``) in one run."""
    return {
        "datasets": {
            "shapes": {"size": 16},
            "vectors": {"latent_dim": 8, "n_train": 300, "n_test": 500},
        },
        "models": {"mine": spec},
        "experiments": {"ext": {"analyses": [], "grid": {"model": ["mine"]}, "settings": run}},
    }


def factory_spec(**changes) -> dict:
    """A ``models`` entry as a user writes one: TwoPart from this module, its weights in
    weights.pt of the working directory."""
    spec = {
        "factory": f"{__name__}:build_two_part",
        "weights": "weights.pt",
        "encoder": ["backbone."],
        "projector": ["head.0", "head.1"],
        "input_shape": [3, 16, 16],
    }
    return spec | changes


def config_error(config: dict) -> str:
    with pytest.raises(ConfigError) as error:
        validate_config(config, SCHEMAS)
    return str(error.value)


def embedded_model(config: dict):
    """The model the embed job of the run of ``mine`` embeds, once the config check passed."""
    runs = validate_config(config, SCHEMAS)
    spec, settings = config["models"]["mine"], runs["ext"]["model~mine"]
    return external_run_models("mine", spec, settings, torch.device("cpu")).final


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """The working directory of a Snakemake run, where the config's relative paths lead."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("projector", "message"),
    [
        (
            ["head.1"],
            "config error at models.mine.projector[0]: module 'head.1' fails on the flattened "
            "output of 'backbone.' (input 2×196): mat1 and mat2 shapes cannot be multiplied "
            "(2x196 and 6x3)",
        ),
        (
            ["head.0", "head.0"],
            "config error at models.mine.projector[1]: module 'head.0' fails on the output of "
            "'head.0' (input 2×6): mat1 and mat2 shapes cannot be multiplied (2x6 and 196x6)",
        ),
    ],
)
def test_a_projector_whose_modules_do_not_chain_fails_the_config_check(workdir, projector, message):
    torch.save(TwoPart().state_dict(), workdir / "weights.pt")
    assert config_error(config_of(factory_spec(projector=projector))) == message + ALLOWED_CHAIN


def test_a_torchscript_encoder_that_cannot_take_the_inputs_fails_the_config_check(workdir):
    torch.jit.save(torch.jit.script(TwoPart()), workdir / "net.pt")
    spec = {"torchscript": "net.pt", "encoder": ["head.0"], "input_shape": [3, 16, 16]}
    assert config_error(config_of(spec)) == (
        "config error at models.mine.encoder[0]: module 'head.0' fails on the normalised inputs "
        "(input 2×3×16×16): mat1 and mat2 shapes cannot be multiplied (96x16 and 196x6)"
        + ALLOWED_CHAIN
    )


def test_a_model_file_changed_after_the_check_stops_the_embed_job_in_one_line(workdir):
    torch.jit.save(torch.jit.script(TwoPart()), workdir / "net.pt")
    spec = {
        "torchscript": "net.pt",
        "encoder": ["backbone"],
        "projector": ["head.0", "head.1"],
        "input_shape": [3, 16, 16],
    }
    embedded_model(config_of(spec))
    torch.jit.save(torch.jit.script(TwoPart(head_input=5)), workdir / "net.pt")
    with pytest.raises(ConfigError) as error:
        embedded_model(config_of(spec))
    assert str(error.value) == (
        "config error at models.mine.projector[1]: module 'head.1' fails on the output of "
        "'head.0' (input 2×6): mat1 and mat2 shapes cannot be multiplied (2x6 and 5x3)"
        + ALLOWED_CHAIN
    )


def test_a_model_whose_file_is_not_there_yet_is_left_to_its_embed_job(workdir):
    """Its file is an input of the embed job: Snakemake names it missing when it builds the
    DAG, and the embed job loads and checks the model."""
    runs = validate_config(config_of(factory_spec(projector=["head.1"])), SCHEMAS)
    assert list(runs["ext"]) == ["model~mine"]


def test_a_model_trained_elsewhere_is_run_on_a_training_set_smaller_than_a_batch():
    spec = {"torchscript": "net.pt", "encoder": ["backbone"], "input_shape": [3, 16, 16]}
    config = config_of(spec)
    config["datasets"]["shapes"]["n_train"] = 100
    runs = validate_config(copy.deepcopy(config), SCHEMAS)
    assert runs["ext"]["model~mine"]["batch_size"] == 256  # the default, larger than 100
    config["experiments"]["ext"]["grid"]["model"] = ["pipeline"]
    assert "256 is larger than the training set of shapes (100 images)" in config_error(config)


FACTORY_IN_WORKDIR = """from torch import nn


def build():
    return nn.Sequential(nn.Linear(8, 4), nn.Tanh())
"""


@pytest.fixture
def factory_module(workdir):
    """wd_factory.py in the working directory, and the state dict of its network; forgotten
    again by the import system afterwards."""
    (workdir / "wd_factory.py").write_text(FACTORY_IN_WORKDIR)
    torch.save(nn.Sequential(nn.Linear(8, 4), nn.Tanh()).state_dict(), workdir / "wd.pt")
    yield {"factory": "wd_factory:build", "weights": "wd.pt", "encoder": ["0", "1"]}
    sys.modules.pop("wd_factory", None)


def test_a_factory_imports_from_the_working_directory_and_leaves_sys_path_as_it_was(
    factory_module,
):
    path_before = list(sys.path)
    model = embedded_model(config_of(factory_module | {"input_shape": [8]}, VECTORS_RUN))
    assert model.layer_names == ["encoder"]
    assert sys.path == path_before
    missing = factory_module | {"factory": "wd_missing:build", "input_shape": [8]}
    assert config_error(config_of(missing, VECTORS_RUN)) == (
        "config error at models.mine.factory: cannot import the model factory "
        "'wd_missing:build': No module named 'wd_missing'"
    )
    assert sys.path == path_before


class LitTwoPart(nn.Module):
    """What a LightningModule holding TwoPart as ``self.model`` saves: keys ``model.…``."""

    def __init__(self):
        super().__init__()
        self.model = TwoPart()


def save_lightning_checkpoint(module: nn.Module, path: Path) -> None:
    """``module``, after one Adam step, saved as PyTorch Lightning 2.x's ModelCheckpoint
    saves a LightningModule: its state dict beside the loops', callbacks' and optimizer's
    states and the hyperparameters."""
    optimizer = torch.optim.Adam(module.parameters(), lr=0.01)
    module.model(torch.rand(2, 3, 16, 16)).square().mean().backward()
    optimizer.step()
    checkpoint = {
        "epoch": 3,
        "global_step": 120,
        "pytorch-lightning_version": "2.4.0",
        "state_dict": module.state_dict(),
        "loops": {"fit_loop": {"epoch_progress": {"total": {"ready": 4, "completed": 3}}}},
        "callbacks": {"ModelCheckpoint{'monitor': None}": {"best_model_path": "last.ckpt"}},
        "optimizer_states": [optimizer.state_dict()],
        "lr_schedulers": [],
        "hyper_parameters": {"lr": 0.01, "backbone": "two_part", "betas": (0.9, 0.999)},
    }
    torch.save(checkpoint, path)


@pytest.fixture
def lightning_network(workdir):
    """A LitTwoPart's TwoPart, its LightningModule saved in last.ckpt."""
    torch.manual_seed(0)
    module = LitTwoPart()
    save_lightning_checkpoint(module, workdir / "last.ckpt")
    return module.model.eval()


def test_a_lightning_checkpoint_gives_the_network_it_was_saved_from(lightning_network):
    spec = factory_spec(weights="last.ckpt", weights_key="state_dict", strip_prefix="model.")
    model = embedded_model(config_of(spec))
    x = torch.rand(4, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(model(x), lightning_network(x), atol=1e-6)


def test_a_dataparallel_state_dict_of_an_installed_packages_network(workdir):
    torch.manual_seed(0)
    network = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16).eval()
    torch.save(nn.DataParallel(network).state_dict(), workdir / "dp.pt")
    spec = {
        "factory": "torch.nn:TransformerEncoderLayer",
        "factory_arguments": {"d_model": 8, "nhead": 2, "dim_feedforward": 16},
        "weights": "dp.pt",
        "strip_prefix": ["module."],
        "encoder": ["linear1"],
        "projector": ["linear2"],
        "input_shape": [8],
    }
    model = embedded_model(config_of(spec, VECTORS_RUN))
    x = torch.randn(5, 8)
    with torch.no_grad():
        outputs = model.forward_all(x)
        assert torch.allclose(outputs["encoder"], network.linear1(x))
        assert torch.allclose(outputs["projector"], network.linear2(network.linear1(x)))
    wrong = spec | {"factory_arguments": {"d_model": 8, "nheads": 2}}
    assert config_error(config_of(wrong, VECTORS_RUN)) == (
        "config error at models.mine.factory_arguments: torch.nn:TransformerEncoderLayer fails "
        "on {'d_model': 8, 'nheads': 2}: TransformerEncoderLayer.__init__() got an unexpected "
        "keyword argument 'nheads'"
    )


LIGHTNING_KEYS = (
    "epoch, global_step, pytorch-lightning_version, state_dict, loops, callbacks, "
    "optimizer_states, lr_schedulers, … (1 more)"
)
STATE_KEYS = (
    "model.backbone.0.weight, model.backbone.0.bias, model.head.0.0.weight, "
    "model.head.0.0.bias, model.head.1.weight, model.head.1.bias"
)
ALLOWED_STATE = "; allowed: a state dict, or weights_key naming where a checkpoint holds one"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"strip_prefix": "model."},
            "at models.mine.weights: last.ckpt is not a state dict (a mapping of names to "
            f"tensors); its keys: {LIGHTNING_KEYS}{ALLOWED_STATE}",
        ),
        (
            {"weights_key": "model", "strip_prefix": "model."},
            "at models.mine.weights_key: no key 'model' in last.ckpt; keys there: "
            + LIGHTNING_KEYS,
        ),
        (
            {"weights_key": "state_dict.model"},
            "at models.mine.weights_key: no key 'model' in 'state_dict' of last.ckpt; keys there: "
            + STATE_KEYS,
        ),
        (
            {"weights_key": "hyper_parameters"},
            "at models.mine.weights_key: 'hyper_parameters' of last.ckpt is not a state dict (a "
            f"mapping of names to tensors); its keys: lr, backbone, betas{ALLOWED_STATE}",
        ),
        (
            {"weights_key": "state_dict", "strip_prefix": ["model.", "modle."]},
            "at models.mine.strip_prefix: no key starts with 'modle.'; keys: "
            "backbone.0.weight, backbone.0.bias, head.0.0.weight, head.0.0.bias, head.1.weight, "
            "head.1.bias; allowed: prefixes the keys have",
        ),
        (
            {"weights_key": "state_dict"},
            f"at models.mine.weights: last.ckpt does not fit {__name__}:build_two_part: Missing "
            'key(s) in state_dict: "backbone.0.weight"',
        ),
    ],
)
def test_checkpoint_mistakes_fail_the_config_check_naming_the_key(
    lightning_network, changes, message
):
    spec = factory_spec(weights="last.ckpt", **changes)
    assert config_error(config_of(spec)).startswith(f"config error {message}")
