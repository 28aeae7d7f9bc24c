"""npz files of your own: images, integer labels and, where known, latents.

Arrays, either for all examples (split by :func:`sslgeom.data.sources.split_indices`)::

    images        uint8 N×H×W×C, C = 1 (grayscale) or 3 (RGB)
    labels        integers ≥ 0, N of them, at least two distinct
    latents       optional: real numbers, N×K (the latent metrics recover them, as on shapes)
    latent_names  optional: K distinct strings, z1 … zK by default

or for a split that the file gives: ``train_images``, ``train_labels``, ``test_images``,
``test_labels`` and, with latents, ``train_latents`` and ``test_latents``. Each latent is one
plain real value to regress (give an angle as its cosine and sine).
"""

import zipfile
from pathlib import Path

import numpy as np

from sslgeom.data.io import Dataset
from sslgeom.data.sources import (
    GIVEN_SPLITS,
    SourceError,
    SourceSummary,
    check_split_options,
    shuffled_given_split,
    split_indices,
)

ARRAY_FIELDS = ("images", "labels", "latents")
OPTIONAL_FIELDS = ("latents",)
HEADER_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}


def inspect_npz_file(
    npz: str | Path, n_test: int | None = None, test_fraction: float | None = None, seed: int = 0
) -> SourceSummary:
    """Check ``npz`` from its array headers, labels and latents (the images stay on disk) and
    return its split sizes; SourceError naming the path and the first problem."""
    _, _, train, test = _checked(Path(npz), n_test, test_fraction, seed)
    return SourceSummary((Path(npz),), len(train), len(test))


def make_npz_dataset(
    name: str,
    npz: str | Path,
    n_test: int | None = None,
    test_fraction: float | None = None,
    seed: int = 0,
) -> Dataset:
    """The dataset stored in ``npz``, split (or its given split shuffled) with ``seed``."""
    prefixes, values, train, test = _checked(Path(npz), n_test, test_fraction, seed)
    with np.load(npz, allow_pickle=False) as archive:
        images = {prefix: archive[f"{prefix}images"] for prefix in prefixes}
    arrays = {}
    for split, order in zip(GIVEN_SPLITS, (train, test), strict=True):
        prefix = f"{split}_" if prefixes != ("",) else ""
        arrays[f"{split}_images"] = images[prefix][order]
        arrays[f"{split}_labels"] = values[f"{prefix}labels"].astype(np.int64)[order]
        latents = values.get(f"{prefix}latents")
        arrays[f"{split}_latents"] = None if latents is None else latents.astype(np.float32)[order]
    return Dataset(name=name, latent_names=_latent_names(values, prefixes), **arrays)


