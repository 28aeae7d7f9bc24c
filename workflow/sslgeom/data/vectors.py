"""The numerical benchmark of Zimmermann et al. (2021): latents pushed through a random MLP.

Zimmermann, Sharma, Schneider, Bethge & Brendel, "Contrastive learning inverts the data
generating process", ICML 2021 (arXiv 2102.08850), test whether contrastive learning recovers
known latents from their observations. Their MLP-mixing experiments draw latents z uniformly
either on the unit sphere S^(n−1) or in a box (here the unit cube [0, 1]^n), and observe
x = g(z), where g is a fixed, random, invertible multilayer perceptron: square, well-conditioned
weight matrices with leaky ReLUs between them and no biases. von Kügelgen et al. 2021
(arXiv 2106.04619) use the same mixing on standard normal latents split into content and style.

:func:`make_vectors` stores the latents and the observations. The positive pairs of training
are not stored: the view sampler draws them during training from a conditional around each
latent and pushes them through the same g — a von Mises–Fisher distribution on the sphere, a
truncated normal or Laplace one in the box, a change of style for normal latents
(:mod:`sslgeom.training.conditionals`).

The latents carry no classes, so the class label of a sample is the index of its largest latent
coordinate: a target derived from z that gives the pipeline's linear and k-NN probes something to
predict.

"""

import re

import numpy as np

from sslgeom.data.io import Dataset

LATENT_SPACES = ("sphere", "box", "normal")
# The negative slope of the leaky ReLUs between the mixing layers, as in the paper's code.
MIXING_SLOPE = 0.2


def sample_marginal(n: int, dim: int, space: str, rng: np.random.Generator) -> np.ndarray:
    """``n`` latents (float64, n×dim) drawn from ``space``.

    ``"sphere"``: uniform on the unit sphere S^(dim−1), as standard Gaussian vectors divided by
    their norms. ``"box"``: uniform in the unit cube [0, 1]^dim. ``"normal"``: standard
    normal, coordinates independent (von Kügelgen et al. 2021's content and style latents
    without dependence between them).
    """
    _check_space(space)
    if space == "box":
        return rng.uniform(0.0, 1.0, size=(n, dim))
    gaussians = rng.standard_normal((n, dim))
    if space == "normal":
        return gaussians
    return gaussians / np.linalg.norm(gaussians, axis=1, keepdims=True)


def mixing_weights(
    dim: int, n_layers: int, seed: int, n_candidates: int = 1000
) -> list[np.ndarray]:
    """The ``n_layers`` square weight matrices (float64, dim×dim) of the mixing network g.

    Each matrix is the best-conditioned of ``n_candidates`` random candidates, whose entries are
    uniform in (−1, 1) and whose columns are then scaled to unit L2 norm; "best" is the smallest
    condition number ``np.linalg.cond``. The paper's code (``construct_invertible_mlp`` as its
    ``main_mlp.py`` calls it) takes the smallest condition number of 25,000 such draws as a
    threshold and then draws each layer until one falls below it: about the best of 25,000
    draws per layer, which ``n_candidates=25000`` gives. Deterministic: all draws come from
    ``np.random.default_rng(seed)``.
    """
    rng = np.random.default_rng(seed)
    return [_best_conditioned_matrix(dim, n_candidates, rng) for _ in range(n_layers)]


def mix(latents, weights: list):
    """The observations x = W_L σ(W_(L−1) ⋯ σ(W_1 z)) of the latents z (rows of ``latents``).

    σ is the leaky ReLU of negative slope ``MIXING_SLOPE``, applied between layers but not after
    the last; there are no biases. Takes numpy arrays or torch tensors (latents and weights
    alike) and keeps their device and dtype.
    """
    hidden = latents @ weights[0].T
    for weight in weights[1:]:
        hidden = (hidden.clip(min=0) + MIXING_SLOPE * hidden.clip(max=0)) @ weight.T
    return hidden


