"""The model protocol: what every model offers, so that shared code never asks which it is.

:func:`vae_lib.fit`, checkpoints, the cache, the importance-weighted bounds, active units,
the quadrature check and the conformance tests drive every model through these methods:

- ``config``: a frozen dataclass (:class:`ModelConfig`) with ``to_dict``/``from_dict``; the
  model class is registered under a name (:func:`register`), so a saved file can name it;
- ``params``, ``grads``, ``param_names()``: arrays allocated once, ``grads`` overwritten by
  each step, gathered from the model's networks (``self.networks``, a dict of name ->
  :class:`vae_lib.core.nn.Module`);
- ``check_batch(batch)``: the model's own input check;
- ``draw_noise(batch, rng)``: every random number one training step needs, drawn up front,
  so that a step is a pure function of (params, batch, noise) and can be gradient-checked;
- ``loss_and_grads(batch, noise) -> LossTerms``: the loss to minimise, named per-batch terms
  (``elbo``, ``recon``, ``kl`` ...) and the gradient in ``grads``; a model writes only
  :meth:`Model.forward_backward`, the arithmetic on checked input;
- ``log_weights(x, k, rng) -> (k, N)``: log p(x, z) - log q(z | x) for k draws z ~ q(z | x),
  where the model has them; the bounds L_k and log-likelihood estimates are built on it;
- ``copy()``, and one signature for every model of what it generates and infers, with
  whatever the decoder is given besides the code (a conditional VAE's labels, an
  autoregressive decoder's pixels) passed as ``given`` everywhere:

  - ``sample(n, rng, given=None) -> (codes, images)``: codes from the prior and what the
    decoder makes of them (mean images, or draws where the decoder has no closed-form mean);
  - ``decode(codes, given=None)``, ``decode_mean(codes, given=None)``: the decoder's output
    and the mean image, for codes such as ``sample`` returns;
  - ``encode(batch)``: the encoder's output (a Gaussian's μ and log σ²; a ladder's two
    Gaussians; a VQ-VAE's vectors before quantization);
  - ``reconstruct(batch, rng=None)``: the image decoded from the centre of q(z | x) (``rng``
    only for a decoder that must draw);
  - ``posterior_means(batch, rng=None)``: E_q[z | x], one (N, K_l) array per layer of
    continuous code, for active units; a model with none (the VQ-VAE) refuses.

A model that adds to another (the IWAE to the VAE) subclasses it and overrides the smallest
methods: its loss (:meth:`Model.forward_backward`) and its noise (:meth:`Model.noise_shape`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..core.nn import MAX_PARAMS, Module
from ..core.validation import check_array, check_rng

#: Every registered model class, by name.
MODELS: dict[str, type[Model]] = {}


@dataclass(frozen=True)
class ModelConfig:
    """Base of every model's hyperparameters: a frozen dataclass that round-trips to JSON."""

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict):
        if not isinstance(d, dict):
            raise TypeError(f"a {cls.__name__} is read from a dict; got {type(d).__name__}")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - fields
        if unknown:
            raise ValueError(
                f"unknown {cls.__name__} field(s) {sorted(unknown)}; expected {sorted(fields)}"
            )
        return cls(**d)


@dataclass
class LossTerms:
    """What one training step returns.

    Attributes
    ----------
    loss : float
        The number the step minimises (its gradient is in the model's ``grads``).
    terms : dict of str to float
        Named batch means that :class:`vae_lib.History` records, e.g. ``elbo``, ``recon``,
        ``kl``; the first is the model's headline number.
    """

    loss: float
    terms: dict[str, float]


def register(name: str) -> Callable[[type[Model]], type[Model]]:
    """Class decorator: register a model class under ``name`` (its ``config_class`` too)."""

    def decorate(cls: type[Model]) -> type[Model]:
        if name in MODELS:
            raise ValueError(f"a model is already registered as {name!r}: {MODELS[name]}")
        cls.name = name
        MODELS[name] = cls
        return cls

    return decorate


def model_class(name: str) -> type[Model]:
    """The model class registered under ``name``."""
    if name not in MODELS:
        raise ValueError(f"no model is registered as {name!r}; known: {sorted(MODELS)}")
    return MODELS[name]


def model_class_for(config) -> type[Model]:
    """The registered model class whose ``config_class`` is exactly ``type(config)``."""
    for cls in MODELS.values():
        if type(config) is cls.config_class:
            return cls
    raise TypeError(
        f"config must be the config of a registered model "
        f"({', '.join(c.config_class.__name__ for c in MODELS.values())}); "
        f"got {type(config).__name__}"
    )


