"""The tangent-plane geometry of one trained run (Cosentino et al. 2022, arXiv 2205.06926).

At the encoder outputs h of test inputs: the projector Jacobian's spectrum, and for each
family of encoder-space directions — augmentation tangent, data tangent, the tangents of
generating latents (finite differences on rendered shapes, exact on vectors) and content
(class) changes on rendered data — the projector's local sensitivity ρ and the principal angles
to the subspace the projector keeps, each against random subspaces of the same dimension drawn
from the whole encoder space and from the span of the data. Beside the local ρ, a global one:
the projector's output change along finite moves (to neighbours, augmentations, a latent drawn
anew) against random moves of the same length in the data span; and, along latent tangents,
how far the encoder and the output move per unit of the latent.

Everything the model has to compute (Jacobians, encoder-space moves) is extracted by the
embedding stage (:mod:`sslgeom.embedding.tangents`) into the run's ``embeddings.npz``, so
this stage is numpy only and reruns cheaply when a measurement option changes.
"""

import numpy as np

from sslgeom.data.shapes import STYLE_LATENTS
from sslgeom.data.vectors import is_content_name, is_style_name
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
    "augmentation": "geometry_augmentation_moves",  # N × A × d_h, images only
    "latent": "geometry_latent_tangents",  # N × d_h × (measured latents), generated data only
    "latent_names": "geometry_latent_names",  # the measured latents, in column order
    "content": "geometry_content_moves",  # N × d_h × (classes − 1), shapes only
    # output changes along finite moves and along random moves of the same lengths: … × 2
    "data_steps": "geometry_data_steps",  # N × n_neighbors × 2
    "augmentation_steps": "geometry_augmentation_steps",  # N × A × 2
    "latent_steps": "geometry_latent_steps",  # N × (measured latents) × 2
}
# the config's geometry options that the extraction (embedding stage) uses, and those that
# this stage's measurements use: a change reruns only the stages that use the option
EXTRACTION_OPTIONS = (
    "n_images",
    "tangent_strength",
    "n_augmentations",
    "latent_epsilon",
    "n_neighbors",
    "span_variance",
    "seed",
    "batch_size",
)
MEASUREMENT_OPTIONS = ("k", "n_neighbors", "span_variance", "seed")


BASELINES = ("random", "random_span")
LATENT_FAMILY_PREFIX = "latent:"
# which generating latents the views change (style) and which they share (content): the
# shapes' style latents, and the content/style vectors' s1, s2, … and c1, c2, …
LATENT_BLOCKS = {
    "style": lambda name: name in STYLE_LATENTS or is_style_name(name),
    "content": is_content_name,
}


def tangent_families(embeddings: dict[str, np.ndarray], k: int, n_neighbors: int):
    """Orthonormal bases (n × d_h × ·) of every measured direction family at the n extracted
    inputs: the data tangent of dimension k; on images the augmentation tangent of dimension
    k; on generated data each measured latent's tangent on its own (:func:`latent_family`) and
    the style and content blocks of them (:data:`LATENT_BLOCKS`); on shapes the content
    family is the class-change moves (one per other class)."""
    n = len(embeddings[TANGENT_ARRAYS["jacobians"]])
    families = {"data": data_tangent(embeddings["test_encoder"], k, n_neighbors, n_rows=n)}
    if TANGENT_ARRAYS["augmentation"] in embeddings:
        families["augmentation"] = augmentation_tangent(
            embeddings[TANGENT_ARRAYS["augmentation"]], k
        )
    families |= {
        family: orthonormal_basis(columns) for family, columns in latent_columns(embeddings).items()
    }
    if TANGENT_ARRAYS["content"] in embeddings:
        families["content"] = orthonormal_basis(embeddings[TANGENT_ARRAYS["content"]])
    return families


def latent_groups(embeddings: dict[str, np.ndarray]) -> dict[str, list[int]]:
    """The latent families and their columns among the measured latents: every latent alone,
    and the blocks of :data:`LATENT_BLOCKS` that have members; none without latent tangents."""
    if TANGENT_ARRAYS["latent_names"] not in embeddings:
        return {}
    names = [str(name) for name in embeddings[TANGENT_ARRAYS["latent_names"]]]
    groups = {}
    for block, is_member in LATENT_BLOCKS.items():
        members = [index for index, name in enumerate(names) if is_member(name)]
        if members:
            groups[block] = members
    return groups | {latent_family(name): [index] for index, name in enumerate(names)}


def latent_columns(embeddings: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The raw tangents (n × d_h × ·) of each latent family (:func:`latent_groups`)."""
    tangents = embeddings.get(TANGENT_ARRAYS["latent"])
    return {family: tangents[..., index] for family, index in latent_groups(embeddings).items()}


def family_steps(embeddings: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The output changes (… × 2: along the move, along the random move) of each family that
    has finite moves: data (to neighbours), augmentation, and the latent families (redraws)."""
    steps = {
        family: embeddings[TANGENT_ARRAYS[f"{family}_steps"]]
        for family in ("data", "augmentation")
        if TANGENT_ARRAYS[f"{family}_steps"] in embeddings
    }
    redraws = embeddings.get(TANGENT_ARRAYS["latent_steps"])
    if redraws is not None:
        steps |= {family: redraws[:, index] for family, index in latent_groups(embeddings).items()}
    return steps


def step_sensitivity(changes: np.ndarray) -> float:
    """The projector's mean squared output change along a family's finite moves over that
    along random moves of the same lengths in the data span (``changes``: … × 2): below 1,
    the projector shrinks the family's moves more than the data span's directions."""
    return float(changes[..., 0].mean() / changes[..., 1].mean())


def latent_gains(jacobians: np.ndarray, columns: np.ndarray) -> dict[str, float]:
    """How far the encoder and the projector output move per unit of the latents: the mean,
    over the inputs and the family's latents, of ‖∂h/∂z_i‖² (``encoder_gain``) and of
    ‖J ∂h/∂z_i‖² (``output_gain``), from the raw tangents ``columns`` (n × d_h × m)."""
    tangents = np.asarray(columns, dtype=np.float64)
    moved = np.asarray(jacobians, dtype=np.float64) @ tangents
    return {
        "encoder_gain": float(np.mean(np.sum(tangents**2, axis=-2))),
        "output_gain": float(np.mean(np.sum(moved**2, axis=-2))),
    }


def latent_family(name: str) -> str:
    """The family of one latent's tangent direction (dimension 1)."""
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
    (its dimension is the row of family ``data_span``). Families with finite moves get a row
    ``step_sensitivity`` (:func:`step_sensitivity`), latent families ``encoder_gain`` and
    ``output_gain`` (:func:`latent_gains`).
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
    for family, changes in family_steps(embeddings).items():
        rows.append(
            {"family": family, "metric": "step_sensitivity", "value": step_sensitivity(changes)}
        )
    for family, columns in latent_columns(embeddings).items():
        gains = latent_gains(jacobians, columns)
        rows += [{"family": family, "metric": m, "value": v} for m, v in gains.items()]
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
