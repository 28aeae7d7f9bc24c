"""One run's pretraining, from the settings of its grid point: what the pretrain job calls."""

from pathlib import Path

import torch

from sslgeom.config.experiments import settings_besides
from sslgeom.data import load_dataset
from sslgeom.device import configure_kernels, resolve_device
from sslgeom.io.artifacts import write_rows
from sslgeom.models import scale_weights
from sslgeom.models.run_models import model_from_settings
from sslgeom.training.length import training_length
from sslgeom.training.loop import (
    build_optimizer,
    pretrain,
    save_atomically,
    settings_fingerprint,
    training_subset,
)
from sslgeom.training.methods import method_from_settings, trained_parameters
from sslgeom.training.views import view_sampler


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
    defaults: dict | None = None,
) -> None:
    """Train one run into ``model_path`` and ``train_log_path``, resuming from
    ``checkpoint_path`` (deleted at the end); ``deterministic``: see
    :func:`sslgeom.device.configure_kernels`. The log names the settings that differ from
    ``defaults`` (the run schema's) besides the factors of ``run_name``."""
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
    besides = settings_besides(run_name, settings, defaults or {})
    print(f"pretraining {run_name} on {device} with {threads} thread(s); other settings: {besides}")
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
