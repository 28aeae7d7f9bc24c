"""Cross-run similarity of two representations of the same inputs: linear and debiased CKA,
mutual k-NN alignment, and the held-out R² of a ridge map in each direction; CKA and mutual
k-NN with their permutation null.

n runs give n(n − 1)/2 pairs, so everything that depends on one representation alone is
computed once by :func:`representation_stats`, and :func:`pair_similarities` forms only the
cross terms of a pair: two d_a × d_b matrix products (one over the N test rows, one over the
fit rows), an intersection of k-NN lists and O(d³) algebra. :func:`permutation_null` gives the
distribution of every metric over many shuffles of one side's test rows, for many pairs at once,
from the same cached statistics. The R² has none: shuffling test rows under a map fitted on
matched rows gives about −R² rather than a chance level, and the valid null, a map refitted on
shuffled fit pairs for every draw (Ojala & Garriga 2010), would cost a d_a × N_fit × d_b product
per pair and draw; compare R² with the same pair before training instead. Notation below: X and Y
are the column-centred test features of the two representations (N × d_a and N × d_b),
``r_i = ‖x_i‖²`` and ``s_i = ‖y_i‖²`` their squared row norms. All statistics are float64.
"""

import functools
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.stats

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

    @functools.cached_property
    def packed_gram(self) -> np.ndarray:
        """The strict upper triangle of the Gram matrix XXᵀ, row by row (float32), which the
        CKA permutation null uses; computed on first use and kept."""
        features = self.test_centred.astype(np.float32)
        return (features @ features.T)[_upper_triangle(len(features))]


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


# --- permutation null ----------------------------------------------------------------------

NULL_METRICS = ("linear_cka", "debiased_cka", "mutual_knn")
NULL_QUANTILE = 0.95
NULL_SUMMARY_COLUMNS = ("null_mean", "null_q95", "p_value", "null_sd", "null_z", "p_normal")
# A gathered float32 (random access into a few MB) costs about as much as this many
# multiply-adds of a matrix product (measured on the 2-core development CPU: 0.8 ms per 500k)
GATHERED_ELEMENT_COST = 40


@dataclass(frozen=True)
class Shuffles:
    """Row orders shared by every permutation null of an analysis (n_permutations × N)."""

    orders: np.ndarray

    @functools.cached_property
    def packed_indices(self) -> np.ndarray:
        """For each order π, the flat indices into an N × N matrix M of the strict upper
        triangle of PMPᵀ (row by row, as :attr:`RepresentationStats.packed_gram`): entry (i, j)
        of the reordered matrix is M[π_i, π_j]. Computed once (int32) and shared."""
        n = self.orders.shape[1]
        rows, columns = _upper_triangle(n)
        return np.stack([o[rows] * n + o[columns] for o in self.orders]).astype(np.int32)

    def chunks(self, size: int):
        """(orders, packed indices) of consecutive chunks of at most ``size`` orders."""
        for start in range(0, len(self.orders), size):
            end = start + size
            yield self.orders[start:end], self.packed_indices[start:end]


