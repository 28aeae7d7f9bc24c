"""Config checks that fail before any job runs, with one short message per mistake.

:func:`validate_config` checks the config against ``config.schema.yaml`` and every run an
experiment expands to against ``run.schema.yaml``, fills in the schema defaults, and checks the
constraints that span several keys (a run's dataset is declared, its batch fits the training
set, ...). A mistake raises :class:`ConfigError` with one line that names the dotted path of the
offending key, where the user wrote it, and what is allowed there::

    config error at experiments.tiny.grid.strength[1]: 1.5 is out of range; allowed: 0 ≤ value ≤ 1

:func:`check_config_files` catches what YAML hides: a key written twice in one mapping, of which
PyYAML silently keeps the last.
"""

import copy
import difflib
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match

from sslgeom.config.experiments import PIPELINE_MODEL, experiment_runs, format_value, variants
from sslgeom.config.layers import external_layer_names
from sslgeom.data import (
    SourceError,
    dataset_kind,
    inspect_source,
    model_input_shape,
    source_key,
)
from sslgeom.data.mnist import MNIST5K_IMAGES
from sslgeom.training.length import training_length

CONFIG_SCHEMA = "config.schema.yaml"
RUN_SCHEMA = "run.schema.yaml"
PREDICTOR_METHODS = ("byol", "simsiam")
TYPE_NAMES = {"array": "list", "object": "mapping"}
LOWER_BOUNDS = {"minimum": "≥", "exclusiveMinimum": ">"}
UPPER_BOUNDS = {"maximum": "≤", "exclusiveMaximum": "<"}
MIRRORED = {"≥": "≤", ">": "<"}

KeyPath = tuple[str | int, ...]


class ConfigError(ValueError):
    """A config mistake: one line naming the offending key and what is allowed there."""


def validate_config(config: dict, schema_dir: Path) -> dict[str, dict[str, dict]]:
    """Check ``config`` and fill in its defaults; return experiment → run id → run settings.

    On success ``config`` takes, in place, the defaults of ``config.schema.yaml`` (as with
    ``snakemake.utils.validate(config, schema, set_default=True)``); on a ConfigError it is left
    as it was. A run's settings are its experiment's settings, one point of its grid and the
    defaults of ``run.schema.yaml``, keyed and ordered as by
    :func:`sslgeom.config.experiments.experiment_runs`.
    """
    checked = copy.deepcopy(config)
    schema = _load_schema(Path(schema_dir) / CONFIG_SCHEMA)
    _check_own_datasets_name_a_source(checked, schema)
    _check_against_schema(checked, schema)
    _check_alpha_req_indices(checked["analysis"])
    sizes = {
        name: _split_sizes(name, parameters) for name, parameters in checked["datasets"].items()
    }
    run_schema = _load_schema(Path(schema_dir) / RUN_SCHEMA)
    _check_model_sources(checked["models"])
    runs = {
        name: _checked_runs(name, experiment, run_schema, checked, sizes)
        for name, experiment in checked["experiments"].items()
    }
    _check_external_layers(checked, runs)
    _check_test_images(checked, runs, sizes)
    _check_subspace_dimension(checked["geometry"])
    config.update(checked)
    return runs


def training_set_size(dataset: str, parameters: dict) -> int:
    """The number of training examples of ``dataset`` built with ``parameters`` (defaults
    filled)."""
    return _split_sizes(dataset, parameters)[0]


def _split_sizes(dataset: str, parameters: dict) -> tuple[int, int]:
    """(train, test) examples of ``dataset`` built with ``parameters`` (defaults filled); a
    dataset of your own is checked on disk (:func:`sslgeom.data.inspect_source`) first."""
    if source_key(parameters) is not None:
        try:
            summary = inspect_source(parameters)
        except SourceError as err:
            key_path = ("datasets", dataset) + ((err.key,) if err.key else ())
            raise _error_at(key_path, str(err)) from None
        return summary.n_train, summary.n_test
    if dataset == "mnist5k":
        return MNIST5K_IMAGES - parameters["n_test"], parameters["n_test"]
    return parameters["n_train"], parameters["n_test"]


