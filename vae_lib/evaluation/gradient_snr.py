"""The signal-to-noise ratio of a stochastic gradient, parameter by parameter.

A training step's gradient is a random variable: at fixed parameters it changes with the
noise the step draws (the ε of the reparameterization, K of them for an IWAE). Rainforth et
al. (2018) judge an estimator g of a gradient by, for each parameter,

.. math:: \\mathrm{SNR} = \\frac{|\\mathbb E[g]|}{\\sqrt{\\mathrm{Var}[g]}},

estimated from M independent draws of the noise at the same parameters and the same batch.
A small SNR means the step is mostly noise. :func:`gradient_moments` runs M steps of a model
(through ``draw_noise`` and ``loss_and_grads`` only, so it works for every model) and keeps
the running mean and variance of every gradient entry; :class:`GradientMoments` turns them
into SNRs.

Estimated from M draws, |mean| / std does not fall to zero when the true SNR does: with no
signal at all it is about :math:`\\sqrt{2/(\\pi M)}` (the mean of M draws of a zero-mean
variable is ±std/√M); :attr:`GradientMoments.noise_floor` is that number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.validation import check_positive_int, check_rng
from ..models.base import Model


@dataclass
class GradientMoments:
    """Mean and standard deviation of every gradient entry over ``n_draws`` draws of noise.

    Attributes
    ----------
    mean, std : dict of str to ndarray
        By parameter name (as ``model.param_names()``), each of the parameter's shape,
        float64. ``std`` is the sample standard deviation (divisor M - 1).
    n_draws : int
        M, the number of independent draws.
    """

    mean: dict[str, np.ndarray]
    std: dict[str, np.ndarray]
    n_draws: int

    @property
    def noise_floor(self) -> float:
        """√(2 / (π M)): the expected |mean| / std of an entry whose true mean is zero."""
        return float(np.sqrt(2.0 / (np.pi * self.n_draws)))

    def _names(self, prefix: str) -> list[str]:
        if not isinstance(prefix, str):
            raise TypeError(f"prefix must be a str; got {type(prefix).__name__}")
        names = [name for name in self.mean if name.startswith(prefix)]
        if not names:
            raise ValueError(
                f"no parameter name starts with {prefix!r}; the names are {sorted(self.mean)}"
            )
        return names

    def snr(self, prefix: str = "") -> np.ndarray:
        """|mean| / std of every entry of the parameters whose names start with ``prefix``
        (e.g. ``"encoder."``), flattened; entries whose gradient never varied (std 0: a
        pixel that is 0 in every image of the batch, a ReLU unit that is never on) have no
        SNR and are left out.

        Returns
        -------
        ndarray, shape (P,), float64
        """
        names = self._names(prefix)
        mean = np.concatenate([self.mean[n].ravel() for n in names])
        std = np.concatenate([self.std[n].ravel() for n in names])
        varied = std > 0
        return np.abs(mean[varied]) / std[varied]


def gradient_moments(
    model: Model, batch, n_draws: int, rng: np.random.Generator, *, prefix: str = ""
) -> GradientMoments:
    """The mean and spread of ``model``'s gradient on ``batch`` over ``n_draws`` noise draws.

    Each draw is ``model.loss_and_grads(batch, model.draw_noise(batch, rng))`` at the same
    parameters (none is changed). Only parameters whose names start with ``prefix`` are
    recorded. The running moments are Welford's, in float64, so no draw is stored.

    Parameters
    ----------
    model : a vae_lib model
    batch : what ``model.check_batch`` accepts
    n_draws : int
        M, at least 2.
    rng : numpy.random.Generator
        Draws the noise.
    prefix : str
        Record only these parameters, e.g. ``"encoder."`` (default: all).

    Returns
    -------
    GradientMoments
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a vae_lib model; got {type(model).__name__}")
    n_draws = check_positive_int(n_draws, "n_draws")
    if n_draws < 2:
        raise ValueError(f"n_draws must be at least 2 to estimate a spread; got {n_draws}")
    rng = check_rng(rng)
    batch = model.check_batch(batch)
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str; got {type(prefix).__name__}")
    chosen = [i for i, name in enumerate(model.param_names()) if name.startswith(prefix)]
    if not chosen:
        raise ValueError(
            f"no parameter name starts with {prefix!r}; the names are {model.param_names()}"
        )
    names = [model.param_names()[i] for i in chosen]
    grads = model.grads
    mean = [np.zeros(grads[i].shape) for i in chosen]
    m2 = [np.zeros(grads[i].shape) for i in chosen]
    work = [(np.empty(grads[i].shape), np.empty(grads[i].shape)) for i in chosen]
    for t in range(1, n_draws + 1):
        model.loss_and_grads(batch, model.draw_noise(batch, rng))
        for i, mu, s, (delta, step) in zip(chosen, mean, m2, work):
            # Welford: mu += (g - mu) / t; s += (g - mu_old)(g - mu_new), with no temporaries
            np.subtract(grads[i], mu, out=delta)
            np.multiply(delta, 1.0 / t, out=step)
            mu += step
            np.subtract(grads[i], mu, out=step)
            step *= delta
            s += step
    return GradientMoments(
        mean=dict(zip(names, mean)),
        std={n: np.sqrt(s / (n_draws - 1)) for n, s in zip(names, m2)},
        n_draws=n_draws,
    )
