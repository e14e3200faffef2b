"""Training: minibatch Adam on any model's loss, with a per-epoch record of its terms."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..core.numerics import all_finite
from ..core.optim import Adam
from ..core.validation import check_positive_float, check_positive_int, check_rng
from ..models.base import Model

#: The most epochs one call of :func:`fit` runs (a larger number is surely a mistake).
MAX_EPOCHS = 100_000


def check_training_settings(epochs, batch_size, lr) -> tuple[int, int, float]:
    """``epochs`` (1 to :data:`MAX_EPOCHS`), ``batch_size`` (at least 1) and ``lr`` (above 0),
    or a clear error naming the one that is wrong."""
    epochs = check_positive_int(epochs, "epochs")
    if epochs > MAX_EPOCHS:
        raise ValueError(f"epochs must be at most {MAX_EPOCHS:,} in one call; got {epochs:,}")
    return epochs, check_positive_int(batch_size, "batch_size"), check_positive_float(lr, "lr")


@dataclass
class History:
    """What :func:`fit` saw, one entry per epoch (averages over that epoch's minibatches).

    ``loss`` is what training minimised; ``terms`` holds the model's named terms (for a VAE
    ``elbo``, ``recon`` and ``kl``, in nats per example), read as ``history["elbo"]``;
    ``labels`` names them in reports; ``seconds`` is the wall time since training began, at
    the end of each epoch; ``monitored`` holds what a ``monitor`` of :func:`fit` measured at
    the end of each epoch (for example the KL of held-out images, unit by unit).
    """

    epoch: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    terms: dict[str, list[float]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)
    monitored: dict[str, list[float]] = field(default_factory=dict)
    batch_size: int = 0
    lr: float = 0.0
    n_examples: int = 0

    def __getitem__(self, name: str) -> list[float]:
        if name not in self.terms:
            raise KeyError(f"no term {name!r} in this history; it has {sorted(self.terms)}")
        return self.terms[name]

    def label(self, name: str) -> str:
        return self.labels.get(name, name)

    def summary(self) -> str:
        """One line: the training budget and the final numbers, as figures state them."""
        if not self.epoch:
            return "not trained"
        first, *rest = self.terms
        parts = ", ".join(f"{self.label(t)} {self.terms[t][-1]:.2f}" for t in rest)
        return (
            f"{self.epoch[-1]} epochs of {self.n_examples} examples in batches of "
            f"{self.batch_size}, Adam lr {self.lr:g}, {self.seconds[-1]:.1f} s; final "
            f"{self.label(first)} {self.terms[first][-1]:.2f} nats"
            + (f" ({parts})" if parts else "")
        )

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def fit(
    model: Model,
    data,
    *,
    epochs: int,
    rng: np.random.Generator,
    batch_size: int = 100,
    lr: float = 1e-3,
    transform: Callable[[np.ndarray, np.random.Generator], np.ndarray] | None = None,
    progress: bool | int = True,
    history: History | None = None,
    optimizer: Adam | None = None,
    monitor: Callable[[Model], dict[str, float]] | None = None,
) -> History:
    """Train ``model`` on ``data`` by minibatch Adam on the model's loss.

    Each step is ``model.forward_backward(batch, model.draw_noise(batch, rng))`` followed by
    an Adam step on ``model.grads``; each epoch begins with ``model.start_epoch(index)``, for
    a model whose objective follows a schedule. The loop knows nothing else about the model.

    Parameters
    ----------
    model : a registered model (see :mod:`vae_lib.models.base`)
    data : what ``model.check_batch`` accepts, e.g. an (N, D) array with values in [0, 1]
    epochs : int
        Passes over the data.
    rng : numpy.random.Generator
        Shuffles the data, draws the noise, and is handed to ``transform``.
    batch_size : int
        The last, smaller batch of an epoch is kept.
    lr : float
        Adam's step size.
    transform : callable (data, rng) -> data, optional
        Applied to the whole data set at the start of each epoch, e.g. dynamic
        binarization (a fresh Bernoulli draw of every pixel).
    progress : bool or int
        Print a line every ``progress`` epochs (``True``: about ten lines in all).
    history, optimizer : optional
        Pass the ones returned or used before to continue a run; the optimizer must be one
        made for this model's parameters.
    monitor : callable (model) -> {name: float}, optional
        Called at the end of every epoch; its values go to ``history.monitored``. It must
        draw no number from ``rng`` and change no parameter, so that training is the same
        with or without it.

    Returns
    -------
    History

    Raises
    ------
    FloatingPointError
        The loss, a gradient or a parameter stopped being finite. The model is put back as
        it was after the last finished epoch (the history ends there too); an optimizer
        passed in may hold non-finite moments after this and should be made anew.
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a vae_lib model; got {type(model).__name__}")
    data = model.check_batch(data, "data")
    rng = check_rng(rng)
    epochs, batch_size, lr = check_training_settings(epochs, batch_size, lr)
    if progress is True:
        every = max(1, epochs // 10)
    elif progress is False:
        every = 0
    elif isinstance(progress, (int, np.integer)) and progress >= 0:
        every = int(progress)
    else:
        raise TypeError(
            f"progress must be True, False or a whole number of epochs; got {progress!r:.60}"
        )

    history = history if history is not None else History()
    history.batch_size, history.lr = batch_size, lr
    history.n_examples, history.labels = model.batch_length(data), dict(model.term_labels)
    if optimizer is None:
        optimizer = Adam(model.params, lr=lr, regions=model.param_regions())
    elif len(optimizer.params) != len(model.params) or any(
        a is not b for a, b in zip(optimizer.params, model.params)
    ):
        raise ValueError(
            "optimizer was made for other arrays than this model's parameters; make it with "
            "Adam(model.params) for this model"
        )
    params_grads = model.grads
    last_good = [p.copy() for p in model.params]  # the weights after the last finite epoch
    first_epoch = history.epoch[-1] + 1 if history.epoch else 1
    elapsed = history.seconds[-1] if history.seconds else 0.0
    start = time.perf_counter()
    n = model.batch_length(data)

    for epoch in range(first_epoch, first_epoch + epochs):
        epoch_data = (
            data
            if transform is None
            else model.check_batch(transform(data, rng), "transform(data)")
        )
        order = rng.permutation(n)
        model.start_epoch(epoch - 1)
        loss_sum, term_sums = 0.0, {}
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # checked below, with a reason
                for lo in range(0, n, batch_size):
                    batch = model.batch_rows(epoch_data, order[lo : lo + batch_size])
                    result = model.forward_backward(batch, model.draw_noise(batch, rng))
                    optimizer.step(params_grads)
                    size = model.batch_length(batch)
                    loss_sum += size * result.loss
                    for name, value in result.terms.items():
                        term_sums[name] = term_sums.get(name, 0.0) + size * value
            loss = loss_sum / n
            if not np.isfinite(loss):
                raise FloatingPointError(f"the loss became {loss}")
            if not all(all_finite(p) for p in model.params):
                raise FloatingPointError("a parameter became NaN or infinite")
        except FloatingPointError as err:
            for p, good in zip(model.params, last_good):
                np.copyto(p, good)
            done = f"after epoch {epoch - 1}" if epoch > first_epoch else "before this call"
            raise FloatingPointError(
                f"training diverged at epoch {epoch} ({err}); lower lr (now {lr:g}). The "
                f"model is back to its weights {done}."
            ) from err
        for p, good in zip(model.params, last_good):
            np.copyto(good, p)
        history.epoch.append(epoch)
        history.loss.append(float(loss))
        for name, total in term_sums.items():
            history.terms.setdefault(name, []).append(float(total / n))
        history.seconds.append(elapsed + time.perf_counter() - start)
        if monitor is not None:
            for name, value in monitor(model).items():
                history.monitored.setdefault(name, []).append(float(value))
        if every and (epoch % every == 0 or epoch == first_epoch + epochs - 1):
            values = "  ".join(f"{history.label(t)} {v[-1]:9.3f}" for t, v in history.terms.items())
            print(f"epoch {epoch:4d}  {values}  ({history.seconds[-1]:.1f} s)", file=sys.stdout)
    return history
