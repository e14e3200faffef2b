"""Training: minibatch Adam on the negative ELBO, with a per-epoch record."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .nn import Adam
from .vae import VAE
from .validation import check_positive_float, check_positive_int, check_rng


@dataclass
class History:
    """What :func:`fit` saw, one entry per epoch (averages over that epoch's minibatches).

    ``elbo``, ``recon`` and ``kl`` are in nats per example; ``seconds`` is the wall time
    since training began, at the end of each epoch.
    """

    epoch: list[int] = field(default_factory=list)
    elbo: list[float] = field(default_factory=list)
    recon: list[float] = field(default_factory=list)
    kl: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    batch_size: int = 0
    lr: float = 0.0
    n_examples: int = 0

    def summary(self) -> str:
        """One line: the training budget and the final numbers, as figures state them."""
        if not self.epoch:
            return "not trained"
        return (
            f"{self.epoch[-1]} epochs of {self.n_examples} examples in batches of "
            f"{self.batch_size}, Adam lr {self.lr:g}, {self.seconds[-1]:.1f} s; final ELBO "
            f"{self.elbo[-1]:.2f} nats (reconstruction {self.recon[-1]:.2f}, KL {self.kl[-1]:.2f})"
        )

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def fit(
    model: VAE,
    x,
    *,
    epochs: int,
    rng: np.random.Generator,
    batch_size: int = 100,
    lr: float = 1e-3,
    transform: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
    progress: bool | int = True,
    history: History | None = None,
    optimizer: Adam | None = None,
) -> History:
    """Train ``model`` on ``x`` by minibatch Adam on the negative ELBO.

    Parameters
    ----------
    model : VAE
    x : ndarray, shape (N, D), values in [0, 1]
    epochs : int
        Passes over the data.
    rng : numpy.random.Generator
        Shuffles the data, draws ε, and is handed to ``transform``.
    batch_size : int
        The last, smaller batch of an epoch is kept.
    lr : float
        Adam's step size.
    transform : callable (x_epoch, rng) -> x_epoch, optional
        Applied to the whole data set at the start of each epoch, e.g. dynamic
        binarization (a fresh Bernoulli draw of every pixel).
    progress : bool or int
        Print a line every ``progress`` epochs (``True``: about ten lines in all).
    history, optimizer : optional
        Pass the ones returned or used before to continue a run.

    Returns
    -------
    History
    """
    if not isinstance(model, VAE):
        raise TypeError(f"model must be a VAE; got {type(model).__name__}")
    x = model.check_data(x)
    rng = check_rng(rng)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_positive_float(lr, "lr")
    every = max(1, epochs // 10) if progress is True else int(progress)

    history = history if history is not None else History()
    history.batch_size, history.lr, history.n_examples = batch_size, lr, len(x)
    optimizer = optimizer if optimizer is not None else Adam(model.params, lr=lr)
    params_grads = model.grads
    first_epoch = history.epoch[-1] + 1 if history.epoch else 1
    elapsed = history.seconds[-1] if history.seconds else 0.0
    start = time.perf_counter()
    k = model.config.latent_dim

    for epoch in range(first_epoch, first_epoch + epochs):
        data = x if transform is None else model.check_data(transform(x, rng), "transform(x)")
        order = rng.permutation(len(data))
        sums = np.zeros(3)
        for lo in range(0, len(data), batch_size):
            batch = data[order[lo : lo + batch_size]]
            eps = rng.standard_normal((len(batch), k), dtype=model.dtype)
            terms = model._loss_and_grads(batch, eps)
            optimizer.step(params_grads)
            sums += len(batch) * np.array([terms.elbo, terms.recon, terms.kl])
        elbo, recon, kl = sums / len(data)
        if not np.isfinite(elbo):
            raise FloatingPointError(
                f"the ELBO became {elbo} at epoch {epoch}; lower lr (now {lr:g})"
            )
        history.epoch.append(epoch)
        history.elbo.append(float(elbo))
        history.recon.append(float(recon))
        history.kl.append(float(kl))
        history.seconds.append(elapsed + time.perf_counter() - start)
        if every and (epoch % every == 0 or epoch == first_epoch + epochs - 1):
            print(
                f"epoch {epoch:4d}  ELBO {elbo:9.3f}  reconstruction {recon:9.3f}  "
                f"KL {kl:7.3f}  ({history.seconds[-1]:.1f} s)",
                file=sys.stdout,
            )
    return history
