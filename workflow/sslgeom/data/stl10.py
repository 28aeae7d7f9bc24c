"""STL-10 (Coates, Lee and Ng 2011, https://cs.stanford.edu/~acoates/stl10/): 96×96 RGB images.

The binary archive holds, per split, ``{split}_X.bin``: uint8 images of 3×96×96 values each,
channel after channel, every channel stored column-major (as MATLAB writes it, so the first 96
values are the image's first *column*); and ``{split}_y.bin``: one uint8 label per image,
1-based (1 = airplane … 10 = truck). The splits are the official labelled ones: 5 000 training
and 8 000 test images; the 100 000 unlabelled images are not used.

URL, layout and archive MD5 are those of torchvision's ``torchvision/datasets/stl10.py``
(``tgz_md5``), which checks the same archive.
"""

from pathlib import Path

import numpy as np

from sslgeom.data.archives import read_tar_members
from sslgeom.data.download import RemoteFile, fetch
from sslgeom.data.io import Dataset, first_n

STL10_ARCHIVE = RemoteFile(
    url="http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",
    filename="stl10_binary.tar.gz",
    md5="91f7769df0f17e558f3565bffb0c7dfb",
)
FOLDER = "stl10_binary"
IMAGE_SIZE = 96
CHANNELS = 3
CLASS_NAMES = (
    "airplane",
    "bird",
    "car",
    "cat",
    "deer",
    "dog",
    "horse",
    "monkey",
    "ship",
    "truck",
)


def make_stl10(
    n_train: int, n_test: int, cache_dir: str | Path, remote: RemoteFile = STL10_ARCHIVE
) -> Dataset:
    """The first ``n_train`` / ``n_test`` images of STL-10's labelled train and test splits.

    Fetches (or finds) the archive in ``cache_dir`` and parses it in memory.
    """
    archive = fetch(remote, cache_dir)
    members = read_tar_members(
        archive, {f"{FOLDER}/{split}_{part}.bin" for split in ("train", "test") for part in "Xy"}
    )
    splits = {
        split: (
            decode_images(members[f"{FOLDER}/{split}_X.bin"]),
            decode_labels(members[f"{FOLDER}/{split}_y.bin"]),
        )
        for split in ("train", "test")
    }
    (train_images, train_labels), (test_images, test_labels) = splits["train"], splits["test"]
    if len(train_images) != len(train_labels) or len(test_images) != len(test_labels):
        raise ValueError(f"archive {archive}: image and label counts differ; delete it and rerun")
    return Dataset(
        name="stl10",
        train_images=first_n(train_images, n_train, "n_train", "stl10"),
        train_labels=first_n(train_labels, n_train, "n_train", "stl10"),
        test_images=first_n(test_images, n_test, "n_test", "stl10"),
        test_labels=first_n(test_labels, n_test, "n_test", "stl10"),
        train_latents=None,
        test_latents=None,
        class_names=CLASS_NAMES,
    )


def decode_images(content: bytes) -> np.ndarray:
    """STL-10 image bytes → uint8 N×96×96×3 (row-major, channels last)."""
    values = np.frombuffer(content, dtype=np.uint8)
    # Each channel is column-major: axis 2 runs over columns (x), axis 3 over rows (y).
    by_channel_column_row = values.reshape(-1, CHANNELS, IMAGE_SIZE, IMAGE_SIZE)
    return np.ascontiguousarray(by_channel_column_row.transpose(0, 3, 2, 1))


def decode_labels(content: bytes) -> np.ndarray:
    """STL-10 label bytes (1-based) → int64 labels from 0."""
    return np.frombuffer(content, dtype=np.uint8).astype(np.int64) - 1
