"""Named results of an objective, shared by the models and the exactly solvable toys."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ELBOTerms:
    """The ELBO and its two parts, in nats: elbo = recon - kl.

    Arrays of shape (N,) (one value per example) or floats, as the function that returns
    them says.
    """

    elbo: np.ndarray | float
    recon: np.ndarray | float
    kl: np.ndarray | float


@dataclass
class TwoLayerELBOTerms(ELBOTerms):
    """The ELBO of a model with two layers of code, in nats: elbo = recon - kl, kl = kl1 + kl2.

    ``kl1`` is E_q(z2|x)[KL(q(z1 | z2, x) ‖ p(z1 | z2))], ``kl2`` is KL(q(z2 | x) ‖ p(z2)).
    """

    kl1: np.ndarray | float
    kl2: np.ndarray | float
