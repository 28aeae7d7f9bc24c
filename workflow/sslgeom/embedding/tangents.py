"""What the tangent-plane geometry needs from a trained model, extracted with it.

The embedding stage runs every forward pass of a run; for the geometry it also stores, at the
first ``n_images`` test inputs, the projector Jacobians, the encoder-space moves that
augmentations, generating latents and class changes cause, and the projector's output change
along finite moves. :mod:`sslgeom.metrics.subspaces` then measures them without the model
(Cosentino et al. 2022, arXiv 2205.06926).
"""

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import Tensor, nn

from sslgeom.analyses.geometry import TANGENT_ARRAYS
from sslgeom.data import Dataset
from sslgeom.data.shapes import (
    CONTENT_LATENTS,
    SHAPE_CLASSES,
    STYLE_LATENTS,
    STYLE_RANGES,
    render,
)
from sslgeom.data.vectors import mix, mixing_weights, observe, sample_marginal
from sslgeom.metrics.neighbours import nearest_other_rows
from sslgeom.metrics.subspaces import data_span, random_subspace_in
from sslgeom.models import SSLModel
from sslgeom.training.augment import StrengthAugmentation, to_float_images, views


def extract_tangents(
    model: SSLModel, dataset: Dataset, test_encoder: np.ndarray, options: dict
) -> dict[str, np.ndarray]:
    """The arrays of :data:`sslgeom.analyses.geometry.TANGENT_ARRAYS` at the first
    ``options["n_images"]`` test inputs, whose encoder outputs are ``test_encoder``'s rows.

    Everywhere: the projector Jacobians and the steps to each input's nearest neighbours. On
    images: augmentation moves and their steps. On data with a known generative process, the
    latents' encoder-space tangents and the steps of redrawing each latent: on the rendered
    ``shapes`` by finite differences, for the style latents, with the class changes as content
    moves; on ``vectors`` exactly, by autograd through the mixing network, for every latent.
    """
    n = options["n_images"]
    h = torch.from_numpy(test_encoder[:n]).to(_device_of(model))
    span = data_span(test_encoder, options["span_variance"])
    steps = functools.partial(step_changes, model.projector, span=span, seed=options["seed"])
    neighbours = nearest_other_rows(test_encoder, options["n_neighbors"], "euclidean", n)
    arrays = {
        "jacobians": projector_jacobians(model.projector, h),
        "data_steps": steps(h, torch.from_numpy(test_encoder[neighbours]) - h[:, None].cpu()),
    }
    if dataset.is_images:
        images = to_float_images(torch.from_numpy(dataset.test_images[:n])).to(h.device)
        small = StrengthAugmentation(options["tangent_strength"], tuple(images.shape[-2:]))
        arrays["augmentation"] = augmentation_moves(
            model.encoder, images, small, options["n_augmentations"], options["seed"]
        )
        arrays["augmentation_steps"] = steps(h, arrays["augmentation"])
    if dataset.test_latents is not None and dataset.generator:
        arrays |= _latent_arrays(model, dataset, options, steps)
    return {TANGENT_ARRAYS[name]: _to_numpy(value) for name, value in arrays.items()}