def permutation_orders(n_rows: int, n_permutations: int, seed: int) -> Shuffles:
    """``n_permutations`` shuffles of ``n_rows`` rows: successive ``rng.permutation(n_rows)``
    of ``np.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    return Shuffles(np.stack([rng.permutation(n_rows) for _ in range(n_permutations)]))


def permutation_null(
    sources: list[RepresentationStats],
    target: RepresentationStats,
    shuffles: Shuffles,
    metrics: tuple[str, ...] = NULL_METRICS,
    chunk_size: int = 50,
) -> dict[str, np.ndarray]:
    """The permutation null of every source against ``target``: metric → n_sources × n_orders.

    Entry (i, j) is the metric of ``sources[i]`` and ``target`` with its test rows reordered by
    ``shuffles.orders[j]`` (row r of the reordered target is its row ``orders[j][r]``): the same
    as :func:`pair_similarities` of the source and the statistics of the reordered target.

    Everything about the sources is computed once, then the orders are taken in chunks. Cost
    per source and order: for CKA O(N²) from the Gram matrices or O(N d_source d_target) from
    the features, whichever is cheaper (:class:`_CkaNull`); O(N k) for mutual k-NN (each
    source's neighbour pairs looked up in the target's neighbour adjacency,
    :class:`_MutualKnnNull`).
    """
    unknown = set(metrics) - set(NULL_METRICS)
    if unknown:
        raise ValueError(f"unknown null metrics {sorted(unknown)}; known: {NULL_METRICS}")
    for source in sources:
        _check_comparable(source, target)
    nulls = []
    if {"linear_cka", "debiased_cka"} & set(metrics):
        nulls.append(_CkaNull(sources, target))
    if "mutual_knn" in metrics:
        nulls.append(_MutualKnnNull(sources, target))
    parts = [
        {name: v for null in nulls for name, v in null.draws(*chunk).items()}
        for chunk in shuffles.chunks(chunk_size)
    ]
    return {
        metric: np.concatenate([part[metric] for part in parts], axis=1)
        for metric in NULL_METRICS
        if metric in metrics
    }


@functools.cache
def _upper_triangle(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.triu_indices(n, k=1)


class _CkaNull:
    """Linear and debiased CKA against the reordered target (see :func:`permutation_null`).

    ‖XᵀPY‖²_F is computed whichever way costs less: from the Gram matrices, the strict upper
    triangles of PLPᵀ gathered from L (N²/2 gathers per order) against those of every K (N²/2
    per source and order), the diagonal from the row norms; or from the features, XᵀPY for
    every source at once (N · d_target · Σ d_source per order), cheaper for narrow layers and
    few sources.
    """

    def __init__(self, sources: list[RepresentationStats], target: RepresentationStats):
        self.target = target
        self.r = np.stack([s.test_row_norms_sq for s in sources])
        self.gram_norms = np.array([s.gram_norm for s in sources])[:, None]
        self.self_hsic = np.array([s.unbiased_self_hsic for s in sources])[:, None]
        n, d_target = target.test_centred.shape
        source_dims = [s.test_centred.shape[1] for s in sources]
        gram_cost = n * n / 2 * (GATHERED_ELEMENT_COST + len(sources))
        self.by_gram = gram_cost < n * d_target * sum(source_dims)
        features = target.test_centred.astype(np.float32)
        if self.by_gram:
            self.source_grams = np.stack([s.packed_gram for s in sources])
            self.target_gram = (features @ features.T).ravel()
        else:
            self.source_features = np.hstack([s.test_centred for s in sources]).astype(np.float32)
            self.splits = np.cumsum(source_dims)[:-1]
            self.target_features = features

    def cross_norms_sq(
        self, orders: np.ndarray, packed_indices: np.ndarray, diagonal: np.ndarray
    ) -> np.ndarray:
        """‖X_iᵀ P_j Y‖²_F for every source i and order j (n_sources × n_orders); ``diagonal``
        is Σ_i r_i s_π(i), the diagonal part of ⟨K, PLPᵀ⟩."""
        if self.by_gram:
            reordered = np.take(self.target_gram, packed_indices)
            return 2 * (self.source_grams @ reordered.T).astype(np.float64) + diagonal
        n, d = self.target_features.shape
        reordered = self.target_features[orders].transpose(1, 0, 2).reshape(n, -1)
        products = (self.source_features.T @ reordered).reshape(-1, len(orders), d) ** 2
        blocks = np.split(products.astype(np.float64), self.splits, axis=0)
        return np.stack([block.sum(axis=(0, 2)) for block in blocks])

    def draws(self, orders: np.ndarray, packed_indices: np.ndarray) -> dict[str, np.ndarray]:
        n = len(self.target.test_centred)
        s = self.target.test_row_norms_sq[orders]
        diagonal = self.r @ s.T
        cross_norm_sq = self.cross_norms_sq(orders, packed_indices, diagonal)
        hsic = (
            cross_norm_sq
            - n / (n - 2) * diagonal
            + np.outer(self.r.sum(axis=1), s.sum(axis=1)) / ((n - 1) * (n - 2))
        )
        return {
            "linear_cka": cross_norm_sq / (self.gram_norms * self.target.gram_norm),
            "debiased_cka": hsic / np.sqrt(self.self_hsic * self.target.unbiased_self_hsic),
        }


class _MutualKnnNull:
    """Mutual k-NN against the reordered target (see :func:`permutation_null`): j is a shared
    neighbour of row i when j ∈ kNN_source(i) and π(j) ∈ kNN_target(π(i)), so each source's
    N k neighbour pairs (i, j) are looked up at (π(i), π(j)) in the target's N × N neighbour
    adjacency."""

    def __init__(self, sources: list[RepresentationStats], target: RepresentationStats):
        n, k = target.neighbours.shape
        rows = np.repeat(np.arange(n), k)
        self.adjacency = np.zeros(n * n, dtype=bool)
        self.adjacency[rows * n + target.neighbours.ravel()] = True
        self.pairs = [(rows, s.neighbours.ravel()) for s in sources]

    def draws(self, orders: np.ndarray, _packed_indices: np.ndarray) -> dict[str, np.ndarray]:
        n = orders.shape[1]
        shared = np.stack(
            [
                self.adjacency[orders[:, rows] * n + orders[:, columns]].sum(axis=1)
                for rows, columns in self.pairs
            ]
        )
        return {"mutual_knn": shared / len(self.pairs[0][0])}


def null_summary(value: float, null: np.ndarray | None) -> dict[str, float]:
    """The permutation null's mean, 95th percentile and standard deviation; the permutation
    p-value of ``value``, (1 + #{null ≥ value}) / (1 + n) over the n null draws, which counts
    the observed arrangement as one of them, so it is never 0 (Phipson & Smyth 2010,
    "Permutation p-values should never be zero") and never below 1 / (n + 1); and, for the
    resolution a correction over many pairs needs, ``null_z`` = (value − mean) / sd and
    ``p_normal``, its upper tail under a normal fitted to the draws (approximate: it trusts
    the normal's tail beyond the draws). All NaN without a null (``None``)."""
    if null is None:
        return dict.fromkeys(NULL_SUMMARY_COLUMNS, float("nan"))
    null = np.asarray(null, dtype=np.float64)
    sd = float(null.std(ddof=1))
    z = (value - null.mean()) / sd if sd > 0 else float("nan")
    return {
        "null_mean": float(null.mean()),
        "null_q95": float(np.quantile(null, NULL_QUANTILE)),
        "p_value": float((1 + np.sum(null >= value)) / (1 + len(null))),
        "null_sd": sd,
        "null_z": float(z),
        "p_normal": float(scipy.stats.norm.sf(z)),
    }
