"""Augmentation invariance of embeddings of several views per sample.

``views`` is an array of shape N × V × d: N samples, V augmented views of each,
d embedding dimensions. Computations are carried out in float64.
"""

import numpy as np

COSINE_EPS = 1e-12


def _as_views(views: np.ndarray, min_views: int) -> np.ndarray:
    views = np.asarray(views, dtype=np.float64)
    if views.ndim != 3:
        raise ValueError(f"views must have shape N x V x d, got shape {views.shape}")
    if views.shape[1] < min_views:
        raise ValueError(f"need at least {min_views} views per sample, got {views.shape[1]}")
    return views


def invariance(views: np.ndarray) -> float:
    """Fraction of embedding variance not explained by the choice of view.

    ``1 − mean_n[Σ_dims Var_v(views[n])] / Σ_dims Var(all N·V rows)``, with population
    variances (ddof = 0). It is 1 when every view of a sample has the same embedding.
    When views carry no information about the sample (every view an independent draw
    from one distribution) its expected value is ``1/V`` — close to 0 for many views —
    because the ddof = 0 within-sample variance is biased by ``(V − 1)/V``.

    Raises ValueError when the total variance is 0 (all N·V embeddings identical),
    where the ratio is undefined.
    """
    views = _as_views(views, min_views=1)
    within_sample = views.var(axis=1).sum(axis=-1).mean()
    total = views.reshape(-1, views.shape[-1]).var(axis=0).sum()
    if total == 0:
        raise ValueError("invariance is undefined when the total variance is zero")
    return float(1.0 - within_sample / total)


def mean_view_cosine(views: np.ndarray) -> float:
    """Mean over samples of the mean cosine similarity over all distinct pairs of views.

    Uses ``Σ_{i≠j} ⟨u_i, u_j⟩ = ‖Σ_i u_i‖² − Σ_i ‖u_i‖²`` for the unit-normalised views
    u of each sample, so no V × V matrix is formed. Norms are floored at 1e-12, so a
    zero view has cosine 0 with every other view. Requires V ≥ 2.
    """
    views = _as_views(views, min_views=2)
    n_views = views.shape[1]
    norms = np.linalg.norm(views, axis=-1, keepdims=True)
    unit = views / np.maximum(norms, COSINE_EPS)
    summed = unit.sum(axis=1)
    off_diagonal_sum = np.sum(summed**2, axis=-1) - np.sum(unit**2, axis=(1, 2))
    per_sample = off_diagonal_sum / (n_views * (n_views - 1))
    return float(per_sample.mean())
