"""Self-supervised losses on the projector outputs of two batches of views.

Each pairwise loss is a function ``loss(z1, z2, **params) -> scalar`` where row i of
``z1`` and ``z2`` are two views of the same image; ``LOSSES`` maps the config's
``method`` name to it, so peers (VICReg, Barlow Twins) are added beside SimCLR. The
predictive losses of BYOL and SimSiam compare one branch's prediction with the other
branch's stopped-gradient output (:func:`byol`, :func:`simsiam`); :mod:`sslgeom.training.methods`
builds the modules they need.
"""

import functools
import inspect
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def nt_xent(z1: Tensor, z2: Tensor, temperature: float) -> Tensor:
    """SimCLR's normalised-temperature cross entropy (Chen et al. 2020).

    For 2B views, the positive of each view is its partner; the other 2B − 2
    views are negatives; cosine similarities are divided by ``temperature``.
    The loss is the mean over all 2B anchors.
    """
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    return _contrast(z @ z.T / temperature)


def lp_info_nce(z1: Tensor, z2: Tensor, temperature: float, p: int) -> Tensor:
    """InfoNCE with negative Lp distances as similarities (Zimmermann et al. 2021,
    arXiv 2102.08850, eq. 3 with the model conditional of their Lp family).

    The similarity of views a and b is −‖a − b‖_p^p / ``temperature``, the p-th power of
    the distance as in the authors' code (``LpSimCLRLoss`` with ``pow=True``): p = 1 matches
    a Laplace conditional, p = 2 a normal one. The outputs are taken as they are (no
    normalisation); anchors, positives and negatives are those of :func:`nt_xent`: all 2B − 2
    other views are negatives, where the authors' code contrasts each anchor with the B first
    views (itself included, at distance 0) and its own positive.
    """
    z = torch.cat([z1, z2])
    if p == 2:
        # −‖a − b‖² = 2 a·b − ‖b‖² − ‖a‖², and an anchor's own ‖a‖² is the same in every logit
        # of its row, which the cross entropy ignores: one matmul, no pairwise differences
        return _contrast((2 * z @ z.T - z.pow(2).sum(dim=1)) / temperature)
    return _contrast(-(torch.cdist(z, z, p=p) ** p) / temperature)


SIMILARITY_EXPONENTS = {"l1": 1, "l2": 2}  # similarity setting → p of lp_info_nce


def info_nce(z1: Tensor, z2: Tensor, temperature: float, similarity: str) -> Tensor:
    """SimCLR's InfoNCE with the run's ``similarity``: ``cosine`` (:func:`nt_xent`), or
    ``l1`` / ``l2`` (:func:`lp_info_nce` with p = 1 / 2)."""
    if similarity == "cosine":
        return nt_xent(z1, z2, temperature)
    if similarity not in SIMILARITY_EXPONENTS:
        raise ValueError(f"unknown similarity {similarity!r}; known: cosine, l1, l2")
    return lp_info_nce(z1, z2, temperature, SIMILARITY_EXPONENTS[similarity])


def _contrast(logits: Tensor) -> Tensor:
    """The mean cross entropy of each of 2B views picking its partner (row i ↔ row B + i) among
    the other 2B − 1, from the 2B × 2B similarity ``logits``, whose diagonal it overwrites."""
    logits.fill_diagonal_(float("-inf"))
    batch = len(logits) // 2
    # built on the device itself: a host-to-device copy would wait for the GPU every step
    partners = torch.arange(2 * batch, device=logits.device).roll(batch)
    return F.cross_entropy(logits, partners)


VICREG_EPSILON = 1e-4  # ε inside the variance term's standard deviation (Bardes et al. 2022)
VICREG_STD_TARGET = 1.0  # γ, the standard deviation each dimension is pushed up to
BARLOW_EPSILON = 1e-5  # added to each dimension's batch variance, as nn.BatchNorm1d does


def _off_diagonal(matrix: Tensor) -> Tensor:
    """The d(d − 1) off-diagonal entries of a square ``matrix``, flattened."""
    return matrix[~torch.eye(matrix.shape[0], dtype=torch.bool, device=matrix.device)]


