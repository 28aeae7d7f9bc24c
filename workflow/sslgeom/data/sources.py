"""Datasets of your own, read from disk: what they share.

A dataset declared with ``folder`` (:mod:`sslgeom.data.image_folder`) or ``npz``
(:mod:`sslgeom.data.npz_file`) is checked cheaply before any job runs (listings, image headers,
array headers: :func:`inspect_source`), and its source files have a fingerprint
(:func:`source_fingerprint`) that changes whenever one of them is edited, added, removed or
renamed, so that Snakemake rebuilds the dataset, and what depends on it, exactly then.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sslgeom.data.splits import stratified_split, test_count

# The config key that names a dataset's source on disk, for each kind of source.
SOURCE_KEYS = ("folder", "npz")
GIVEN_SPLITS = ("train", "test")  # the halves a source may give itself


class SourceError(ValueError):
    """A bad dataset source; ``key`` is the config key of the dataset that it concerns (None:
    the dataset as a whole)."""

    def __init__(self, key: str | None, message: str):
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class SourceSummary:
    """What the checks of a source found: its files and the sizes of its two splits."""

    files: tuple[Path, ...]
    n_train: int
    n_test: int


def source_key(parameters: dict) -> str | None:
    """``folder`` or ``npz``, whichever the dataset's parameters give; None for a built-in."""
    return next((key for key in SOURCE_KEYS if key in parameters), None)


def source_fingerprint(root: str | Path, files: list[Path] | tuple[Path, ...]) -> str:
    """sha256 of the sorted (path relative to ``root``, size, mtime in ns) of ``files``.

    Sizes and modification times rather than contents: a stat per file, so every Snakemake
    invocation (dry runs included) can afford it on a folder of a million images, where hashing
    the contents would reread the whole dataset each time. Compared for equality, not as "newer
    than", so that a file replaced by an older copy (``rsync -a`` from a backup) counts as
    changed. A file touched or copied without keeping its time (``cp`` without ``-p``) counts as
    changed too, as Snakemake treats any input file.
    """
    root = Path(root)
    digest = hashlib.sha256()
    for path in sorted(files):
        status = path.stat()
        relative = path.relative_to(root)
        digest.update(f"{relative.as_posix()}\t{status.st_size}\t{status.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def check_split_options(given_split: bool, n_test: int | None, test_fraction: float | None):
    """A given split takes neither n_test nor test_fraction; any other takes exactly one."""
    if given_split and (n_test is not None or test_fraction is not None):
        raise SourceError(
            "n_test" if n_test is not None else "test_fraction",
            "the source gives its own train/test split; allowed: neither n_test nor test_fraction",
        )
    if n_test is not None and test_fraction is not None:
        raise SourceError("test_fraction", "n_test is given too; allowed: one of the two")
    if not given_split and n_test is None and test_fraction is None:
        raise SourceError(
            None,
            "no test split: give n_test or test_fraction, or the split itself (train/ and "
            "test/ subfolders, or train_* and test_* arrays)",
        )


def split_indices(
    labels: np.ndarray, n_test: int | None, test_fraction: float | None, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices of the seeded stratified split (:func:`stratified_split`) of
    n_test or ⌈test_fraction · n⌉ test examples; SourceError naming the key it cannot meet."""
    key = "n_test" if n_test is not None else "test_fraction"
    count = test_count(len(labels), n_test, test_fraction)
    if not 1 <= count < len(labels):
        raise SourceError(
            key, f"{count} test examples of {len(labels)}; allowed: at least one and fewer than all"
        )
    try:
        return stratified_split(labels, count, np.random.default_rng(seed))
    except ValueError as err:
        raise SourceError(key, str(err)) from None


def shuffled_given_split(n_train: int, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) orders of a split given by the source, each shuffled with ``seed``: the
    pipeline takes the first test examples for views and geometry, which must not all be of one
    class."""
    rng = np.random.default_rng(seed)
    return rng.permutation(n_train), rng.permutation(n_test)
