"""What the tangent-plane geometry needs from a trained model, extracted with it.

The embedding stage runs every forward pass of a run; for the geometry it also stores, at the
first ``n_images`` test images, the projector Jacobians and the encoder-space moves that
augmentations, generating latents and class changes cause. :mod:`sslgeom.metrics.subspaces` then
measures them without the model (Cosentino et al. 2022, arXiv 2205.06926).
"""

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import Tensor, nn

from sslgeom.analyses.geometry import TANGENT_ARRAYS
from sslgeom.data import Dataset
from sslgeom.data.shapes import CONTENT_LATENTS, SHAPE_CLASSES, STYLE_LATENTS, render
from sslgeom.models import SSLModel
from sslgeom.training.augment import StrengthAugmentation, to_float_images, views


def extract_tangents(
    model: SSLModel, dataset: Dataset, test_encoder: np.ndarray, options: dict
) -> dict[str, np.ndarray]:
    """The arrays of :data:`sslgeom.analyses.geometry.TANGENT_ARRAYS` at the first
    ``options["n_images"]`` test images, whose encoder outputs are ``test_encoder``'s rows;
    style and content moves only for the rendered ``shapes``."""
    n, batch_size = options["n_images"], options["batch_size"]
    device = _device_of(model)
    h = torch.from_numpy(test_encoder[:n]).to(device)
    images = to_float_images(torch.from_numpy(dataset.test_images[:n])).to(device)
    small = StrengthAugmentation(options["tangent_strength"], tuple(images.shape[-2:]))
    arrays = {
        "jacobians": projector_jacobians(model.projector, h),
        "augmentation": augmentation_moves(
            model.encoder, images, small, options["n_augmentations"], options["seed"]
        ),
    }
    if dataset.name == "shapes":
        latents = dataset.test_latents[:n]
        names = list(dataset.latent_names)
        style = [names.index(name) for name in STYLE_LATENTS]
        render_as_stored = functools.partial(render, size=images.shape[-1])
        arrays["style"] = latent_tangents(
            model.encoder, latents, render_as_stored, style, options["latent_epsilon"], batch_size
        )
        arrays["content"] = class_change_directions(
            model.encoder,
            latents,
            render_as_stored,
            names.index(CONTENT_LATENTS[0]),
            len(SHAPE_CLASSES),
            batch_size,
        )
    return {TANGENT_ARRAYS[name]: value.cpu().numpy() for name, value in arrays.items()}


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


def augmentation_moves(
    encoder: nn.Module,
    images: Tensor,
    augment: Callable[[Tensor], Tensor],
    n_augmentations: int,
    seed: int,
) -> Tensor:
    """f(t(x)) − f(x) for ``n_augmentations`` draws t of each image x: N × A × d_h, float64.

    The augmentation orbit of Cosentino et al. 2022 (arXiv 2205.06926), whose top principal
    directions are the augmentation tangent
    (:func:`sslgeom.metrics.subspaces.augmentation_tangent`).
    The draws of the batched ``augment`` are reproducible from ``seed`` and leave the global
    random state untouched. ``images`` (N × C × H × W, on the encoder's device) are encoded
    at once, n_augmentations + 1 times, in eval mode.
    """
    augmented = views(augment, images, n_augmentations, seed)
    originals = _encode(encoder, images)
    moved = _encode(encoder, augmented.flatten(0, 1)).unflatten(0, augmented.shape[:2])
    return moved - originals[:, None]


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
    :func:`sslgeom.metrics.subspaces.orthonormal_basis` for a subspace. A latent that
    ``render`` rounds (a discrete class, such as the shapes' ``shape``) has a zero derivative.
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
