"""Write a small worked example of analysing your own images and a model trained elsewhere.

    python examples/own_data_and_model.py            # writes example/
    snakemake --cores 2 --configfile example/config.yaml

It writes, under ``example/`` (or the folder given as the first argument):

- ``images/<class>/*.png``: 240 PNGs of 32×32 pixels in three classes (a disc, a square, a bar,
  each at a random place and in random colours on a random background), an image folder as a
  researcher would have one;
- ``scripted_net.pt``: a TorchScript file of a small convolutional network with a two-layer
  head. Its weights are random: it stands in for a network trained elsewhere, whose file is
  all the pipeline needs;
- ``config.yaml``: the image folder as dataset ``example_images``, the network as model
  ``example_net``, and one experiment that pretrains two seeds of the pipeline's own model on
  the folder and compares them with ``example_net`` (core metrics, tangent geometry,
  identifiability with permutation nulls, figures) in ``results/example/``.
"""

import sys
from pathlib import Path

import numpy as np
import torch
import yaml
from PIL import Image
from torch import nn

CLASSES = ("disc", "square", "bar")
IMAGES_PER_CLASS = 80
SIZE = 32


def draw(kind: str, rng: np.random.Generator) -> np.ndarray:
    """One uint8 SIZE×SIZE×3 image of ``kind`` at a random place, size and colours."""
    image = np.empty((SIZE, SIZE, 3), dtype=np.uint8)
    image[:] = rng.integers(0, 256, 3)
    rows, columns = np.mgrid[:SIZE, :SIZE]
    centre = rng.uniform(10, 22, 2)
    radius = rng.uniform(5, 9)
    dy, dx = rows - centre[0], columns - centre[1]
    if kind == "disc":
        inside = dy**2 + dx**2 <= radius**2
    elif kind == "square":
        inside = (abs(dy) <= radius * 0.8) & (abs(dx) <= radius * 0.8)
    else:
        inside = (abs(dy) <= 2) & (abs(dx) <= radius * 1.3)
    image[inside] = rng.integers(0, 256, 3)
    return image


def write_images(folder: Path, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for kind in CLASSES:
        (folder / kind).mkdir(parents=True, exist_ok=True)
        for index in range(IMAGES_PER_CLASS):
            Image.fromarray(draw(kind, rng)).save(folder / kind / f"{index:03d}.png")


class SmallNet(nn.Module):
    """A backbone of two strided convolutions and global average pooling (32 dimensions),
    and a head of two layers (32 → 32 → 16)."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Sequential(nn.Linear(32, 32), nn.ReLU()), nn.Linear(32, 16))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(images))


def config(folder: Path) -> dict:
    return {
        "datasets": {
            "example_images": {
                "folder": str(folder / "images"),
                "image_size": SIZE,
                "test_fraction": 0.25,
                "seed": 0,
            }
        },
        "models": {
            "example_net": {
                "torchscript": str(folder / "scripted_net.pt"),
                "encoder": ["backbone"],
                "projector": ["head.0", "head.1"],
                "input_shape": [3, SIZE, SIZE],
                "mean": [0.5, 0.5, 0.5],
                "std": [0.25, 0.25, 0.25],
            }
        },
        "experiments": {
            "example": {
                "analyses": ["geometry", "identifiability"],
                "grid": {"dataset": ["example_images"]},
                "vary": {"seed": [1], "model": ["example_net"]},
                "settings": {
                    "model": "pipeline",
                    "seed": 0,
                    "strength": 0.5,
                    "epochs": 10,
                    "batch_size": 32,
                    "encoder_width": 8,
                    "encoder_blocks": [1, 1],
                    "projector_depth": 2,
                    "projector_hidden_dim": 32,
                    "projector_out_dim": 16,
                },
            }
        },
        "embedding": {"n_view_images": 32, "n_views": 4},
        "analysis": {"alpha_req_last_index": 8},
        "geometry": {"n_images": 16},
        "identifiability": {"fit_images": 150, "kernel_ridge_images": 100, "n_permutations": 19},
    }


def main(folder: Path) -> None:
    write_images(folder / "images")
    torch.manual_seed(0)
    torch.jit.script(SmallNet().eval()).save(str(folder / "scripted_net.pt"))
    (folder / "config.yaml").write_text(yaml.safe_dump(config(folder), sort_keys=False))
    print(f"wrote {folder}/: images/, scripted_net.pt, config.yaml; now run")
    print(f"  snakemake --cores 2 --configfile {folder}/config.yaml")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "example"))
