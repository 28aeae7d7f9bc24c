"""The MLP projector of joint-embedding SSL (Chen et al. 2020, SimCLR).

``depth`` linear layers; every layer but the last is followed by BatchNorm and
ReLU. The output of each hidden block is exposed as ``proj1``, ``proj2``, …
and the final output as ``projector``, so every stage can be embedded. The final output is
the last linear layer's, or, with an output normalisation, that of a map into the space the
loss assumes (:class:`BoxMap`, :class:`SphereMap`): what the loss sees.
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sslgeom.config.layers import projector_layer_names


class BoxMap(nn.Module):
    """x ↦ sigmoid(x) · b, b a learnable bound per dimension starting at 1: outputs in the box
    ∏ (0, b_j) (Zimmermann et al. 2021's ``SoftclipLayer`` with a learnable bound)."""

    def __init__(self, dim: int):
        super().__init__()
        self.bound = nn.Parameter(torch.ones(dim))

    def forward(self, x: Tensor) -> Tensor:
        return torch.sigmoid(x) * self.bound


class SphereMap(nn.Module):
    """x ↦ r · x / ‖x‖, r a learnable radius starting at 1 (Zimmermann et al. 2021's
    ``RescaleLayer`` with a learnable radius)."""

    def __init__(self):
        super().__init__()
        self.radius = nn.Parameter(torch.ones(()))

    def forward(self, x: Tensor) -> Tensor:
        return F.normalize(x, dim=1) * self.radius


OUTPUT_NORMALIZATIONS = ("none", "box", "sphere")


class Projector(nn.Module):
    def __init__(
        self,
        in_dim: int,
        depth: int,
        hidden_dim: int,
        out_dim: int,
        output_normalization: str = "none",
    ):
        super().__init__()
        if output_normalization not in OUTPUT_NORMALIZATIONS:
            raise ValueError(
                f"unknown output normalisation {output_normalization!r}; "
                f"known: {', '.join(OUTPUT_NORMALIZATIONS)}"
            )
        dims = [in_dim] + [hidden_dim] * (depth - 1)
        self.hidden = nn.ModuleList(
            nn.Sequential(nn.Linear(d_in, d_out), nn.BatchNorm1d(d_out), nn.ReLU())
            for d_in, d_out in zip(dims[:-1], dims[1:], strict=True)
        )
        self.output = nn.Linear(dims[-1], out_dim)
        # none registers no module, so such a projector's state dict is as it always was
        self.normalize = {"none": None, "box": BoxMap(out_dim), "sphere": SphereMap()}[
            output_normalization
        ]
        self.layer_names = projector_layer_names(depth)

    def forward_all(self, h: Tensor) -> dict[str, Tensor]:
        """Every stage's output, keyed by layer name, in order."""
        outputs = {}
        for name, block in zip(self.layer_names, self.hidden, strict=False):
            h = block(h)
            outputs[name] = h
        outputs["projector"] = self._final(h)
        return outputs

    def forward(self, h: Tensor) -> Tensor:
        for block in self.hidden:
            h = block(h)
        return self._final(h)

    def _final(self, h: Tensor) -> Tensor:
        output = self.output(h)
        return output if self.normalize is None else self.normalize(output)
