"""The usual PyTorch recipe the training benchmarks compare the project's step against: each
image augmented on its own in a ``Dataset``'s ``__getitem__``, batches from DataLoader workers,
an eager model trained on them."""

import functools
import operator

import torch
from torch.utils.data import DataLoader, Dataset

from sslgeom.training.augment import StrengthAugmentation, to_float_images


class ViewPairs(Dataset):
    """Two views of each image, made one image at a time: ``augment`` twice of the image as
    ``prepare(images, index)`` gives it."""

    def __init__(self, images, augment, prepare=operator.getitem):
        self.images, self.augment, self.prepare = images, augment, prepare

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        image = self.prepare(self.images, index)
        return self.augment(image), self.augment(image)


def float_image(images: torch.Tensor, index: int) -> torch.Tensor:
    """Image ``index`` of uint8 N×H×W×C images as a float 1×C×H×W batch."""
    return to_float_images(images[index : index + 1])


def only_view(augment: StrengthAugmentation, image: torch.Tensor) -> torch.Tensor:
    """The view of a batch of one image, without its batch dimension."""
    return augment(image)[0]


def kornia_pairs(images: torch.Tensor, augment: StrengthAugmentation) -> ViewPairs:
    """View pairs of uint8 images by the project's kornia policy, one image at a time, as
    torchvision transforms would be used."""
    return ViewPairs(images, functools.partial(only_view, augment), float_image)


def torchvision_or_kornia_pairs(images: torch.Tensor, strength: float) -> tuple[Dataset, str]:
    """(dataset of view pairs, what makes them): the StrengthAugmentation policy in
    torchvision ``transforms.v2`` on PIL images, or where torchvision is missing the kornia
    one of :func:`kornia_pairs`."""
    size = tuple(images.shape[1:3])
    try:
        from PIL import Image
        from torchvision.transforms import v2
    except ImportError:
        pairs = kornia_pairs(images, StrengthAugmentation(strength, size))
        return pairs, "kornia one image at a time (torchvision is missing)"
    s = strength
    transform = v2.Compose(
        [
            v2.RandomResizedCrop(
                size, scale=(1 - 0.92 * s, 1.0), ratio=((3 / 4) ** s, (4 / 3) ** s)
            ),
            v2.RandomApply([v2.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s)], p=0.8 * s),
            v2.RandomGrayscale(p=0.2 * s),
            v2.RandomHorizontalFlip(p=0.5 * s),
            v2.ToImage(),
            v2.ToDtype(torch.float32, scale=True),
        ]
    )
    pil_images = [Image.fromarray(image) for image in images.numpy()]
    return ViewPairs(pil_images, transform), "torchvision transforms.v2 on PIL images"


def loader_epoch(model, method, optimizer, loader: DataLoader, device: torch.device) -> None:
    """One epoch of the usual recipe: a training step on every batch of view pairs of the
    loader, the views moved to ``device``."""
    model.train()
    for first, second in loader:
        both = torch.cat([first, second]).to(device, non_blocking=True)
        loss = method.loss_fn(*model(both).chunk(2))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
