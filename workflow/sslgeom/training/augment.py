"""A SimCLR augmentation policy scaled by one strength s in [0, 1].

For images of size H×W, each view is, in order:

- random resized crop to H×W, area scale in (1 − 0.92·s, 1), aspect ratio in ((3/4)^s, (4/3)^s);
- colour jitter (brightness, contrast, saturation 0.8·s; hue 0.2·s) with probability 0.8·s;
- grayscale with probability 0.2·s;
- horizontal flip with probability 0.5·s.

s = 1 is SimCLR's ImageNet policy (Chen et al. 2020) without blur, colour-jitter strength 1;
its CIFAR-10 recipe halves the jitter (0.4, 0.4, 0.4, 0.1), which no single s gives. s = 0 is
the identity, so both views are the same image.

The policy runs batched on the images' device (kornia). On a GPU the crop is made for the whole
batch too (:class:`BatchedResizedCrop`), and a training pair's two views go through one call
for both (:meth:`StrengthAugmentation.batched_pair`), whose colour jitter draws its order of
operations per image (:class:`PerImageColorJitter`) where kornia's draws one per call. On the
CPU each view is its own call of kornia's ops, with the random draws the project's CPU numbers
were made with.
"""

import math
from collections.abc import Callable

import kornia.augmentation as K
import numpy as np
import torch
from kornia.enhance import (
    adjust_brightness_accumulative,
    adjust_contrast_with_mean_subtraction,
    adjust_hue,
    adjust_saturation_with_gray_subtraction,
)
from torch import Tensor, nn


def resized_crops(images: Tensor, boxes: Tensor, size: tuple[int, int]) -> Tensor:
    """Each image's crop resized to ``size`` by bilinear interpolation with aligned corners, as
    cropping images one at a time and ``F.interpolate(..., "bilinear", align_corners=True)``
    does, for the whole batch in four gathers.

    ``images``: B×C×H×W; ``boxes``: B×4×2 integer corners (x, y), inclusive, clockwise from the
    top left (kornia's ``params["src"]``).
    """
    batch, channels, height, width = images.shape
    # non-blocking: a copy from pageable memory would otherwise wait for all queued GPU work
    boxes = boxes.long().to(images.device, non_blocking=True)
    x0, y0 = boxes[:, 0, 0:1], boxes[:, 0, 1:2]
    x1, y1 = boxes[:, 2, 0:1], boxes[:, 2, 1:2]  # inclusive bottom-right corner
    flat = images.reshape(batch, channels, height * width)

    def sample_points(start: Tensor, end: Tensor, count: int) -> tuple[Tensor, Tensor, Tensor]:
        """(index, next index, weight of the next) of ``count`` aligned-corner samples of
        [start, end], per image (B×count)."""
        positions = torch.arange(count, device=images.device, dtype=images.dtype)
        step = (end - start).to(images.dtype) / max(count - 1, 1)
        coordinates = positions * step
        below = coordinates.floor()
        first = start + below.long()
        return first, torch.minimum(first + 1, end), coordinates - below

    xs, xs_next, wx = sample_points(x0, x1, size[1])
    ys, ys_next, wy = sample_points(y0, y1, size[0])

    def gather(rows: Tensor, columns: Tensor) -> Tensor:
        indices = (rows[:, :, None] * width + columns[:, None, :]).reshape(batch, 1, -1)
        gathered = flat.gather(2, indices.expand(-1, channels, -1))
        return gathered.reshape(batch, channels, *size)

    wx, wy = wx[:, None, None, :], wy[:, None, :, None]
    top = gather(ys, xs) * (1 - wx) + gather(ys, xs_next) * wx
    bottom = gather(ys_next, xs) * (1 - wx) + gather(ys_next, xs_next) * wx
    return top * (1 - wy) + bottom * wy


