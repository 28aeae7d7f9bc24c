"""The SimCLR loss against a direct per-anchor implementation, and the loss registry."""

import math

import pytest
import torch

from sslgeom.losses import loss_from_settings, nt_xent

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


def test_gradients_flow_to_both_views():
    z1, z2 = (z.requires_grad_() for z in random_pair())
    nt_xent(z1, z2, 0.5).backward()
    for z in (z1, z2):
        assert z.grad is not None
        assert torch.isfinite(z.grad).all()
        assert z.grad.abs().sum() > 0


def test_loss_from_settings_takes_the_temperature_by_name():
    z1, z2 = random_pair()
    loss = loss_from_settings("simclr", {"temperature": 0.5, "lr": 3.0, "epochs": 2})
    assert torch.equal(loss(z1, z2), nt_xent(z1, z2, temperature=0.5))


def test_loss_from_settings_rejects_unknown_method():
    with pytest.raises(ValueError, match="'byol'"):
        loss_from_settings("byol", {"temperature": 0.5})
