"""How the projector treats directions of the encoder space.

The projector g maps an encoder output h to an embedding z = g(h). Its Jacobian J(h) = ∂g/∂h
(d_z × d_h) says which directions of the encoder space reach the loss and which are shrunk.
Cosentino et al. 2022 ("Toward a geometrical understanding of self-supervised contrastive
learning", arXiv 2205.06926) argue that the projector shrinks the directions that the
augmentations move the representation along, so that the encoder can keep them. This module
measures that from arrays the embedding stage extracted (:mod:`sslgeom.embedding.tangents`): the
Jacobians' spectra, tangent subspaces of the encoder space (from augmentations, from the data's
neighbourhoods and, for rendered data, from each generating latent), and the projector's
sensitivity and principal angles along those subspaces.

Conventions: a basis is a stack of orthonormal columns, N × d_h × k (one basis per sample).
Everything is numpy, computed in float64 whatever the input dtype.
"""

import numpy as np

from sslgeom.metrics.neighbours import nearest_other_rows
from sslgeom.metrics.spectrum import rankme, singular_values

# --- projector Jacobian -------------------------------------------------------------------


def jacobian_spectrum_stats(jacobians: np.ndarray) -> dict[str, np.ndarray | float]:
    """Spectral summaries of a stack of Jacobians (N × d_z × d_h).

    - ``mean_singular_values``: each sample's singular values (descending), averaged over
      samples (``min(d_z, d_h)`` values);
    - ``stable_rank``: mean over samples of ‖J‖_F² / ‖J‖_2²;
    - ``effective_rank``: mean over samples of the RankMe entropy rank of J
      (:func:`sslgeom.metrics.spectrum.rankme`).

    Raises ValueError if some Jacobian is zero (its stable rank is undefined).
    """
    matrices = _as_float64(jacobians)
    sigma = np.stack([singular_values(matrix, center=False) for matrix in matrices])
    if np.any(sigma[:, 0] == 0):
        raise ValueError("the stable rank is undefined for a zero Jacobian")
    return {
        "mean_singular_values": sigma.mean(axis=0),
        "stable_rank": float(np.mean(np.sum(sigma**2, axis=1) / sigma[:, 0] ** 2)),
        "effective_rank": float(np.mean([rankme(matrix) for matrix in matrices])),
    }


def top_right_singular_vectors(matrices: np.ndarray, k: int) -> np.ndarray:
    """The k input-space directions each matrix stretches most (… × d × k, orthonormal).

    The top-k right singular vectors of each matrix of a stack (… × m × d). For Jacobians,
    the directions of the encoder space that the projector keeps (Cosentino et al. 2022,
    arXiv 2205.06926); for stacked moves or centred neighbours, their top-k principal
    directions. Raises ValueError if k exceeds min(m, d).
    """
    _, _, vh = np.linalg.svd(_as_float64(matrices), full_matrices=False)
    if k > vh.shape[-2]:
        raise ValueError(f"k={k} exceeds the {vh.shape[-2]} singular vectors available")
    return np.swapaxes(vh[..., :k, :], -1, -2)


# --- tangent estimates --------------------------------------------------------------------


def augmentation_tangent(moves: np.ndarray, k: int) -> np.ndarray:
    """The augmentation tangent at each image: an orthonormal basis N × d_h × k.

    ``moves`` (N × A × d_h) are the differences f(t(x)) − f(x) for A augmentation draws t of
    each image x (:func:`sslgeom.embedding.tangents.augmentation_moves`, the augmentation orbit of
    Cosentino et al. 2022, arXiv 2205.06926); the tangent is their top-k principal directions,
    not centred (relative to f(x)). Raises ValueError if k exceeds min(A, d_h).
    """
    return top_right_singular_vectors(moves, k)


def data_tangent(h: np.ndarray, k: int, n_neighbors: int, n_rows: int | None = None) -> np.ndarray:
    """The data tangent at each of the first ``n_rows`` rows of ``h`` (all by default): an
    orthonormal basis n_rows × d_h × k.

    Local PCA: the top-k principal directions of the centred ``n_neighbors`` nearest
    neighbours of the row among all rows of ``h`` (Euclidean distance in encoder space, the row
    itself excluded), the estimate of the data manifold's tangent space used by Cosentino et
    al. 2022 (arXiv 2205.06926). Raises ValueError if k exceeds min(n_neighbors, d_h).
    """
    points = _as_float64(h)
    neighbours = points[nearest_other_rows(points, n_neighbors, "euclidean", n_rows)]
    centred = neighbours - neighbours.mean(axis=1, keepdims=True)
    return top_right_singular_vectors(centred, k)


