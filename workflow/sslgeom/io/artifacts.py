"""Reading and writing the pipeline's artifacts safely."""

import csv
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

# embeddings.npz's final_epoch for a model of the config's models section: its training is
# not known here
EPOCH_TRAINED_ELSEWHERE = -1


def write_atomically(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it onto ``path``.

    A job killed mid-write leaves the previous file (or none) under the final name, never a
    partial one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
        os.replace(temporary_name, path)
    except BaseException:
        Path(temporary_name).unlink(missing_ok=True)
        raise


def save_npz_atomically(arrays: dict[str, np.ndarray], path: str | Path) -> None:
    write_atomically(path, lambda file: np.savez(file, **arrays))


def load_npz(
    path: str | Path, rebuild_hint: str, prefixes: tuple[str, ...] = ("",)
) -> dict[str, np.ndarray]:
    """The arrays of an npz file whose names start with one of ``prefixes`` (all by default);
    a truncated or unreadable file raises ValueError naming it."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files if key.startswith(prefixes)}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path} is unreadable or truncated ({err}); {rebuild_hint}") from err


def rebuild_hint(rule: str, path: str | Path) -> str:
    """The command that rebuilds ``path``, an output of ``rule``."""
    return f"rebuild it with `snakemake --cores 1 --forcerun {rule} {path}`"


def load_embeddings(
    embeddings_path: str | Path, prefixes: tuple[str, ...] = ("",)
) -> dict[str, np.ndarray]:
    """The arrays of a run's embeddings.npz (:func:`load_npz`); an unreadable file raises
    ValueError naming it and the command that rebuilds it."""
    return load_npz(embeddings_path, rebuild_hint("embed", embeddings_path), prefixes)


def write_rows(rows: list[dict], path: str | Path) -> None:
    """The rows as a CSV file with a header of the first row's keys; no rows: an empty file."""
    with open(path, "w", newline="") as file:
        if not rows:
            return
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