class Model:
    """Base class of every model: parameters, noise, checks, and the checked training step.

    A subclass sets ``config_class`` and ``term_labels``, builds its networks in
    :meth:`build`, and writes :meth:`check_batch`, :meth:`noise_shape` and
    :meth:`forward_backward`.

    Parameters
    ----------
    config : the model's ``config_class``
    rng : numpy.random.Generator
        Draws the initial weights.
    """

    name: ClassVar[str] = ""
    config_class: ClassVar[type[ModelConfig]] = ModelConfig
    #: How printed reports name each term of :class:`LossTerms`, e.g. ``{"kl": "KL"}``.
    term_labels: ClassVar[dict[str, str]] = {}

    def __init__(self, config: ModelConfig, rng: np.random.Generator):
        if type(config) is not self.config_class:
            raise TypeError(
                f"config must be a {self.config_class.__name__}; got {type(config).__name__}"
            )
        self.config = config
        self.dtype = np.dtype(getattr(config, "dtype", "float64"))
        n_params = sum(int(np.prod(s, dtype=object)) for s in self.param_shapes(config).values())
        if n_params > MAX_PARAMS:  # refused before anything is allocated
            raise ValueError(
                f"this {type(config).__name__} makes {n_params:,} parameters; at most "
                f"{MAX_PARAMS:,} are allowed"
            )
        self.networks: dict[str, Module] = self.build(check_rng(rng))

    def build(self, rng: np.random.Generator) -> dict[str, Module]:
        """Make the model's networks, drawing their weights from ``rng``, in a fixed order."""
        raise NotImplementedError

    @classmethod
    def param_shapes(cls, config: ModelConfig) -> dict[str, tuple[int, ...]]:
        """The shape of every parameter a model of this config has, by name, in ``params``
        order, computed without allocating it (so a file's config can be checked first)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ parameters
    @property
    def params(self) -> list[np.ndarray]:
        return [p for net in self.networks.values() for p in net.params]

    @property
    def grads(self) -> list[np.ndarray]:
        return [g for net in self.networks.values() for g in net.grads]

    def param_regions(self) -> list[list[tuple[slice, ...]] | None]:
        """For each of :attr:`params`, the parts a gradient can reach, or None for all of it
        (:meth:`vae_lib.core.nn.Module.param_regions`): the optimizer updates only those."""
        return [r for net in self.networks.values() for r in net.param_regions()]

    def param_names(self) -> list[str]:
        """Stable names for :attr:`params`, e.g. ``encoder.0.W``, used when saving."""
        return [
            f"{part}.{name}" for part, net in self.networks.items() for name in net.param_names()
        ]

    def num_params(self) -> int:
        return int(sum(p.size for p in self.params))

    def copy(self) -> Model:
        """A model with the same config and a copy of every parameter."""
        twin = type(self)(self.config, np.random.default_rng(0))
        for mine, theirs in zip(self.params, twin.params):
            theirs[...] = mine
        return twin

    # ------------------------------------------------------------------ a training step
    def start_epoch(self, epoch: int) -> None:
        """Called by :func:`vae_lib.fit` before each epoch with its index from 0 (counting the
        epochs of a history passed in), for an objective that follows a schedule, such as
        KL warm-up. Most models have none."""

    def check_batch(self, batch, name: str = "batch"):
        """``batch`` as this model trains on it, or an error that names the argument ``name``."""
        raise NotImplementedError

    @staticmethod
    def batch_length(batch) -> int:
        """Examples in a batch: an array, or a tuple of arrays of equal length (e.g. x, y)."""
        return len(batch[0]) if isinstance(batch, tuple) else len(batch)

    @staticmethod
    def batch_rows(batch, index):
        """The rows ``index`` of a batch (an array, or a tuple of arrays)."""
        if isinstance(batch, tuple):
            return tuple(part[index] for part in batch)
        return batch[index]

    def noise_shape(self, n: int) -> tuple[int, ...] | None:
        """Shape of the standard-normal noise one step on ``n`` examples needs (None: none)."""
        raise NotImplementedError

    def draw_noise(self, batch, rng: np.random.Generator) -> np.ndarray | None:
        """Every random number one training step on ``batch`` needs, drawn from ``rng``."""
        rng = check_rng(rng)
        shape = self.noise_shape(self.batch_length(self.check_batch(batch)))
        return None if shape is None else rng.standard_normal(shape, dtype=self.dtype)

    def check_noise(self, noise, n: int) -> np.ndarray | None:
        shape = self.noise_shape(n)
        if shape is None:
            if noise is not None:
                raise ValueError(f"{type(self).__name__} takes no noise; got {type(noise)}")
            return None
        return check_array(noise, "noise", shape=shape, dtype=self.dtype)

    def loss_and_grads(self, batch, noise) -> LossTerms:
        """The loss on ``batch`` with this ``noise``, and its gradient in :attr:`grads`.

        Checks both, then runs :meth:`forward_backward`. ``noise`` is what
        :meth:`draw_noise` returns (fixed noise makes the step a deterministic function of
        the parameters, which is what a gradient check needs).
        """
        batch = self.check_batch(batch)
        with np.errstate(over="ignore", invalid="ignore"):  # checked below, with a reason
            result = self.forward_backward(batch, self.check_noise(noise, self.batch_length(batch)))
        if not np.isfinite(result.loss):
            raise FloatingPointError(
                f"the loss is NaN or infinite ({result.loss}): the noise or the weights are too "
                "large for this model to evaluate"
            )
        return result

    def forward_backward(self, batch, noise) -> LossTerms:
        """:meth:`loss_and_grads` on a batch and noise that have been checked."""
        raise NotImplementedError

    # ------------------------------------------------------------------ evaluation
    def log_weights(self, x, k: int, rng: np.random.Generator) -> np.ndarray:
        """log p(x, z) - log q(z | x) for ``k`` draws z ~ q(z | x) of each example: (k, N)."""
        raise NotImplementedError(f"{type(self).__name__} has no importance weights")

    def sample(self, n: int, rng: np.random.Generator, given=None):
        """(codes, images): ``n`` codes from the prior and their images."""
        raise NotImplementedError

    def posterior_means(self, batch, rng: np.random.Generator | None = None) -> tuple:
        """E_q[z | x] for each example, one (N, K_l) float64 array per layer of code."""
        raise NotImplementedError(
            f"{type(self).__name__} has no continuous code whose posterior mean to take"
        )