class BatchedResizedCrop(K.RandomResizedCrop):
    """kornia's random resized crop (same parameters, same random draws); on a GPU the crops
    are made for the whole batch by :func:`resized_crops` rather than one image at a time,
    which launches a crop and a resize per image (on an H100, 55 ms of a 72 ms training step
    of batch 512). On the CPU kornia's own crop is kept: per image it is as fast there, and it
    keeps the pipeline's CPU numbers as they were."""

    def apply_transform(self, input, params, flags, transform=None):
        if input.is_cuda:
            return resized_crops(input, params["src"], flags["size"])
        return super().apply_transform(input, params, flags, transform)


def adjust_hue_in_turns(images: Tensor, factor: Tensor) -> Tensor:
    """kornia's ``adjust_hue`` of a factor in turns of the hue circle, as kornia's
    ``ColorJitter`` calls it."""
    return adjust_hue(images, factor * 2 * math.pi)


# kornia's ColorJitter's operations, indexed as its ``order`` indexes them
# (kornia/augmentation/_2d/intensity/color_jitter.py); the hue last
COLOUR_OPERATIONS = (
    adjust_brightness_accumulative,
    adjust_contrast_with_mean_subtraction,
    adjust_saturation_with_gray_subtraction,
    adjust_hue_in_turns,
)
HUE = 3


def blends_in_slots(images: Tensor, operations: Tensor, factors: Tensor, due: Tensor) -> Tensor:
    """Images (B×3×H×W in [0, 1]) through slots of brightness, contrast or saturation, one per
    column of ``operations`` (B×slots, indices of :data:`COLOUR_OPERATIONS`), each image taking
    its own operation with its own factor (``factors``: B×4) in the slots where ``due``
    (B×slots) and left as it is in the others. Every operation runs on every image in every
    slot, with the factor 1 where the image does not take it: it then returns the image exactly
    (x·1, x·1 + m·0 and 0·g + 1·x, clamped to [0, 1]), and nothing is copied between slots."""
    blends = torch.arange(HUE, device=images.device)
    takes = due[:, :, None] & (operations[:, :, None] == blends)  # B×slots×3
    slot_factors = torch.where(takes, factors[:, None, :HUE], 1.0)
    for slot in range(operations.shape[1]):
        for index, operation in enumerate(COLOUR_OPERATIONS[:HUE]):
            images = operation(images, slot_factors[:, slot, index])
    return images


class PerImageColorJitter(nn.Module):
    """kornia's ``ColorJitter(brightness, contrast, saturation, hue, p=p)`` (kornia 0.9), except
    that each image draws its own order of the four operations, where kornia draws one order per
    call for the whole batch.

    Per image, independently (kornia's ColorJitterGenerator and its ``_range_bound`` of a
    scalar): applied with probability ``p``; brightness, contrast and saturation factors uniform
    in [max(0, 1 − b), 1 + b] and the hue factor in [−h, h]; an order uniform over the 24
    permutations of the operations. An applied image is clamped to [0, 1], changed by kornia's
    functional operations in its order (:data:`COLOUR_OPERATIONS`: brightness multiplied,
    contrast blended with the gray mean, saturation with the gray image, hue turned), and clamped
    again, as kornia's ``ColorJitter.apply_transform`` does; the others are left as they are.
    RGB images, on any device; the draws are made there.
    """

    def __init__(self, brightness: float, contrast: float, saturation: float, hue: float, p: float):
        super().__init__()
        self.p = p
        self.factor_ranges = (
            (max(0.0, 1 - brightness), 1 + brightness),
            (max(0.0, 1 - contrast), 1 + contrast),
            (max(0.0, 1 - saturation), 1 + saturation),
            (-hue, hue),
        )

    def forward_parameters(self, batch_size: int, device: torch.device) -> dict[str, Tensor]:
        """Each image's draws: ``applied`` (B), ``factors`` (B×4, indexed as
        :data:`COLOUR_OPERATIONS`) and ``order`` (B×4, the operations' indices in the order they
        are applied)."""
        factors = [
            torch.empty(batch_size, device=device).uniform_(low, high)
            for low, high in self.factor_ranges
        ]
        return {
            "applied": torch.rand(batch_size, device=device) < self.p,
            "factors": torch.stack(factors, dim=1),
            # the ranks of independent uniforms: each permutation equally likely
            "order": torch.rand(batch_size, len(COLOUR_OPERATIONS), device=device).argsort(dim=1),
        }

    def apply(self, images: Tensor, parameters: dict[str, Tensor]) -> Tensor:
        """The jitter of :meth:`forward_parameters`' draws, batched without copying anything
        to the host. Hue, the costly operation (an RGB–HSV round trip), runs once for all
        images: each image's other three operations, in its order, take three slots before the
        hue and three after it, each slot applied where the image's order puts its operation on
        that side of the hue and skipped elsewhere."""
        factors, order = parameters["factors"], parameters["order"]
        is_hue = (order == HUE).long()
        hue_position = is_hue.argmax(dim=1, keepdim=True)
        # the image's order without the hue: a stable sort moves the hue's index to the end
        others = order.gather(1, is_hue.argsort(dim=1, stable=True))[:, :HUE]
        before_hue = torch.arange(HUE, device=images.device) < hue_position
        jittered = blends_in_slots(images.clamp(0.0, 1.0), others, factors, before_hue)
        jittered = adjust_hue_in_turns(jittered, factors[:, HUE])
        jittered = blends_in_slots(jittered, others, factors, ~before_hue)
        applied = parameters["applied"][:, None, None, None]
        return torch.where(applied, jittered.clamp(0.0, 1.0), images)

    def forward(self, images: Tensor) -> Tensor:
        return self.apply(images, self.forward_parameters(len(images), images.device))