def _checked(
    path: Path, n_test: int | None, test_fraction: float | None, seed: int
) -> tuple[tuple[str, ...], dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The file's array prefixes, its arrays other than the images, and the (train, test)
    indices of its split, after every check."""
    headers = _array_headers(path)
    prefixes = _layout(path, headers)
    check_split_options(prefixes != ("",), n_test, test_fraction)
    values = _small_arrays(path, headers, prefixes)
    _check_arrays(path, headers, values, prefixes)
    return prefixes, values, *_split(values, prefixes, n_test, test_fraction, seed)


def _array_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Array name → (shape, dtype), read from the .npy headers inside the zip alone."""
    if not path.is_file():
        raise SourceError("npz", f"{path} does not exist")
    headers = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                with archive.open(member) as file:
                    version = np.lib.format.read_magic(file)
                    if version not in HEADER_READERS:
                        raise ValueError(f"array {member} has .npy format {version}")
                    shape, _, dtype = HEADER_READERS[version](file)
                headers[member.removesuffix(".npy")] = (shape, dtype)
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise SourceError("npz", f"{path} is not a readable npz file ({err})") from None
    return headers


def _layout(path: Path, headers: dict) -> tuple[str, ...]:
    """The array-name prefixes: ``("",)`` for one set of arrays, ``("train_", "test_")`` for a
    given split; SourceError for missing, unknown or mixed arrays."""
    given = any(name.startswith(GIVEN_SPLITS) for name in headers)
    prefixes = tuple(f"{split}_" for split in GIVEN_SPLITS) if given else ("",)
    allowed = [f"{prefix}{field}" for prefix in prefixes for field in ARRAY_FIELDS]
    allowed.append("latent_names")
    unknown = [name for name in headers if name not in allowed]
    if unknown:
        raise SourceError(
            "npz",
            f"{path} has arrays {', '.join(unknown)} that "
            f"{'a file with a given split' if given else 'it'} cannot have; allowed: "
            f"{', '.join(allowed)}",
        )
    required = [
        f"{prefix}{field}"
        for prefix in prefixes
        for field in ARRAY_FIELDS
        if field not in OPTIONAL_FIELDS
    ]
    missing = [name for name in required if name not in headers]
    if missing:
        raise SourceError("npz", f"{path} lacks the arrays {', '.join(missing)}")
    has_latents = [f"{prefix}latents" in headers for prefix in prefixes]
    if len(set(has_latents)) > 1:
        raise SourceError("npz", f"{path} has latents for one split only; give both or neither")
    if "latent_names" in headers and not has_latents[0]:
        raise SourceError("npz", f"{path} has latent_names but no latents")
    return prefixes


def _small_arrays(path: Path, headers: dict, prefixes: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The labels, latents and latent names (not the images), after checking their dtypes."""
    for prefix in prefixes:
        _check_dtype(path, headers, f"{prefix}labels", "integers", np.integer)
        if f"{prefix}latents" in headers:
            _check_dtype(path, headers, f"{prefix}latents", "real numbers", np.integer, np.floating)
    if "latent_names" in headers:
        _check_dtype(path, headers, "latent_names", "strings", np.str_)
    names = [name for name in headers if not name.endswith("images")]
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in names}


def _check_dtype(path: Path, headers: dict, name: str, what: str, *kinds: type) -> None:
    dtype = headers[name][1]
    if dtype == np.bool_ or not any(np.issubdtype(dtype, kind) for kind in kinds):
        raise SourceError("npz", f"{path}: {name} must hold {what}, not {dtype}")


def _check_arrays(path: Path, headers: dict, values: dict, prefixes: tuple[str, ...]) -> None:
    """Shapes that agree, labels ≥ 0 of at least two classes, finite latents."""
    image_shapes = set()
    for prefix in prefixes:
        shape, dtype = headers[f"{prefix}images"]
        if dtype != np.uint8 or len(shape) != 4 or shape[-1] not in (1, 3):
            raise SourceError(
                "npz",
                f"{path}: {prefix}images must be uint8 N×H×W×C with C = 1 or 3, not {dtype} "
                f"of shape {shape}",
            )
        image_shapes.add(shape[1:])
        labels = values[f"{prefix}labels"]
        if labels.ndim != 1 or (labels < 0).any():
            raise SourceError(
                "npz", f"{path}: {prefix}labels must be a vector of integers ≥ 0, one per image"
            )
        latents = values.get(f"{prefix}latents")
        if latents is not None and (latents.ndim != 2 or not np.isfinite(latents).all()):
            raise SourceError(
                "npz", f"{path}: {prefix}latents must be finite numbers, N×K (one row per image)"
            )
        for field, array in (("labels", labels), ("latents", latents)):
            if array is not None and len(array) != shape[0]:
                raise SourceError(
                    "npz",
                    f"{path}: {prefix}{field} has {len(array)} rows for {shape[0]} {prefix}images",
                )
    if len(image_shapes) > 1:
        raise SourceError("npz", f"{path}: train and test images differ in size or channels")
    all_labels = np.concatenate([values[f"{prefix}labels"] for prefix in prefixes])
    if len(np.unique(all_labels)) < 2:
        raise SourceError("npz", f"{path}: labels hold a single class; a dataset needs two")
    widths = {
        values[f"{prefix}latents"].shape[1] for prefix in prefixes if f"{prefix}latents" in values
    }
    if len(widths) > 1:
        raise SourceError("npz", f"{path}: train and test latents differ in width")
    if "latent_names" in values:
        names = values["latent_names"]
        if names.shape != (next(iter(widths)),) or len(set(names.tolist())) != len(names):
            raise SourceError(
                "npz",
                f"{path}: latent_names must be {next(iter(widths))} distinct names, one per "
                "latent column",
            )


def _latent_names(values: dict, prefixes: tuple[str, ...]) -> tuple[str, ...]:
    latents = values.get(f"{prefixes[0]}latents")
    if latents is None:
        return ()
    if "latent_names" in values:
        return tuple(values["latent_names"].tolist())
    return tuple(f"z{index + 1}" for index in range(latents.shape[1]))


def _split(
    values: dict,
    prefixes: tuple[str, ...],
    n_test: int | None,
    test_fraction: float | None,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices into the split's own arrays, or into the one set of arrays."""
    if prefixes != ("",):
        return shuffled_given_split(len(values["train_labels"]), len(values["test_labels"]), seed)
    return split_indices(values["labels"], n_test, test_fraction, seed)
