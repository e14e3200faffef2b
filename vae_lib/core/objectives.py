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
