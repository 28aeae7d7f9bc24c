"""The encoder, the projector and the SSL model that joins them."""

import math
import re

import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from sslgeom.models import (
    BACKBONES,
    MLP,
    Projector,
    ResNet,
    ViT,
    build_model,
    projector_layer_names,
    scale_weights,
)
from sslgeom.models.resnet import StridedPointwiseConv
from sslgeom.models.run_models import MODEL_SETTINGS, model_from_settings
from sslgeom.models.vit import SelfAttention

# trains models: .ci/run repeats these with an AVX2 CPU's kernels
pytestmark = pytest.mark.trains

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


@pytest.mark.parametrize("in_channels", [3, 16])  # below and at SAFE_STRIDED_CHANNELS
@pytest.mark.parametrize("size", [7, 8])
@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_strided_pointwise_conv_sums_every_second_pixel_by_the_weights(in_channels, size, layout):
    torch.manual_seed(0)
    conv = StridedPointwiseConv(in_channels, 5, stride=2).to(memory_format=layout)
    images = torch.randn(2, in_channels, size, size).contiguous(memory_format=layout)
    by_hand = torch.zeros(2, 5, (size + 1) // 2, (size + 1) // 2)
    for row in range(by_hand.shape[2]):
        for column in range(by_hand.shape[3]):
            pixel = images[:, :, 2 * row, 2 * column]  # batch × channels
            by_hand[:, :, row, column] = pixel @ conv.weight[:, :, 0, 0].T
    torch.testing.assert_close(conv(images), by_hand)


@pytest.mark.parametrize("in_channels", [4, 16])
def test_strided_pointwise_conv_loads_a_strided_conv2d_and_computes_what_it_does(in_channels):
    torch.manual_seed(0)
    strided = torch.nn.Conv2d(in_channels, 8, kernel_size=1, stride=2, bias=False)
    conv = StridedPointwiseConv(in_channels, 8, stride=2)
    conv.load_state_dict(strided.state_dict())
    images = torch.randn(3, in_channels, 9, 9, requires_grad=True)
    torch.testing.assert_close(conv(images), strided(images))
    (gradient,) = torch.autograd.grad(conv(images).square().sum(), images)
    (reference,) = torch.autograd.grad(strided(images).square().sum(), images)
    torch.testing.assert_close(gradient, reference)


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


def test_box_output_is_a_sigmoid_times_a_learnable_bound_per_dimension():
    torch.manual_seed(0)
    projector = Projector(8, 2, 12, 6, output_normalization="box").eval()
    with torch.no_grad():
        projector.normalize.bound.copy_(torch.arange(1.0, 7.0))
    h = torch.randn(5, 8)
    linear = projector.output(projector.hidden[0](h))
    expected = 1 / (1 + torch.exp(-linear)) * torch.arange(1.0, 7.0)
    torch.testing.assert_close(projector(h), expected)
    assert projector.forward_all(h)["projector"].equal(projector(h))
    assert [name for name, _ in projector.named_parameters()][-1] == "normalize.bound"


def test_sphere_output_has_the_learnable_radius_and_the_linear_outputs_direction():
    torch.manual_seed(0)
    projector = Projector(8, 1, 12, 6, output_normalization="sphere")
    with torch.no_grad():
        projector.normalize.radius.fill_(2.5)
    h = torch.randn(5, 8)
    output, linear = projector(h), projector.output(h)
    torch.testing.assert_close(output.norm(dim=1), torch.full((5,), 2.5))
    torch.testing.assert_close(output / 2.5, linear / linear.norm(dim=1, keepdim=True))


def test_no_output_normalisation_keeps_the_state_dict_keys_of_older_checkpoints():
    keys = set(Projector(8, 2, 12, 6).state_dict())
    assert not any(key.startswith("normalize") for key in keys)
    with pytest.raises(ValueError, match="unknown output normalisation 'cube'"):
        Projector(8, 2, 12, 6, output_normalization="cube")


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


def test_an_mlp_without_layers_is_the_identity_and_trains_with_its_projector():
    mlp = MLP(6, [])
    x = torch.randn(10, 6)
    assert mlp.out_dim == 6 and not list(mlp.parameters())
    torch.testing.assert_close(mlp(x), x, rtol=0, atol=0)
    model = build_model((6,), 2, 8, 3, backbone="mlp", mlp_dims=())
    assert model.forward_all(x)["encoder"].equal(x)


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
    with pytest.raises(ValueError, match="unknown backbone 'transformer'"):
        build_model((16, 16, 3), 2, 12, 6, backbone="transformer")


# --- ViT ---------------------------------------------------------------------------------


def tiny_vit(
    image_size=(16, 16), channels=3, patch=4, pooling="mean", depth=2, seed=0, heads=2
) -> ViT:
    torch.manual_seed(seed)
    return ViT(image_size, channels, patch, depth, 8, heads, 2.0, pooling)


def patch_tokens_by_hand(vit: ViT, images: torch.Tensor, patch: int) -> torch.Tensor:
    """Each patch, read row by row across the image, flattened (channel, row, column) and
    multiplied by the embedding's weights: N × patches × width."""
    weight = vit.patch_embedding.weight.flatten(1)  # width × (C·p·p)
    bias = vit.patch_embedding.bias
    _, _, height, width = images.shape
    tokens = [
        images[:, :, top : top + patch, left : left + patch].flatten(1) @ weight.T + bias
        for top in range(0, height, patch)
        for left in range(0, width, patch)
    ]
    return torch.stack(tokens, dim=1)


@pytest.mark.parametrize(
    ("image_size", "channels", "patch"),
    [((16, 16), 3, 4), ((28, 28), 1, 7), ((8, 12), 2, 4)],
    ids=["rgb", "mnist-28x28x1", "oblong"],
)
def test_vit_patch_tokens_are_each_patch_times_the_embedding(image_size, channels, patch):
    vit = tiny_vit(image_size, channels, patch)
    images = torch.randn(3, channels, *image_size)
    with torch.no_grad():
        tokens = vit.tokens(images)
        torch.testing.assert_close(tokens, patch_tokens_by_hand(vit, images, patch))
    n_patches = (image_size[0] // patch) * (image_size[1] // patch)
    assert tokens.shape == (3, n_patches, 8)


def test_vit_token_of_a_constant_patch_is_its_value_times_the_summed_kernel():
    """An 8×12 image of 2×3 constant 4×4 patches, patch (i, j) of value 3i + j + 1."""
    vit = tiny_vit((8, 12), 2, 4)
    values = torch.arange(1.0, 7.0).reshape(2, 3)
    image = values.repeat_interleave(4, 0).repeat_interleave(4, 1).expand(1, 2, 8, 12)
    kernel_sums = vit.patch_embedding.weight.sum(dim=(1, 2, 3))
    expected = values.flatten()[:, None] * kernel_sums + vit.patch_embedding.bias
    with torch.no_grad():
        torch.testing.assert_close(vit.tokens(image)[0], expected)


@pytest.mark.parametrize("pooling", ["mean", "cls"])
@pytest.mark.parametrize(
    ("image_size", "channels", "patch"), [((16, 16), 3, 4), ((28, 28), 1, 7), ((28, 28), 1, 28)]
)
def test_vit_output_is_one_width_vector_per_image(image_size, channels, patch, pooling):
    vit = tiny_vit(image_size, channels, patch, pooling)
    assert vit.out_dim == 8
    assert vit(torch.rand(5, channels, *image_size)).shape == (5, 8)


def layer_norm_by_hand(x: torch.Tensor, norm: torch.nn.LayerNorm) -> torch.Tensor:
    centred = x - x.mean(dim=-1, keepdim=True)
    variance = centred.pow(2).mean(dim=-1, keepdim=True)
    return centred / torch.sqrt(variance + norm.eps) * norm.weight + norm.bias


def without_blocks(vit: ViT) -> ViT:
    """The ViT with every residual branch's last layer zeroed, so that each block passes its
    tokens through unchanged; the final LayerNorm gets random affine weights."""
    with torch.no_grad():
        for block in vit.blocks:
            for layer in (block.attention.out, block.mlp[-1]):
                layer.weight.zero_()
                layer.bias.zero_()
        vit.norm.weight.normal_()
        vit.norm.bias.normal_()
    return vit


def test_vit_mean_pooling_averages_the_normalised_patch_tokens():
    vit = without_blocks(tiny_vit(pooling="mean"))
    images = torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        tokens = patch_tokens_by_hand(vit, images, 4) + vit.position_embedding
        expected = layer_norm_by_hand(tokens, vit.norm).mean(dim=1)
        torch.testing.assert_close(vit(images), expected)
    assert vit.class_token is None and vit.position_embedding.shape == (1, 16, 8)


def test_vit_cls_pooling_reads_the_normalised_class_token():
    vit = without_blocks(tiny_vit(pooling="cls"))
    assert vit.position_embedding.shape == (1, 17, 8)  # the class token first, then 16 patches
    with torch.no_grad():
        # Without blocks nothing mixes the patches into the class token.
        expected = layer_norm_by_hand(
            vit.class_token[0, 0] + vit.position_embedding[0, 0], vit.norm
        )
        torch.testing.assert_close(vit(torch.randn(4, 3, 16, 16)), expected.expand(4, 8))


def test_vit_blocks_mix_the_patches_into_the_class_token():
    vit = tiny_vit(pooling="cls")
    images = torch.randn(2, 3, 16, 16)
    changed = images.clone()
    changed[:, :, 12:, 12:] += 1.0  # the last patch only
    with torch.no_grad():
        assert not torch.allclose(vit(images), vit(changed))


def test_vit_position_embedding_breaks_the_symmetry_of_patch_order():
    """Swapping two patches leaves mean-pooled attention unchanged without positions."""
    vit = tiny_vit(pooling="mean")
    images = torch.randn(2, 3, 16, 16)
    swapped = images.clone()
    swapped[:, :, :4, :4], swapped[:, :, 12:, 12:] = images[:, :, 12:, 12:], images[:, :, :4, :4]
    with torch.no_grad():
        assert not torch.allclose(vit(images), vit(swapped), atol=1e-4)
        vit.position_embedding.zero_()
        torch.testing.assert_close(vit(images), vit(swapped))


def attention_by_hand(attention: SelfAttention, x: torch.Tensor) -> torch.Tensor:
    """softmax(q kᵀ / √d_head) v per head (Vaswani et al. 2017), heads concatenated, then the
    output projection; a loop over images and heads."""
    heads, width = attention.heads, x.shape[-1]
    head_width = width // heads
    w_q, w_k, w_v = attention.qkv.weight.split(width)
    b_q, b_k, b_v = attention.qkv.bias.split(width)
    outputs = []
    for tokens in x:
        q, k, v = tokens @ w_q.T + b_q, tokens @ w_k.T + b_k, tokens @ w_v.T + b_v
        per_head = []
        for head in range(heads):
            columns = slice(head * head_width, (head + 1) * head_width)
            scores = q[:, columns] @ k[:, columns].T / math.sqrt(head_width)
            per_head.append(scores.softmax(dim=-1) @ v[:, columns])
        outputs.append(torch.cat(per_head, dim=-1) @ attention.out.weight.T + attention.out.bias)
    return torch.stack(outputs)


@pytest.mark.parametrize("heads", [1, 2, 4])
def test_self_attention_is_scaled_dot_product_attention_per_head(heads):
    torch.manual_seed(heads)
    attention = SelfAttention(8, heads)
    x = torch.randn(3, 5, 8)
    with torch.no_grad():
        torch.testing.assert_close(attention(x), attention_by_hand(attention, x))


def test_vit_block_is_pre_norm_residual():
    block = tiny_vit(depth=1).blocks[0]
    with torch.no_grad():
        block.norm1.weight.normal_()
        block.norm2.bias.normal_()
    x = torch.randn(2, 5, 8)
    with torch.no_grad():
        h = x + attention_by_hand(block.attention, layer_norm_by_hand(x, block.norm1))
        first, _, second = block.mlp
        hidden = F.gelu(layer_norm_by_hand(h, block.norm2) @ first.weight.T + first.bias)
        expected = h + hidden @ second.weight.T + second.bias
        torch.testing.assert_close(block(x), expected)


def test_vit_patch_not_dividing_the_image_raises_naming_both():
    with pytest.raises(
        ValueError, match=re.escape("patch size 5 does not divide the image size (16, 16)")
    ):
        tiny_vit(patch=5)


def test_vit_heads_not_dividing_the_width_raise():
    with pytest.raises(ValueError, match="width 8 is not a multiple of heads 3"):
        tiny_vit(heads=3)


def test_unknown_vit_pooling_raises():
    with pytest.raises(ValueError, match="unknown pooling 'max'"):
        tiny_vit(pooling="max")


@pytest.mark.parametrize("input_shape", [(10,), (4, 10)])
def test_vit_backbone_on_non_image_inputs_raises_naming_the_shape(input_shape):
    with pytest.raises(
        ValueError, match=re.escape(f"vit backbone needs images (H×W×C), got inputs {input_shape}")
    ):
        build_model(input_shape, 2, 12, 6, backbone="vit")


def test_vit_backbone_model_wires_the_width_into_the_projector():
    torch.manual_seed(0)
    model = build_model(
        (28, 28, 1), 2, 12, 6, backbone="vit", vit_patch_size=7, vit_width=16, vit_depth=1
    )
    assert isinstance(model.encoder, ViT)
    assert model.encoder.patch_embedding.in_channels == 1
    assert model.encoder.position_embedding.shape == (1, 16, 16)
    assert model.projector.hidden[0][0].in_features == 16
    outputs = model.forward_all(torch.rand(4, 1, 28, 28))
    assert {name: value.shape for name, value in outputs.items()} == {
        "encoder": (4, 16),
        "proj1": (4, 12),
        "projector": (4, 6),
    }


def test_scale_weights_scales_the_vit_convolution_and_linear_weights_only():
    unscaled, scaled = tiny_vit(pooling="cls", seed=4), tiny_vit(pooling="cls", seed=4)
    scale_weights(scaled, 2.0)
    linear = {
        name for name, module in unscaled.named_modules() if isinstance(module, torch.nn.Linear)
    }
    for name, value in unscaled.state_dict().items():
        module, _, kind = name.rpartition(".")
        scales = kind == "weight" and (module in linear or module == "patch_embedding")
        assert torch.equal(scaled.state_dict()[name], value * 2.0 if scales else value), name
    assert "class_token" in unscaled.state_dict() and "position_embedding" in unscaled.state_dict()


# --- every backbone as the runs build it -------------------------------------------------

RUN_MODELS = {
    "resnet": {"encoder_width": 4, "encoder_blocks": [1, 1], "encoder_stem_stride": 1},
    "vit": {
        "vit_patch_size": 4,
        "vit_depth": 1,
        "vit_width": 8,
        "vit_heads": 2,
        "vit_mlp_ratio": 2,
        "vit_pooling": "cls",
    },
    "mlp": {"mlp_dims": [16, 8]},
}


def run_settings(backbone: str) -> dict:
    """Settings of a run with ``backbone``, every model setting given (unused ones at the
    other backbones' values)."""
    settings = {
        "projector_depth": 2,
        "projector_hidden_dim": 12,
        "projector_out_dim": 6,
        "output_normalization": "none",
    }
    for values in RUN_MODELS.values():
        settings |= values
    return settings | {"backbone": backbone}


def test_every_backbone_has_run_settings():
    assert set(RUN_MODELS) == set(BACKBONES)
    assert set(run_settings("vit")) == set(MODEL_SETTINGS)


@pytest.mark.parametrize("backbone", BACKBONES)
def test_channels_last_models_compute_what_contiguous_ones_do(backbone):
    """model_from_settings keeps its weights channels-last, as do the augmentations their
    images; the numbers are those of the same weights and images in the default layout."""
    torch.manual_seed(0)
    channels_last = model_from_settings(run_settings(backbone), (16, 16, 3)).eval()
    contiguous = build_model((16, 16, 3), **run_settings(backbone)).eval()
    contiguous.load_state_dict(channels_last.state_dict())
    images = torch.rand(IMAGES)
    with torch.no_grad():
        expected = contiguous(images)
        for layout in (torch.contiguous_format, torch.channels_last):
            outputs = channels_last.forward_all(images.contiguous(memory_format=layout))
            torch.testing.assert_close(outputs["projector"], expected)
