"""The training methods: BYOL's momentum schedule and EMA target against their closed forms,
stop-gradients that stop, the supervised reference's cross-entropy against a loop, and the
modules each method builds beside the representation."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from sslgeom.models import Projector, build_model
from sslgeom.training.loop import build_optimizer, training_step
from sslgeom.training.losses import simsiam
from sslgeom.training.methods import (
    BYOL,
    METHODS,
    PairwiseLoss,
    SimSiam,
    Supervised,
    byol_momentum,
    ema_update,
    method_from_settings,
    trained_parameters,
)

# trains models: .ci/run repeats these with an AVX2 CPU's kernels
pytestmark = pytest.mark.trains

torch.set_num_threads(1)

BATCH = 6


def tiny_model() -> nn.Module:
    torch.manual_seed(0)
    return build_model(
        (8, 8, 3), projector_depth=2, projector_hidden_dim=12, projector_out_dim=8, encoder_width=4
    )


def views(seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return tuple(torch.rand(BATCH, 3, 8, 8, generator=generator) for _ in range(2))


def settings(method: str, **overrides) -> dict:
    return {
        "method": method,
        "projector_hidden_dim": 12,
        "projector_out_dim": 8,
        "predictor_hidden_dim": None,
        "byol_momentum": 0.996,
        "temperature": 0.2,
        "similarity": "cosine",
        "vicreg_invariance_weight": 25,
        "vicreg_variance_weight": 25,
        "vicreg_covariance_weight": 1,
        "barlow_off_diagonal_weight": 5e-3,
        **overrides,
    }


def build(method: str, model: nn.Module, total_steps: int = 10, **overrides):
    labels = np.arange(BATCH) % 3
    return method_from_settings(settings(method, **overrides), model, labels, 5, total_steps)


# --- BYOL's target network --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (0, 0.996),  # τ_base at the first step
        (25, 1 - 0.004 * (math.sqrt(2) / 2 + 1) / 2),  # a quarter of the way: cos(π/4)
        (50, 0.998),  # half way: (cos(π/2) + 1) / 2 = 1/2 of the gap
        (100, 1.0),  # the last step: the target stops moving
    ],
)
def test_byol_momentum_follows_the_cosine_schedule(step, expected):
    assert byol_momentum(step, 100, 0.996) == pytest.approx(expected, abs=1e-15)


def test_ema_update_moves_each_target_parameter_toward_the_online_one():
    torch.manual_seed(0)
    online, target = nn.Linear(3, 2), nn.Linear(3, 2)
    before = {name: value.clone() for name, value in target.named_parameters()}
    ema_update(target, online, 0.75)
    for name, value in target.named_parameters():
        theta = dict(online.named_parameters())[name]
        assert torch.allclose(value, 0.75 * before[name] + 0.25 * theta, rtol=0, atol=1e-7), name


def test_byol_target_starts_as_a_copy_of_the_model_and_takes_no_gradient():
    model = tiny_model()
    method = build("byol", model)
    online = model.state_dict()
    for name, value in method.target.state_dict().items():
        assert torch.equal(value, online[name]), name
    assert all(not p.requires_grad for p in method.target.parameters())
    trained = {id(p) for p in trained_parameters(model, method)}
    assert trained == {id(p) for p in [*model.parameters(), *method.predictor.parameters()]}


def test_a_byol_step_trains_the_online_side_and_moves_the_target_by_its_ema():
    model = tiny_model()
    method = build("byol", model, total_steps=4)
    optimizer = build_optimizer("sgd", trained_parameters(model, method), 0.5, 0.0)
    target_before = [p.clone() for p in method.target.parameters()]
    predictor_before = [p.clone() for p in method.predictor.parameters()]
    training_step(model, views(), method, optimizer, indices=torch.arange(BATCH))
    assert all(p.grad is None for p in method.target.parameters())
    for before, target in zip(target_before, method.target.parameters(), strict=True):
        assert torch.equal(before, target)  # the optimizer step leaves the target alone
    assert any(
        not torch.equal(before, after)
        for before, after in zip(predictor_before, method.predictor.parameters(), strict=True)
    )
    method.after_step(model, 1)
    tau = 1 - (1 - 0.996) * (math.cos(math.pi / 4) + 1) / 2  # step 1 of 4
    for before, online, target in zip(
        target_before, model.parameters(), method.target.parameters(), strict=True
    ):
        assert torch.allclose(target, tau * before + (1 - tau) * online, rtol=0, atol=1e-7)


def test_byol_target_reads_the_views_without_building_a_graph():
    model = tiny_model()
    method = build("byol", model)
    prediction, target = method.outputs(model, torch.cat(views()))
    assert prediction.requires_grad and not target.requires_grad
    assert prediction.shape == target.shape == (2 * BATCH, 8)


# --- SimSiam's stop-gradient ------------------------------------------------------------------


def test_simsiam_gradient_reaches_the_projection_only_through_the_predictor():
    model = tiny_model()
    method = build("simsiam", model)
    z = model(torch.cat(views())).detach().requires_grad_()
    loss = method.loss((method.predictor(z), z), torch.arange(BATCH))
    (gradient,) = torch.autograd.grad(loss, z)
    # The same loss with the targets as constants, built apart from z: the gradient is equal.
    constant = z.detach().clone()
    p = method.predictor(z)
    without_target_path = simsiam(*p.chunk(2), *constant.chunk(2))
    (expected,) = torch.autograd.grad(without_target_path, z)
    assert torch.equal(gradient, expected)
    # With the targets' path left open, the gradient would differ.
    p1, p2 = method.predictor(z).chunk(2)
    z1, z2 = z.chunk(2)
    cosines = [nn.functional.cosine_similarity(p, t).mean() for p, t in ((p1, z2), (p2, z1))]
    open_targets = -sum(cosines) / 2
    (leaky,) = torch.autograd.grad(open_targets, z)
    assert not torch.allclose(gradient, leaky)


# --- the supervised reference -----------------------------------------------------------------


def test_supervised_loss_is_the_cross_entropy_of_both_views_against_their_labels():
    labels = torch.tensor([2, 0, 1, 4, 3, 1, 0, 2])
    method = Supervised(nn.Linear(8, 5), labels)
    indices = torch.tensor([5, 0, 3])
    logits = torch.randn(6, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    expected = 0.0
    for row in range(6):
        label = int(labels[indices[row % 3]])  # row i and row 3 + i: two views of one example
        log_normaliser = math.log(sum(math.exp(float(value)) for value in logits[row]))
        expected += (log_normaliser - float(logits[row, label])) / 6
    assert method.loss((logits,), indices).item() == pytest.approx(expected, rel=1e-12)


# --- what each method builds --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "overrides", "hidden"),
    [
        ("byol", {}, 12),  # as wide as the projector's hidden layer, as in BYOL (4096 of 4096)
        ("simsiam", {}, 2),  # a quarter of the output, as in SimSiam (512 of 2048)
        ("byol", {"predictor_hidden_dim": 5}, 5),
        ("simsiam", {"predictor_hidden_dim": 5}, 5),
    ],
)
def test_predictor_maps_the_projector_output_through_its_hidden_width(method, overrides, hidden):
    built = build(method, tiny_model(), **overrides)
    linear = [m for m in built.predictor.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(8, hidden), (hidden, 8)]
    assert isinstance(built, BYOL if method == "byol" else SimSiam)


def test_supervised_head_maps_the_projector_output_to_the_classes():
    built = build("supervised", tiny_model())
    assert (built.head.in_features, built.head.out_features) == (8, 5)
    assert "labels" not in built.state_dict()  # the labels are the dataset's, not state


@pytest.mark.parametrize("method", ["simclr", "vicreg", "barlow"])
def test_pairwise_methods_add_nothing_to_train_or_save(method):
    model = tiny_model()
    built = build(method, model)
    assert isinstance(built, PairwiseLoss)
    assert list(built.parameters()) == [] and built.state_dict() == {}
    assert trained_parameters(model, built) == list(model.parameters())


@pytest.mark.parametrize("method", METHODS)
def test_no_method_changes_the_representation_layers(method):
    model = tiny_model()
    layers, weights = list(model.layer_names), set(model.state_dict())
    build(method, model)
    assert model.layer_names == layers == ["encoder", "proj1", "projector"]
    assert set(model.state_dict()) == weights


def test_unknown_method_is_an_error():
    with pytest.raises(ValueError, match="unknown method 'moco'"):
        build("moco", tiny_model())


@pytest.mark.parametrize("method", ["byol", "simsiam"])
def test_predictor_has_batchnorm_and_relu_after_its_hidden_layer_as_in_the_papers(method):
    predictor = build(method, tiny_model()).predictor
    assert isinstance(predictor, Projector)
    assert [type(m) for m in predictor.hidden[0]] == [nn.Linear, nn.BatchNorm1d, nn.ReLU]
