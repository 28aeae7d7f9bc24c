"""The tangent-plane geometry of one trained run (Cosentino et al. 2022, arXiv 2205.06926).

At the encoder outputs h of test images: the projector Jacobian's spectrum, and for each
family of encoder-space directions — augmentation tangent, data tangent, style latents and
content (class) changes on rendered data — the projector's sensitivity ρ and the principal
angles to the subspace the projector keeps, each against random subspaces of the same dimension
drawn from the whole encoder space and from the span of the data.

Everything the model has to compute (Jacobians, encoder-space moves) is extracted by the
embedding stage (:mod:`sslgeom.embedding.tangents`) into the run's ``embeddings.npz``, so
this stage is numpy only and reruns cheaply when a measurement option changes.
"""

import numpy as np

from sslgeom.data.shapes import STYLE_LATENTS
from sslgeom.io.artifacts import load_embeddings, rebuild_hint, write_rows
from sslgeom.metrics.subspaces import (
    augmentation_tangent,
    data_span,
    data_tangent,
    jacobian_spectrum_stats,
    orthonormal_basis,
    principal_angles,
    random_subspace,
    random_subspace_in,
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
MEASUREMENT_OPTIONS = ("k", "n_neighbors", "span_variance", "seed")


BASELINES = ("random", "random_span")
LATENT_FAMILY_PREFIX = "latent:"


def tangent_families(embeddings: dict[str, np.ndarray], k: int, n_neighbors: int):
    """Orthonormal bases (n × d_h × ·) of every measured direction family at the n extracted
    images: augmentation and data tangents of dimension k; on rendered data the style
    tangents (one per style latent), the content moves (one per other class) and each style
    latent's tangent on its own (:func:`latent_family`)."""
    moves = embeddings[TANGENT_ARRAYS["augmentation"]]
    families = {
        "augmentation": augmentation_tangent(moves, k),
        "data": data_tangent(embeddings["test_encoder"], k, n_neighbors, n_rows=len(moves)),
    }
    for family in ("style", "content"):
        if TANGENT_ARRAYS[family] in embeddings:
            families[family] = orthonormal_basis(embeddings[TANGENT_ARRAYS[family]])
    if TANGENT_ARRAYS["style"] in embeddings:
        style = embeddings[TANGENT_ARRAYS["style"]]
        # columns in the order the extraction takes them (embedding.tangents.extract_tangents)
        for index, name in zip(range(style.shape[-1]), STYLE_LATENTS, strict=False):
            families[latent_family(name)] = orthonormal_basis(style[..., index : index + 1])
    return families


def latent_family(name: str) -> str:
    """The family of one style latent's tangent direction (dimension 1)."""
    return f"{LATENT_FAMILY_PREFIX}{name}"


def baseline_subspaces(n: int, dimension: int, span: np.ndarray, seed: int) -> dict:
    """The random baselines of one dimension at n images: uniformly random subspaces of the
    whole encoder space (``random``) and of the span of the encoder's test embeddings
    (``random_span``)."""
    return {
        "random": random_subspace(n, span.shape[0], dimension, seed),
        "random_span": random_subspace_in(span, n, dimension, seed),
    }


def projector_alignment(jacobians: np.ndarray, kept: np.ndarray, basis: np.ndarray) -> dict:
    """Mean sensitivity ρ of the projector along ``basis`` and its mean principal angle (°)
    to the subspace ``kept`` by the projector."""
    return {
        "sensitivity": float(sensitivity(jacobians, basis).mean()),
        "angle": float(np.rad2deg(principal_angles(basis, kept)).mean()),
    }


def run_geometry(embeddings: dict[str, np.ndarray], options: dict) -> tuple[list[dict], np.ndarray]:
    """Tidy rows (family, metric, value) and the mean singular values of the projector Jacobian.

    Every family is measured against random baselines of its own dimension (families differ:
    k for the tangents, the number of style latents, classes − 1), both drawn anew for each
    dimension: ``{metric}_minus_{baseline}`` is the family's ρ or angle minus the baseline's.
    The baselines at dimension k are also rows of their own (families ``random`` and
    ``random_span``); the span is the principal subspace of the test embeddings holding
    ``span_variance`` of their variance, widened to the largest family dimension if needed
    (its dimension is the row of family ``data_span``).
    """
    jacobians = embeddings[TANGENT_ARRAYS["jacobians"]]
    stats = jacobian_spectrum_stats(jacobians)
    kept = top_right_singular_vectors(jacobians, options["k"])
    families = tangent_families(embeddings, options["k"], options["n_neighbors"])
    dimensions = sorted({basis.shape[-1] for basis in families.values()} | {options["k"]})
    span = data_span(embeddings["test_encoder"], options["span_variance"], dimensions[-1])
    rows = [
        {"family": "jacobian", "metric": name, "value": float(stats[name])}
        for name in ("stable_rank", "effective_rank")
    ]
    rows.append({"family": "data_span", "metric": "dimension", "value": float(span.shape[1])})
    n = len(jacobians)
    baselines = {}
    for dimension in dimensions:
        bases = baseline_subspaces(n, dimension, span, options["seed"])
        baselines[dimension] = {
            name: projector_alignment(jacobians, kept, basis) for name, basis in bases.items()
        }
    for name in BASELINES:
        for metric, value in baselines[options["k"]][name].items():
            rows.append({"family": name, "metric": metric, "value": value})
    for family, basis in families.items():
        measured = projector_alignment(jacobians, kept, basis)
        rows += [{"family": family, "metric": m, "value": v} for m, v in measured.items()]
        rows.append({"family": family, "metric": "dimension", "value": float(basis.shape[-1])})
        for name, baseline in baselines[basis.shape[-1]].items():
            rows += [
                {
                    "family": family,
                    "metric": f"{metric}_minus_{name}",
                    "value": value - baseline[metric],
                }
                for metric, value in measured.items()
            ]
    return rows, stats["mean_singular_values"]


def geometry_run(
    embeddings_path: str, geometry_path: str, spectrum_path: str, options: dict
) -> None:
    """Write the run's tangent-geometry rows and its projector-Jacobian spectrum."""
    embeddings = load_embeddings(embeddings_path, prefixes=("test_encoder", "geometry_"))
    if TANGENT_ARRAYS["jacobians"] not in embeddings:
        hint = rebuild_hint("embed", embeddings_path)
        raise ValueError(f"{embeddings_path} holds no geometry arrays; {hint}")
    rows, spectrum = run_geometry(embeddings, options)
    write_rows(rows, geometry_path)
    write_rows([{"index": i, "value": v} for i, v in enumerate(spectrum, start=1)], spectrum_path)
    for row in rows:
        print(f"{row['family']:>12s} {row['metric']:<15s} {row['value']:.3f}")
