"""The encoder, the projector and the SSL model that joins them."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from sslgeom.models import Projector, ResNet, build_model, projector_layer_names, scale_weights

torch.set_num_threads(1)

IMAGES = (8, 3, 16, 16)


def tiny_model(depth: int = 3, seed: int = 0):
    torch.manual_seed(seed)
    return build_model(
        encoder_width=4,
        encoder_blocks=[1, 1],
        projector_depth=depth,
        projector_hidden_dim=12,
        projector_out_dim=6,
    )


@pytest.mark.parametrize(("width", "blocks"), [(4, [1]), (4, [1, 1]), (2, [1, 2, 1])])
def test_resnet_out_dim_and_output_shape(width, blocks):
    encoder = ResNet(width, blocks)
    expected = width * 2 ** (len(blocks) - 1)
    assert encoder.out_dim == expected
    assert encoder(torch.rand(IMAGES)).shape == (IMAGES[0], expected)


def test_resnet_accepts_one_channel_images():
    encoder = ResNet(4, [1, 1], in_channels=1)
    assert encoder(torch.rand(2, 1, 16, 16)).shape == (2, 8)


def forward_flops(encoder: ResNet, images: torch.Tensor) -> int:
    with FlopCounterMode(display=False) as counter:
        encoder(images)
    return counter.get_total_flops()


def test_stride_two_stem_halves_the_resolution_and_at_twice_the_width_keeps_the_flops():
    images = torch.rand(2, 3, 32, 32)
    narrow, wide = ResNet(8, [1, 1, 1, 1]), ResNet(16, [1, 1, 1, 1], stem_stride=2)
    assert narrow.stem(images).shape[-2:] == (32, 32)
    assert wide.stem(images).shape[-2:] == (16, 16)
    assert wide(images).shape == (2, 128)
    assert forward_flops(wide, images) == pytest.approx(forward_flops(narrow, images), rel=0.05)


@pytest.mark.parametrize(
    ("depth", "names"),
    [(1, ["projector"]), (2, ["proj1", "projector"]), (3, ["proj1", "proj2", "projector"])],
)
def test_projector_layer_names(depth, names):
    assert projector_layer_names(depth) == names
    assert Projector(8, depth, 12, 6).layer_names == names


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_forward_all_returns_every_layer_with_its_width(depth):
    model = tiny_model(depth)
    outputs = model.forward_all(torch.rand(IMAGES))
    assert list(outputs) == ["encoder", *projector_layer_names(depth)]
    assert model.layer_names == list(outputs)
    widths = {name: value.shape[1] for name, value in outputs.items()}
    hidden = {name: 12 for name in projector_layer_names(depth)[:-1]}
    assert widths == {"encoder": 8, **hidden, "projector": 6}
    assert all(value.shape[0] == IMAGES[0] for value in outputs.values())


@pytest.mark.parametrize("depth", [1, 3])
def test_forward_all_projector_equals_forward_in_eval_mode(depth):
    model = tiny_model(depth).eval()
    x = torch.rand(IMAGES)
    with torch.no_grad():
        outputs = model.forward_all(x)
        assert torch.equal(outputs["projector"], model(x))
        assert torch.equal(outputs["encoder"], model.encoder(x))


def test_build_model_wires_dimensions():
    model = tiny_model(depth=2)
    assert model.encoder.out_dim == 8
    assert model.projector.hidden[0][0].in_features == 8
    assert model.projector.hidden[0][0].out_features == 12
    assert model.projector.output.in_features == 12
    assert model.projector.output.out_features == 6


def test_same_seed_gives_identical_initial_weights():
    first, second, other = tiny_model(seed=3), tiny_model(seed=3), tiny_model(seed=4)
    for (name, a), (_, b) in zip(
        first.state_dict().items(), second.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    assert not torch.equal(first.encoder.stem[0].weight, other.encoder.stem[0].weight)


@pytest.mark.parametrize("scale", [0.5, 3.0])
def test_scale_weights_scales_conv_and_linear_weights_and_nothing_else(scale):
    unscaled, scaled = tiny_model(seed=5), tiny_model(seed=5)
    scale_weights(scaled, scale)
    before, after = unscaled.state_dict(), scaled.state_dict()
    # Conv kernels (4-D) and linear weights (2-D) are scaled; linear biases, BatchNorm weights,
    # biases and running statistics (1-D) and the batch counters (0-D) are not.
    matrices = [name for name, value in before.items() if value.dim() >= 2]
    assert any(before[name].dim() == 4 for name in matrices)
    assert any(before[name].dim() == 2 for name in matrices)
    assert "projector.output.bias" in before and "encoder.stem.1.running_var" in before
    for name, value in before.items():
        expected = value * scale if name in matrices else value
        assert torch.equal(after[name], expected), name