def _latent_arrays(model: SSLModel, dataset: Dataset, options: dict, steps) -> dict:
    """The latent tangents, their names, their redraw steps and (shapes) the class moves."""
    n, batch_size = options["n_images"], options["batch_size"]
    latents = np.asarray(dataset.test_latents[:n], dtype=np.float64)
    names = list(dataset.latent_names)
    generator = dataset.generator
    if generator["kind"] == "shapes":
        generate = functools.partial(render, size=dataset.test_images.shape[1])
        measured = [names.index(name) for name in STYLE_LATENTS]
        tangents = latent_tangents(
            model.encoder, latents, generate, measured, options["latent_epsilon"], batch_size
        )
        redraw = functools.partial(_redraw_style_latent, names=names)
    else:
        mixing = (generator[key] for key in ("latent_dim", "mixing_layers", "mixing_seed"))
        weights = mixing_weights(*mixing, generator["mixing_candidates"])
        generate = functools.partial(observe, weights=weights)
        measured = list(range(len(names)))
        device = _device_of(model)
        mixing_on_device = [torch.from_numpy(w).float().to(device) for w in weights]
        tangents = exact_latent_tangents(
            model.encoder, functools.partial(mix, weights=mixing_on_device), latents
        )
        redraw = LATENT_REDRAWS.get(generator["space"])
    arrays = {"latent": tangents, "latent_names": np.array([names[i] for i in measured])}
    if redraw is not None:
        rng = np.random.default_rng(options["seed"])
        start = _encode_generated(model.encoder, latents, generate, batch_size)
        moved = [
            _encode_generated(model.encoder, redraw(latents, i, rng), generate, batch_size)
            for i in measured
        ]
        arrays["latent_steps"] = steps(start, torch.stack(moved, dim=1) - start[:, None])
    if generator["kind"] == "shapes":
        arrays["content"] = class_change_directions(
            model.encoder,
            latents,
            generate,
            names.index(CONTENT_LATENTS[0]),
            len(SHAPE_CLASSES),
            batch_size,
        )
    return arrays


def _redraw_style_latent(
    latents: np.ndarray, index: int, rng: np.random.Generator, names: list[str]
) -> np.ndarray:
    """``latents`` with the shapes style latent ``index`` drawn anew from its uniform prior."""
    redrawn = latents.copy()
    redrawn[:, index] = rng.uniform(*STYLE_RANGES[names[index]], size=len(latents))
    return redrawn


def _redraw_coordinate(
    latents: np.ndarray, index: int, rng: np.random.Generator, space: str
) -> np.ndarray:
    """``latents`` with coordinate ``index`` drawn anew from the marginal of ``space``."""
    redrawn = latents.copy()
    redrawn[:, index] = sample_marginal(len(latents), 1, space, rng)[:, 0]
    return redrawn


# the latent spaces whose coordinates are independent, so that one can be redrawn alone
LATENT_REDRAWS = {
    space: functools.partial(_redraw_coordinate, space=space) for space in ("box", "normal")
}


def step_changes(
    projector: nn.Module, start: Tensor, moves: Tensor, span: np.ndarray, seed: int
) -> Tensor:
    """The projector's output change along finite encoder-space moves, and along random moves
    of the same lengths inside the data span: N × M × 2, float64 on the CPU.

    For each start h (row of ``start``, N × d_h) and move Δ (``moves``, N × M × d_h):
    [‖g(h + Δ) − g(h)‖², ‖g(h + ‖Δ‖ u) − g(h)‖²], u a uniformly random unit direction of the
    column space of ``span`` (d_h × r, orthonormal), drawn from ``seed``: the global,
    finite-step counterpart of the local sensitivity
    (:func:`sslgeom.metrics.subspaces.sensitivity`), with g in eval mode on its own device and
    dtype.
    """
    n, m, d_h = moves.shape
    parameter = next(projector.parameters())
    start = start.to(parameter.device, parameter.dtype)
    moves = moves.to(parameter.device, parameter.dtype)
    directions = random_subspace_in(span, n * m, 1, seed).reshape(n, m, d_h)
    random_moves = torch.from_numpy(directions).to(moves) * moves.norm(dim=-1, keepdim=True)
    with _evaluating(projector), torch.no_grad():
        origin = projector(start)[:, None]
        changes = []
        for step in (moves, random_moves):
            moved = projector((start[:, None] + step).flatten(0, 1)).unflatten(0, (n, m))
            changes.append((moved - origin).to("cpu", torch.float64).pow(2).sum(-1))
    return torch.stack(changes, dim=-1)


