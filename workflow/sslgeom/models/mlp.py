"""A multilayer perceptron encoder, on vectors or on flattened images.

Linear layers of the widths ``dims``, each followed by a leaky ReLU except the last, whose
output is the representation (dimension ``dims[-1]``). Without layers (``dims`` empty) the
encoder is the identity: the representation is the input, which keeps everything the input
holds (a known answer for what the projector alone must discard). Without normalisation
layers, as the encoder of Zimmermann et al. 2021 (arXiv 2102.08850) on their MLP-mixed latents.
"""

from torch import Tensor, nn


class MLP(nn.Module):
    def __init__(self, in_dim: int, dims: list[int]):
        super().__init__()
        widths = [in_dim, *dims]
        layers: list[nn.Module] = []
        for d_in, d_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(d_in, d_out), nn.LeakyReLU()]
        self.layers = nn.Sequential(*layers[:-1])
        self.out_dim = widths[-1]

    def forward(self, x: Tensor) -> Tensor:
        """x: N×D vectors, or images N×C×H×W, read as their N×(C·H·W) pixels."""
        return self.layers(x.flatten(1))
