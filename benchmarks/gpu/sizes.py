"""What the GPU check measures, and at which sizes: the measured model, the shapes of the
throughput measurements, the variants of the project's training, and the sizes of each part on
a GPU, on a GPU with ``--quick``, and on the CPU."""

from dataclasses import dataclass, replace

import torch
from training_setup import REPO, STRENGTH, validated_config

# the measured model: the paper's ResNet-18, or on a CPU the default experiment's small ResNet
MODEL_CONFIGS = {"paper": "configs/cifar10_paper.yaml", "default": "config.yaml"}


@dataclass(frozen=True)
class Shape:
    """The images of a throughput measurement: size², batch, resident images, steps timed."""

    image_size: int
    batch: int
    images: int
    steps: int


@dataclass(frozen=True)
class Sizes:
    # the fixture runs compared: those on these datasets. Not mnist5k: its runs take 152 AdamW
    # steps, over which rounding differences grow past any fixed tolerance, and they use no
    # device code that the shapes runs do not
    fixture_datasets: tuple[str, ...]
    fixture_strengths: tuple[float, ...]  # at these strengths
    model: str  # a key of MODEL_CONFIGS
    resume_images: int
    resume_batch: int
    resume_epochs: int
    shapes: tuple[Shape, ...]  # the CIFAR step (every variant), then the STL-10 step
    warmup_steps: int
    rounds: int
    matmul_size: int
    compile: bool


GPU_SIZES = Sizes(
    fixture_datasets=("shapes",),
    fixture_strengths=(0.0, 0.5),
    model="paper",
    resume_images=2048,
    resume_batch=512,
    resume_epochs=4,
    shapes=(Shape(32, 512, 50_000, 97), Shape(96, 256, 5_000, 19)),  # a CIFAR / STL-10 epoch
    warmup_steps=10,
    rounds=2,
    matmul_size=8192,
    compile=True,
)
QUICK_GPU_SIZES = replace(  # the same runs and model, fewer steps timed on fewer images
    GPU_SIZES,
    shapes=(Shape(32, 512, 4096, 8), Shape(96, 256, 1024, 4)),
    warmup_steps=3,
    rounds=1,
    matmul_size=4096,
)
CPU_SIZES = Sizes(
    fixture_datasets=("shapes",),
    fixture_strengths=(0.5,),
    model="default",
    resume_images=256,
    resume_batch=64,
    resume_epochs=8,
    shapes=(Shape(32, 32, 256, 4), Shape(96, 8, 32, 2)),
    warmup_steps=1,
    rounds=1,
    matmul_size=512,
    compile=False,
)


@dataclass(frozen=True)
class Variant:
    name: str
    precision: str
    channels_last: bool
    compiled: bool = False


PIPELINE_DEFAULT = Variant("fp32 channels-last", "fp32", True)
BF16 = Variant("bf16 channels-last", "bf16", True)
VARIANTS = (
    PIPELINE_DEFAULT,
    Variant("fp32 NCHW", "fp32", False),
    BF16,
    Variant("bf16 NCHW", "bf16", False),
)
COMPILED = Variant("bf16 channels-last compiled", "bf16", True, compiled=True)
USUAL_RECIPE = "usual recipe"


def sizes_for(device: torch.device, quick: bool) -> Sizes:
    if device.type == "cpu":
        return replace(CPU_SIZES, compile=not quick)
    return QUICK_GPU_SIZES if quick else GPU_SIZES


def run_settings(model: str) -> dict:
    """The settings of the first run of the model's config, at strength STRENGTH."""
    _, experiments = validated_config(REPO / MODEL_CONFIGS[model])
    first_experiment = next(iter(experiments.values()))
    return next(iter(first_experiment.values())) | {"strength": STRENGTH}
