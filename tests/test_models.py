"""The encoder, the projector and the SSL model that joins them."""

import re

import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from sslgeom.models import (
    MLP,
    Projector,
    ResNet,
    build_model,
    projector_layer_names,
    scale_weights,
)

torch.set_num_threads(1)

IMAGES = (8, 3, 16, 16)


def tiny_model(depth: int = 3, seed: int = 0):
    torch.manual_seed(seed)
    return build_model(
        (16, 16, 3),
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


def linear_layers(module: torch.nn.Module) -> list[torch.nn.Linear]:
    return [layer for layer in module.modules() if isinstance(layer, torch.nn.Linear)]


def mlp_by_hand(mlp: MLP, x: torch.Tensor) -> torch.Tensor:
    """The MLP's forward pass from its weights: x W₁ᵀ + b₁, leaky ReLU, ..., with no
    activation after the last linear layer."""
    linears = linear_layers(mlp)
    h = x
    for index, linear in enumerate(linears):
        h = h @ linear.weight.T + linear.bias
        if index < len(linears) - 1:
            h = F.leaky_relu(h, negative_slope=0.01)
    return h


@pytest.mark.parametrize("dims", [[5], [7, 3], [16, 8, 4]])
def test_mlp_on_vectors_is_its_linear_layers_with_leaky_relus_between(dims):
    torch.manual_seed(0)
    mlp = MLP(6, dims)
    x = torch.randn(10, 6)
    linears = linear_layers(mlp)
    assert [(linear.in_features, linear.out_features) for linear in linears] == list(
        zip([6, *dims[:-1]], dims, strict=True)
    )
    with torch.no_grad():
        out = mlp(x)
        assert mlp.out_dim == dims[-1]
        assert out.shape == (10, dims[-1])
        torch.testing.assert_close(out, mlp_by_hand(mlp, x))


def test_mlp_reads_images_as_their_pixels():
    torch.manual_seed(1)
    images = torch.rand(IMAGES)
    n, c, h, w = IMAGES
    mlp = MLP(c * h * w, [20, 5])
    with torch.no_grad():
        out = mlp(images)
        assert out.shape == (n, 5)
        torch.testing.assert_close(out, mlp_by_hand(mlp, images.reshape(n, -1)))
        # pixel (image 2, channel 1, row 3, column 4) is entry 1·H·W + 3·W + 4 of row 2
        pixels = torch.zeros(1, c * h * w)
        pixels[0, 1 * h * w + 3 * w + 4] = 1.0
        image = torch.zeros(1, c, h, w)
        image[0, 1, 3, 4] = 1.0
        torch.testing.assert_close(mlp(image), mlp_by_hand(mlp, pixels))


def test_mlp_has_no_activation_after_its_last_layer():
    torch.manual_seed(2)
    mlp = MLP(4, [8, 3])
    last = mlp.layers[-1]
    assert isinstance(last, torch.nn.Linear)
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor([-2.0, -0.5, 1.0]))
        out = mlp(torch.randn(6, 4))
    # A leaky ReLU would shrink the negative outputs to 0.01 of themselves.
    assert torch.equal(out, torch.tensor([-2.0, -0.5, 1.0]).expand(6, 3))


def tiny_mlp_model(input_shape: tuple[int, ...], depth: int = 2, seed: int = 0):
    torch.manual_seed(seed)
    return build_model(
        input_shape,
        projector_depth=depth,
        projector_hidden_dim=12,
        projector_out_dim=6,
        backbone="mlp",
        mlp_dims=[16, 10],
    )


@pytest.mark.parametrize(
    ("input_shape", "inputs"),
    [((7,), (5, 7)), ((16, 16, 3), IMAGES)],
    ids=["vectors", "images"],
)
@pytest.mark.parametrize("depth", [1, 3])
def test_mlp_backbone_model_keeps_the_layer_names_and_widths(input_shape, inputs, depth):
    model = tiny_mlp_model(input_shape, depth)
    assert isinstance(model.encoder, MLP)
    assert model.layer_names == ["encoder", *projector_layer_names(depth)]
    x = torch.rand(inputs)
    with torch.no_grad():
        outputs = model.forward_all(x)
        assert list(outputs) == model.layer_names
        hidden = {name: 12 for name in projector_layer_names(depth)[:-1]}
        widths = {name: value.shape[1] for name, value in outputs.items()}
        assert widths == {"encoder": 10, **hidden, "projector": 6}
        torch.testing.assert_close(outputs["encoder"], mlp_by_hand(model.encoder, x.flatten(1)))
        assert torch.equal(outputs["projector"], model(x))


def test_mlp_backbone_reads_the_pixels_of_its_input_shape():
    model = tiny_mlp_model((16, 16, 3))
    first = next(
        module for module in model.encoder.modules() if isinstance(module, torch.nn.Linear)
    )
    assert first.in_features == 16 * 16 * 3


def test_scale_weights_scales_the_mlp_backbone_weights():
    unscaled, scaled = tiny_mlp_model((7,), seed=3), tiny_mlp_model((7,), seed=3)
    scale_weights(scaled, 2.0)
    for name, value in unscaled.state_dict().items():
        expected = value * 2.0 if value.dim() == 2 else value
        assert torch.equal(scaled.state_dict()[name], expected), name


@pytest.mark.parametrize("input_shape", [(10,), (4, 10)])
def test_resnet_backbone_on_non_image_inputs_raises_naming_the_shape(input_shape):
    with pytest.raises(ValueError, match=re.escape(str(input_shape))):
        build_model(input_shape, 2, 12, 6, backbone="resnet")


def test_unknown_backbone_raises():
    with pytest.raises(ValueError, match="unknown backbone 'vit'"):
        build_model((16, 16, 3), 2, 12, 6, backbone="vit")
