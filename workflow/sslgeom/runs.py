"""One run end to end, from the settings of one grid point: what the pipeline's scripts call."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from sslgeom.artifacts import EPOCH_TRAINED_ELSEWHERE, save_npz_atomically, write_rows
from sslgeom.data import load_dataset
from sslgeom.device import configure_kernels, resolve_device
from sslgeom.embed import embed_split, embed_views
from sslgeom.methods import method_from_settings, trained_parameters
from sslgeom.models import SSLModel, build_model, scale_weights
from sslgeom.models.external import check_input_shape, load_external_model
from sslgeom.tangents import extract_tangents
from sslgeom.train import (
    build_optimizer,
    pretrain,
    save_atomically,
    settings_fingerprint,
    training_subset,
)
from sslgeom.training_length import training_length
from sslgeom.views import to_model_inputs, view_sampler

MODEL_SETTINGS = (
    "backbone",
    "encoder_width",
    "encoder_blocks",
    "encoder_stem_stride",
    "mlp_dims",
    "vit_patch_size",
    "vit_depth",
    "vit_width",
    "vit_heads",
    "vit_mlp_ratio",
    "vit_pooling",
    "projector_depth",
    "projector_hidden_dim",
    "projector_out_dim",
)


def model_from_settings(settings: dict, input_shape: tuple[int, ...]) -> SSLModel:
    """The run's model for inputs of ``input_shape`` (a stored example's shape); channels-last
    memory, which is about twice as fast on CPU convolutions."""
    model = build_model(input_shape, **{key: settings[key] for key in MODEL_SETTINGS})
    return model.to(memory_format=torch.channels_last)


def pretrain_run(
    run_name: str,
    settings: dict,
    dataset_path: str,
    model_path: Path,
    train_log_path: Path,
    checkpoint_path: Path,
    device_name: str,
    threads: int,
    deterministic: bool = False,
) -> None:
    """Train one run into ``model_path`` and ``train_log_path``, resuming from
    ``checkpoint_path`` (deleted at the end); ``deterministic``: see
    :func:`sslgeom.device.configure_kernels`."""
    torch.set_num_threads(threads)
    device = resolve_device(device_name)
    configure_kernels(device, deterministic)
    dataset = load_dataset(dataset_path)
    torch.manual_seed(settings["seed"])
    subset = training_subset(len(dataset.train_images), settings["train_size"])
    latents = None if dataset.train_latents is None else dataset.train_latents[subset]
    sampler = view_sampler(settings, dataset, dataset.train_images[subset], latents, device)
    input_shape = dataset.train_images.shape[1:]
    model = model_from_settings(settings, input_shape).to(device)
    scale_weights(model, settings["init_scale"])
    length = training_length(
        len(sampler), settings["batch_size"], settings["epochs"], settings["train_steps"]
    )
    method = method_from_settings(
        settings, model, dataset.train_labels[subset], dataset.num_classes, length.total_steps
    )
    optimizer = build_optimizer(
        settings["optimizer"],
        trained_parameters(model, method),
        settings["lr"],
        settings["weight_decay"],
    )
    print(f"pretraining {run_name}: {settings} on {device} with {threads} thread(s)")
    try:
        history, snapshots = pretrain(
            model=model,
            sampler=sampler,
            method=method,
            optimizer=optimizer,
            epochs=settings["epochs"],
            train_steps=settings["train_steps"],
            batch_size=settings["batch_size"],
            base_lr=settings["lr"],
            warmup_epochs=settings["warmup_epochs"],
            checkpoint_path=checkpoint_path,
            fingerprint=settings_fingerprint(settings),
            snapshot_epochs=tuple(settings["snapshot_epochs"]),
            precision=settings["precision"],
        )
    except FloatingPointError as err:
        raise FloatingPointError(
            f"run {run_name}: {err}; no model was saved, so nothing downstream is built from it "
            "(lower lr or raise warmup_epochs)"
        ) from err
    save_atomically(
        {
            "model": model.state_dict(),
            "method": method.state_dict(),
            "optimizer": optimizer.state_dict(),
            "epoch": history[-1]["epoch"],
            "settings": settings,
            "input_shape": list(input_shape),
            "snapshots": snapshots,
        },
        model_path,
    )
    write_rows(history, train_log_path)
    checkpoint_path.unlink(missing_ok=True)


def read_model_file(model_path: str, device: torch.device) -> dict:
    """The contents of a run's ``model.pt``, its tensors on ``device`` (unpickled with
    ``weights_only``: tensors and plain containers only)."""
    try:
        return torch.load(model_path, map_location=device, weights_only=True)
    except Exception as err:
        raise ValueError(
            f"cannot read the checkpoint {model_path} ({err}); rebuild it with "
            f"`snakemake --cores 1 --forcerun pretrain {model_path}`"
        ) from err


def models_of(state: dict, device: torch.device) -> dict[int | str, SSLModel]:
    """The final model (key ``"final"``) and each snapshot (key: its epoch) of a run's
    ``model.pt`` (as :func:`read_model_file` reads it)."""
    weights = {"final": state["model"], **state.get("snapshots", {})}
    models = {}
    for key, model_state in weights.items():
        model = model_from_settings(state["settings"], tuple(state["input_shape"])).to(device)
        model.load_state_dict(model_state)
        models[key] = model.eval()
    return models


def load_model(model_path: str, device: torch.device) -> SSLModel:
    return models_of(read_model_file(model_path, device), device)["final"]


@dataclass
class RunModels:
    """What a run's embeddings are made from: its settings, its final model, its snapshots
    (epoch → model) and the final model's epoch (:data:`EPOCH_TRAINED_ELSEWHERE` for a model
    of the config's ``models`` section)."""

    settings: dict
    final: SSLModel
    snapshots: dict[int, SSLModel]
    final_epoch: int
    external_name: str | None = None
    external_input_shape: list[int] | None = None