def unmix(observations: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    """The latents z with :func:`mix` (z, ``weights``) = ``observations`` (numpy, float64):
    g undone layer by layer.

    Each layer h ↦ h Wᵀ is undone by solving against W, each leaky ReLU by
    σ⁻¹(h) = h for h ≥ 0 and h / ``MIXING_SLOPE`` for h < 0.
    """
    hidden = np.linalg.solve(weights[-1], np.asarray(observations, dtype=np.float64).T).T
    for weight in reversed(weights[:-1]):
        hidden = np.where(hidden >= 0, hidden, hidden / MIXING_SLOPE)
        hidden = np.linalg.solve(weight, hidden.T).T
    return hidden


def make_vectors(
    n_train: int,
    n_test: int,
    seed: int,
    latent_dim: int = 10,
    space: str = "sphere",
    mixing_layers: int = 3,
    mixing_seed: int = 0,
    mixing_candidates: int = 1000,
    content_latents: int | None = None,
) -> Dataset:
    """Latents uniform in ``space`` and their observations x = g(z) (float32, N×latent_dim).

    The latents come from ``np.random.default_rng(seed)`` (train, then test); g is the network
    of :func:`mixing_weights` (``latent_dim``, ``mixing_layers``, ``mixing_seed``,
    ``mixing_candidates``), applied in
    float64. The labels are the index of each latent's largest coordinate. Normal latents
    need ``content_latents``: the leading ones are content, named ``c1``, ``c2``, …, the rest
    style, ``s1``, ``s2``, …; other latents are named ``z1``, ``z2``, ….
    """
    if latent_dim < 2:
        raise ValueError(f"latent_dim must be at least 2, got {latent_dim}")
    if mixing_candidates < 1:
        raise ValueError(f"mixing_candidates must be at least 1, got {mixing_candidates}")
    if mixing_layers < 1:
        raise ValueError(f"mixing_layers must be at least 1, got {mixing_layers}")
    _check_space(space)
    rng = np.random.default_rng(seed)
    train_latents = sample_marginal(n_train, latent_dim, space, rng)
    test_latents = sample_marginal(n_test, latent_dim, space, rng)
    weights = mixing_weights(latent_dim, mixing_layers, mixing_seed, mixing_candidates)
    latent_names = _latent_names(latent_dim, space, content_latents)
    return Dataset(
        name="vectors",
        train_images=observe(train_latents, weights),
        train_labels=np.argmax(train_latents, axis=1).astype(np.int64),
        test_images=observe(test_latents, weights),
        test_labels=np.argmax(test_latents, axis=1).astype(np.int64),
        train_latents=train_latents.astype(np.float32),
        test_latents=test_latents.astype(np.float32),
        latent_names=latent_names,
        class_names=tuple(f"{name} largest" for name in latent_names),
        generator={
            "kind": "vectors",
            "space": space,
            "latent_dim": latent_dim,
            "mixing_layers": mixing_layers,
            "mixing_seed": mixing_seed,
            "mixing_candidates": mixing_candidates,
            "content_latents": content_latents,
        },
    )


def _latent_names(dim: int, space: str, content_latents: int | None) -> tuple[str, ...]:
    if (space == "normal") != (content_latents is not None):
        raise ValueError("content_latents is required for normal latents and only for them")
    if content_latents is None:
        return tuple(f"z{index + 1}" for index in range(dim))
    if not 0 < content_latents < dim:
        raise ValueError(
            f"content_latents must leave content and style, 0 < content_latents < {dim}, "
            f"got {content_latents}"
        )
    content = [f"c{index + 1}" for index in range(content_latents)]
    return (*content, *(f"s{index + 1}" for index in range(dim - content_latents)))


def is_style_name(name: str) -> bool:
    """Whether ``name`` is that of a style latent of content/style vectors (s1, s2, …)."""
    return re.fullmatch(r"s\d+", name) is not None


def is_content_name(name: str) -> bool:
    """Whether ``name`` is that of a content latent of content/style vectors (c1, c2, …)."""
    return re.fullmatch(r"c\d+", name) is not None


def _check_space(space: str) -> None:
    if space not in LATENT_SPACES:
        raise ValueError(f"space must be one of {', '.join(LATENT_SPACES)}, got {space!r}")


def _best_conditioned_matrix(dim: int, n_candidates: int, rng: np.random.Generator) -> np.ndarray:
    candidates = rng.uniform(-1.0, 1.0, size=(n_candidates, dim, dim))
    candidates /= np.linalg.norm(candidates, axis=1, keepdims=True)
    return candidates[np.argmin(np.linalg.cond(candidates))]


def observe(latents: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    """The stored observations of ``latents``: :func:`mix` in float64, stored as float32."""
    return mix(latents, weights).astype(np.float32)
