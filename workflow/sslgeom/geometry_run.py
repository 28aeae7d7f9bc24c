"""The tangent-plane geometry of one trained run (Cosentino et al. 2022, arXiv 2205.06926).

At the encoder outputs h of test images: the projector Jacobian's spectrum, and for each
family of encoder-space directions — augmentation tangent, data tangent, style latents and
content (class) changes on rendered data, and random directions as the baseline — the
projector's sensitivity ρ and the principal angles to the subspace the projector keeps.

Everything the model has to compute (Jacobians, encoder-space moves) is extracted by the
embedding stage (:mod:`sslgeom.tangents`) into the run's ``embeddings.npz``, so this stage is
numpy only and reruns cheaply when a measurement option changes.
"""

import numpy as np

from sslgeom.artifacts import embeddings_rebuild_hint, load_embeddings, write_rows
from sslgeom.geometry import (
    augmentation_tangent,
    data_tangent,
    jacobian_spectrum_stats,
    orthonormal_basis,
    principal_angles,
    random_subspace,
    sensitivity,
    top_right_singular_vectors,
)

# key of each extracted array in embeddings.npz
TANGENT_ARRAYS = {
    "jacobians": "geometry_jacobians",  # N × d_z × d_h
    "augmentation": "geometry_augmentation_moves",  # N × A × d_h
    "style": "geometry_style_tangents",  # N × d_h × (style latents), shapes only
    "content": "geometry_content_moves",  # N × d_h × (classes − 1), shapes only
}
# the config's geometry options that the extraction (embedding stage) uses, and those that
# this stage's measurements use: a change reruns only the stages that use the option
EXTRACTION_OPTIONS = (
    "n_images",
    "tangent_strength",
    "n_augmentations",
    "latent_epsilon",
    "seed",
    "batch_size",
)
MEASUREMENT_OPTIONS = ("k", "n_neighbors", "seed")


def tangent_families(embeddings: dict[str, np.ndarray], k: int, n_neighbors: int, seed: int):
    """Orthonormal bases (n × d_h × ·) of every direction family at the n extracted images."""
    moves = embeddings[TANGENT_ARRAYS["augmentation"]]
    n, d_h = moves.shape[0], moves.shape[-1]
    families = {
        "augmentation": augmentation_tangent(moves, k),
        "data": data_tangent(embeddings["test_encoder"], k, n_neighbors, n_rows=n),
        "random": random_subspace(n, d_h, k, seed),
    }
    for family in ("style", "content"):
        if TANGENT_ARRAYS[family] in embeddings:
            families[family] = orthonormal_basis(embeddings[TANGENT_ARRAYS[family]])
    return families


def run_geometry(embeddings: dict[str, np.ndarray], options: dict) -> tuple[list[dict], np.ndarray]:
    """Tidy rows (family, metric, value) and the mean singular values of the projector Jacobian."""
    jacobians = embeddings[TANGENT_ARRAYS["jacobians"]]
    stats = jacobian_spectrum_stats(jacobians)
    kept = top_right_singular_vectors(jacobians, options["k"])
    rows = [
        {"family": "jacobian", "metric": name, "value": float(stats[name])}
        for name in ("stable_rank", "effective_rank")
    ]
    families = tangent_families(embeddings, options["k"], options["n_neighbors"], options["seed"])
    for family, basis in families.items():
        angles = np.rad2deg(principal_angles(basis, kept))
        rows += [
            {
                "family": family,
                "metric": "sensitivity",
                "value": float(sensitivity(jacobians, basis).mean()),
            },
            {"family": family, "metric": "angle", "value": float(angles.mean())},
        ]
    return rows, stats["mean_singular_values"]


def geometry_run(
    embeddings_path: str, geometry_path: str, spectrum_path: str, options: dict
) -> None:
    """Write the run's tangent-geometry rows and its projector-Jacobian spectrum."""
    embeddings = load_embeddings(embeddings_path, prefixes=("test_encoder", "geometry_"))
    if TANGENT_ARRAYS["jacobians"] not in embeddings:
        hint = embeddings_rebuild_hint(embeddings_path)
        raise ValueError(f"{embeddings_path} holds no geometry arrays; {hint}")
    rows, spectrum = run_geometry(embeddings, options)
    write_rows(rows, geometry_path)
    write_rows([{"index": i, "value": v} for i, v in enumerate(spectrum, start=1)], spectrum_path)
    for row in rows:
        print(f"{row['family']:>12s} {row['metric']:<15s} {row['value']:.3f}")
