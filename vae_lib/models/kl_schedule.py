"""The weight of a KL term over training: β, and KL warm-up (Bowman et al. 2016; Sønderby
et al. 2016), for the models whose objective has a KL term in closed form (the VAE and the
ladder VAE)."""

from __future__ import annotations

import numpy as np


def check_kl_schedule(beta, kl_warmup_epochs) -> None:
    """Refuse a β that is not a finite number of at least 0, or a warm-up that is not a
    whole number of epochs of at least 0."""
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.integer, np.floating)):
        raise TypeError(f"beta must be a number; got {beta!r}")
    if not (np.isfinite(beta) and beta >= 0):
        raise ValueError(f"beta must be a finite number of at least 0; got {beta}")
    if (
        isinstance(kl_warmup_epochs, bool)
        or not isinstance(kl_warmup_epochs, (int, np.integer))
        or kl_warmup_epochs < 0
    ):
        raise ValueError(
            f"kl_warmup_epochs must be a whole number of at least 0; got {kl_warmup_epochs!r}"
        )


class KLSchedule:
    """The KL term's weight in the current epoch: β · w, with w = min(1, (e + 1)/W) in epoch
    e of a warm-up of W epochs and 1 without one (the config's ``beta`` and
    ``kl_warmup_epochs``). :func:`vae_lib.fit` calls :meth:`start_epoch` before each epoch."""

    #: The warm-up's factor on β in the current epoch (1 outside warm-up).
    kl_weight: float = 1.0

    def start_epoch(self, epoch: int) -> None:
        warmup = self.config.kl_warmup_epochs
        self.kl_weight = min(1.0, (epoch + 1) / warmup) if warmup else 1.0
