"""Training methods: how a run turns its model's outputs on two views into a loss.

A :class:`Method` holds whatever a method trains or keeps beside the representation: BYOL's
and SimSiam's predictor, BYOL's exponential-moving-average target network, the supervised
reference's classification head. None of these is a layer of the representation: embeddings,
analyses and the tangent geometry see the encoder and projector alone (``model.pt`` keeps the
method's state apart, under ``"method"``). The training step calls :meth:`Method.outputs`
under its autocast, :meth:`Method.loss` in fp32 and, after the optimizer's step,
:meth:`Method.after_step`. ``METHODS`` names the config's choices of ``method``;
:func:`method_from_settings` builds a run's.
"""

import copy
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sslgeom.config.validate import PREDICTOR_METHODS
from sslgeom.models import Projector, SSLModel
from sslgeom.training.losses import LOSSES, byol, loss_from_settings, simsiam

PREDICTOR_DEPTH = 2  # linear, BatchNorm + ReLU, linear, in both BYOL and SimSiam


class Method(nn.Module):
    """A training objective; its parameters that require gradients are trained with the model."""

    def outputs(self, model: SSLModel, inputs: Tensor) -> tuple[Tensor, ...]:
        """What the loss reads, from the stacked views ``inputs`` (row i and row B + i: the
        two views of example i)."""
        raise NotImplementedError

    def loss(self, outputs: tuple[Tensor, ...], indices: Tensor) -> Tensor:
        """The loss of ``outputs`` (cast to fp32) for the batch's examples ``indices``."""
        raise NotImplementedError

    def after_step(self, model: SSLModel, step: int) -> None:
        """Called after optimizer step ``step`` (counted from 0 over the whole run)."""


class PairwiseLoss(Method):
    """A loss of the two views' projector outputs (SimCLR, VICReg, Barlow Twins)."""

    def __init__(self, loss_fn):
        super().__init__()
        self.loss_fn = loss_fn

    def outputs(self, model: SSLModel, inputs: Tensor) -> tuple[Tensor]:
        return (model(inputs),)

    def loss(self, outputs: tuple[Tensor], indices: Tensor) -> Tensor:
        (z,) = outputs
        return self.loss_fn(*z.chunk(2))


class SimSiam(Method):
    """SimSiam (Chen & He 2021, arXiv 2011.10566): a predictor MLP on the projector output,
    trained so that each view's prediction matches the other view's stopped-gradient
    projection (:func:`sslgeom.training.losses.simsiam`)."""

    def __init__(self, predictor: nn.Module):
        super().__init__()
        self.predictor = predictor

    def outputs(self, model: SSLModel, inputs: Tensor) -> tuple[Tensor, Tensor]:
        z = model(inputs)
        return self.predictor(z), z

    def loss(self, outputs: tuple[Tensor, Tensor], indices: Tensor) -> Tensor:
        p, z = outputs
        return simsiam(*p.chunk(2), *z.chunk(2))


class BYOL(Method):
    """BYOL (Grill et al. 2020, arXiv 2006.07733): the online network (the model) with a
    predictor MLP predicts, for each view, the target network's projection of the other view
    (:func:`sslgeom.training.losses.byol`). The target network is a copy of the encoder and
    projector whose parameters follow the online ones by an exponential moving average, ξ ← τ_k ξ +
    (1 − τ_k) θ after optimizer step k, with the cosine schedule :func:`byol_momentum` over
    the run's ``total_steps``. It runs in training mode (batch statistics in its BatchNorms,
    as in the paper) and receives no gradient."""

    def __init__(
        self, model: SSLModel, predictor: nn.Module, base_momentum: float, total_steps: int
    ):
        super().__init__()
        self.predictor = predictor
        self.target = copy.deepcopy(model).requires_grad_(False)
        self.base_momentum, self.total_steps = base_momentum, total_steps

    def outputs(self, model: SSLModel, inputs: Tensor) -> tuple[Tensor, Tensor]:
        with torch.no_grad():
            target = self.target(inputs)
        return self.predictor(model(inputs)), target

    def loss(self, outputs: tuple[Tensor, Tensor], indices: Tensor) -> Tensor:
        q, t = outputs
        return byol(*q.chunk(2), *t.chunk(2))

    def after_step(self, model: SSLModel, step: int) -> None:
        momentum = byol_momentum(step, self.total_steps, self.base_momentum)
        ema_update(self.target, model, momentum)


