"""How long a run trains: its optimizer steps, and the epochs they span.

An epoch is one pass over the training images in shuffled full batches (the remainder is
dropped). A run trains ``epochs`` epochs or, given ``train_steps``, exactly that many steps:
full epochs and a last one cut short. Torch-free, so that the config checks, which run before
any job, count epochs as the training loop does.
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class TrainingLength:
    steps_per_epoch: int
    total_steps: int

    @property
    def epochs(self) -> int:
        """The epochs the steps span, the last one possibly cut short."""
        return math.ceil(self.total_steps / self.steps_per_epoch)

    def steps_in_epoch(self, epoch: int) -> int:
        """The optimizer steps of ``epoch`` (counted from 1)."""
        return min(self.steps_per_epoch, self.total_steps - (epoch - 1) * self.steps_per_epoch)


def training_length(
    n_images: int, batch_size: int, epochs: int, train_steps: int | None
) -> TrainingLength:
    """The length of a run on ``n_images`` images; ``train_steps``, unless None, overrides
    ``epochs``."""
    steps_per_epoch = n_images // batch_size
    total_steps = epochs * steps_per_epoch if train_steps is None else train_steps
    return TrainingLength(steps_per_epoch, total_steps)
