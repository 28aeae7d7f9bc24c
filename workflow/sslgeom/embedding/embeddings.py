"""Embeddings of every layer (encoder, each projector layer, projector output)."""

import numpy as np
import torch
from torch import Tensor

from sslgeom.models import SSLModel
from sslgeom.training.augment import views
from sslgeom.training.views import ViewSampler, to_model_inputs


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


def embed_split(model: SSLModel, stored: np.ndarray, batch_size: int) -> dict:
    """Each layer's representation of stored inputs (uint8 images or float vectors)."""
    return embed_layers(model, to_model_inputs(torch.from_numpy(stored)), batch_size)


def embed_views(
    model: SSLModel, sampler: ViewSampler, n_views: int, seed: int, batch_size: int
) -> dict[str, np.ndarray]:
    """Each layer's representation of ``n_views`` views of each of the sampler's examples
    (N×V×d), drawn reproducibly from ``seed``."""
    indices = torch.arange(len(sampler), device=sampler.device)
    stacked = views(sampler.views, indices, n_views, seed)
    n, v = stacked.shape[:2]
    flat = embed_layers(model, stacked.flatten(0, 1), batch_size)
    return {name: value.reshape(n, v, -1) for name, value in flat.items()}
