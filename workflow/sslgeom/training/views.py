"""Where a run's positive pairs come from (run setting ``views``).

- ``augmentation``: both views are independent augmentations of a stored image at the run's
  strength (:class:`sslgeom.training.augment.StrengthAugmentation`), as in SimCLR.
- ``latent``: the data's generative process is run again. The first view renders the stored
  latents z; the second renders latents drawn from a conditional around z, so the pair shares
  exactly what the conditional keeps. On ``shapes`` the conditional resamples the listed style
  latents from their priors and keeps the rest (von Kügelgen et al. 2021, "Self-supervised
  learning with data augmentations provably isolates content from style", arXiv 2106.04619);
  on ``vectors`` it is the run's ``latent_conditional`` around z: a von Mises–Fisher
  distribution on the sphere, or a normal or Laplace one, truncated to the box for box latents
  (Zimmermann et al. 2021, arXiv 2102.08850). At a strength above 0 both
  views then get the run's image augmentation.

A sampler draws its randomness from torch's global generator, which training checkpoints. On
CUDA both views of a batch are augmented in one call
(:meth:`~sslgeom.training.augment.StrengthAugmentation.batched_pair`); elsewhere each view is
its own call, the random draws in the order the project's CPU numbers were made with.
"""

import functools
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

from sslgeom.data import Dataset
from sslgeom.data.shapes import render
from sslgeom.data.vectors import mix
from sslgeom.training.augment import StrengthAugmentation, to_float_images
from sslgeom.training.conditionals import (
    SPACE_CONDITIONALS,
    change_style,
    mixing_network,
    resample_latents,
    sample_truncated,
    sample_vmf,
)

VIEW_MODES = ("augmentation", "latent")


def to_model_inputs(stored: Tensor) -> Tensor:
    """Stored inputs as the model reads them: uint8 NHWC images to float NCHW in [0, 1];
    float vectors unchanged."""
    return to_float_images(stored) if stored.dtype == torch.uint8 else stored


class Unaugmented:
    """No image augmentation (latent views at strength 0): the views as rendered."""

    def __call__(self, inputs: Tensor) -> Tensor:
        return inputs

    def batched_pair(self, first: Tensor, second: Tensor) -> tuple[Tensor, Tensor]:
        return first, second


Augmentation = StrengthAugmentation | Unaugmented


def batches_pairs(device: torch.device) -> bool:
    """Whether a sampler on ``device`` augments both views of a batch in one call: on CUDA,
    where the augmentation's time is mostly kernel launches, which one call for both views
    halves (docs/performance.md); elsewhere a call per view."""
    return device.type == "cuda"


def augmented_pair(
    augment: Augmentation,
    render_first: Callable[[], Tensor],
    render_second: Callable[[], Tensor],
    batched: bool,
) -> tuple[Tensor, Tensor]:
    """Views of the batches ``render_first()`` and ``render_second()``. ``batched``: both
    rendered, then augmented in one call. Otherwise each augmented as soon as it is rendered,
    so that the random draws come in the order they always came in on the CPU: the first
    view's augmentation before the second's render."""
    if batched:
        return augment.batched_pair(render_first(), render_second())
    first = augment(render_first())
    return first, augment(render_second())


class AugmentedViews:
    """Two independent augmentations of each stored image."""

    def __init__(self, inputs: Tensor, augment: Augmentation):
        self.inputs, self.augment = inputs, augment
        self.device = inputs.device
        self.batched_pairs = batches_pairs(self.device)

    def __len__(self) -> int:
        return len(self.inputs)

    def pair(self, indices: Tensor) -> tuple[Tensor, Tensor]:
        batch = to_model_inputs(self.inputs[indices])
        return augmented_pair(self.augment, lambda: batch, lambda: batch, self.batched_pairs)

    def views(self, indices: Tensor) -> Tensor:
        """One view of each indexed example."""
        return self.augment(to_model_inputs(self.inputs[indices]))


