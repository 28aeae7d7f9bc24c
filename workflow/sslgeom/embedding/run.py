"""One run's embeddings of every layer, views and tangents: what the embed job calls."""

from pathlib import Path

import numpy as np
import torch

from sslgeom.config.models import check_input_shape
from sslgeom.data import load_dataset
from sslgeom.embedding.embeddings import embed_split, embed_views
from sslgeom.embedding.tangents import extract_tangents
from sslgeom.io.artifacts import save_npz_atomically
from sslgeom.models.run_models import RunModels
from sslgeom.training.views import to_model_inputs, view_sampler


def embed_run(
    models: RunModels,
    dataset_path: str,
    output_path: str,
    options: dict,
    snapshot_train_images: int,
    geometry_options: dict | None = None,
) -> None:
    """Write the embeddings.npz of a run's ``models`` (layout in docs/outputs.md), on the
    device of their weights.

    Each snapshot is embedded as ``epoch{e}_{split}_{layer}`` on the test split and on the first
    ``snapshot_train_images`` training images (those the identifiability analysis fits on).
    ``views_*`` hold the run's own views of the first test images (its augmentation or latent
    views), ``refviews_*`` augmentations at the reference strength (on vectors, which have no
    image augmentation, the run's own views again). With ``geometry_options``, the arrays the
    tangent geometry measures are extracted too
    (:func:`sslgeom.embedding.tangents.extract_tangents`).
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
