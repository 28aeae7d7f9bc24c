"""Cross-run similarity of two representations of the same inputs (DESIGN.md, "Cross-run
similarity"): linear and debiased CKA, mutual k-NN alignment, and the held-out R² of a ridge
map in each direction.

n runs give n(n − 1)/2 pairs, so everything that depends on one representation alone is
computed once by :func:`representation_stats`, and :func:`pair_similarities` forms only the
cross terms of a pair: two d_a × d_b matrix products (one over the N test rows, one over the
fit rows), an intersection of k-NN lists and O(d³) algebra. :func:`permuted` gives the
permutation null of every metric by reindexing the cached statistics. Notation below: X and Y
are the column-centred test features of the two representations (N × d_a and N × d_b),
``r_i = ‖x_i‖²`` and ``s_i = ‖y_i‖²`` their squared row norms. All statistics are float64.
"""

from dataclasses import dataclass, replace

import numpy as np
import scipy.linalg

from sslgeom.metrics.neighbours import nearest_other_rows

SIMILARITY_METRICS = ("linear_cka", "debiased_cka", "mutual_knn", "linear_r2_ab", "linear_r2_ba")


@dataclass(frozen=True)
class RepresentationStats:
    """Everything about one representation that pairwise similarities need, computed once.

    Built by :func:`representation_stats`; ``fit`` and ``test`` refer to its two inputs.
    """

    test_centred: np.ndarray
    """X: the test features minus their column means (N × d)."""
    test_row_norms_sq: np.ndarray
    """r: the squared norm of each row of X (N)."""
    gram_norm: float
    """‖XᵀX‖_F, the linear CKA normaliser."""
    unbiased_self_hsic: float
    """N(N − 3)·HSIC_u(K, K) of the linear kernel K = XXᵀ (see :func:`_unbiased_hsic`)."""
    neighbours: np.ndarray
    """The k cosine nearest neighbours of each test row among the others (N × k indices)."""
    fit_centred: np.ndarray
    """The fit features minus their column means μ (N_fit × d)."""
    fit_scale: np.ndarray
    """σ: the population standard deviation of each fit column, 1 for a constant one (d)."""
    test_mean_shift: np.ndarray
    """δ: the test column means minus μ (d)."""
    ridge_operator: np.ndarray
    """(F_sᵀF_s + αI)⁻¹ diag(1/σ), F_s the standardised fit features (d × d)."""
    standardised_test_gram: np.ndarray
    """T_sᵀT_s, T_s = (X + 1δᵀ) diag(1/σ) the test features standardised like the fit (d × d)."""

    @property
    def k(self) -> int:
        return self.neighbours.shape[1]


def _unbiased_hsic(cross_norm_sq: float, r: np.ndarray, s: np.ndarray) -> float:
    """N(N − 3)·HSIC_u(K, L) for the linear kernels K = XXᵀ, L = YYᵀ of centred features.

    Song et al. 2012 ("Feature selection via dependence maximization", JMLR), with K̃, L̃ the
    kernels with zeroed diagonals::

        N(N − 3)·HSIC_u = tr(K̃L̃) + (1ᵀK̃1)(1ᵀL̃1) / ((N − 1)(N − 2)) − 2/(N − 2) · 1ᵀK̃L̃1.

    Centred columns give K1 = 0, hence K̃1 = −r, 1ᵀK̃1 = −Σr, tr(K̃L̃) = ‖XᵀY‖²_F − rᵀs
    and 1ᵀK̃L̃1 = rᵀs, so (as in Kornblith et al.'s feature-space debiased CKA)::

        N(N − 3)·HSIC_u = ‖XᵀY‖²_F − N/(N − 2) · rᵀs + (Σr)(Σs) / ((N − 1)(N − 2)),

    O(N) given ``cross_norm_sq`` = ‖XᵀY‖²_F. HSIC_u does not depend on the column means, so
    centring loses nothing.
    """
    n = len(r)
    return float(cross_norm_sq - n / (n - 2) * (r @ s) + r.sum() * s.sum() / ((n - 1) * (n - 2)))


def _standardised_test_gram(
    test_centred: np.ndarray, shift: np.ndarray, scale: np.ndarray
) -> np.ndarray:
    """T_sᵀT_s = diag(1/σ)(XᵀX + N δδᵀ)diag(1/σ): the cross terms vanish as Xᵀ1 = 0."""
    gram = test_centred.T @ test_centred + len(test_centred) * np.outer(shift, shift)
    return gram / np.outer(scale, scale)


