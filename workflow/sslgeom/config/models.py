"""Checks of models trained elsewhere (the config's ``models`` section) and of the runs that
analyse them: each model gives one source (a TorchScript file, or a factory with its weights)
and per-channel normalisation for its channels; a run names a declared model, which takes its
dataset's inputs (:func:`check_input_shape`, checked again when the model is embedded) and, for
the geometry, has a projector; runs of it differ in more than their seed; it has the layers
the identifiability analysis compares; and, where its file is already there, it loads and its
encoder then projector run on a dummy batch of its inputs (:func:`check_used_models_run`).
"""

import json
from collections.abc import Sequence
from pathlib import Path

from sslgeom.config.experiments import PIPELINE_MODEL
from sslgeom.config.grid import RunOrigin
from sslgeom.config.layers import external_layer_names
from sslgeom.config.messages import KeyPath, dotted, error_at
from sslgeom.data import model_input_shape


def check_model_sources(models: dict) -> None:
    """Each model is a TorchScript file, or a factory with its weights (never both), at a path
    that Snakemake can take as an input."""
    for name, spec in models.items():
        if ("torchscript" in spec) == ("factory" in spec or "weights" in spec):
            raise error_at(
                ("models", name),
                "give either torchscript (a TorchScript file) or factory and weights "
                "(package.module:function and a state-dict file)",
            )
        for key in ("factory", "weights"):
            if "torchscript" not in spec and key not in spec:
                raise error_at(("models", name), f"missing key {key!r} (factory needs weights)")
        source = checkpoint_key(spec)
        if "{" in spec[source] or "}" in spec[source]:
            raise error_at(
                ("models", name, source),
                f"{spec[source]!r} has a brace, which Snakemake reads as a wildcard in a job's "
                "input; allowed: a path without { or }",
            )
        for key in ("weights_key", "strip_prefix"):
            if "torchscript" in spec and spec[key]:
                raise error_at(
                    ("models", name, key),
                    f"{spec[key]!r} has no effect: a TorchScript file holds no state dict; "
                    "allowed: with factory and weights only",
                )
        channels = spec["input_shape"][0]
        for key in ("mean", "std"):
            if spec[key] is not None and len(spec[key]) != channels:
                raise error_at(
                    ("models", name, key),
                    f"{len(spec[key])} values for {channels} input channels "
                    f"(input_shape {spec['input_shape']}); allowed: one per channel",
                )


def checkpoint_key(spec: dict) -> str:
    """The key of the file a ``models`` entry is read from: ``torchscript``, or ``weights``."""
    return "torchscript" if "torchscript" in spec else "weights"


def checkpoint_file(spec: dict) -> str:
    """The file a ``models`` entry is read from: its TorchScript file, or its weights."""
    return spec[checkpoint_key(spec)]


def check_used_models_run(models: dict, runs: dict[str, dict[str, dict]]) -> None:
    """Every model that some run uses loads on the CPU and runs its encoder then projector on
    a dummy batch of its ``input_shape`` (:func:`~sslgeom.models.external.checked_external_model`,
    which the embed job runs again), where its file is already there: a missing one is an input
    of the embed job, which Snakemake reports when it builds the DAG."""
    used = {settings["model"] for experiment in runs.values() for settings in experiment.values()}
    present = [
        name for name in models if name in used and Path(checkpoint_file(models[name])).exists()
    ]
    if not present:
        return
    # imported here: a config without such models is checked without loading torch
    from sslgeom.models.external import checked_external_model

    for name in present:
        checked_external_model(name, models[name], "cpu")


def check_external_model(settings: dict, config: dict, analyses: list, origin: RunOrigin):
    """A run's model is the pipeline's or a declared one, which takes the dataset's inputs and,
    for the geometry, has a projector."""
    name = settings["model"]
    if name == PIPELINE_MODEL:
        return
    models = config["models"]
    if name not in models:
        allowed = ", ".join([PIPELINE_MODEL, *models])
        raise error_at(
            origin.path_of("model"), f"{name!r} is not declared under models; allowed: {allowed}"
        )
    dataset = settings["dataset"]
    shape = model_input_shape(dataset, config["datasets"][dataset])
    if shape is not None:
        check_input_shape(
            models[name]["input_shape"], name, dataset, shape, origin.path_of("dataset")
        )
    if "geometry" in analyses and not models[name]["projector"]:
        raise error_at(
            (*origin.experiment, "analyses"),
            f"the geometry measures the projector, which model {name} has none of; allowed: "
            "analyses without geometry, or projector modules under models",
        )


def check_input_shape(
    expected: Sequence[int],
    model_name: str,
    dataset_name: str,
    shape: Sequence[int],
    dataset_set_at: KeyPath | None = None,
) -> None:
    """ConfigError unless the inputs of ``dataset_name``, of ``shape`` (channels first, as the
    model reads them), are the ``expected`` inputs of ``model_name`` (its ``input_shape``);
    ``dataset_set_at``: where the run sets its dataset, where known."""
    if list(shape) != list(expected):
        set_at = f" (run setting at {dotted(dataset_set_at)})" if dataset_set_at else ""
        raise error_at(
            ("models", model_name, "input_shape"),
            f"{list(expected)}, but {dataset_name}{set_at} gives inputs of shape {list(shape)}",
        )


def check_external_runs_distinct(runs: dict[str, dict], origins: list[RunOrigin]) -> None:
    """A model trained elsewhere is analysed once per setting: runs of it that differ in their
    seed alone would be identical."""
    seen = {}
    for settings, origin in zip(runs.values(), origins, strict=True):
        if settings["model"] == PIPELINE_MODEL:
            continue
        key = json.dumps({k: v for k, v in settings.items() if k != "seed"}, sort_keys=True)
        if key in seen and seen[key] != settings["seed"]:
            raise error_at(
                origin.path_of("seed"),
                f"model {settings['model']} is trained elsewhere, so its runs at seeds "
                f"{seen[key]} and {settings['seed']} would be the same; allowed: one seed for it "
                "(vary the model around pipeline runs, rather than crossing it with the seeds)",
            )
        seen[key] = settings["seed"]


def check_external_layers(config: dict, runs: dict[str, dict[str, dict]]) -> None:
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
                raise error_at(
                    ("identifiability", "layers"),
                    f"model {name} (experiment {experiment}) has no layer {missing[0]!r}; its "
                    f"layers: {', '.join(available)}",
                )