def orthonormal_basis(directions: np.ndarray) -> np.ndarray:
    """An orthonormal basis of each sample's directions (N × d × m → N × d × m), by QR.

    With linearly dependent directions the extra columns are still orthonormal but span
    arbitrary directions, so check the rank of a content or style family first.
    """
    return np.linalg.qr(_as_float64(directions)).Q


def random_subspace(n: int, d: int, k: int, seed: int) -> np.ndarray:
    """``n`` uniformly random k-dimensional subspaces of R^d, as orthonormal bases n × d × k.

    The baseline subspace: the QR basis of a Gaussian matrix spans a uniformly (Haar)
    distributed subspace, along which the projector sensitivity has expectation 1.
    """
    gaussian = np.random.default_rng(seed).standard_normal((n, d, k))
    return np.linalg.qr(gaussian).Q


def data_span(h: np.ndarray, variance: float, min_rank: int = 1) -> np.ndarray:
    """The principal subspace of the rows of ``h`` (N × d_h, centred here) that holds the
    fraction ``variance`` of their variance: an orthonormal basis d_h × r, r the fewest
    principal directions whose eigenvalues sum to at least that fraction, and at least
    ``min_rank`` (so that baselines of that dimension can be drawn inside it)."""
    centred = _as_float64(h) - np.mean(h, axis=0)
    _, sigma, vh = np.linalg.svd(centred, full_matrices=False)
    explained = np.cumsum(sigma**2) / np.sum(sigma**2)
    rank = int(np.searchsorted(explained, variance * (1 - 1e-12))) + 1
    return vh[: max(rank, min_rank)].T


def random_subspace_in(span: np.ndarray, n: int, k: int, seed: int) -> np.ndarray:
    """``n`` uniformly random k-dimensional subspaces of the column space of ``span``
    (d × r, orthonormal), as orthonormal bases n × d × k: the baseline of directions the data
    actually uses. Raises ValueError if k exceeds r."""
    if k > span.shape[1]:
        raise ValueError(f"cannot draw {k} directions inside a {span.shape[1]}-dimensional span")
    return _as_float64(span) @ random_subspace(n, span.shape[1], k, seed)


# --- comparing the projector with subspaces -----------------------------------------------


def sensitivity(jacobians: np.ndarray, bases: np.ndarray) -> np.ndarray:
    """The projector's sensitivity along each sample's subspace (N values).

    ρ(U) = (‖J U‖_F² / k) / (‖J‖_F² / d_h) for J (N × d_z × d_h) and an orthonormal basis U
    (N × d_h × k, or one d_h × k basis for all samples): the mean squared gain of the projector
    along U relative to its mean over all directions. A uniformly random U gives E[ρ] = 1;
    ρ < 1 means the projector shrinks the subspace, as Cosentino et al. 2022
    (arXiv 2205.06926) predict for augmentation directions.
    """
    matrices, basis = _as_float64(jacobians), _as_float64(bases)
    d_h, k = basis.shape[-2:]
    if matrices.shape[-1] != d_h:
        raise ValueError(f"Jacobians act on R^{matrices.shape[-1]} but the bases lie in R^{d_h}")
    kept = np.sum((matrices @ basis) ** 2, axis=(-2, -1)) / k
    overall = np.sum(matrices**2, axis=(-2, -1)) / d_h
    return kept / overall


def principal_angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Principal angles (radians, ascending) between subspaces: N × min(k1, k2).

    For orthonormal bases A (N × d × k1) and B (N × d × k2), the arccosines of the singular
    values of Aᵀ B, clamped to [−1, 1]: 0 for a shared direction, π/2 for orthogonal ones.
    Used to compare tangent subspaces with the directions the projector keeps
    (Cosentino et al. 2022, arXiv 2205.06926).
    """
    products = np.swapaxes(_as_float64(a), -1, -2) @ _as_float64(b)
    cosines = np.linalg.svd(products, compute_uv=False)
    return np.arccos(np.clip(cosines, -1.0, 1.0))


def _as_float64(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)