def find_duplicate_keys(path: Path) -> list[str]:
    """Dotted paths of the keys written twice in one mapping of the YAML file, in file order."""
    return [key_path for key_path, _ in _duplicate_keys(Path(path))]


def check_config_files(paths: Iterable[Path]) -> None:
    """Raise ConfigError for the first key written twice in one mapping of any of the files."""
    for path in paths:
        duplicates = _duplicate_keys(Path(path))
        if duplicates:
            key_path, line = duplicates[0]
            raise ConfigError(
                f"duplicate key {key_path} in {path} (line {line}); each key may appear once"
            )


@dataclass(frozen=True)
class RunOrigin:
    """Where the settings of one run were written: its experiment, variant and grid point."""

    experiment: KeyPath
    grid_index: dict[str, int]
    variant: tuple[str, int] | None = None
    overrides: dict = field(default_factory=dict)

    def block_of(self, key: str) -> KeyPath:
        """The path of the mapping that sets ``key``: its variant, the grid or the settings."""
        if key in self.overrides:
            return self._variant_path()
        return (*self.experiment, "grid" if key in self.grid_index else "settings")

    def path_of(self, key: str) -> KeyPath:
        """The path of ``key``'s value: ``vary.<factor>[i]``, ``grid.<key>[i]`` or settings."""
        if key in self.overrides:
            coupled = self.overrides.keys() != {self.variant[0]}
            return (*self._variant_path(), key) if coupled else self._variant_path()
        if key in self.grid_index:
            return (*self.block_of(key), key, self.grid_index[key])
        return (*self.block_of(key), key)

    def _variant_path(self) -> KeyPath:
        return (*self.experiment, "vary", *self.variant)