def vicreg(
    z1: Tensor,
    z2: Tensor,
    vicreg_invariance_weight: float,
    vicreg_variance_weight: float,
    vicreg_covariance_weight: float,
) -> Tensor:
    """VICReg, Variance-Invariance-Covariance Regularization (Bardes, Ponce, LeCun 2022,
    arXiv 2105.04906, eq. 6 and Algorithm 1).

    For n × d batches Z = ``z1`` and Z' = ``z2``, with λ, μ, ν the three weights::

        ℓ = λ s(Z, Z') + μ [v(Z) + v(Z')] / 2 + ν [c(Z) + c(Z')]
        s(Z, Z') = 1/(n d) Σ_i ‖z_i − z'_i‖²                  (mean squared error)
        v(Z) = 1/d Σ_j max(0, γ − sqrt(Var(z^j) + ε))         (γ = 1, ε = 1e-4)
        c(Z) = 1/d Σ_{i≠j} C(Z)_ij²,  C(Z) = 1/(n − 1) Σ_i (z_i − z̄)(z_i − z̄)ᵀ

    Var is the unbiased variance of dimension j over the batch. The invariance term
    is the mean squared error of Algorithm 1 (eq. 5 without its 1/d). The weights
    λ = μ = 25, ν = 1 were tuned with the official code (facebookresearch/vicreg), which
    averages the two branches' variance hinges and sums their covariance terms; this loss
    follows it. Eq. 6 of the paper writes μ [v(Z) + v(Z')], so its variance term is twice
    this one: the paper's loss is this one with μ doubled.
    """
    invariance = F.mse_loss(z1, z2)
    variance = z1.new_zeros(())
    covariance = z1.new_zeros(())
    for z in (z1, z2):
        n, d = z.shape
        std = torch.sqrt(z.var(dim=0) + VICREG_EPSILON)
        variance = variance + F.relu(VICREG_STD_TARGET - std).mean() / 2
        centred = z - z.mean(dim=0)
        cov = centred.T @ centred / (n - 1)
        covariance = covariance + _off_diagonal(cov).pow(2).sum() / d
    return (
        vicreg_invariance_weight * invariance
        + vicreg_variance_weight * variance
        + vicreg_covariance_weight * covariance
    )


def barlow_twins(z1: Tensor, z2: Tensor, barlow_off_diagonal_weight: float) -> Tensor:
    """Barlow Twins' redundancy-reduction loss (Zbontar et al. 2021, arXiv 2103.03230,
    eqs. 1–2 and Algorithm 1).

    Each dimension of each branch is standardised over the batch, as a BatchNorm
    without affine parameters does, z̃^j = (z^j − mean) / sqrt(Var(z^j) + ε) with the
    biased variance and ε = 1e-5; the d × d cross-correlation of the branches is
    C = Z̃ᵀ Z̃' / n, the Pearson correlation of eq. 2 up to ε; and with
    λ = ``barlow_off_diagonal_weight``::

        ℓ = Σ_i (1 − C_ii)² + λ Σ_i Σ_{j≠i} C_ij²

    The first term makes the two views' embeddings agree dimension by dimension, the
    second decorrelates the dimensions (redundancy reduction).
    """
    n = z1.shape[0]
    z1, z2 = (
        (z - z.mean(dim=0)) / torch.sqrt(z.var(dim=0, unbiased=False) + BARLOW_EPSILON)
        for z in (z1, z2)
    )
    c = z1.T @ z2 / n
    on_diagonal = (1 - torch.diagonal(c)).pow(2).sum()
    off_diagonal = _off_diagonal(c).pow(2).sum()
    return on_diagonal + barlow_off_diagonal_weight * off_diagonal


def symmetric_cosine(p1: Tensor, p2: Tensor, t1: Tensor, t2: Tensor) -> Tensor:
    """mean_i cos(p1_i, sg(t2_i)) + mean_i cos(p2_i, sg(t1_i)): each view's prediction
    against the other view's target, no gradient reaching the targets (sg, stop-gradient)."""
    return (
        F.cosine_similarity(p1, t2.detach(), dim=1).mean()
        + F.cosine_similarity(p2, t1.detach(), dim=1).mean()
    )


def byol(q1: Tensor, q2: Tensor, t1: Tensor, t2: Tensor) -> Tensor:
    """BYOL's symmetrised loss (Grill et al. 2020, arXiv 2006.07733, eq. 2 and its
    symmetrisation): for the online predictions q of each view and the target network's
    projections t of the other view, ‖q̄ − t̄‖² = 2 − 2 cos(q, t) with q̄, t̄ unit vectors,
    averaged over the batch and summed over the two orderings::

        ℓ = mean_i [2 − 2 cos(q1_i, sg(t2_i))] + mean_i [2 − 2 cos(q2_i, sg(t1_i))]

    It lies in [0, 8]."""
    return 4 - 2 * symmetric_cosine(q1, q2, t1, t2)


def simsiam(p1: Tensor, p2: Tensor, z1: Tensor, z2: Tensor) -> Tensor:
    """SimSiam's symmetrised negative cosine similarity (Chen & He 2021, arXiv 2011.10566,
    eq. 2 with the stop-gradient of eq. 3), for predictions p and projections z::

        ℓ = −1/2 [mean_i cos(p1_i, sg(z2_i)) + mean_i cos(p2_i, sg(z1_i))]

    It lies in [−1, 1]."""
    return -symmetric_cosine(p1, p2, z1, z2) / 2


LOSSES = {"simclr": info_nce, "vicreg": vicreg, "barlow": barlow_twins}


def loss_from_settings(method: str, settings: dict) -> Callable[[Tensor, Tensor], Tensor]:
    """The pairwise loss of ``method`` with its hyper-parameters taken from ``settings`` by
    name."""
    if method not in LOSSES:
        raise ValueError(f"unknown pairwise loss {method!r}; known: {sorted(LOSSES)}")
    loss = LOSSES[method]
    names = list(inspect.signature(loss).parameters)[2:]
    return functools.partial(loss, **{name: settings[name] for name in names})
