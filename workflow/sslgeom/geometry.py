"""How the projector treats directions of the encoder space.

The projector g maps an encoder output h to an embedding z = g(h). Its Jacobian J(h) = ∂g/∂h
(d_z × d_h) says which directions of the encoder space reach the loss and which are shrunk.
Cosentino et al. 2022 ("Toward a geometrical understanding of self-supervised contrastive
learning", arXiv 2205.06926) argue that the projector shrinks the directions that the
augmentations move the representation along, so that the encoder can keep them. This module
measures that: the Jacobians, tangent subspaces of the encoder space (from augmentations, from
the data's neighbourhoods and, for rendered data, from each generating latent), and the
projector's sensitivity and principal angles along those subspaces.

Conventions: a basis is a stack of orthonormal columns, N × d_h × k (one basis per sample).
Every function below except :func:`projector_jacobians` returns float64 CPU tensors.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import Tensor, nn

from sslgeom.augment import views
from sslgeom.metrics.spectrum import rankme, singular_values

# --- projector Jacobian -------------------------------------------------------------------


def projector_jacobians(projector: nn.Module, h: Tensor, chunk_size: int = 256) -> Tensor:
    """The projector Jacobian J(h) = ∂g/∂h at each row of ``h`` (N × d_z × d_h).

    The Jacobian of Cosentino et al. 2022 (arXiv 2205.06926). The projector is evaluated in
    eval mode, so BatchNorm uses its running statistics and each output row depends on its own
    input row only: the gradient of output j summed over the rows is row j of every row's
    Jacobian, so d_z backward passes give them all, ``chunk_size`` rows at a time. Plain
    scalar backward passes rather than ``torch.func`` or batched gradients, whose first use
    imports TorchDynamo or symbolic shapes (about 1 s, far more than the Jacobians cost).
    Every submodule's mode is restored afterwards. The result has the dtype and device of
    ``h`` and carries no autograd graph.
    """
    chunks = []
    with _evaluating(projector), torch.enable_grad():
        for rows in h.detach().split(chunk_size):
            rows = rows.clone().requires_grad_(True)
            z = projector(rows)
            rows_of_jacobian = [
                torch.autograd.grad(z[:, j].sum(), rows, retain_graph=True)[0]
                for j in range(z.shape[1])
            ]
            chunks.append(torch.stack(rows_of_jacobian, dim=1))
    return torch.cat(chunks)


def jacobian_spectrum_stats(jacobians: Tensor) -> dict[str, np.ndarray | float]:
    """Spectral summaries of a stack of Jacobians (N × d_z × d_h).

    - ``mean_singular_values``: each sample's singular values (descending), averaged over
      samples (numpy, ``min(d_z, d_h)`` values);
    - ``stable_rank``: mean over samples of ‖J‖_F² / ‖J‖_2²;
    - ``effective_rank``: mean over samples of the RankMe entropy rank of J
      (:func:`sslgeom.metrics.spectrum.rankme`).

    Raises ValueError if some Jacobian is zero (its stable rank is undefined).
    """
    matrices = _as_float64(jacobians).numpy()
    sigma = np.stack([singular_values(matrix, center=False) for matrix in matrices])
    if np.any(sigma[:, 0] == 0):
        raise ValueError("the stable rank is undefined for a zero Jacobian")
    return {
        "mean_singular_values": sigma.mean(axis=0),
        "stable_rank": float(np.mean(np.sum(sigma**2, axis=1) / sigma[:, 0] ** 2)),
        "effective_rank": float(np.mean([rankme(matrix) for matrix in matrices])),
    }


def top_right_singular_vectors(jacobians: Tensor, k: int) -> Tensor:
    """The k input-space directions each Jacobian keeps most (N × d_h × k, orthonormal).

    The top-k right singular vectors of J, the directions of the encoder space that the
    projector stretches most (Cosentino et al. 2022, arXiv 2205.06926). Works on any stack of
    matrices (… × m × d → … × d × k); raises ValueError if k exceeds min(m, d).
    """
    matrices = _as_float64(jacobians)
    _, _, vh = torch.linalg.svd(matrices, full_matrices=False)
    if k > vh.shape[-2]:
        raise ValueError(f"k={k} exceeds the {vh.shape[-2]} singular vectors available")
    return vh[..., :k, :].mT


# --- tangent estimates --------------------------------------------------------------------


def augmentation_tangent(
    encoder: nn.Module,
    images: Tensor,
    augment: Callable[[Tensor], Tensor],
    n_augmentations: int,
    k: int,
    seed: int,
) -> Tensor:
    """The augmentation tangent at each image: an orthonormal basis N × d_h × k.

    For each image x, the top-k principal directions (not centred: relative to f(x)) of the
    n_augmentations differences f(t(x)) − f(x), where t are draws of the batched ``augment``
    (the augmentation orbit of Cosentino et al. 2022, arXiv 2205.06926). The draws are
    reproducible from ``seed`` and leave the global random state untouched. ``images`` (N × C ×
    H × W, on the encoder's device) are encoded at once, n_augmentations + 1 times, in eval
    mode. Raises ValueError if k exceeds min(n_augmentations, d_h).
    """
    augmented = views(augment, images, n_augmentations, seed)
    originals = _encode(encoder, images)
    moved = _encode(encoder, augmented.flatten(0, 1)).unflatten(0, augmented.shape[:2])
    return top_right_singular_vectors(moved - originals[:, None], k)


def data_tangent(h: Tensor, k: int, n_neighbors: int) -> Tensor:
    """The data tangent at each row of ``h``: an orthonormal basis N × d_h × k.

    Local PCA: the top-k principal directions of the centred ``n_neighbors`` nearest
    neighbours of each row (Euclidean distance in encoder space, the row itself excluded),
    the estimate of the data manifold's tangent space used by Cosentino et al. 2022
    (arXiv 2205.06926). Raises ValueError if k exceeds min(n_neighbors, d_h).
    """
    points = _as_float64(h)
    neighbours = points[nearest_neighbours(points, n_neighbors)]
    centred = neighbours - neighbours.mean(dim=1, keepdim=True)
    return top_right_singular_vectors(centred, k)


def nearest_neighbours(points: Tensor, n_neighbors: int, chunk_size: int = 1024) -> Tensor:
    """Indices (N × n_neighbors) of each row's nearest other rows, Euclidean, nearest first.

    Computed ``chunk_size`` rows at a time, so memory grows as N · chunk_size, not N².
    """
    chunks = []
    for start in range(0, len(points), chunk_size):
        distances = torch.cdist(points[start : start + chunk_size], points)
        rows = torch.arange(len(distances))
        distances[rows, rows + start] = float("inf")
        chunks.append(distances.topk(n_neighbors, largest=False).indices)
    return torch.cat(chunks)


def latent_tangents(
    encoder: nn.Module,
    latents: np.ndarray,
    render: Callable[[np.ndarray], np.ndarray],
    latent_indices: list[int],
    epsilon: float,
    batch_size: int,
) -> Tensor:
    """Encoder-space derivatives along generating latents: N × d_h × len(latent_indices).

    Column j at sample n is the central finite difference
    (f(render(z + ε e_i)) − f(render(z − ε e_i))) / (2ε) with i = ``latent_indices[j]`` and z
    the n-th row of ``latents`` — the image of the latent direction e_i in encoder space, the
    synthetic-data counterpart of the tangents of Cosentino et al. 2022 (arXiv 2205.06926).
    ``render`` maps latents (n × L) to float images n × H × W × C in [0, 1]; they are encoded
    ``batch_size`` at a time as float32 NCHW, in eval mode, on the encoder's device. The
    directions are raw (neither normalised nor orthogonalised): pass them to
    :func:`orthonormal_basis` for a subspace. A latent that ``render`` rounds (a discrete
    class, such as the shapes' ``shape``) has a zero derivative.
    """
    latents = np.asarray(latents, dtype=np.float64)
    columns = []
    for latent_index in latent_indices:
        step = np.zeros(latents.shape[1])
        step[latent_index] = epsilon
        forward = _encode_rendered(encoder, latents + step, render, batch_size)
        backward = _encode_rendered(encoder, latents - step, render, batch_size)
        columns.append((forward - backward) / (2 * epsilon))
    return torch.stack(columns, dim=-1)


def class_change_directions(
    encoder: nn.Module,
    latents: np.ndarray,
    render: Callable[[np.ndarray], np.ndarray],
    class_index: int,
    n_classes: int,
    batch_size: int,
) -> Tensor:
    """Encoder-space moves that change only the class: N × d_h × (n_classes − 1).

    A discrete content latent has no derivative, so its directions are the differences
    f(render(z with class c)) − f(render(z)) for every other class c, all style latents kept.
    Column j moves to class (own + j + 1) mod n_classes.
    """
    latents = np.asarray(latents, dtype=np.float64)
    own = latents[:, class_index].astype(int)
    originals = _encode_rendered(encoder, latents, render, batch_size)
    moves = []
    for shift in range(1, n_classes):
        changed = latents.copy()
        changed[:, class_index] = (own + shift) % n_classes
        moves.append(_encode_rendered(encoder, changed, render, batch_size) - originals)
    return torch.stack(moves, dim=-1)


def orthonormal_basis(directions: Tensor) -> Tensor:
    """An orthonormal basis of each sample's directions (N × d × m → N × d × m), by QR.

    With linearly dependent directions the extra columns are still orthonormal but span
    arbitrary directions, so check the rank of a content or style family first.
    """
    return torch.linalg.qr(_as_float64(directions)).Q


def random_subspace(n: int, d: int, k: int, seed: int) -> Tensor:
    """``n`` uniformly random k-dimensional subspaces of R^d, as orthonormal bases n × d × k.

    The baseline subspace: the QR basis of a Gaussian matrix spans a uniformly (Haar)
    distributed subspace, along which the projector sensitivity has expectation 1.
    """
    generator = torch.Generator().manual_seed(seed)
    gaussian = torch.randn(n, d, k, generator=generator, dtype=torch.float64)
    return torch.linalg.qr(gaussian).Q


# --- comparing the projector with subspaces -----------------------------------------------


def sensitivity(jacobians: Tensor, bases: Tensor) -> Tensor:
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
    kept = torch.linalg.matrix_norm(matrices @ basis) ** 2 / k
    overall = torch.linalg.matrix_norm(matrices) ** 2 / d_h
    return kept / overall


def principal_angles(a: Tensor, b: Tensor) -> Tensor:
    """Principal angles (radians, ascending) between subspaces: N × min(k1, k2).

    For orthonormal bases A (N × d × k1) and B (N × d × k2), the arccosines of the singular
    values of Aᵀ B, clamped to [−1, 1]: 0 for a shared direction, π/2 for orthogonal ones.
    Used to compare tangent subspaces with the directions the projector keeps
    (Cosentino et al. 2022, arXiv 2205.06926).
    """
    cosines = torch.linalg.svdvals(_as_float64(a).mT @ _as_float64(b))
    return torch.arccos(cosines.clamp(-1.0, 1.0))


# --- helpers ------------------------------------------------------------------------------


@contextmanager
def _evaluating(module: nn.Module) -> Iterator[None]:
    """Put ``module`` in eval mode, then restore every submodule's own mode."""
    modes = [(submodule, submodule.training) for submodule in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for submodule, training in modes:
            submodule.training = training


def _encode(encoder: nn.Module, images: Tensor) -> Tensor:
    """f(images) in eval mode, without gradients, as a float64 CPU tensor."""
    with _evaluating(encoder), torch.no_grad():
        return encoder(images).to("cpu", torch.float64)


def _encode_rendered(
    encoder: nn.Module,
    latents: np.ndarray,
    render: Callable[[np.ndarray], np.ndarray],
    batch_size: int,
) -> Tensor:
    device = _device_of(encoder)
    batches = []
    for start in range(0, len(latents), batch_size):
        images = torch.from_numpy(render(latents[start : start + batch_size]))
        batches.append(_encode(encoder, images.permute(0, 3, 1, 2).to(device, torch.float32)))
    return torch.cat(batches)


def _device_of(module: nn.Module) -> torch.device:
    """The device of the module's parameters (the CPU for a module without any)."""
    parameter = next(module.parameters(), None)
    return torch.device("cpu") if parameter is None else parameter.device


def _as_float64(values: Tensor | np.ndarray) -> Tensor:
    return torch.as_tensor(values).detach().to("cpu", torch.float64)