class LatentViews:
    """Renders of the latents and of latents drawn from a conditional around them."""

    def __init__(
        self,
        latents: Tensor,
        generate: Callable[[Tensor], Tensor],
        conditional: Callable[[Tensor], Tensor],
        augment: Augmentation,
    ):
        self.latents, self.generate = latents, generate
        self.conditional, self.augment = conditional, augment
        self.device = latents.device
        self.batched_pairs = batches_pairs(self.device)

    def __len__(self) -> int:
        return len(self.latents)

    def pair(self, indices: Tensor) -> tuple[Tensor, Tensor]:
        latents = self.latents[indices]
        return augmented_pair(
            self.augment,
            lambda: self.generate(latents),
            lambda: self.generate(self.conditional(latents)),
            self.batched_pairs,
        )

    def views(self, indices: Tensor) -> Tensor:
        """One draw of the conditional's render for each indexed example."""
        return self.augment(self.generate(self.conditional(self.latents[indices])))


ViewSampler = AugmentedViews | LatentViews


def view_sampler(
    settings: dict,
    dataset: Dataset,
    inputs: np.ndarray,
    latents: np.ndarray | None,
    device: torch.device,
    strength: float | None = None,
) -> ViewSampler:
    """The run's sampler over ``inputs`` (stored rows of ``dataset``) and their ``latents``,
    on ``device``; image augmentation at ``strength`` (default: the run's)."""
    strength = settings["strength"] if strength is None else strength
    augment = Unaugmented()
    if settings["views"] == "augmentation" or strength > 0:
        augment = StrengthAugmentation(strength, tuple(inputs.shape[1:3]))
    if settings["views"] == "augmentation":
        return AugmentedViews(torch.from_numpy(inputs).to(device), augment)
    if latents is None or not dataset.generator:
        raise ValueError(
            f"latent views need a dataset with latents and a known generative process; "
            f"{dataset.name} has none (rebuild it if it was made by an older version)"
        )
    latents = torch.from_numpy(np.asarray(latents, dtype=np.float32)).to(device)
    generate, conditional = _generative_process(settings, dataset, device)
    return LatentViews(latents, generate, conditional, augment)


def _generative_process(settings: dict, dataset: Dataset, device: torch.device):
    """(generate, conditional) of the dataset's generator, as torch functions on ``device``."""
    generator = dataset.generator
    if generator["kind"] == "shapes":
        names = list(dataset.latent_names)
        resampled = [names.index(name) for name in settings["resampled_latents"]]
        return (
            functools.partial(_render_on, size=generator["size"], device=device),
            functools.partial(resample_latents, indices=resampled, names=names),
        )
    if generator["kind"] == "vectors":
        weights = mixing_network(
            generator["latent_dim"],
            generator["mixing_layers"],
            generator["mixing_seed"],
            generator["mixing_candidates"],
            device,
        )
        return functools.partial(mix, weights=weights), _vectors_conditional(settings, generator)
    raise ValueError(f"unknown generative process {generator['kind']!r}")


def _vectors_conditional(settings: dict, generator: dict) -> Callable[[Tensor], Tensor]:
    space = generator["space"]
    allowed = SPACE_CONDITIONALS[space]
    kind = settings["latent_conditional"] or allowed[0]
    if kind not in allowed:
        raise ValueError(
            f"the {kind} latent conditional does not live on {space} latents; "
            f"allowed: {', '.join(allowed)}"
        )
    if kind == "style":
        return functools.partial(
            change_style,
            content_dim=generator["content_latents"],
            change_prob=settings["style_change_prob"],
        )
    if kind == "vmf":
        return functools.partial(sample_vmf, kappa=settings["latent_concentration"])
    return functools.partial(sample_truncated, scale=settings["latent_scale"], distribution=kind)


def _render_on(latents: Tensor, size: int, device: torch.device) -> Tensor:
    images = render(latents.detach().cpu().numpy(), size)
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous().to(device)