def projector_jacobians(projector: nn.Module, h: Tensor, chunk_size: int = 256) -> Tensor:
    """The projector Jacobian J(h) = ∂g/∂h at each row of ``h`` (N × d_z × d_h).

    The Jacobian of Cosentino et al. 2022 (arXiv 2205.06926), with g in eval mode, so
    BatchNorm uses its running statistics and each output row depends on its own input row
    only (:func:`rowwise_jacobians`). Every submodule's mode is restored afterwards.
    """
    with _evaluating(projector):
        return rowwise_jacobians(projector, h, chunk_size)


def exact_latent_tangents(
    encoder: nn.Module,
    mix_latents: Callable[[Tensor], Tensor],
    latents: np.ndarray,
    chunk_size: int = 256,
) -> Tensor:
    """The encoder-space tangent of every latent at each row z of ``latents``: N × d_h × L.

    Column i is ∂h/∂z_i = J_f(x) · J_g(z) · e_i, the exact derivative through the mixing
    network g (``mix_latents``, differentiable) and the encoder f in eval mode, by autograd in
    float32 on the encoder's device: no finite differences.
    """
    z = torch.from_numpy(np.asarray(latents, dtype=np.float32)).to(_device_of(encoder))
    with _evaluating(encoder):
        return rowwise_jacobians(lambda rows: encoder(mix_latents(rows)), z, chunk_size)


def rowwise_jacobians(
    function: Callable[[Tensor], Tensor], inputs: Tensor, chunk_size: int = 256
) -> Tensor:
    """∂function/∂input at each row of ``inputs`` (N × d_out × d_in), for a function whose
    output row j depends on input row j only.

    The gradient of output column j summed over the rows is row j of every row's Jacobian, so
    d_out backward passes give them all, ``chunk_size`` rows at a time. Plain scalar backward
    passes rather than ``torch.func`` or batched gradients, whose first use imports
    TorchDynamo or symbolic shapes (about 1 s, far more than the Jacobians cost). The result
    has the dtype and device of ``inputs`` and carries no autograd graph.
    """
    chunks = []
    with torch.enable_grad():
        for rows in inputs.detach().split(chunk_size):
            rows = rows.clone().requires_grad_(True)
            outputs = function(rows)
            rows_of_jacobian = [
                torch.autograd.grad(outputs[:, j].sum(), rows, retain_graph=True)[0]
                for j in range(outputs.shape[1])
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
        forward = _encode_generated(encoder, latents + step, render, batch_size)
        backward = _encode_generated(encoder, latents - step, render, batch_size)
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
    originals = _encode_generated(encoder, latents, render, batch_size)
    moves = []
    for shift in range(1, n_classes):
        changed = latents.copy()
        changed[:, class_index] = (own + shift) % n_classes
        moves.append(_encode_generated(encoder, changed, render, batch_size) - originals)
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


def _encode_generated(
    encoder: nn.Module,
    latents: np.ndarray,
    generate: Callable[[np.ndarray], np.ndarray],
    batch_size: int,
) -> Tensor:
    """f(generate(latents)), ``batch_size`` at a time on the encoder's device, as a float64 CPU
    tensor; ``generate`` gives float images (n × H × W × C, encoded as NCHW) or vectors."""
    device = _device_of(encoder)
    batches = []
    for start in range(0, len(latents), batch_size):
        inputs = torch.from_numpy(generate(latents[start : start + batch_size]))
        if inputs.ndim == 4:
            inputs = inputs.permute(0, 3, 1, 2)
        batches.append(_encode(encoder, inputs.to(device, torch.float32)))
    return torch.cat(batches)


def _to_numpy(value: Tensor | np.ndarray) -> np.ndarray:
    return value.cpu().numpy() if isinstance(value, Tensor) else value


def _device_of(module: nn.Module) -> torch.device:
    """The device of the module's parameters (the CPU for a module without any)."""
    parameter = next(module.parameters(), None)
    return torch.device("cpu") if parameter is None else parameter.device
