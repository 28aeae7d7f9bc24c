"""sslgeom.config.validate: each config mistake is one line naming the dotted key and what is
allowed."""

import copy

import pytest
import yaml
from conftest import REPO, TINY_CONFIG
from snakemake.utils import validate as snakemake_validate

from sslgeom.config.experiments import experiment_runs
from sslgeom.config.validate import (
    ConfigError,
    check_config_files,
    find_duplicate_keys,
    validate_config,
)

SCHEMAS = REPO / "workflow" / "schemas"
TINY = "experiments.tiny"


def load(path) -> dict:
    return yaml.safe_load(path.read_text())


def setting(path: str, value):
    """A mutation that sets the dotted ``path`` of a config to ``value``."""

    def mutate(config: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            config = config.setdefault(key, {})
        config[last] = value

    return mutate


def renaming_tiny_to(name: str):
    def mutate(config: dict) -> None:
        config["experiments"][name] = config["experiments"].pop("tiny")

    return mutate


def sweeping_encoder_blocks_flat(config: dict) -> None:
    experiment = config["experiments"]["tiny"]
    del experiment["settings"]["encoder_blocks"]
    experiment["grid"]["encoder_blocks"] = [1, 2]


def training_on_cifar10_with(n_train: int):
    def mutate(config: dict) -> None:
        config["datasets"]["cifar10"] = {"n_train": n_train}
        config["experiments"]["tiny"]["grid"]["dataset"] = ["cifar10"]

    return mutate


def training_for_steps(train_steps: int, snapshot_epochs: list[int]):
    """A mutation that gives tiny's runs ``train_steps`` instead of epochs."""

    def mutate(config: dict) -> None:
        settings = config["experiments"]["tiny"]["settings"]
        del settings["epochs"]
        settings |= {"train_steps": train_steps, "snapshot_epochs": snapshot_epochs}

    return mutate


def training_on_vectors(**settings):
    """A mutation that trains tiny's runs on a small vectors dataset, valid as it stands, with
    ``settings`` then written over the experiment's settings."""

    def mutate(config: dict) -> None:
        config["datasets"]["vectors"] = {"n_train": 256, "n_test": 128, "latent_dim": 3}
        experiment = config["experiments"]["tiny"]
        experiment["grid"] = {"dataset": ["vectors"], "seed": [0]}
        experiment["settings"] |= {"views": "latent", "strength": 0.0, "backbone": "mlp"}
        experiment["settings"] |= settings
        experiment["analyses"] = []

    return mutate


def setting_on_vectors(path: str, value, **settings):
    """:func:`training_on_vectors`, then the dotted ``path`` set to ``value``."""

    def mutate(config: dict) -> None:
        training_on_vectors(**settings)(config)
        setting(path, value)(config)

    return mutate


def normal_vectors_with_content(content: int):
    """:func:`training_on_vectors` on normal latents with ``content`` content latents."""

    def mutate(config: dict) -> None:
        training_on_vectors()(config)
        config["datasets"]["vectors"] |= {"space": "normal", "content_latents": content}

    return mutate


def sweeping_strength_on_vectors(strengths: list[float]):
    def mutate(config: dict) -> None:
        training_on_vectors()(config)
        experiment = config["experiments"]["tiny"]
        del experiment["settings"]["strength"]
        experiment["grid"]["strength"] = strengths

    return mutate


def leaving_backbone_default_on_vectors(config: dict) -> None:
    training_on_vectors()(config)
    del config["experiments"]["tiny"]["settings"]["backbone"]  # the default, resnet


def training_a_vit(dataset: str | None = None, **settings):
    """A mutation that gives tiny's runs (on ``dataset`` only, if given) a ViT backbone with
    ``settings``."""

    def mutate(config: dict) -> None:
        experiment = config["experiments"]["tiny"]
        experiment["settings"] |= {"backbone": "vit", **settings}
        if dataset is not None:
            experiment["grid"]["dataset"] = [dataset]

    return mutate


def sweeping_vit_patch_size(sizes: list[int]):
    def mutate(config: dict) -> None:
        training_a_vit()(config)
        config["experiments"]["tiny"]["grid"]["vit_patch_size"] = sizes

    return mutate


def training_a_vit_on_shapes_of_size(size: int):
    def mutate(config: dict) -> None:
        training_a_vit("shapes")(config)
        config["datasets"]["shapes"]["size"] = size

    return mutate


def latent_views_on(dataset: str, **settings):
    """A mutation that gives tiny's runs latent views on ``dataset`` (and ``settings``)."""

    def mutate(config: dict) -> None:
        experiment = config["experiments"]["tiny"]
        experiment["grid"]["dataset"] = [dataset]
        experiment["settings"] |= {"views": "latent", **settings}

    return mutate


RUN_KEYS = (
    "allowed keys: backbone, barlow_off_diagonal_weight, batch_size, byol_momentum, "
    "dataset, "
    "encoder_blocks, encoder_stem_stride, encoder_width, epochs, init_scale, "
    "latent_concentration, latent_conditional, latent_scale, lr,"
)


def byol_with(**settings):
    """A mutation that trains tiny's runs with BYOL and ``settings``."""

    def mutate(config: dict) -> None:
        config["experiments"]["tiny"]["settings"] |= {"method": "byol", **settings}

    return mutate


BAD_CONFIGS = {
    "unknown top-level key": (
        setting("experimentz", {}),
        "config error at top level: unknown key 'experimentz' (did you mean 'experiments'?); "
        "allowed keys: analysis, claims, compute, data_cache_dir, datasets, embedding, "
        "experiments, geometry, identifiability",
    ),
    "unknown run setting": (
        setting(f"{TINY}.settings.epochz", 3),
        f"at {TINY}.settings: unknown key 'epochz' (did you mean 'epochs'?); {RUN_KEYS}",
    ),
    "unknown grid key": (
        setting(f"{TINY}.grid.epochz", [3]),
        f"at {TINY}.grid: unknown key 'epochz' (did you mean 'epochs'?); {RUN_KEYS}",
    ),
    "unknown analysis key": (
        setting("analysis.knn", 3),
        "at analysis: unknown key 'knn' (did you mean 'knn_k'?); allowed keys: "
        "alpha_req_first_index, alpha_req_last_index, knn_k, probe_max_iter",
    ),
    "epochs of wrong type": (
        setting(f"{TINY}.settings.epochs", "ten"),
        f"at {TINY}.settings.epochs: 'ten' has the wrong type; expected integer",
    ),
    "strength above 1": (
        setting(f"{TINY}.grid.strength", [0.0, 1.5]),
        f"at {TINY}.grid.strength[1]: 1.5 is out of range; allowed: 0 ≤ value ≤ 1",
    ),
    "negative strength": (
        setting(f"{TINY}.grid.strength", [-0.1]),
        f"at {TINY}.grid.strength[0]: -0.1 is out of range; allowed: 0 ≤ value ≤ 1",
    ),
    "empty grid": (
        setting(f"{TINY}.grid", {}),
        f"at {TINY}.grid: empty mapping; give at least one entry (run parameter → list",
    ),
    "empty grid list": (
        setting(f"{TINY}.grid.seed", []),
        f"at {TINY}.grid.seed: empty list; give at least one value",
    ),
    "grid value not a list": (
        setting(f"{TINY}.grid.seed", 0),
        f"at {TINY}.grid.seed: 0 has the wrong type; expected list",
    ),
    "repeated grid value": (
        setting(f"{TINY}.grid.strength", [1, 1.0]),
        f"at {TINY}.grid.strength[1]: 1.0 repeats strength[0]",
    ),
    "list parameter swept without a list of lists": (
        sweeping_encoder_blocks_flat,
        f"at {TINY}.grid.encoder_blocks[0]: 1 has the wrong type; expected list; "
        "a grid sweeps encoder_blocks over a list of lists",
    ),
    "unknown dataset": (
        setting(f"{TINY}.grid.dataset", ["cifar"]),
        f"at {TINY}.grid.dataset[0]: 'cifar' is not declared under datasets; "
        "allowed: shapes, mnist5k",
    ),
    "negative epochs": (
        setting(f"{TINY}.settings.epochs", -1),
        f"at {TINY}.settings.epochs: -1 is out of range; allowed: value ≥ 1",
    ),
    "zero learning rate": (
        setting(f"{TINY}.settings.lr", 0),
        f"at {TINY}.settings.lr: 0 is out of range; allowed: value > 0",
    ),
    "projector width 0": (
        setting(f"{TINY}.settings.projector_hidden_dim", 0),
        f"at {TINY}.settings.projector_hidden_dim: 0 is out of range; allowed: value ≥ 1",
    ),
    "encoder stage of 0 blocks": (
        setting(f"{TINY}.settings.encoder_blocks", [1, 0]),
        f"at {TINY}.settings.encoder_blocks[1]: 0 is out of range; allowed: value ≥ 1",
    ),
    "batch larger than the shapes training set": (
        setting(f"{TINY}.settings.batch_size", 300),
        f"at {TINY}.settings.batch_size: 300 is larger than the training set of shapes "
        "(256 images); allowed: value ≤ 256",
    ),
    "batch larger than the mnist5k training set": (
        setting("datasets.mnist5k.n_test", 4990),
        f"at {TINY}.settings.batch_size: 64 is larger than the training set of mnist5k "
        "(10 images); allowed: value ≤ 10",
    ),
    "batch larger than the cifar10 training set": (
        training_on_cifar10_with(n_train=32),
        f"at {TINY}.settings.batch_size: 64 is larger than the training set of cifar10 "
        "(32 images); allowed: value ≤ 32",
    ),
    "more cifar10 images than the split has": (
        setting("datasets.cifar10", {"n_test": 10001}),
        "at datasets.cifar10.n_test: 10001 is out of range; allowed: 1 ≤ value ≤ 10000",
    ),
    "data cache of the wrong type": (
        setting("data_cache_dir", 3),
        "at data_cache_dir: 3 has the wrong type; expected string or null",
    ),
    "factor in settings and grid": (
        setting(f"{TINY}.settings.seed", 3),
        f"at {TINY}.settings.seed: 'seed' is also swept in {TINY}.grid; "
        "allowed: set it in settings or in grid, not both",
    ),
    "missing run setting": (
        lambda config: config["experiments"]["tiny"]["grid"].pop("seed"),
        f"at {TINY}: missing run setting 'seed'; set it in settings or grid",
    ),
    "undeclared dataset": (
        setting("datasets", {"shapes": {}}),
        f"at {TINY}.grid.dataset[1]: 'mnist5k' is not declared under datasets; allowed: shapes",
    ),
    "bad device": (
        setting("compute.device", "tpu"),
        "at compute.device: 'tpu' is not allowed; allowed: strings matching "
        "^(auto|cpu|cuda(:[0-9]+)?)$",
    ),
    "alpha_req first index not below last": (
        setting("analysis.alpha_req_first_index", 8),
        "at analysis.alpha_req_first_index: 8 is not below alpha_req_last_index (8); "
        "allowed: value < 8",
    ),
    "more view images than the test split": (
        setting("embedding.n_view_images", 200),
        "at embedding.n_view_images: 200 is larger than the test split of mnist5k "
        "(100 images); allowed: value ≤ 100",
    ),
    "more geometry images than the test split": (
        setting("geometry.n_images", 101),
        "at geometry.n_images: 101 is larger than the test split of mnist5k "
        "(100 images); allowed: value ≤ 100",
    ),
    "subspace larger than the augmentations spanning it": (
        setting("geometry.k", 5),
        "at geometry.k: 5 is larger than geometry.n_augmentations (4); allowed: value ≤ 4",
    ),
    "varied factor also in grid": (
        setting(f"{TINY}.vary", {"seed": [5]}),
        f"at {TINY}.vary.seed: 'seed' is also swept in {TINY}.grid; "
        "allowed: sweep it in grid or vary it, not both",
    ),
    "varied factor without a base value": (
        setting(f"{TINY}.vary", {"lr": [0.1]}),
        f"at {TINY}.vary.lr: 'lr' has no base value; set it in {TINY}.settings",
    ),
    "variant equal to the base": (
        setting(f"{TINY}.vary", {"epochs": [3, 2]}),
        f"at {TINY}.vary.epochs[1]: 2 repeats the base value in settings; each variant must "
        "change epochs to a value of its own",
    ),
    "mapping variant without its factor": (
        setting(f"{TINY}.vary", {"batch_size": [{"lr": 0.1}]}),
        f"at {TINY}.vary.batch_size[0]: a variant of batch_size must set 'batch_size' itself",
    ),
    "coupled setting out of range": (
        setting(f"{TINY}.vary", {"batch_size": [{"batch_size": 32, "lr": -1}]}),
        f"at {TINY}.vary.batch_size[0].lr: -1 is out of range; allowed: value > 0",
    ),
    "variant out of range": (
        setting(f"{TINY}.vary", {"epochs": [0]}),
        f"at {TINY}.vary.epochs[0]: 0 is out of range; allowed: value ≥ 1",
    ),
    "train_size larger than the training set": (
        setting(f"{TINY}.settings.train_size", 300),
        f"at {TINY}.settings.train_size: 300 is larger than the training set of shapes "
        "(256 images); allowed: value ≤ 256",
    ),
    "batch larger than train_size": (
        setting(f"{TINY}.settings.train_size", 32),
        f"at {TINY}.settings.batch_size: 64 is larger than train_size (32 images); "
        "allowed: value ≤ 32",
    ),
    "snapshot at the last epoch": (
        setting(f"{TINY}.settings.snapshot_epochs", [1, 2]),
        f"at {TINY}.settings.snapshot_epochs: epoch 2 is not before the last epoch (2), which "
        "is the final model itself; allowed: epochs < 2",
    ),
    "negative snapshot epoch": (
        setting(f"{TINY}.settings.snapshot_epochs", [-1]),
        f"at {TINY}.settings.snapshot_epochs[0]: -1 is out of range; allowed: value ≥ 0",
    ),
    "zero train_steps": (
        setting(f"{TINY}.settings.train_steps", 0),
        f"at {TINY}.settings.train_steps: 0 is out of range; allowed: value ≥ 1",
    ),
    "train_steps and epochs both set": (
        setting(f"{TINY}.settings.train_steps", 10),
        f"at {TINY}.settings.train_steps: 10 steps, but the run also sets epochs (at "
        f"{TINY}.settings.epochs); allowed: one of epochs and train_steps",
    ),
    # shapes: 256 images in batches of 64 are 4 steps per epoch, so 10 steps take 3 epochs
    "snapshot at the last epoch of train_steps": (
        training_for_steps(10, [0, 3]),
        f"at {TINY}.settings.snapshot_epochs: epoch 3 is not before the last epoch (3: "
        "train_steps 10 at 4 steps per epoch), which is the final model itself; allowed: "
        "epochs < 3",
    ),
    # mnist5k: 4900 images in batches of 64 are 76 steps per epoch, so 10 steps take 1 epoch
    "snapshot after the last epoch of train_steps on a larger training set": (
        training_for_steps(10, [0, 1]),
        f"at {TINY}.settings.snapshot_epochs: epoch 1 is not before the last epoch (1: "
        "train_steps 10 at 76 steps per epoch), which is the final model itself; allowed: "
        "epochs < 1",
    ),
    "unknown analysis name": (
        setting(f"{TINY}.analyses", ["geometry", "identifiabilty"]),
        f"at {TINY}.analyses[1]: 'identifiabilty' is not allowed; allowed values: geometry, "
        "identifiability",
    ),
    "unknown identifiability layer": (
        setting("identifiability.layers", ["encoder", "projecter"]),
        "at identifiability.layers[1]: 'projecter' is not allowed; allowed: strings matching",
    ),
    "claims confidence of 1": (
        setting("claims.confidence", 1.0),
        "at claims.confidence: 1.0 is out of range; allowed: 0.5 ≤ value < 1",
    ),
    "claims for an unknown similarity": (
        setting("claims.similarity_metrics", ["cka"]),
        "at claims.similarity_metrics[0]: 'cka' is not allowed; allowed values: linear_cka",
    ),
    "experiment name with a slash": (
        renaming_tiny_to("ti/ny"),
        "at experiments: invalid name 'ti/ny'; allowed: names matching ^[A-Za-z0-9_-]+$",
    ),
    "vectors of one latent dimension": (
        setting_on_vectors("datasets.vectors.latent_dim", 1),
        "at datasets.vectors.latent_dim: 1 is out of range; allowed: value ≥ 2",
    ),
    "vectors in a cube": (
        setting_on_vectors("datasets.vectors.space", "cube"),
        "at datasets.vectors.space: 'cube' is not allowed; allowed values: sphere, box",
    ),
    "latent views of concentration 0": (
        training_on_vectors(latent_concentration=0),
        f"at {TINY}.settings.latent_concentration: 0 is out of range; allowed: value > 0",
    ),
    "a vMF conditional in the box": (
        setting_on_vectors("datasets.vectors.space", "box", latent_conditional="vmf"),
        f"at {TINY}.settings.latent_conditional: 'vmf' does not live on vectors's box latents; "
        "allowed: normal, laplace",
    ),
    "a Laplace conditional on the sphere": (
        training_on_vectors(latent_conditional="laplace"),
        f"at {TINY}.settings.latent_conditional: 'laplace' does not live on vectors's sphere "
        "latents; allowed: vmf",
    ),
    "a style conditional in the box": (
        setting_on_vectors("datasets.vectors.space", "box", latent_conditional="style"),
        f"at {TINY}.settings.latent_conditional: 'style' does not live on vectors's box latents; "
        "allowed: normal, laplace",
    ),
    "normal latents without content": (
        setting_on_vectors("datasets.vectors.space", "normal"),
        "at datasets.vectors.content_latents: normal latents are content and style: set how "
        "many of the 3 are content; allowed: 1 to 2",
    ),
    "content without style": (
        normal_vectors_with_content(3),
        "at datasets.vectors.content_latents: 3 leaves no style of the 3 latents; allowed: 1 to 2",
    ),
    "content of sphere latents": (
        setting_on_vectors("datasets.vectors.content_latents", 2),
        "at datasets.vectors.content_latents: 2 has no effect: only normal latents split into "
        "content and style; allowed: null here",
    ),
    "an L1 similarity for VICReg": (
        training_on_vectors(method="vicreg", similarity="l1"),
        f"at {TINY}.settings.similarity: 'l1' has no effect: only method simclr compares "
        "outputs by a similarity, not 'vicreg'; allowed: cosine here",
    ),
    "image augmentation of vectors": (
        training_on_vectors(strength=0.5),
        f"at {TINY}.settings.strength: 0.5: vectors have no image augmentation; allowed: 0",
    ),
    "image augmentation of vectors swept in the grid": (
        sweeping_strength_on_vectors([0.0, 0.25]),
        f"at {TINY}.grid.strength[1]: 0.25: vectors have no image augmentation; allowed: 0",
    ),
    "resnet on vectors": (
        training_on_vectors(backbone="resnet"),
        f"at {TINY}.settings.backbone: 'resnet': vectors are not images; allowed: mlp",
    ),
    "resnet on vectors by default": (
        leaving_backbone_default_on_vectors,
        f"at {TINY}.settings.backbone: 'resnet': vectors are not images; allowed: mlp",
    ),
    "vit on vectors": (
        training_on_vectors(backbone="vit"),
        f"at {TINY}.settings.backbone: 'vit': vectors are not images; allowed: mlp",
    ),
    "vit patch not dividing the shapes images": (
        training_a_vit(vit_patch_size=5),
        f"at {TINY}.settings.vit_patch_size: 5 does not divide the 32×32 images of shapes "
        "(datasets.shapes.size); allowed: a divisor of 32 (1, 2, 4, 8, 16, 32)",
    ),
    "vit patch not dividing the mnist5k images": (
        training_a_vit("mnist5k", vit_patch_size=6),
        f"at {TINY}.settings.vit_patch_size: 6 does not divide the 32×32 images of mnist5k; "
        "allowed: a divisor of 32 (1, 2, 4, 8, 16, 32)",
    ),
    "default vit patch on 28-pixel shapes": (
        training_a_vit_on_shapes_of_size(28),
        f"at {TINY}.settings.vit_patch_size: 8 does not divide the 28×28 images of shapes "
        "(datasets.shapes.size); allowed: a divisor of 28 (1, 2, 4, 7, 14, 28)",
    ),
    "vit patch swept in the grid": (
        sweeping_vit_patch_size([4, 3]),
        f"at {TINY}.grid.vit_patch_size[1]: 3 does not divide the 32×32 images of shapes",
    ),
    "vit heads not dividing its width": (
        training_a_vit(vit_width=48, vit_heads=5),
        f"at {TINY}.settings.vit_heads: 5 heads do not divide vit_width (48); allowed: a "
        "divisor of 48",
    ),
    "unknown vit pooling": (
        training_a_vit(vit_pooling="max"),
        f"at {TINY}.settings.vit_pooling: 'max' is not allowed; allowed values: mean, cls",
    ),
    "augmentation views of vectors": (
        training_on_vectors(views="augmentation"),
        f"at {TINY}.settings.views: 'augmentation': vectors have no image augmentation; "
        "allowed: latent",
    ),
    "latent views on mnist5k": (
        latent_views_on("mnist5k"),
        f"at {TINY}.settings.views: 'latent' views rerun a generative process, which mnist5k "
        "does not have; allowed: augmentation (latent on shapes and vectors)",
    ),
    "latent views on shapes resampling nothing": (
        latent_views_on("shapes"),
        f"at {TINY}.settings.resampled_latents: latent views on shapes need at least one "
        "resampled latent",
    ),
    "resampled latents with augmentation views": (
        setting(f"{TINY}.settings.resampled_latents", ["pos_x"]),
        f"at {TINY}.settings.resampled_latents: ['pos_x'] has no effect: only latent views on "
        "shapes resample latents; allowed: [] here",
    ),
    "resampling the content latent": (
        latent_views_on("shapes", resampled_latents=["pos_y", "shape"]),
        f"at {TINY}.settings.resampled_latents[1]: 'shape' is not allowed; allowed values: "
        "pos_x, pos_y, scale, rotation, object_hue, background_hue",
    ),
    "predictor width for a method without a predictor": (
        setting(f"{TINY}.settings.predictor_hidden_dim", 64),
        f"at {TINY}.settings.predictor_hidden_dim: 64 has no effect: method 'simclr' has no "
        "predictor (only byol and simsiam have); allowed: null here",
    ),
    "predictor width 0": (
        byol_with(predictor_hidden_dim=0),
        f"at {TINY}.settings.predictor_hidden_dim: 0 is out of range; allowed: value ≥ 1",
    ),
    "BYOL momentum above 1": (
        byol_with(byol_momentum=1.5),
        f"at {TINY}.settings.byol_momentum: 1.5 is out of range; allowed: 0 ≤ value ≤ 1",
    ),
    "unknown method": (
        setting(f"{TINY}.settings.method", "moco"),
        f"at {TINY}.settings.method: 'moco' is not allowed; allowed values: simclr, vicreg, "
        "barlow, byol, simsiam, supervised",
    ),
    "typo in a vectors dataset name": (
        setting("datasets.vectorz", {}),
        "at datasets.vectorz: unknown dataset 'vectorz' (did you mean 'vectors'?); built in: "
        "cifar10, cifar100, mnist5k, shapes, stl10, vectors(_[A-Za-z0-9]+)?; a dataset of your "
        "own gives folder (an image folder) or npz (an npz file)",
    ),
    "vectors dataset with an empty suffix": (
        setting("datasets.vectors_", {"n_train": 256}),
        "at datasets.vectors_: unknown dataset 'vectors_' (did you mean 'vectors'?)",
    ),
    "dataset name that cannot be part of a run id": (
        setting("datasets.my~data", {"npz": "data.npz"}),
        "at datasets: invalid name 'my~data'; allowed: names matching ^[A-Za-z][A-Za-z0-9_]*$",
    ),
}


@pytest.fixture
def tiny() -> dict:
    return load(TINY_CONFIG)


@pytest.mark.parametrize("case", BAD_CONFIGS, ids=list(BAD_CONFIGS))
def test_bad_config_names_the_key_and_what_is_allowed(case, tiny):
    mutate, message = BAD_CONFIGS[case]
    mutate(tiny)
    with pytest.raises(ConfigError) as raised:
        validate_config(tiny, SCHEMAS)
    text = str(raised.value)
    assert text.startswith("config error at ")
    assert message in text
    assert "\n" not in text


def test_a_bad_config_is_left_unchanged(tiny):
    tiny["compute"] = {"device": "tpu"}
    before = copy.deepcopy(tiny)
    with pytest.raises(ConfigError):
        validate_config(tiny, SCHEMAS)
    assert tiny == before


@pytest.mark.parametrize(
    "path",
    [TINY_CONFIG, REPO / "config.yaml", REPO / "configs" / "controls.yaml"],
    ids=["tiny", "repo", "controls"],
)
def test_valid_config_gets_the_same_defaults_as_snakemake(path):
    config = load(path)
    expected = load(path)
    snakemake_validate(expected, str(SCHEMAS / "config.schema.yaml"), set_default=True)
    validate_config(config, SCHEMAS)
    assert config == expected
    assert config["compute"]["device"] == "auto"


def test_runs_are_the_experiment_runs_with_run_defaults(tiny):
    expected_runs = experiment_runs(copy.deepcopy(tiny["experiments"]["tiny"]))
    run_schema = load(SCHEMAS / "run.schema.yaml")
    defaults = {
        key: schema["default"]
        for key, schema in run_schema["properties"].items()
        if "default" in schema
    }
    runs = validate_config(tiny, SCHEMAS)
    assert list(runs) == ["tiny"]
    assert list(runs["tiny"]) == list(expected_runs)
    assert runs["tiny"] == {
        run: {**defaults, **settings} for run, settings in expected_runs.items()
    }


def test_geometry_of_vectors_and_an_identity_mlp_encoder_are_valid(tiny):
    training_on_vectors(mlp_dims=[])(tiny)
    del tiny["experiments"]["tiny"]["analyses"]  # the default, [geometry]
    (run,) = validate_config(tiny, SCHEMAS)["tiny"].values()
    assert run["mlp_dims"] == []


def test_the_vectors_and_latent_views_mutations_start_from_valid_configs(tiny):
    """The bad configs above each break one thing of these valid ones."""
    vectors = copy.deepcopy(tiny)
    training_on_vectors()(vectors)
    (run,) = validate_config(vectors, SCHEMAS)["tiny"].values()
    assert (run["dataset"], run["views"], run["backbone"], run["strength"]) == (
        "vectors",
        "latent",
        "mlp",
        0.0,
    )
    assert run["latent_concentration"] == 1.0 and run["mlp_dims"] == [512, 128]
    assert run["latent_conditional"] is None and run["latent_scale"] == 0.05
    assert run["resampled_latents"] == []
    assert vectors["datasets"]["vectors"] == {
        "n_train": 256,
        "n_test": 128,
        "seed": 0,
        "latent_dim": 3,
        "space": "sphere",
        "mixing_layers": 3,
        "mixing_seed": 0,
        "mixing_candidates": 1000,
        "content_latents": None,
    }
    latent_views_on("shapes", resampled_latents=["pos_x", "object_hue"])(tiny)
    runs = validate_config(tiny, SCHEMAS)["tiny"]
    assert len(runs) == 2  # strengths 0 and 0.5, both on shapes
    assert all(run["resampled_latents"] == ["pos_x", "object_hue"] for run in runs.values())


@pytest.mark.parametrize("method", ["byol", "simsiam"])
def test_a_predictor_width_is_valid_for_the_methods_with_a_predictor(tiny, method):
    tiny["experiments"]["tiny"]["settings"] |= {"method": method, "predictor_hidden_dim": 64}
    runs = validate_config(tiny, SCHEMAS)["tiny"]
    assert all(run["predictor_hidden_dim"] == 64 for run in runs.values())
    assert all(run["byol_momentum"] == 0.996 for run in runs.values())


@pytest.mark.parametrize(
    "mutate",
    [
        training_a_vit(),
        training_a_vit("mnist5k", vit_patch_size=32, vit_heads=1, vit_pooling="cls"),
        sweeping_vit_patch_size([4, 16]),
        lambda config: (
            training_a_vit_on_shapes_of_size(28)(config),
            setting(f"{TINY}.settings.vit_patch_size", 7)(config),
        ),
        setting(f"{TINY}.settings.backbone", "mlp"),
    ],
    ids=["vit", "vit-one-patch-cls", "vit-patches-swept", "vit-28-pixels", "mlp-on-pixels"],
)
def test_vits_and_mlps_on_images_are_valid(tiny, mutate):
    """The ViT and MLP mistakes above each break one thing of these valid configs."""
    mutate(tiny)
    assert validate_config(tiny, SCHEMAS)["tiny"]


def test_train_steps_without_epochs_and_an_untrained_snapshot_are_valid(tiny):
    training_for_steps(10, [0])(tiny)
    runs = validate_config(tiny, SCHEMAS)["tiny"]
    assert len(runs) == 4
    assert all(run["train_steps"] == 10 and run["snapshot_epochs"] == [0] for run in runs.values())


def test_duplicate_experiment_names_are_found_with_their_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        "experiments:\n"
        "  augstrength:\n"
        "    grid: {seed: [0]}\n"
        "  other:\n"
        "    grid: {seed: [0]}\n"
        "  augstrength:\n"
        "    grid: {seed: [1]}\n"
    )
    assert find_duplicate_keys(path) == ["experiments.augstrength"]
    with pytest.raises(ConfigError) as raised:
        check_config_files([TINY_CONFIG, path])
    assert str(raised.value) == (
        f"duplicate key experiments.augstrength in {path} (line 6); each key may appear once"
    )


