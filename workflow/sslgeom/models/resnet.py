"""A small CIFAR-style ResNet encoder (He et al. 2016, the CIFAR variant).

A 3×3 stem with stride ``stem_stride`` (1 in the CIFAR variant) and no max-pool, then one
stage per entry of ``blocks`` with basic residual blocks; each stage doubles the width and
halves the resolution, except the first. Global average pooling gives the encoder
representation, of dimension ``width · 2^(len(blocks) − 1)``.

A stride-2 stem at twice the width costs the same convolution FLOPs as stride 1 (each layer
has 4× the channel pairs at ¼ of the positions) with half the activation memory, which small
CPU convolutions turn into about 1.5 times the FLOP/s.
"""

import torch.nn.functional as F
from torch import Tensor, nn

# Input channels from which oneDNN's strided 1×1 kernel was measured safe on the CPU, with AVX2
# and with AVX-512 (channels-last, batch 256–512, 16–128 pixels, forward and backward).
SAFE_STRIDED_CHANNELS = 16


class StridedPointwiseConv(nn.Conv2d):
    """A 1×1 convolution with stride ``stride`` (no bias) that never runs the CPU kernel known
    to crash: the parameters and state-dict keys of ``nn.Conv2d(in, out, 1, stride)``.

    oneDNN's kernel for a strided 1×1 convolution on channels-last inputs corrupts memory in
    the backward pass when the input has few channels (measured: fewer than 8 with AVX2; 8
    from 64 pixels and 12 from 96 with AVX-512), killing the process. Below
    ``SAFE_STRIDED_CHANNELS`` input channels on the CPU it is computed as every
    ``stride``-th pixel followed by a unit-stride 1×1 convolution: the same sums with a
    kernel that does not crash, about 5% slower than the strided kernel
    (``benchmarks/strided_shortcut.py``). Elsewhere the strided kernel runs as before.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__(in_channels, out_channels, kernel_size=1, bias=False)
        self.step = stride

    def forward(self, x: Tensor) -> Tensor:
        if x.is_cuda or self.in_channels >= SAFE_STRIDED_CHANNELS:
            return F.conv2d(x, self.weight, stride=self.step)
        return F.conv2d(x[:, :, :: self.step, :: self.step], self.weight)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, kernel_size=(1, 1), stride={self.step}"


class BasicBlock(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                StridedPointwiseConv(in_channels, out_channels, stride),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn1(self.conv1(x)).relu_()
        out = self.bn2(self.conv2(out))
        return (out + self.shortcut(x)).relu_()


class ResNet(nn.Module):
    def __init__(self, width: int, blocks: list[int], in_channels: int = 3, stem_stride: int = 1):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, stem_stride, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
        )
        stages, channels = [], width
        for index, count in enumerate(blocks):
            out_channels = width * 2**index
            for block in range(count):
                stride = 2 if index > 0 and block == 0 else 1
                stages.append(BasicBlock(channels, out_channels, stride))
                channels = out_channels
        self.stages = nn.Sequential(*stages)
        self.out_dim = channels

    def forward(self, x: Tensor) -> Tensor:
        return self.stages(self.stem(x)).mean(dim=(2, 3))