def trained_run_models(model_path: str, device: torch.device) -> RunModels:
    """A pipeline-trained run's models, from its ``model.pt``."""
    state = read_model_file(model_path, device)
    models = models_of(state, device)
    final = models.pop("final")
    return RunModels(state["settings"], final, models, state["epoch"])


def external_run_models(
    model_name: str, spec: dict, settings: dict, device: torch.device
) -> RunModels:
    """The run of ``model_name``, a model trained elsewhere (``spec``: its ``models`` entry);
    :func:`embed_run` checks its input shape against the dataset."""
    model = load_external_model(spec, device)
    return RunModels(settings, model, {}, EPOCH_TRAINED_ELSEWHERE, model_name, spec["input_shape"])


def embed_run(
    models: RunModels,
    dataset_path: str,
    output_path: str,
    options: dict,
    snapshot_train_images: int,
    geometry_options: dict | None = None,
) -> None:
    """Write the embeddings.npz of a run's ``models`` (layout in the README's "Outputs"
    section), on the device of their weights.

    Each snapshot is embedded as ``epoch{e}_{split}_{layer}`` on the test split and on the first
    ``snapshot_train_images`` training images (those the identifiability analysis fits on).
    ``views_*`` hold the run's own views of the first test images (its augmentation or latent
    views), ``refviews_*`` augmentations at the reference strength (on vectors, which have no
    image augmentation, the run's own views again). With ``geometry_options``, the arrays the
    tangent geometry measures are extracted too (:func:`sslgeom.tangents.extract_tangents`).
    """
    settings, model = models.settings, models.final
    device = next(model.parameters()).device
    dataset = load_dataset(dataset_path)
    if models.external_input_shape is not None:
        shape = to_model_inputs(torch.from_numpy(dataset.test_images[:1])).shape[1:]
        check_input_shape(models.external_input_shape, models.external_name, dataset.name, shape)
    batch = options["batch_size"]
    arrays = {"train_labels": dataset.train_labels, "test_labels": dataset.test_labels}
    for split, inputs in (("train", dataset.train_images), ("test", dataset.test_images)):
        arrays |= {f"{split}_{k}": v for k, v in embed_split(model, inputs, batch).items()}
        for epoch, snapshot in models.snapshots.items():
            layers = embed_split(snapshot, inputs[:snapshot_train_images], batch)
            arrays |= {f"epoch{epoch}_{split}_{k}": v for k, v in layers.items()}
    n_views = options["n_view_images"]
    view_inputs = dataset.test_images[:n_views]
    view_latents = None if dataset.test_latents is None else dataset.test_latents[:n_views]
    own = view_sampler(settings, dataset, view_inputs, view_latents, device)
    reference = own
    if dataset.is_images:
        augmentation = {**settings, "views": "augmentation"}
        reference = view_sampler(
            augmentation, dataset, view_inputs, None, device, options["reference_strength"]
        )
    for prefix, sampler in (("views", own), ("refviews", reference)):
        layers = embed_views(model, sampler, options["n_views"], options["view_seed"], batch)
        arrays |= {f"{prefix}_{k}": v for k, v in layers.items()}
    if dataset.train_latents is not None:
        arrays |= {
            "train_latents": dataset.train_latents,
            "test_latents": dataset.test_latents,
            "latent_names": np.array(dataset.latent_names),
        }
    if geometry_options is not None:
        arrays |= extract_tangents(model, dataset, arrays["test_encoder"], geometry_options)
    arrays["layers"] = np.array(model.layer_names)
    arrays["snapshot_epochs"] = np.array(sorted(models.snapshots), dtype=np.int64)
    arrays["final_epoch"] = np.array(models.final_epoch, dtype=np.int64)
    save_npz_atomically(arrays, Path(output_path))
    print(f"embedded {len(model.layer_names)} layers: {', '.join(model.layer_names)}")