def test_nested_duplicate_keys_are_found_in_file_order(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("a:\n  - {b: 1, b: 2}\nc: {d: {e: 1, e: 2}}\n'1': x\n1: y\n")
    assert find_duplicate_keys(path) == ["a[0].b", "c.d.e"]


@pytest.mark.parametrize(
    "path",
    [TINY_CONFIG, REPO / "config.yaml", REPO / "configs" / "controls.yaml"],
    ids=["tiny", "repo", "controls"],
)
def test_shipped_configs_have_no_duplicate_keys(path):
    assert find_duplicate_keys(path) == []
    check_config_files([path])


def test_geometry_images_are_bounded_only_by_the_datasets_of_geometry_experiments(tiny):
    """Vectors take no geometry, so their small test split does not bound geometry.n_images;
    it still bounds the view images that every run embeds."""
    training_on_vectors()(tiny)
    tiny["datasets"]["vectors"]["n_test"] = 20
    tiny["embedding"]["n_view_images"] = 16
    tiny["geometry"]["n_images"] = 32
    validate_config(copy.deepcopy(tiny), SCHEMAS)
    tiny["embedding"]["n_view_images"] = 21
    with pytest.raises(ConfigError, match=r"n_view_images: 21 is larger than the test split of "):
        validate_config(tiny, SCHEMAS)
