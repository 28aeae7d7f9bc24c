"""A SimCLR augmentation policy scaled by one strength s in [0, 1].

For images of size H×W, each view is, in order:

- random resized crop to H×W, area scale in (1 − 0.92·s, 1), aspect ratio in ((3/4)^s, (4/3)^s);
- colour jitter (brightness, contrast, saturation 0.8·s; hue 0.2·s) with probability 0.8·s;
- grayscale with probability 0.2·s;
- horizontal flip with probability 0.5·s.

s = 1 is SimCLR's ImageNet policy (Chen et al. 2020) without blur, colour-jitter strength 1;
its CIFAR-10 recipe halves the jitter (0.4, 0.4, 0.4, 0.1), which no single s gives. s = 0 is
the identity, so both views are the same image. The policy runs batched on the images' device
(kornia).
"""

from collections.abc import Callable

import kornia.augmentation as K
import numpy as np
import torch
from torch import Tensor, nn


class StrengthAugmentation(nn.Module):
    def __init__(self, strength: float, size: tuple[int, int]):
        super().__init__()
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"augmentation strength must be in [0, 1], got {strength}")
        s = strength
        self.strength = strength
        self.ops = nn.Sequential(
            K.RandomResizedCrop(
                size, scale=(1 - 0.92 * s, 1.0), ratio=((3 / 4) ** s, (4 / 3) ** s)
            ),
            K.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s, p=0.8 * s),
            K.RandomGrayscale(p=0.2 * s),
            K.RandomHorizontalFlip(p=0.5 * s),
        )

    def forward(self, images: Tensor) -> Tensor:
        """Augment float images (B×C×H×W in [0, 1], C = 3, or 1 for grayscale)."""
        if images.shape[1] == 1:
            # A gray image as RGB stays gray under every colour op: brightness and contrast
            # change it as they would one channel; saturation, hue and grayscale leave it.
            return self.ops(images.expand(-1, 3, -1, -1)).mean(1, keepdim=True).clamp_(0.0, 1.0)
        return self.ops(images).clamp_(0.0, 1.0)


def to_float_images(images_uint8: Tensor) -> Tensor:
    """uint8 NHWC (as stored) to float NCHW in [0, 1]."""
    return images_uint8.permute(0, 3, 1, 2).float().div_(255.0)


def views(draw: Callable[[Tensor], Tensor], inputs: Tensor, n_views: int, seed: int) -> Tensor:
    """``n_views`` draws of ``draw(inputs)`` (N×V×…): augmentations of images, or a view
    sampler's views of indexed examples; reproducible from ``seed``, the global random state
    untouched."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return torch.stack([draw(inputs) for _ in range(n_views)], dim=1)


def example_views(images_uint8: np.ndarray, strength: float, n_views: int, seed: int) -> np.ndarray:
    """Views of stored images for display: uint8 N×V×H×W×3 (grayscale repeated to RGB)."""
    images = to_float_images(torch.from_numpy(images_uint8))
    augment = StrengthAugmentation(strength, tuple(images.shape[-2:]))
    stacked = views(augment, images, n_views, seed).expand(-1, -1, 3, -1, -1)
    return stacked.permute(0, 1, 3, 4, 2).mul(255).round().to(torch.uint8).numpy()