def _ridge_operator(fit_centred: np.ndarray, scale: np.ndarray, alpha: float) -> np.ndarray:
    standardised = fit_centred / scale
    regularised = standardised.T @ standardised + alpha * np.eye(len(scale))
    return scipy.linalg.solve(regularised, np.diag(1 / scale), assume_a="pos")


def representation_stats(
    fit: np.ndarray, test: np.ndarray, k: int = 10, ridge_alpha: float = 1.0
) -> RepresentationStats:
    """The cached statistics of one representation.

    ``fit``: N_fit × d embeddings of a fixed set of inputs used to fit the ridge maps (e.g.
    the train split); ``test``: N × d embeddings of the fixed evaluation inputs (e.g. the
    test split), the same inputs in the same order for every run. ``k`` is the number of
    neighbours of mutual k-NN; ``ridge_alpha`` (> 0) the ridge penalty of maps *from* this
    representation. Cost: O(N² d) for the k-NN lists, O((N + N_fit) d² + d³) for the rest.

    Raises ValueError when the shapes disagree, k is not in [1, N − 1], N < 4 (debiased
    CKA needs it) or the test features have zero variance (CKA is undefined).
    """
    fit, test = np.asarray(fit, dtype=np.float64), np.asarray(test, dtype=np.float64)
    if fit.ndim != 2 or test.ndim != 2 or fit.shape[1] != test.shape[1]:
        raise ValueError(f"fit and test must be N × d with one d, got {fit.shape}, {test.shape}")
    if len(test) < 4 or not 1 <= k < len(test):
        raise ValueError(f"need N >= 4 test rows and 1 <= k < N, got N = {len(test)}, k = {k}")
    test_mean, fit_mean = test.mean(axis=0), fit.mean(axis=0)
    test_centred, fit_centred = test - test_mean, fit - fit_mean
    row_norms_sq = np.einsum("ij,ij->i", test_centred, test_centred)
    if row_norms_sq.sum() == 0:
        raise ValueError("similarity is undefined for test features with zero variance")
    gram = test_centred.T @ test_centred
    gram_norm_sq = float(np.sum(gram**2))
    # As sklearn's StandardScaler, a constant column keeps scale 1 (tested with max = min:
    # rounding in the mean can leave it a tiny non-zero standard deviation).
    scale = np.where(np.ptp(fit, axis=0) > 0, fit.std(axis=0), 1.0)
    shift = test_mean - fit_mean
    return RepresentationStats(
        test_centred=test_centred,
        test_row_norms_sq=row_norms_sq,
        gram_norm=float(np.sqrt(gram_norm_sq)),
        unbiased_self_hsic=_unbiased_hsic(gram_norm_sq, row_norms_sq, row_norms_sq),
        neighbours=nearest_other_rows(test, k, "cosine"),
        fit_centred=fit_centred,
        fit_scale=scale,
        test_mean_shift=shift,
        ridge_operator=_ridge_operator(fit_centred, scale, ridge_alpha),
        standardised_test_gram=_standardised_test_gram(test_centred, shift, scale),
    )


def mutual_knn(a: RepresentationStats, b: RepresentationStats) -> float:
    """Mutual k-NN alignment (Huh et al. 2024, "The Platonic Representation Hypothesis"):
    the mean over test samples i of |kNN_A(i) ∩ kNN_B(i)| / k, cosine similarity, i itself
    excluded. Each list holds distinct indices, so the k × k equality matrix of a row counts
    every common neighbour once. 1 for identical neighbourhoods, k/(N − 1) in expectation
    for unrelated ones.
    """
    matches = a.neighbours[:, :, None] == b.neighbours[:, None, :]
    return float(matches.sum(axis=(1, 2)).mean() / a.k)


