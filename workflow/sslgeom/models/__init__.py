"""Encoder + projector models."""

import math

import torch
from torch import Tensor, nn

from sslgeom.models.mlp import MLP
from sslgeom.models.projector import Projector, projector_layer_names
from sslgeom.models.resnet import ResNet
from sslgeom.models.vit import ViT

__all__ = [
    "BACKBONES",
    "MLP",
    "Projector",
    "ResNet",
    "SSLModel",
    "ViT",
    "build_model",
    "projector_layer_names",
    "scale_weights",
]


class SSLModel(nn.Module):
    """An encoder f followed by a projector g; the loss sees g(f(x)). The projector names its
    layers (``layer_names``) and returns each one's output from ``forward_all``."""

    def __init__(self, encoder: nn.Module, projector: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.projector = projector
        self.layer_names = ["encoder", *projector.layer_names]

    def forward(self, x: Tensor) -> Tensor:
        return self.projector(self.encoder(x))

    def forward_all(self, x: Tensor) -> dict[str, Tensor]:
        """Representations at the encoder and at every projector layer."""
        h = self.encoder(x)
        return {"encoder": h, **self.projector.forward_all(h)}


BACKBONES = ("resnet", "vit", "mlp")


def build_model(
    input_shape: tuple[int, ...],
    projector_depth: int,
    projector_hidden_dim: int,
    projector_out_dim: int,
    backbone: str = "resnet",
    encoder_width: int = 8,
    encoder_blocks: tuple[int, ...] = (1, 1, 1, 1),
    encoder_stem_stride: int = 1,
    mlp_dims: tuple[int, ...] = (512, 128),
    vit_patch_size: int = 8,
    vit_depth: int = 4,
    vit_width: int = 64,
    vit_heads: int = 4,
    vit_mlp_ratio: float = 4.0,
    vit_pooling: str = "mean",
    output_normalization: str = "none",
) -> SSLModel:
    """The encoder ``backbone`` for inputs of ``input_shape`` (H×W×C for images, (D,) for
    vectors) with its projector: a ResNet (images only; ``encoder_*``), a ViT (images only;
    ``vit_*``) or an MLP (``mlp_dims``); the projector ends in ``output_normalization``."""
    if backbone in ("resnet", "vit") and len(input_shape) != 3:
        raise ValueError(f"the {backbone} backbone needs images (H×W×C), got inputs {input_shape}")
    if backbone == "resnet":
        encoder = ResNet(encoder_width, encoder_blocks, input_shape[-1], encoder_stem_stride)
    elif backbone == "vit":
        encoder = ViT(
            input_shape[:2],
            input_shape[-1],
            vit_patch_size,
            vit_depth,
            vit_width,
            vit_heads,
            vit_mlp_ratio,
            vit_pooling,
        )
    elif backbone == "mlp":
        encoder = MLP(math.prod(input_shape), mlp_dims)
    else:
        raise ValueError(f"unknown backbone {backbone!r}; known: {list(BACKBONES)}")
    projector = Projector(
        encoder.out_dim,
        projector_depth,
        projector_hidden_dim,
        projector_out_dim,
        output_normalization,
    )
    return SSLModel(encoder, projector)


@torch.no_grad()
def scale_weights(model: nn.Module, scale: float) -> None:
    """Multiply every convolution and linear weight by ``scale`` (the initialisation scale)."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            module.weight.mul_(scale)
