"""Conditionals of latent views: latents drawn around given ones, and the vectors' mixing
network, as torch functions for the view samplers (:mod:`sslgeom.training.views`).

All randomness comes from torch's global generator on the device of the inputs, which
training checkpoints, so a resumed run draws the same views.

Wood, "Simulation of the von Mises Fisher distribution", Communications in Statistics —
Simulation and Computation 23(1), 157–164, 1994.
"""

import math

import torch

from sslgeom.data.shapes import STYLE_RANGES
from sslgeom.data.vectors import mixing_weights


def resample_latents(latents: torch.Tensor, indices: list[int], names: list[str]) -> torch.Tensor:
    """A copy of ``latents`` (n × len(names)) whose columns ``indices`` are drawn anew from
    their uniform priors, from torch's global generator; the other columns are kept."""
    resampled = latents.clone()
    for index in indices:
        low, high = STYLE_RANGES[names[index]]
        draw = torch.rand(len(latents), dtype=latents.dtype, device=latents.device)
        resampled[:, index] = low + (high - low) * draw
    return resampled


def mixing_network(
    dim: int,
    n_layers: int,
    seed: int,
    n_candidates: int = 1000,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> list[torch.Tensor]:
    """:func:`~sslgeom.data.vectors.mixing_weights` as tensors of ``dtype`` on ``device``,
    ready for :func:`sslgeom.data.vectors.mix`."""
    weights = mixing_weights(dim, n_layers, seed, n_candidates)
    return [torch.as_tensor(weight, dtype=dtype, device=device) for weight in weights]


def sample_vmf(mean: torch.Tensor, kappa: float) -> torch.Tensor:
    """One von Mises–Fisher sample around each unit row μ of ``mean`` (B×d), concentration κ.

    The density on S^(d−1) is proportional to exp(κ μᵀx). Following Wood (1994), the component
    w = μᵀx is drawn by rejection sampling (:func:`_sample_vmf_component`), and then
    x = w μ + √(1 − w²) v with v uniform on the unit sphere of the tangent space orthogonal
    to μ. All randomness comes from torch's global generator on the device of ``mean``, so
    ``torch.manual_seed`` reproduces the samples. Returns the dtype and device of ``mean``.
    """
    if kappa <= 0:
        raise ValueError(f"kappa must be positive, got {kappa}")
    batch, dim = mean.shape
    component = _sample_vmf_component(batch, dim, kappa, mean.device).to(mean.dtype)[:, None]
    tangent = _uniform_tangent_directions(mean)
    return component * mean + torch.sqrt(torch.clamp(1 - component**2, min=0)) * tangent


def change_style(latents: torch.Tensor, content_dim: int, change_prob: float) -> torch.Tensor:
    """The positive of von Kügelgen et al. 2021 (arXiv 2106.04619, section 5.1 without
    dependence between the latents): the first ``content_dim`` coordinates (content) are kept;
    each other coordinate (style) is, independently with probability ``change_prob``, moved by a
    standard normal step, s̃_j ~ N(s_j, 1), else kept. Randomness from torch's global generator
    on the device of ``latents``: the change mask first, then the steps."""
    if not 0 < content_dim < latents.shape[1]:
        raise ValueError(
            f"content_dim must leave content and style, 0 < content_dim < {latents.shape[1]}, "
            f"got {content_dim}"
        )
    if not 0 <= change_prob <= 1:
        raise ValueError(f"change_prob must lie in [0, 1], got {change_prob}")
    style = latents[:, content_dim:]
    changed = torch.rand(style.shape, device=latents.device) < change_prob
    steps = torch.randn_like(style)
    return torch.cat([latents[:, :content_dim], style + changed * steps], dim=1)


BOX_CONDITIONALS = ("normal", "laplace")
# the latent conditionals that live in each space of vectors latents; the first is its default
SPACE_CONDITIONALS = {"sphere": ("vmf",), "box": BOX_CONDITIONALS, "normal": ("style",)}


def sample_truncated(
    centre: torch.Tensor,
    scale: float,
    distribution: str = "normal",
    low: float = 0.0,
    high: float = 1.0,
) -> torch.Tensor:
    """One sample per entry of a normal (standard deviation ``scale``) or Laplace (scale b =
    ``scale``, density ∝ exp(−|x − centre| / b)) around ``centre``, conditioned on
    [low, high], entries independent.

    Draws every entry and redraws only the entries that fell outside [low, high] until none is
    left, entry by entry as Zimmermann et al.'s code does (``truncated_rejection_resampling``).
    Every centre must lie in [low, high], where a draw lands inside with probability at least
    about min(1/2, (high − low) / (2 · scale)), so the loop ends quickly. All randomness comes
    from torch's global generator on the device of ``centre``.
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if distribution not in BOX_CONDITIONALS:
        raise ValueError(f"unknown distribution {distribution!r}; known: normal, laplace")
    if not low < high:
        raise ValueError(f"low must be below high, got low={low}, high={high}")
    if bool(((centre < low) | (centre > high)).any()):
        raise ValueError(f"centre must lie in [{low}, {high}]")
    noise = _standard_normal if distribution == "normal" else _standard_laplace
    sample = centre + scale * noise(centre)
    outside = (sample < low) | (sample > high)
    while bool(outside.any()):
        sample[outside] = centre[outside] + scale * noise(centre[outside])
        outside = (sample < low) | (sample > high)
    return sample


def _standard_normal(like: torch.Tensor) -> torch.Tensor:
    return torch.randn_like(like)


def _standard_laplace(like: torch.Tensor) -> torch.Tensor:
    """Laplace(0, 1) draws by inverting its distribution function: for U uniform on (−½, ½),
    −sign(U) log(1 − 2|U|)."""
    uniform = torch.rand_like(like) - 0.5
    return -torch.sign(uniform) * torch.log1p(-2 * uniform.abs())


def _sample_vmf_component(batch: int, dim: int, kappa: float, device: torch.device) -> torch.Tensor:
    """``batch`` draws (float64) of w = μᵀx for x ~ vMF(μ, κ) on S^(dim−1), by Wood (1994).

    With b = (d − 1) / (2κ + √(4κ² + (d − 1)²)) (Wood's (−2κ + √(4κ² + (d − 1)²)) / (d − 1)
    without its cancellation at large κ), x₀ = (1 − b) / (1 + b) and
    c = κ x₀ + (d − 1) log(1 − x₀²): propose w = (1 − (1 + b) Z) / (1 − (1 − b) Z) with
    Z ~ Beta((d − 1) / 2, (d − 1) / 2), and accept it when
    κ w + (d − 1) log(1 − x₀ w) − c ≥ log U for U ~ Uniform(0, 1). Only rejected rows are
    redrawn. Runs in float64 so the acceptance test stays exact at large κ.
    """
    b = (dim - 1) / (2 * kappa + math.sqrt(4 * kappa**2 + (dim - 1) ** 2))
    x0 = (1 - b) / (1 + b)
    # 1 − x₀² = 4b / (1 + b)², written so that it stays accurate when x₀ is close to 1.
    c = kappa * x0 + (dim - 1) * (math.log(4 * b) - 2 * math.log1p(b))
    half = torch.tensor((dim - 1) / 2, dtype=torch.float64, device=device)
    beta = torch.distributions.Beta(half, half)
    component = torch.empty(batch, dtype=torch.float64, device=device)
    pending = torch.arange(batch, device=device)
    while pending.numel() > 0:
        z = beta.sample((pending.numel(),))
        uniform = torch.rand(pending.numel(), dtype=torch.float64, device=device)
        proposal = (1 - (1 + b) * z) / (1 - (1 - b) * z)
        log_ratio = kappa * proposal + (dim - 1) * torch.log1p(-x0 * proposal) - c
        accepted = log_ratio >= torch.log(uniform)
        component[pending[accepted]] = proposal[accepted]
        pending = pending[~accepted]
    return component


def _uniform_tangent_directions(mean: torch.Tensor) -> torch.Tensor:
    """A unit vector per row, uniform among those orthogonal to that row of ``mean``."""
    gaussians = torch.randn_like(mean)
    tangent = gaussians - (gaussians * mean).sum(dim=1, keepdim=True) * mean
    return tangent / torch.linalg.norm(tangent, dim=1, keepdim=True)
