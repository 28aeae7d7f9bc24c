"""Spectral measures of an embedding matrix Z (N samples × d dimensions, rows = samples).

All computations are carried out in float64 whatever the input dtype.
"""

import numpy as np

RANKME_EPS = 1e-7
EIGENVALUE_RELATIVE_FLOOR = 1e-12


def singular_values(z: np.ndarray, center: bool) -> np.ndarray:
    """Singular values of Z in descending order, computed in float64.

    With ``center=True`` the column means are subtracted first.
    Returns ``min(N, d)`` values.
    """
    z = np.asarray(z, dtype=np.float64)
    if center:
        z = z - z.mean(axis=0)
    return np.linalg.svd(z, compute_uv=False)


def rankme(z: np.ndarray) -> float:
    """RankMe effective rank (Garrido et al. 2023, "RankMe: Assessing the downstream
    performance of pretrained self-supervised representations by their rank").

    With σ the singular values of the *uncentred* Z, ``p_k = σ_k / Σσ + 1e-7`` and
    ``RankMe = exp(−Σ_k p_k log p_k)``. A matrix with k equal non-zero singular values
    has RankMe ≈ k.
    """
    sigma = singular_values(z, center=False)
    p = sigma / sigma.sum() + RANKME_EPS
    return float(np.exp(-np.sum(p * np.log(p))))


def covariance_eigenvalues(z: np.ndarray) -> np.ndarray:
    """Eigenvalues of the population covariance ``(Z − mean)ᵀ(Z − mean) / N``.

    Returned in descending order, always ``d`` of them: when ``N < d`` the eigenvalues
    beyond the rank of the centred matrix are exact zeros. They are obtained as
    ``σ² / N`` from the singular values σ of the centred Z, which is more accurate for
    small eigenvalues than diagonalising the covariance matrix and non-negative by
    construction (so no rounding ever yields a negative eigenvalue needing a clip at 0).
    """
    n_samples, n_dims = np.shape(z)
    eigenvalues = np.zeros(n_dims)
    sigma = singular_values(z, center=True)
    eigenvalues[: sigma.size] = sigma**2 / n_samples
    return eigenvalues


def participation_ratio(z: np.ndarray) -> float:
    """Participation ratio ``(Σλ)² / Σλ²`` of the covariance eigenvalues λ of Z.

    Ranges from 1 (all variance along one direction) to d (isotropic).
    Raises ValueError when Z has zero variance (every row identical).
    """
    eigenvalues = covariance_eigenvalues(z)
    sum_of_squares = np.sum(eigenvalues**2)
    if sum_of_squares == 0:
        raise ValueError("participation ratio is undefined for zero-variance embeddings")
    return float(eigenvalues.sum() ** 2 / sum_of_squares)


def alpha_req(z: np.ndarray, first_index: int, last_index: int) -> float:
    """Power-law decay coefficient α of the covariance eigenspectrum (Agrawal et al. 2022,
    "α-ReQ: Assessing representation quality in self-supervised learning by measuring
    eigenspectrum decay").

    Fits ``log λ_i ≈ α · (−log i) + b`` by least squares over the 1-based indices
    ``i ∈ [first_index, last_index]`` (inclusive) and returns the slope α, so that
    ``λ_i ∝ i^(−α)``. ``last_index`` is clipped to the number of eigenvalues greater
    than ``1e-12 · λ_1``, so the logarithm of zero is never taken.

    Raises ValueError if ``first_index < 1`` or fewer than two indices remain.
    """
    if first_index < 1:
        raise ValueError(f"first_index must be >= 1, got {first_index}")
    eigenvalues = covariance_eigenvalues(z)
    n_positive = int(np.sum(eigenvalues > EIGENVALUE_RELATIVE_FLOOR * eigenvalues[0]))
    indices = np.arange(first_index, min(last_index, n_positive) + 1)
    if indices.size < 2:
        raise ValueError(
            f"alpha_req needs at least 2 indices; [{first_index}, {last_index}] leaves "
            f"{indices.size} among {n_positive} non-negligible eigenvalues"
        )
    slope, _intercept = np.polyfit(-np.log(indices), np.log(eigenvalues[indices - 1]), deg=1)
    return float(slope)