class StrengthAugmentation(nn.Module):
    """The policy at one strength (module docstring). A call augments each image once, with
    kornia's ops (:attr:`ops`); :meth:`batched_pair` makes two views of each image in one call
    (:attr:`pair_ops`: the same crop, grayscale and flip modules, the colour jitter
    :class:`PerImageColorJitter`)."""

    def __init__(self, strength: float, size: tuple[int, int]):
        super().__init__()
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"augmentation strength must be in [0, 1], got {strength}")
        s = strength
        self.strength = strength
        crop = BatchedResizedCrop(
            size, scale=(1 - 0.92 * s, 1.0), ratio=((3 / 4) ** s, (4 / 3) ** s)
        )
        jitter = {"brightness": 0.8 * s, "contrast": 0.8 * s, "saturation": 0.8 * s, "hue": 0.2 * s}
        grayscale, flip = K.RandomGrayscale(p=0.2 * s), K.RandomHorizontalFlip(p=0.5 * s)
        self.ops = nn.Sequential(crop, K.ColorJitter(**jitter, p=0.8 * s), grayscale, flip)
        per_image_jitter = PerImageColorJitter(**jitter, p=0.8 * s)
        self.pair_ops = nn.Sequential(crop, per_image_jitter, grayscale, flip)

    def forward(self, images: Tensor) -> Tensor:
        """Augment float images (B×C×H×W in [0, 1], C = 3, or 1 for grayscale)."""
        return augment_with(self.ops, images)

    def batched_pair(self, first: Tensor, second: Tensor) -> tuple[Tensor, Tensor]:
        """A view of each image of ``first`` and of ``second`` (float images of one shape, as
        :meth:`forward` takes them; the same batch twice for two views of it), all of them
        independent draws, in one call for both batches."""
        views = augment_with(self.pair_ops, torch.cat([first, second]))
        return views[: len(first)], views[len(first) :]


def augment_with(ops: nn.Module, images: Tensor) -> Tensor:
    """``ops`` applied to float images (B×C×H×W in [0, 1], C = 3, or 1 for grayscale), clamped
    to [0, 1]."""
    if images.shape[1] == 1:
        # A gray image as RGB stays gray under every colour op: brightness and contrast
        # change it as they would one channel; saturation, hue and grayscale leave it.
        return ops(images.expand(-1, 3, -1, -1)).mean(1, keepdim=True).clamp_(0.0, 1.0)
    return ops(images).clamp_(0.0, 1.0)


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