def _load_schema(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _fill_defaults_then_check(validator, properties, instance, schema):
    """The ``properties`` keyword that first sets each missing property to its default."""
    if validator.is_type(instance, "object"):
        for key, subschema in properties.items():
            if "default" in subschema:
                instance.setdefault(key, copy.deepcopy(subschema["default"]))
    yield from Draft202012Validator.VALIDATORS["properties"](
        validator, properties, instance, schema
    )


DefaultFillingValidator = validators.extend(
    Draft202012Validator, {"properties": _fill_defaults_then_check}
)


def _schema_error(instance: dict, schema: dict) -> ValidationError | None:
    """The most relevant mistake of ``instance``, after filling in the schema's defaults."""
    return best_match(DefaultFillingValidator(schema).iter_errors(instance))


def _check_against_schema(config: dict, schema: dict) -> None:
    error = _schema_error(config, schema)
    if error is not None:
        raise _error_at(tuple(error.absolute_path), _problem(error))


def _check_own_datasets_name_a_source(config: dict, schema: dict) -> None:
    """A dataset that is not built in must give its source: else its name is a typo."""
    datasets = config.get("datasets")
    if not isinstance(datasets, dict):
        return
    built_in = schema["properties"]["datasets"]
    patterns = list(built_in["patternProperties"])
    for name, parameters in datasets.items():
        if name in built_in["properties"] or any(re.match(p, str(name)) for p in patterns):
            continue
        if isinstance(parameters, dict) and source_key(parameters) is not None:
            continue
        known = sorted(built_in["properties"]) + [p.strip("^$") for p in patterns]
        # vectors(_[A-Za-z0-9]+)? → vectors: the name a typo is closest to
        plain = [re.sub(r"\(.*\)\?$", "", name) for name in known]
        guesses = difflib.get_close_matches(str(name), plain, n=1)
        hint = f" (did you mean {guesses[0]!r}?)" if guesses else ""
        raise _error_at(
            ("datasets", name),
            f"unknown dataset {name!r}{hint}; built in: {', '.join(known)}; a dataset of your "
            "own gives folder (an image folder) or npz (an npz file)",
        )


def _checked_runs(name: str, experiment: dict, run_schema: dict, config: dict, sizes: dict) -> dict:
    """The runs of one experiment, each checked and with the run defaults filled in;
    ``sizes``: dataset → (train, test) examples."""
    datasets = config["datasets"]
    where = ("experiments", name)
    _check_not_set_twice(where, experiment)
    _check_grid_values_distinct(where, experiment["grid"])
    _check_variants(where, experiment)
    runs = experiment_runs(experiment)
    # experiment_runs orders the runs variant by variant, each over the grid like _grid_indices.
    origins = [
        RunOrigin(where, grid_index, variant, overrides)
        for variant, overrides in variants(experiment)
        for grid_index in _grid_indices(experiment["grid"])
    ]
    for settings, origin in zip(runs.values(), origins, strict=True):
        epochs_written = "epochs" in settings
        _check_run(settings, run_schema, origin)
        _check_epochs_or_train_steps(settings, epochs_written, origin)
        _check_dataset_declared(settings, datasets, origin)
        _check_external_model(settings, config, experiment["analyses"], origin)
        _check_views_and_backbone(settings, experiment["analyses"], origin)
        _check_predictor(settings, origin)
        _check_vit_fits(settings, datasets, origin)
        _check_batch_fits(settings, sizes, origin)
        _check_snapshots_before_end(settings, sizes, origin)
    _check_external_runs_distinct(runs, origins)
    return runs


def _grid_indices(grid: dict[str, list]) -> list[dict[str, int]]:
    """Swept key → index into its list of values, for each point of the grid."""
    ranges = [range(len(values)) for values in grid.values()]
    return [dict(zip(grid, point, strict=True)) for point in itertools.product(*ranges)]


def _check_not_set_twice(where: KeyPath, experiment: dict) -> None:
    both = [key for key in experiment["settings"] if key in experiment["grid"]]
    if both:
        raise _error_at(
            (*where, "settings", both[0]),
            f"{both[0]!r} is also swept in {_dotted((*where, 'grid'))}; "
            "allowed: set it in settings or in grid, not both",
        )


def _check_grid_values_distinct(where: KeyPath, grid: dict[str, list]) -> None:
    """Two grid values that print alike would name (and so overwrite) the same run."""
    for key, values in grid.items():
        first_index = {}
        for index, value in enumerate(values):
            label = format_value(value)
            if label in first_index:
                raise _error_at(
                    (*where, "grid", key, index),
                    f"{value!r} repeats {key}[{first_index[label]}] (both name runs "
                    f"'{key}~{label}'); each value may appear once",
                )
            first_index[label] = index


def _check_variants(where: KeyPath, experiment: dict) -> None:
    """Each variant changes its factor from the base settings, to a value of its own."""
    settings, grid = experiment["settings"], experiment["grid"]
    for factor, values in experiment.get("vary", {}).items():
        path = (*where, "vary", factor)
        if factor in grid:
            raise _error_at(
                path,
                f"{factor!r} is also swept in {_dotted((*where, 'grid'))}; "
                "allowed: sweep it in grid or vary it, not both",
            )
        if factor not in settings:
            raise _error_at(
                path, f"{factor!r} has no base value; set it in {_dotted((*where, 'settings'))}"
            )
        seen = {format_value(settings[factor]): "the base value in settings"}
        for index, value in enumerate(values):
            overrides = value if isinstance(value, dict) else {factor: value}
            if factor not in overrides:
                raise _error_at((*path, index), f"a variant of {factor} must set {factor!r} itself")
            swept = [key for key in overrides if key in grid]
            if swept:
                raise _error_at(
                    (*path, index, swept[0]), f"{swept[0]!r} is swept in grid; vary sets it too"
                )
            label = format_value(overrides[factor])
            if label in seen:
                raise _error_at(
                    (*path, index),
                    f"{overrides[factor]!r} repeats {seen[label]}; each variant must change "
                    f"{factor} to a value of its own",
                )
            seen[label] = f"{factor}[{index}]"


def _check_run(settings: dict, run_schema: dict, origin: RunOrigin) -> None:
    """Check one run's merged settings, blaming the settings or grid entry the user wrote."""
    error = _schema_error(settings, run_schema)
    if error is None:
        return
    if error.validator == "additionalProperties":
        raise _error_at(origin.block_of(_unknown_keys(error)[0]), _problem(error))
    if error.validator == "required":
        missing = _missing_keys(error)[0]
        raise _error_at(
            origin.experiment, f"missing run setting {missing!r}; set it in settings or grid"
        )
    key, *inner = error.absolute_path
    problem = _problem(error)
    if key in origin.grid_index and not inner and "array" in _types(error):
        problem += f"; a grid sweeps {key} over a list of lists, e.g. {key}: [[1, 1], [2, 2]]"
    raise _error_at((*origin.path_of(key), *inner), problem)


def _check_epochs_or_train_steps(settings: dict, epochs_written: bool, origin: RunOrigin) -> None:
    """A run's length is given once: by epochs or by train_steps."""
    if epochs_written and settings["train_steps"] is not None:
        raise _error_at(
            origin.path_of("train_steps"),
            f"{settings['train_steps']} steps, but the run also sets epochs (at "
            f"{_dotted(origin.path_of('epochs'))}); allowed: one of epochs and train_steps",
        )


def _check_dataset_declared(settings: dict, datasets: dict, origin: RunOrigin) -> None:
    if settings["dataset"] not in datasets:
        raise _error_at(
            origin.path_of("dataset"),
            f"{settings['dataset']!r} is not declared under datasets; "
            f"allowed: {', '.join(datasets)}",
        )


def _check_views_and_backbone(settings: dict, analyses: list[str], origin: RunOrigin) -> None:
    """Vectors take latent views, an MLP and no image augmentation; latent views need a
    generative process (shapes, vectors) and, on shapes, at least one resampled latent."""
    kind = dataset_kind(settings["dataset"])
    views = settings["views"]
    if kind == "vectors":
        wrong = [
            ("views", views != "latent", "vectors have no image augmentation; allowed: latent"),
            (
                "strength",
                settings["strength"] != 0,
                "vectors have no image augmentation; allowed: 0",
            ),
            (
                "backbone",
                settings["backbone"] != "mlp" and settings["model"] == PIPELINE_MODEL,
                "vectors are not images; allowed: mlp",
            ),
        ]
        for key, is_wrong, problem in wrong:
            if is_wrong:
                raise _error_at(origin.path_of(key), f"{settings[key]!r}: {problem}")
        if "geometry" in analyses:
            raise _error_at(
                (*origin.experiment, "analyses"),
                "geometry measures image augmentations and rendered latents, which vectors do "
                "not have; allowed: analyses without geometry (e.g. analyses: [])",
            )
    if views == "latent" and kind not in ("shapes", "vectors"):
        raise _error_at(
            origin.path_of("views"),
            f"'latent' views rerun a generative process, which {settings['dataset']} does not "
            "have; allowed: augmentation (latent on shapes and vectors)",
        )
    resampled = settings["resampled_latents"]
    if views == "latent" and kind == "shapes" and not resampled:
        raise _error_at(
            origin.path_of("resampled_latents"),
            "latent views on shapes need at least one resampled latent, else both views are "
            "the same image; allowed: a non-empty list of style latents",
        )
    if resampled and (views != "latent" or kind != "shapes"):
        raise _error_at(
            origin.path_of("resampled_latents"),
            f"{resampled} has no effect: only latent views on shapes resample latents; "
            "allowed: [] here",
        )


def _check_predictor(settings: dict, origin: RunOrigin) -> None:
    """Only BYOL and SimSiam have a predictor whose width can be set."""
    width = settings["predictor_hidden_dim"]
    if width is not None and settings["method"] not in PREDICTOR_METHODS:
        raise _error_at(
            origin.path_of("predictor_hidden_dim"),
            f"{width} has no effect: method {settings['method']!r} has no predictor (only "
            f"{' and '.join(PREDICTOR_METHODS)} have); allowed: null here",
        )


def _check_vit_fits(settings: dict, datasets: dict, origin: RunOrigin) -> None:
    """A ViT cuts the images into whole patches and splits its width among its heads."""
    if settings["backbone"] != "vit":
        return
    dataset, patch = settings["dataset"], settings["vit_patch_size"]
    shape = model_input_shape(dataset, datasets[dataset])
    if shape is None:  # known once the dataset is built: the model's constructor checks it
        return
    size = shape[-1]
    if shape[-2] % patch or size % patch:
        divisors = ", ".join(str(d) for d in range(1, size + 1) if size % d == 0)
        set_at = f" (datasets.{dataset}.size)" if dataset == "shapes" else ""
        raise _error_at(
            origin.path_of("vit_patch_size"),
            f"{patch} does not divide the {size}×{size} images of {dataset}{set_at}; "
            f"allowed: a divisor of {size} ({divisors})",
        )
    width, heads = settings["vit_width"], settings["vit_heads"]
    if width % heads:
        raise _error_at(
            origin.path_of("vit_heads"),
            f"{heads} heads do not divide vit_width ({width}); allowed: a divisor of {width}",
        )


def _check_model_sources(models: dict) -> None:
    """Each model is a TorchScript file, or a factory with its weights: never both."""
    for name, spec in models.items():
        if ("torchscript" in spec) == ("factory" in spec or "weights" in spec):
            raise _error_at(
                ("models", name),
                "give either torchscript (a TorchScript file) or factory and weights "
                "(package.module:function and a state-dict file)",
            )
        for key in ("factory", "weights"):
            if "torchscript" not in spec and key not in spec:
                raise _error_at(("models", name), f"missing key {key!r} (factory needs weights)")
        channels = spec["input_shape"][0]
        for key in ("mean", "std"):
            if spec[key] is not None and len(spec[key]) != channels:
                raise _error_at(
                    ("models", name, key),
                    f"{len(spec[key])} values for {channels} input channels "
                    f"(input_shape {spec['input_shape']}); allowed: one per channel",
                )


def _check_external_model(settings: dict, config: dict, analyses: list, origin: RunOrigin):
    """A run's model is the pipeline's or a declared one, which takes the dataset's inputs and,
    for the geometry, has a projector."""
    name = settings["model"]
    if name == PIPELINE_MODEL:
        return
    models = config["models"]
    if name not in models:
        allowed = ", ".join([PIPELINE_MODEL, *models])
        raise _error_at(
            origin.path_of("model"), f"{name!r} is not declared under models; allowed: {allowed}"
        )
    dataset = settings["dataset"]
    shape = model_input_shape(dataset, config["datasets"][dataset])
    if shape is not None and list(shape) != models[name]["input_shape"]:
        raise _error_at(
            ("models", name, "input_shape"),
            f"{models[name]['input_shape']}, but {dataset} (run setting at "
            f"{_dotted(origin.path_of('dataset'))}) gives inputs of shape {list(shape)}",
        )
    if "geometry" in analyses and not models[name]["projector"]:
        raise _error_at(
            (*origin.experiment, "analyses"),
            f"the geometry measures the projector, which model {name} has none of; allowed: "
            "analyses without geometry, or projector modules under models",
        )


def _check_external_runs_distinct(runs: dict[str, dict], origins: list[RunOrigin]) -> None:
    """A model trained elsewhere is analysed once per setting: runs of it that differ in their
    seed alone would be identical."""
    seen = {}
    for settings, origin in zip(runs.values(), origins, strict=True):
        if settings["model"] == PIPELINE_MODEL:
            continue
        key = json.dumps({k: v for k, v in settings.items() if k != "seed"}, sort_keys=True)
        if key in seen and seen[key] != settings["seed"]:
            raise _error_at(
                origin.path_of("seed"),
                f"model {settings['model']} is trained elsewhere, so its runs at seeds "
                f"{seen[key]} and {settings['seed']} would be the same; allowed: one seed for it "
                "(vary the model around pipeline runs, rather than crossing it with the seeds)",
            )
        seen[key] = settings["seed"]


def _check_external_layers(config: dict, runs: dict[str, dict[str, dict]]) -> None:
    """The layers the identifiability analysis compares exist in every model trained elsewhere
    that it compares."""
    layers = config["identifiability"]["layers"]
    for experiment, experiment_runs_ in runs.items():
        if "identifiability" not in config["experiments"][experiment]["analyses"]:
            continue
        for settings in experiment_runs_.values():
            name = settings["model"]
            if name == PIPELINE_MODEL:
                continue
            available = external_layer_names(config["models"][name])
            missing = [layer for layer in layers if layer not in available]
            if missing:
                raise _error_at(
                    ("identifiability", "layers"),
                    f"model {name} (experiment {experiment}) has no layer {missing[0]!r}; its "
                    f"layers: {', '.join(available)}",
                )


def _check_batch_fits(settings: dict, sizes: dict, origin: RunOrigin) -> None:
    """The run's training subset exists, and holds at least one batch."""
    dataset, batch_size = settings["dataset"], settings["batch_size"]
    n_train = sizes[dataset][0]
    train_size = settings["train_size"]
    if train_size is not None and train_size > n_train:
        raise _error_at(
            origin.path_of("train_size"),
            f"{train_size} is larger than the training set of {dataset} ({n_train} images); "
            f"allowed: value ≤ {n_train}",
        )
    used = _images_trained_on(settings, sizes)
    if batch_size > used:
        what = "train_size" if train_size else f"the training set of {dataset}"
        raise _error_at(
            origin.path_of("batch_size"),
            f"{batch_size} is larger than {what} ({used} images); allowed: value ≤ {used}",
        )


def _images_trained_on(settings: dict, sizes: dict) -> int:
    return settings["train_size"] or sizes[settings["dataset"]][0]


def _check_snapshots_before_end(settings: dict, sizes: dict, origin: RunOrigin) -> None:
    """Each snapshot comes before the last epoch, counted from train_steps where it is set."""
    train_steps = settings["train_steps"]
    length = training_length(
        _images_trained_on(settings, sizes),
        settings["batch_size"],
        settings["epochs"],
        train_steps,
    )
    late = [epoch for epoch in settings["snapshot_epochs"] if epoch >= length.epochs]
    if not late:
        return
    last = str(length.epochs)
    if train_steps is not None:
        last += f": train_steps {train_steps} at {length.steps_per_epoch} steps per epoch"
    raise _error_at(
        origin.path_of("snapshot_epochs"),
        f"epoch {late[0]} is not before the last epoch ({last}), which is the final model "
        f"itself; allowed: epochs < {length.epochs}",
    )


def _check_alpha_req_indices(analysis: dict) -> None:
    first, last = analysis["alpha_req_first_index"], analysis["alpha_req_last_index"]
    if first >= last:
        raise _error_at(
            ("analysis", "alpha_req_first_index"),
            f"{first} is not below alpha_req_last_index ({last}); allowed: value < {last}",
        )


def _check_test_images(config: dict, runs: dict[str, dict[str, dict]], sizes: dict) -> None:
    """Images taken from the test split must exist in the smallest test split that uses them:
    view images in every run's dataset, geometry images in those of geometry experiments."""
    geometry = [name for name in runs if "geometry" in config["experiments"][name]["analyses"]]
    for key_path, experiments in (
        (("embedding", "n_view_images"), list(runs)),
        (("geometry", "n_images"), geometry),
    ):
        used = {settings["dataset"] for name in experiments for settings in runs[name].values()}
        if not used:
            continue
        smallest = min(sorted(used), key=lambda name: sizes[name][1])
        n_test = sizes[smallest][1]
        wanted = config[key_path[0]][key_path[1]]
        if wanted > n_test:
            raise _error_at(
                key_path,
                f"{wanted} is larger than the test split of {smallest} ({n_test} images); "
                f"allowed: value ≤ {n_test}",
            )


def _check_subspace_dimension(geometry: dict) -> None:
    """k directions need at least k augmentations and k neighbours to span them."""
    for key in ("n_augmentations", "n_neighbors"):
        if geometry["k"] > geometry[key]:
            raise _error_at(
                ("geometry", "k"),
                f"{geometry['k']} is larger than geometry.{key} ({geometry[key]}); "
                f"allowed: value ≤ {geometry[key]}",
            )


def _error_at(key_path: KeyPath, problem: str) -> ConfigError:
    return ConfigError(f"config error at {_dotted(key_path)}: {problem}")


def _dotted(key_path: KeyPath) -> str:
    """``("grid", "strength", 1)`` → ``grid.strength[1]``; the empty path is the top level."""
    text = ""
    for key in key_path:
        if isinstance(key, int):
            text += f"[{key}]"
        else:
            text += f".{key}" if text else str(key)
    return text or "top level"


def _problem(error: ValidationError) -> str:
    """What is wrong with the value ``error`` is about, and what is allowed instead."""
    describe = PROBLEMS.get(error.validator, lambda error: error.message)
    return describe(error)


def _unknown_key_problem(error: ValidationError) -> str:
    key = _unknown_keys(error)[0]
    allowed = sorted(error.schema["properties"]) + [
        pattern.strip("^$") for pattern in error.schema.get("patternProperties", {})
    ]
    guesses = difflib.get_close_matches(str(key), allowed, n=1)
    hint = f" (did you mean {guesses[0]!r}?)" if guesses else ""
    return f"unknown key {key!r}{hint}; allowed keys: {', '.join(allowed)}"


def _unknown_keys(error: ValidationError) -> list:
    return [key for key in error.instance if key not in error.schema["properties"]]


def _missing_keys(error: ValidationError) -> list[str]:
    return [key for key in error.validator_value if key not in error.instance]


def _types(error: ValidationError) -> list[str]:
    types = error.schema.get("type", [])
    return [types] if isinstance(types, str) else types


def _type_problem(error: ValidationError) -> str:
    expected = " or ".join(TYPE_NAMES.get(name, name) for name in _types(error))
    return f"{error.instance!r} has the wrong type; expected {expected}"


def _enum_problem(error: ValidationError) -> str:
    allowed = ", ".join(str(value) for value in error.validator_value)
    return f"{error.instance!r} is not allowed; allowed values: {allowed}"


def _range_problem(error: ValidationError) -> str:
    return f"{error.instance!r} is out of range; allowed: {_allowed_range(error.schema)}"


def _allowed_range(schema: dict) -> str:
    """A schema's numeric bounds as an inequality: ``0 ≤ value ≤ 1`` or ``value > 0``."""
    lower = [(sign, schema[key]) for key, sign in LOWER_BOUNDS.items() if key in schema]
    upper = [(sign, schema[key]) for key, sign in UPPER_BOUNDS.items() if key in schema]
    if lower and upper:
        (lower_sign, low), (upper_sign, high) = lower[0], upper[0]
        return f"{low} {MIRRORED[lower_sign]} value {upper_sign} {high}"
    return " and ".join(f"value {sign} {bound}" for sign, bound in lower + upper)


def _too_few_items_problem(error: ValidationError) -> str:
    if not error.instance:
        return "empty list; give at least one value"
    return f"{len(error.instance)} items; give at least {error.validator_value}"


def _too_few_keys_problem(error: ValidationError) -> str:
    if "properties" in error.schema:
        return f"empty mapping; give at least one of {', '.join(error.schema['properties'])}"
    description = error.schema.get("description")
    return "empty mapping; give at least one entry" + (f" ({description})" if description else "")


def _pattern_problem(error: ValidationError) -> str:
    if "propertyNames" in error.absolute_schema_path:
        return f"invalid name {error.instance!r}; allowed: names matching {error.validator_value}"
    return f"{error.instance!r} is not allowed; allowed: strings matching {error.validator_value}"


PROBLEMS = {
    "additionalProperties": _unknown_key_problem,
    "required": lambda error: f"missing key {_missing_keys(error)[0]!r}",
    "type": _type_problem,
    "enum": _enum_problem,
    **dict.fromkeys([*LOWER_BOUNDS, *UPPER_BOUNDS], _range_problem),
    "minItems": _too_few_items_problem,
    "minProperties": _too_few_keys_problem,
    "pattern": _pattern_problem,
}


def _duplicate_keys(path: Path) -> list[tuple[str, int]]:
    """(dotted path, line) of each key written twice in one mapping of the YAML file."""
    root = yaml.compose(path.read_text(), Loader=yaml.SafeLoader)
    return list(_repeated_keys(root, ())) if root is not None else []


def _repeated_keys(node: yaml.Node, key_path: KeyPath) -> Iterator[tuple[str, int]]:
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            child_path = (*key_path, key_node.value)
            if (key_node.tag, key_node.value) in seen:
                yield _dotted(child_path), key_node.start_mark.line + 1
            seen.add((key_node.tag, key_node.value))
            yield from _repeated_keys(value_node, child_path)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _repeated_keys(item, (*key_path, index))