def byol_momentum(step: int, total_steps: int, base: float) -> float:
    """τ_k = 1 − (1 − τ_base)(cos(π k / K) + 1) / 2 (Grill et al. 2020, section 3.2): τ_base at
    the first step, rising to 1 at the K-th."""
    return 1 - (1 - base) * (math.cos(math.pi * step / total_steps) + 1) / 2


@torch.no_grad()
def ema_update(target: nn.Module, online: nn.Module, momentum: float) -> None:
    """Each parameter ξ of ``target`` ← momentum · ξ + (1 − momentum) · θ, θ the matching
    parameter of ``online`` (same architecture). Buffers are left alone: the target's
    BatchNorm statistics are its own."""
    for target_parameter, online_parameter in zip(
        target.parameters(), online.parameters(), strict=True
    ):
        target_parameter.lerp_(online_parameter, 1 - momentum)


class Supervised(Method):
    """The supervised reference: the same encoder, projector, views and step budget as the
    self-supervised runs, trained with the cross-entropy of a linear classification head on
    the projector output, both views of an example labelled with its class.

    The head sits on the projector output rather than on the encoder so that the projector
    is trained and measured as in every other method: its layers are the same layers, and
    the head, like a predictor, is not part of the representation. The projector then plays
    the role of a classifier's last hidden layers, whose collapse onto the classes late in
    training is known (Papyan et al. 2020, arXiv 2008.08186): the reference against which a
    self-supervised projector's invariance reads."""

    def __init__(self, head: nn.Module, labels: Tensor):
        super().__init__()
        self.head = head
        self.register_buffer("labels", labels, persistent=False)

    def outputs(self, model: SSLModel, inputs: Tensor) -> tuple[Tensor]:
        return (self.head(model(inputs)),)

    def loss(self, outputs: tuple[Tensor], indices: Tensor) -> Tensor:
        (logits,) = outputs
        return F.cross_entropy(logits, self.labels[indices].repeat(2))


def trained_parameters(model: SSLModel, method: Method) -> list[nn.Parameter]:
    """What the optimizer trains: the model's parameters, then the method's that take
    gradients (not BYOL's target network)."""
    return [*model.parameters(), *(p for p in method.parameters() if p.requires_grad)]


METHODS = (*LOSSES, *PREDICTOR_METHODS, "supervised")


def predictor_width(method: str, settings: dict) -> int:
    """The predictor's hidden width: ``predictor_hidden_dim``, else the reference's ratio to
    our projector: BYOL's predictor is as wide as its projector's hidden layer (4096), and
    SimSiam's is a bottleneck of a quarter of its output (512 of 2048)."""
    if settings["predictor_hidden_dim"] is not None:
        return settings["predictor_hidden_dim"]
    if method == "byol":
        return settings["projector_hidden_dim"]
    return max(1, settings["projector_out_dim"] // 4)


def method_from_settings(
    settings: dict,
    model: SSLModel,
    train_labels: np.ndarray,
    num_classes: int,
    total_steps: int,
) -> Method:
    """The run's method for ``model`` (built, initialised, on its device), on the labels
    ``train_labels`` of the training examples (of ``num_classes`` classes), over
    ``total_steps`` optimizer steps; on the model's device."""
    method = settings["method"]
    out_dim = settings["projector_out_dim"]
    if method in LOSSES:
        built = PairwiseLoss(loss_from_settings(method, settings))
    elif method in PREDICTOR_METHODS:
        predictor = Projector(out_dim, PREDICTOR_DEPTH, predictor_width(method, settings), out_dim)
        if method == "byol":
            built = BYOL(model, predictor, settings["byol_momentum"], total_steps)
        else:
            built = SimSiam(predictor)
    elif method == "supervised":
        labels = torch.from_numpy(np.asarray(train_labels, dtype=np.int64))
        built = Supervised(nn.Linear(out_dim, num_classes), labels)
    else:
        raise ValueError(f"unknown method {method!r}; known: {list(METHODS)}")
    return built.to(next(model.parameters()).device)
