"""The MLP projector of joint-embedding SSL (Chen et al. 2020, SimCLR).

``depth`` linear layers; every layer but the last is followed by BatchNorm and
ReLU. The output of each hidden block is exposed as ``proj1``, ``proj2``, …
and the final linear output as ``projector``, so every stage can be embedded.
"""

from torch import Tensor, nn

from sslgeom.config.layers import projector_layer_names


class Projector(nn.Module):
    def __init__(self, in_dim: int, depth: int, hidden_dim: int, out_dim: int):
        super().__init__()
        dims = [in_dim] + [hidden_dim] * (depth - 1)
        self.hidden = nn.ModuleList(
            nn.Sequential(nn.Linear(d_in, d_out), nn.BatchNorm1d(d_out), nn.ReLU())
            for d_in, d_out in zip(dims[:-1], dims[1:], strict=True)
        )
        self.output = nn.Linear(dims[-1], out_dim)
        self.layer_names = projector_layer_names(depth)

    def forward_all(self, h: Tensor) -> dict[str, Tensor]:
        """Every stage's output, keyed by layer name, in order."""
        outputs = {}
        for name, block in zip(self.layer_names, self.hidden, strict=False):
            h = block(h)
            outputs[name] = h
        outputs["projector"] = self.output(h)
        return outputs

    def forward(self, h: Tensor) -> Tensor:
        for block in self.hidden:
            h = block(h)
        return self.output(h)
