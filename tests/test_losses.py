"""The SimCLR, VICReg, Barlow Twins, BYOL and SimSiam losses against direct loop
implementations, and the loss registry."""

import inspect
import math

import pytest
import torch
import yaml
from conftest import REPO

from sslgeom.training.losses import (
    LOSSES,
    barlow_twins,
    byol,
    info_nce,
    loss_from_settings,
    lp_info_nce,
    nt_xent,
    simsiam,
    vicreg,
)
from sslgeom.training.methods import METHODS

torch.set_num_threads(1)


def random_pair(batch: int = 6, dim: int = 5, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    z1 = torch.randn(batch, dim, generator=generator, dtype=torch.float64)
    z2 = torch.randn(batch, dim, generator=generator, dtype=torch.float64)
    return z1, z2


def cosine(u: torch.Tensor, v: torch.Tensor) -> float:
    return float(u @ v / (u.norm() * v.norm()))


def nt_xent_loop(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> float:
    """Mean over the 2B anchors of −log(exp(s(i, partner)/τ) / Σ_{k≠i} exp(s(i, k)/τ))."""
    views = list(z1) + list(z2)
    batch = len(z1)
    total = 0.0
    for i, anchor in enumerate(views):
        partner = (i + batch) % (2 * batch)
        numerator = math.exp(cosine(anchor, views[partner]) / temperature)
        denominator = sum(
            math.exp(cosine(anchor, other) / temperature) for k, other in enumerate(views) if k != i
        )
        total += -math.log(numerator / denominator)
    return total / (2 * batch)


@pytest.mark.parametrize("temperature", [0.1, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_nt_xent_matches_loop_reference(temperature, seed):
    z1, z2 = random_pair(seed=seed)
    assert nt_xent(z1, z2, temperature).item() == pytest.approx(
        nt_xent_loop(z1, z2, temperature), rel=1e-10
    )


def test_nt_xent_is_invariant_to_the_scale_of_each_row():
    z1, z2 = random_pair()
    scales = torch.arange(1, 7, dtype=torch.float64)[:, None]
    assert torch.allclose(nt_xent(z1 * scales, z2 / scales, 0.5), nt_xent(z1, z2, 0.5))


def test_aligned_well_separated_pairs_reach_the_minimum():
    batch, temperature = 4, 0.1
    z = torch.eye(batch, dtype=torch.float64)  # orthogonal anchors, partner = itself
    aligned = nt_xent(z, z.clone(), temperature).item()
    # Partner similarity 1, the 2B − 2 negatives 0: −log(e^10 / (e^10 + 2B − 2)) ≈ 0, the floor.
    expected = -math.log(math.e**10 / (math.e**10 + 2 * batch - 2))
    assert aligned == pytest.approx(expected, rel=1e-12)
    z1, z2 = random_pair(batch=batch, dim=batch)
    assert aligned < 0.01 < nt_xent(z1, z2, temperature).item()


def test_gradients_to_both_views_match_finite_differences():
    z1, z2 = (z.requires_grad_() for z in random_pair())
    assert torch.autograd.gradcheck(lambda a, b: nt_xent(a, b, 0.5), (z1, z2))


def test_loss_from_settings_takes_the_temperature_by_name():
    z1, z2 = random_pair()
    settings = {"temperature": 0.5, "similarity": "cosine", "lr": 3.0, "epochs": 2}
    assert torch.equal(loss_from_settings("simclr", settings)(z1, z2), nt_xent(z1, z2, 0.5))
    settings["similarity"] = "l1"
    assert torch.equal(loss_from_settings("simclr", settings)(z1, z2), lp_info_nce(z1, z2, 0.5, 1))


def lp_info_nce_loop(z1: torch.Tensor, z2: torch.Tensor, temperature: float, p: int) -> float:
    """Mean over the 2B anchors of −log(e^{s(i, partner)} / Σ_{k≠i} e^{s(i, k)}), with
    s(i, k) = −Σ_j |v_ij − v_kj|^p / τ computed entry by entry."""
    views = [list(map(float, row)) for row in torch.cat([z1, z2])]
    batch = len(z1)

    def similarity(u, v):
        return -sum(abs(a - b) ** p for a, b in zip(u, v, strict=True)) / temperature

    total = 0.0
    for i, anchor in enumerate(views):
        partner = views[(i + batch) % (2 * batch)]
        others = [math.exp(similarity(anchor, v)) for k, v in enumerate(views) if k != i]
        total += -math.log(math.exp(similarity(anchor, partner)) / sum(others))
    return total / (2 * batch)


def cl_ica_lp_loss(anchors, positives, negatives, p, tau):
    """The per-anchor loss of cl-ica's ``LpSimCLRLoss`` (brendel-group/cl-ica, losses.py; α =
    1/2, ``simclr_compatibility_mode``, ``pow``), written from its formula:
    2 (α pos/τ + (1 − α) logsumexp(−[neg, pos]/τ)) with pos = ‖a − a⁺‖_p^p and neg the
    rows' ‖a − n_k‖_p^p; here ``negatives`` holds each anchor's own list of negatives."""
    pos = torch.norm(anchors - positives, p=p, dim=-1).pow(p)
    neg = torch.norm(anchors[:, None] - negatives, p=p, dim=-1).pow(p)
    neg_and_pos = torch.cat((neg, pos[:, None]), dim=1)
    alpha = 0.5
    return 2 * (alpha * pos / tau + (1 - alpha) * torch.logsumexp(-neg_and_pos / tau, dim=1))


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("temperature", [0.05, 1.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_lp_info_nce_matches_loop_and_cl_ica_formula(p, temperature, seed):
    z1, z2 = random_pair(seed=seed)
    loss = lp_info_nce(z1, z2, temperature, p).item()
    assert loss == pytest.approx(lp_info_nce_loop(z1, z2, temperature, p), rel=1e-10)
    # cl-ica's formula with the negatives this loss uses: every view but the anchor and its partner
    views, batch = torch.cat([z1, z2]), len(z1)
    partners = torch.arange(2 * batch).roll(batch)
    negatives = torch.stack(
        [
            views[[k for k in range(2 * batch) if k not in (i, int(partners[i]))]]
            for i in range(2 * batch)
        ]
    )
    reference = cl_ica_lp_loss(views, views[partners], negatives, p, temperature).mean()
    assert loss == pytest.approx(reference.item(), rel=1e-10)


def test_lp_info_nce_sees_distances_only_and_cosine_sees_directions_only():
    z1, z2 = random_pair()
    shift = torch.linspace(-3, 3, z1.shape[1], dtype=torch.float64)
    for p in (1, 2):
        assert lp_info_nce(z1 + shift, z2 + shift, 0.5, p).item() == pytest.approx(
            lp_info_nce(z1, z2, 0.5, p).item(), rel=1e-12
        )
    assert info_nce(z1, z2, 0.5, "cosine").item() == nt_xent(z1, z2, 0.5).item()
    with pytest.raises(ValueError, match="unknown similarity 'l3'"):
        info_nce(z1, z2, 0.5, "l3")


@pytest.mark.parametrize("p", [1, 2])
def test_lp_info_nce_gradients_match_finite_differences(p):
    z1, z2 = (z.requires_grad_() for z in random_pair())
    assert torch.autograd.gradcheck(lambda a, b: lp_info_nce(a, b, 0.5, p), (z1, z2))


@pytest.mark.parametrize("method", ["moco", "byol"])  # unknown, and not a pairwise loss
def test_loss_from_settings_rejects_what_is_not_a_pairwise_loss(method):
    with pytest.raises(ValueError, match=f"unknown pairwise loss '{method}'"):
        loss_from_settings(method, {"temperature": 0.5})


VICREG_WEIGHTS = {
    "vicreg_invariance_weight": 25.0,
    "vicreg_variance_weight": 25.0,
    "vicreg_covariance_weight": 1.0,
}
BARLOW_WEIGHTS = {"barlow_off_diagonal_weight": 1 / 32}


def column(z: torch.Tensor, j: int) -> list[float]:
    return [float(row[j]) for row in z]


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def vicreg_loop(z1, z2, invariance_weight, variance_weight, covariance_weight) -> float:
    """λ·(1/nd)Σ_i‖z_i − z'_i‖² + Σ_branches [(μ/2)·(1/d)Σ_j max(0, 1 − sqrt(Var_j + 1e-4))
    + ν·(1/d)Σ_{j≠k} Cov_jk²], variances and covariances unbiased, entry by entry: the
    official code's mean of the two branches' variance hinges and sum of their covariance
    terms."""
    n, d = z1.shape
    invariance = sum(float(z1[i, j] - z2[i, j]) ** 2 for i in range(n) for j in range(d)) / (n * d)
    variance = covariance = 0.0
    for z in (z1, z2):
        columns = [column(z, j) for j in range(d)]
        means = [mean(values) for values in columns]

        def cov(j, k, columns=columns, means=means):
            return sum(
                (columns[j][i] - means[j]) * (columns[k][i] - means[k]) for i in range(n)
            ) / (n - 1)

        variance += sum(max(0.0, 1.0 - math.sqrt(cov(j, j) + 1e-4)) for j in range(d)) / d / 2
        covariance += sum(cov(j, k) ** 2 for j in range(d) for k in range(d) if j != k) / d
    return (
        invariance_weight * invariance + variance_weight * variance + covariance_weight * covariance
    )


def barlow_loop(z1, z2, off_diagonal_weight) -> float:
    """Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij², C the batch cross-correlation of the dimensions
    standardised with their biased variance + 1e-5 (BatchNorm without affine)."""
    n, d = z1.shape

    def standardised(z):
        out = []
        for j in range(d):
            values = column(z, j)
            m = mean(values)
            std = math.sqrt(mean([(v - m) ** 2 for v in values]) + 1e-5)
            out.append([(v - m) / std for v in values])
        return out

    a, b = standardised(z1), standardised(z2)
    total = 0.0
    for i in range(d):
        for j in range(d):
            c = sum(a[i][k] * b[j][k] for k in range(n)) / n
            total += (1 - c) ** 2 if i == j else off_diagonal_weight * c**2
    return total


def hadamard_views(batch: int = 8, dim: int = 4) -> torch.Tensor:
    """``dim`` columns of a Hadamard matrix, all but the constant one: entries ±1, each of
    mean 0 and biased variance 1, pairwise orthogonal — standardised and decorrelated."""
    h = torch.ones(1, 1, dtype=torch.float64)
    while h.shape[0] < batch:
        h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)])
    return h[:, 1 : dim + 1].clone()


@pytest.mark.parametrize(
    "weights",
    [(25.0, 25.0, 1.0), (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (2.0, 3.0, 5.0)],
)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vicreg_matches_loop_reference(weights, seed):
    z1, z2 = random_pair(seed=seed)
    z1 = z1 * 0.7  # some dimensions' std below 1 and some above, so the hinge is exercised
    assert vicreg(z1, z2, *weights).item() == pytest.approx(
        vicreg_loop(z1, z2, *weights), rel=1e-10
    )


@pytest.mark.parametrize("off_diagonal_weight", [0.0, 5e-3, 1 / 32, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_barlow_matches_loop_reference(off_diagonal_weight, seed):
    z1, z2 = random_pair(seed=seed)
    assert barlow_twins(z1, z2, off_diagonal_weight).item() == pytest.approx(
        barlow_loop(z1, z2, off_diagonal_weight), rel=1e-10
    )


def test_vicreg_of_identical_decorrelated_wide_views_is_zero():
    z = hadamard_views()  # unbiased std sqrt(8/7) > 1, zero covariances, equal views
    assert vicreg(z, z.clone(), **VICREG_WEIGHTS).item() == 0.0


def test_vicreg_invariance_term_is_zero_for_identical_views_and_the_mse_otherwise():
    z1, z2 = random_pair()
    only_invariance = {**VICREG_WEIGHTS, "vicreg_variance_weight": 0, "vicreg_covariance_weight": 0}
    assert vicreg(z1, z1.clone(), **only_invariance).item() == 0.0
    expected = 25 * ((z1 - z2) ** 2).mean().item()
    assert vicreg(z1, z2, **only_invariance).item() == pytest.approx(expected, rel=1e-12)


def test_vicreg_variance_term_of_collapsed_views():
    z = torch.ones(6, 5, dtype=torch.float64)  # every dimension constant: std sqrt(ε) = 0.01
    only_variance = {**VICREG_WEIGHTS, "vicreg_invariance_weight": 0}
    # Each branch 1/d Σ_j max(0, 1 − 0.01) = 0.99, averaged over the two; covariances are zero.
    assert vicreg(z, z.clone(), **only_variance).item() == pytest.approx(25 * 0.99, rel=1e-12)


def test_barlow_of_identical_decorrelated_standardised_views_is_zero_but_for_epsilon():
    z = hadamard_views()
    # C = I / (1 + ε): the only residue is d (1 − 1/(1 + ε))² ≈ d ε² from the normalisation.
    expected = 4 * (1 - 1 / (1 + 1e-5)) ** 2
    assert barlow_twins(z, z.clone(), 1 / 32).item() == pytest.approx(expected, rel=1e-9)
    assert barlow_twins(z, z.clone(), 1 / 32).item() < 1e-9


def test_barlow_is_invariant_to_the_shift_and_scale_of_each_dimension():
    z1, z2 = random_pair()
    scales = torch.arange(1, 6, dtype=torch.float64)
    # Scales ≥ 1, so the ε added to each variance (≈1e-5 of it) stays negligible.
    shifted = barlow_twins(z1 * scales + 3.0, z2 * scales.flip(0) - 1.0, 0.1)
    assert shifted.item() == pytest.approx(barlow_twins(z1, z2, 0.1).item(), rel=1e-4)


def test_barlow_penalises_swapped_dimensions_on_the_diagonal_only():
    z = hadamard_views()
    swapped = z[:, [1, 0, 2, 3]]  # C_01 = C_10 = 1/(1 + ε), C_00 = C_11 = 0
    loss = barlow_twins(z, swapped, 0.5).item()
    c = 1 / (1 + 1e-5)
    assert loss == pytest.approx(2 * 1 + 2 * (1 - c) ** 2 + 0.5 * 2 * c**2, rel=1e-9)


@pytest.mark.parametrize("method", ["vicreg", "barlow"])
def test_gradients_of_the_peer_losses_match_finite_differences(method):
    z1, z2 = random_pair()
    z1 = z1 * 0.7  # some variance hinges active, so that VICReg's variance term has a gradient
    loss = loss_from_settings(method, {**VICREG_WEIGHTS, **BARLOW_WEIGHTS})
    assert torch.autograd.gradcheck(loss, (z1.requires_grad_(), z2.requires_grad_()))


def test_loss_from_settings_binds_each_methods_weights_and_ignores_the_others():
    z1, z2 = random_pair()
    settings = {
        "temperature": 0.5,
        "similarity": "cosine",
        "lr": 3.0,
        "vicreg_invariance_weight": 2.0,
        "vicreg_variance_weight": 3.0,
        "vicreg_covariance_weight": 5.0,
        "barlow_off_diagonal_weight": 0.25,
    }
    assert set(LOSSES) == {"simclr", "vicreg", "barlow"}
    assert torch.equal(loss_from_settings("simclr", settings)(z1, z2), nt_xent(z1, z2, 0.5))
    assert torch.equal(
        loss_from_settings("vicreg", settings)(z1, z2),
        vicreg(
            z1,
            z2,
            vicreg_invariance_weight=2.0,
            vicreg_variance_weight=3.0,
            vicreg_covariance_weight=5.0,
        ),
    )
    assert torch.equal(
        loss_from_settings("barlow", settings)(z1, z2),
        barlow_twins(z1, z2, barlow_off_diagonal_weight=0.25),
    )
    # Only the chosen method's keys are needed: no temperature for VICReg or Barlow Twins.
    assert loss_from_settings("barlow", BARLOW_WEIGHTS)(z1, z2).item() == pytest.approx(
        barlow_twins(z1, z2, 1 / 32).item()
    )
    with pytest.raises(KeyError, match="vicreg_covariance_weight"):
        loss_from_settings("vicreg", {"vicreg_invariance_weight": 1, "vicreg_variance_weight": 1})


def test_run_schema_offers_every_method_with_the_papers_defaults():
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "run.schema.yaml").read_text())
    properties = schema["properties"]
    assert properties["method"]["enum"] == list(METHODS)
    assert set(LOSSES) < set(METHODS)
    for name in LOSSES.values():
        for parameter in list(inspect.signature(name).parameters)[2:]:
            assert "default" in properties[parameter], parameter
    assert properties["vicreg_invariance_weight"]["default"] == 25
    assert properties["vicreg_variance_weight"]["default"] == 25
    assert properties["vicreg_covariance_weight"]["default"] == 1
    assert properties["barlow_off_diagonal_weight"]["default"] == 5e-3  # Zbontar et al. 2021
    assert properties["byol_momentum"]["default"] == 0.996  # Grill et al. 2020


def predictive_loop(p1, p2, t1, t2) -> tuple[float, float]:
    """(BYOL, SimSiam) sample by sample: BYOL Σ over the two orderings of the batch mean of
    ‖p/‖p‖ − t/‖t‖‖², SimSiam −1/2 Σ over the orderings of the batch mean of cos(p, t)."""
    squared_distance = cosines = 0.0
    for predictions, targets in ((p1, t2), (p2, t1)):
        for p, t in zip(predictions, targets, strict=True):
            unit_p, unit_t = p / p.norm(), t / t.norm()
            squared_distance += float(((unit_p - unit_t) ** 2).sum()) / len(p1)
            cosines += cosine(p, t) / len(p1)
    return squared_distance, -cosines / 2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_byol_and_simsiam_match_loop_references(seed):
    p1, p2 = random_pair(seed=seed)
    t1, t2 = random_pair(seed=seed + 10)
    expected_byol, expected_simsiam = predictive_loop(p1, p2, t1, t2)
    assert byol(p1, p2, t1, t2).item() == pytest.approx(expected_byol, rel=1e-10)
    assert simsiam(p1, p2, t1, t2).item() == pytest.approx(expected_simsiam, rel=1e-10)


def test_byol_and_simsiam_reach_their_minimum_when_predictions_point_at_the_targets():
    t1, t2 = random_pair()
    scales = torch.arange(1, 7, dtype=torch.float64)[:, None]
    # Each prediction a positive multiple of the other view's target: every cosine is 1.
    assert byol(t2 * scales, t1 / scales, t1, t2).item() == pytest.approx(0.0, abs=1e-12)
    assert simsiam(t2 * scales, t1 / scales, t1, t2).item() == pytest.approx(-1.0, rel=1e-12)
    # Pointing away: every cosine is −1, BYOL's 2 − 2·(−1) = 4 per ordering.
    assert byol(-t2, -t1, t1, t2).item() == pytest.approx(8.0, rel=1e-12)


@pytest.mark.parametrize("loss", [byol, simsiam])
def test_no_gradient_reaches_the_stop_gradient_targets(loss):
    p1, p2 = (p.requires_grad_() for p in random_pair())
    t1, t2 = (t.requires_grad_() for t in random_pair(seed=3))
    loss(p1, p2, t1, t2).backward()
    assert t1.grad is None and t2.grad is None
    assert p1.grad.abs().sum() > 0 and p2.grad.abs().sum() > 0


@pytest.mark.parametrize("loss", [byol, simsiam])
def test_gradients_of_the_predictive_losses_match_finite_differences(loss):
    p1, p2 = (p.requires_grad_() for p in random_pair())
    t1, t2 = random_pair(seed=3)
    assert torch.autograd.gradcheck(lambda a, b: loss(a, b, t1, t2), (p1, p2))
