"""Embeddings of every layer (encoder, each projector layer, projector output)."""

import numpy as np
import torch
from torch import Tensor

from sslgeom.augment import StrengthAugmentation, to_float_images, views
from sslgeom.models import SSLModel


@torch.no_grad()
def embed_layers(model: SSLModel, images: Tensor, batch_size: int) -> dict[str, np.ndarray]:
    """Each layer's representation (N×d float32) of float images N×C×H×W, in eval mode."""
    model.eval()
    device = next(model.parameters()).device
    chunks: dict[str, list[np.ndarray]] = {name: [] for name in model.layer_names}
    for start in range(0, len(images), batch_size):
        outputs = model.forward_all(images[start : start + batch_size].to(device))
        for name, value in outputs.items():
            chunks[name].append(value.float().cpu().numpy())
    return {name: np.concatenate(parts) for name, parts in chunks.items()}


def embed_split(model: SSLModel, images_uint8: np.ndarray, batch_size: int) -> dict:
    return embed_layers(model, to_float_images(torch.from_numpy(images_uint8)), batch_size)


def embed_views(
    model: SSLModel,
    images_uint8: np.ndarray,
    augment: StrengthAugmentation,
    n_views: int,
    seed: int,
    batch_size: int,
) -> dict[str, np.ndarray]:
    """Each layer's representation of ``n_views`` augmented views per image (N×V×d)."""
    device = next(model.parameters()).device
    images = to_float_images(torch.from_numpy(images_uint8).to(device))
    stacked = views(augment, images, n_views, seed)
    n, v = stacked.shape[:2]
    flat = embed_layers(model, stacked.flatten(0, 1), batch_size)
    return {name: value.reshape(n, v, -1) for name, value in flat.items()}
