"""A small Vision Transformer encoder (Dosovitskiy et al. 2021, arXiv 2010.11929).

The image is cut into non-overlapping ``patch_size``² patches, each mapped linearly to a
``width``-dimensional token (a convolution of kernel and stride ``patch_size``); learned
position embeddings are added, then ``depth`` pre-norm transformer blocks (x + MSA(LN(x)),
then x + MLP(LN(x)), as in ViT) and a final LayerNorm. No dropout, so a run is as
deterministic as the ResNet's.

The representation (dimension ``width``) pools the final tokens: ``mean`` averages the patch
tokens, ``cls`` takes a learned class token prepended to them. ``mean`` is the default: it is
the ResNet's global average pooling over positions, so the backbones differ in how they mix
positions (attention against convolution) rather than in how they read the result out, and
for plain ViTs it is no worse than the class token (Beyer et al. 2022, arXiv 2205.01580).
"""

import torch
import torch.nn.functional as F
from torch import Tensor, nn

POOLINGS = ("mean", "cls")


class SelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention over the tokens (N × T × width)."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} is not a multiple of heads {heads}")
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x: Tensor) -> Tensor:
        n, tokens, width = x.shape
        qkv = self.qkv(x).reshape(n, tokens, 3, self.heads, width // self.heads)
        query, key, value = qkv.permute(2, 0, 3, 1, 4)  # each N × heads × T × head width
        attended = F.scaled_dot_product_attention(query, key, value)
        return self.out(attended.transpose(1, 2).reshape(n, tokens, width))


class Block(nn.Module):
    """A pre-norm transformer block: x + attention(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, width: int, heads: int, mlp_ratio: float):
        super().__init__()
        hidden = round(width * mlp_ratio)
        self.norm1 = nn.LayerNorm(width)
        self.attention = SelfAttention(width, heads)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attention(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(
        self,
        image_size: tuple[int, int],
        in_channels: int,
        patch_size: int,
        depth: int,
        width: int,
        heads: int,
        mlp_ratio: float,
        pooling: str = "mean",
    ):
        super().__init__()
        if any(side % patch_size for side in image_size):
            raise ValueError(f"patch size {patch_size} does not divide the image size {image_size}")
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; known: {list(POOLINGS)}")
        self.pooling = pooling
        self.patch_embedding = nn.Conv2d(in_channels, width, patch_size, patch_size)
        n_tokens = (image_size[0] // patch_size) * (image_size[1] // patch_size)
        self.class_token = None
        if pooling == "cls":
            self.class_token = nn.Parameter(torch.zeros(1, 1, width))
            nn.init.trunc_normal_(self.class_token, std=0.02)
            n_tokens += 1
        self.position_embedding = nn.Parameter(torch.zeros(1, n_tokens, width))
        nn.init.trunc_normal_(self.position_embedding, std=0.02)
        self.blocks = nn.Sequential(*(Block(width, heads, mlp_ratio) for _ in range(depth)))
        self.norm = nn.LayerNorm(width)
        self.out_dim = width

    def tokens(self, x: Tensor) -> Tensor:
        """The patch tokens of images x (N × C × H × W), row by row: N × patches × width."""
        return self.patch_embedding(x).flatten(2).transpose(1, 2)

    def forward(self, x: Tensor) -> Tensor:
        tokens = self.tokens(x)
        if self.class_token is not None:
            tokens = torch.cat([self.class_token.expand(len(tokens), -1, -1), tokens], dim=1)
        tokens = self.norm(self.blocks(tokens + self.position_embedding))
        return tokens[:, 0] if self.pooling == "cls" else tokens.mean(dim=1)
