"""Self-supervised losses on the projector outputs of two batches of views.

Each loss is a function ``loss(z1, z2, **params) -> scalar`` where row i of
``z1`` and ``z2`` are two views of the same image; ``LOSSES`` maps the config's
``method`` name to it, so peers (VICReg, Barlow Twins) are added beside SimCLR.
"""

import functools
import inspect
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def nt_xent(z1: Tensor, z2: Tensor, temperature: float) -> Tensor:
    """SimCLR's normalised-temperature cross entropy (Chen et al. 2020).

    For 2B views, the positive of each view is its partner; the other 2B − 2
    views are negatives; cosine similarities are divided by ``temperature``.
    The loss is the mean over all 2B anchors.
    """
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = z @ z.T / temperature
    logits.fill_diagonal_(float("-inf"))
    batch = z1.shape[0]
    partners = torch.cat([torch.arange(batch, 2 * batch), torch.arange(batch)]).to(z.device)
    return F.cross_entropy(logits, partners)


LOSSES = {"simclr": nt_xent}


def loss_from_settings(method: str, settings: dict) -> Callable[[Tensor, Tensor], Tensor]:
    """The loss of ``method`` with its hyper-parameters taken from ``settings`` by name."""
    if method not in LOSSES:
        raise ValueError(f"unknown method {method!r}; known: {sorted(LOSSES)}")
    loss = LOSSES[method]
    names = list(inspect.signature(loss).parameters)[2:]
    return functools.partial(loss, **{name: settings[name] for name in names})
