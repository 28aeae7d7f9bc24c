"""The tangent-plane geometry of one trained run (Cosentino et al. 2022, arXiv 2205.06926).

At the encoder outputs h of test images: the projector Jacobian's spectrum, and for each
family of encoder-space directions — augmentation tangent, data tangent, style latents and
content (class) changes on rendered data, and random directions as the baseline — the
projector's sensitivity ρ and the principal angles to the subspace the projector keeps.
"""

import numpy as np
import torch

from sslgeom.augment import StrengthAugmentation, to_float_images
from sslgeom.data import Dataset
from sslgeom.data.shapes import CONTENT_LATENTS, SHAPE_CLASSES, STYLE_LATENTS, render
from sslgeom.embed import embed_split
from sslgeom.geometry import (
    augmentation_tangent,
    class_change_directions,
    data_tangent,
    jacobian_spectrum_stats,
    latent_tangents,
    orthonormal_basis,
    principal_angles,
    projector_jacobians,
    random_subspace,
    sensitivity,
    top_right_singular_vectors,
)
from sslgeom.models import SSLModel


def tangent_families(model: SSLModel, dataset: Dataset, h: torch.Tensor, options: dict) -> dict:
    """Orthonormal bases (n × d_h × k) of every direction family at the first n test images."""
    n, k, seed = options["n_images"], options["k"], options["seed"]
    device = next(model.parameters()).device
    images = to_float_images(torch.from_numpy(dataset.test_images[:n])).to(device)
    small = StrengthAugmentation(options["tangent_strength"], tuple(images.shape[-2:]))
    families = {
        "augmentation": augmentation_tangent(
            model.encoder, images, small, options["n_augmentations"], k, seed
        ),
        "data": data_tangent(h, k, options["n_neighbors"])[:n],
        "random": random_subspace(n, h.shape[1], k, seed),
    }
    if dataset.name == "shapes":
        latents = dataset.test_latents[:n]
        names = list(dataset.latent_names)
        style = [names.index(name) for name in STYLE_LATENTS]
        families["style"] = orthonormal_basis(
            latent_tangents(
                model.encoder,
                latents,
                render,
                style,
                options["latent_epsilon"],
                options["batch_size"],
            )
        )
        families["content"] = orthonormal_basis(
            class_change_directions(
                model.encoder,
                latents,
                render,
                names.index(CONTENT_LATENTS[0]),
                len(SHAPE_CLASSES),
                options["batch_size"],
            )
        )
    return families


def run_geometry(model: SSLModel, dataset: Dataset, options: dict) -> tuple[list[dict], np.ndarray]:
    """Tidy rows (family, metric, value) and the mean singular values of the projector Jacobian."""
    encoded = embed_split(model, dataset.test_images, options["batch_size"])["encoder"]
    h = torch.from_numpy(encoded).to(next(model.parameters()).device)
    jacobians = projector_jacobians(model.projector, h[: options["n_images"]])
    stats = jacobian_spectrum_stats(jacobians)
    kept = top_right_singular_vectors(jacobians, options["k"])
    rows = [
        {"family": "jacobian", "metric": name, "value": float(stats[name])}
        for name in ("stable_rank", "effective_rank")
    ]
    for family, basis in tangent_families(model, dataset, h, options).items():
        angles = torch.rad2deg(principal_angles(basis, kept))
        rows += [
            {
                "family": family,
                "metric": "sensitivity",
                "value": sensitivity(jacobians, basis).mean().item(),
            },
            {"family": family, "metric": "angle", "value": angles.mean().item()},
        ]
    return rows, stats["mean_singular_values"]
