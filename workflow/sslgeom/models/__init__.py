"""Encoder + projector models."""

import torch
from torch import Tensor, nn

from sslgeom.models.projector import Projector, projector_layer_names
from sslgeom.models.resnet import ResNet

__all__ = [
    "Projector",
    "ResNet",
    "SSLModel",
    "build_model",
    "projector_layer_names",
    "scale_weights",
]


class SSLModel(nn.Module):
    """An encoder f followed by a projector g; the loss sees g(f(x))."""

    def __init__(self, encoder: ResNet, projector: Projector):
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


def build_model(
    encoder_width: int,
    encoder_blocks: list[int],
    projector_depth: int,
    projector_hidden_dim: int,
    projector_out_dim: int,
    in_channels: int = 3,
    encoder_stem_stride: int = 1,
) -> SSLModel:
    encoder = ResNet(encoder_width, encoder_blocks, in_channels, encoder_stem_stride)
    projector = Projector(encoder.out_dim, projector_depth, projector_hidden_dim, projector_out_dim)
    return SSLModel(encoder, projector)


@torch.no_grad()
def scale_weights(model: nn.Module, scale: float) -> None:
    """Multiply every convolution and linear weight by ``scale`` (the initialisation scale)."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            module.weight.mul_(scale)