def _ridge_r2(
    source: RepresentationStats,
    target: RepresentationStats,
    fit_cross: np.ndarray,
    test_cross: np.ndarray,
) -> float:
    """Held-out R² of a ridge map from ``source`` to ``target``, from the cross products
    ``fit_cross`` = F_aᵀF_b of the centred fit features and ``test_cross`` = XᵀY.

    The map is sklearn's ``Ridge`` with intercept on the source features standardised with
    the fit statistics (μ, σ): its weights are W = (F_sᵀF_s + αI)⁻¹F_sᵀF_b = ridge_operator ·
    fit_cross and its intercept is μ_b, so the test residual is Y + 1δ_bᵀ − T_s W and::

        SS_res = ‖Y‖² + N‖δ_b‖² − 2⟨W, diag(1/σ_a)(XᵀY + N δ_a δ_bᵀ)⟩ + ⟨W, T_sᵀT_s W⟩.

    R² = 1 − SS_res / ‖Y‖², both summed over target dimensions (sklearn's
    ``r2_score(multioutput="variance_weighted")``).
    """
    n = len(target.test_centred)
    weights = source.ridge_operator @ fit_cross
    test_product = test_cross + n * np.outer(source.test_mean_shift, target.test_mean_shift)
    total = target.test_row_norms_sq.sum()
    residual = (
        total
        + n * target.test_mean_shift @ target.test_mean_shift
        - 2 * np.sum(weights * test_product / source.fit_scale[:, None])
        + np.sum(weights * (source.standardised_test_gram @ weights))
    )
    return float(1 - residual / total)


def _check_comparable(a: RepresentationStats, b: RepresentationStats) -> None:
    if len(a.test_centred) != len(b.test_centred) or len(a.fit_centred) != len(b.fit_centred):
        raise ValueError("representations must be of the same fit and test inputs")
    if a.k != b.k:
        raise ValueError(f"representations have different k: {a.k} and {b.k}")


def pair_similarities(a: RepresentationStats, b: RepresentationStats) -> dict[str, float]:
    """All :data:`SIMILARITY_METRICS` of ``a`` and ``b``.

    - ``linear_cka`` (Kornblith et al. 2019, "Similarity of neural network representations
      revisited"): ‖XᵀY‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F), in feature space.
    - ``debiased_cka``: HSIC_u(K, L) / √(HSIC_u(K, K) HSIC_u(L, L)), the unbiased HSIC of
      Song et al. 2012 in feature space (:func:`_unbiased_hsic`); about 0 for unrelated
      representations, where linear CKA is inflated by width.
    - ``mutual_knn``: :func:`mutual_knn`.
    - ``linear_r2_ab`` / ``linear_r2_ba``: held-out R² of a ridge map from a to b / from b to
      a, fitted on the fit rows and scored on the test rows (:func:`_ridge_r2`).
    """
    _check_comparable(a, b)
    test_cross = a.test_centred.T @ b.test_centred
    fit_cross = a.fit_centred.T @ b.fit_centred
    cross_norm_sq = float(np.sum(test_cross**2))
    hsic = _unbiased_hsic(cross_norm_sq, a.test_row_norms_sq, b.test_row_norms_sq)
    return {
        "linear_cka": cross_norm_sq / (a.gram_norm * b.gram_norm),
        "debiased_cka": hsic / float(np.sqrt(a.unbiased_self_hsic * b.unbiased_self_hsic)),
        "mutual_knn": mutual_knn(a, b),
        "linear_r2_ab": _ridge_r2(a, b, fit_cross, test_cross),
        "linear_r2_ba": _ridge_r2(b, a, fit_cross.T, test_cross.T),
    }


def permuted(stats: RepresentationStats, seed: int) -> RepresentationStats:
    """The same representation with its fit rows and its test rows shuffled, each by its own
    permutation (``rng.permutation(N_fit)`` then ``rng.permutation(N)`` of
    ``np.random.default_rng(seed)``), by reindexing the cached statistics: row i of the
    result is row ``order[i]`` of the original, and the neighbour lists are relabelled
    rather than searched again. ``pair_similarities(a, permuted(b, seed))`` is the
    permutation null of every metric.
    """
    rng = np.random.default_rng(seed)
    fit_order = rng.permutation(len(stats.fit_centred))
    test_order = rng.permutation(len(stats.test_centred))
    new_index = np.argsort(test_order)
    return replace(
        stats,
        test_centred=stats.test_centred[test_order],
        test_row_norms_sq=stats.test_row_norms_sq[test_order],
        neighbours=new_index[stats.neighbours[test_order]],
        fit_centred=stats.fit_centred[fit_order],
    )
