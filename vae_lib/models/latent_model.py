"""What every model with networks, a decoder and a likelihood shares: its config fields,
its input check, its networks made from one table of sizes, and its overflow check.

- :class:`LikelihoodConfig`: the likelihood p(x | z) (:mod:`vae_lib.core.likelihoods`);
- :class:`NetworkConfig`: the data's width, the hidden layers, activation and dtype;
- :class:`LatentModel`: a :class:`~vae_lib.models.base.Model` whose networks are listed by
  :meth:`LatentModel.network_sizes`, from which both :meth:`~LatentModel.build` and
  :meth:`~LatentModel.param_shapes` come, with the likelihood as one more module.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..core.likelihoods import LIKELIHOODS, Likelihood, make_likelihood
from ..core.nn import ACTIVATIONS, MLP, Module
from ..core.validation import check_array, check_positive_int, check_rng, check_size
from .base import Model, ModelConfig

#: How reports name what a likelihood records while training (a learned σ).
LIKELIHOOD_TERM_LABELS = {"std": "decoder σ"}
#: How reports name the terms of an objective with a KL term (and what the likelihood adds).
ELBO_TERM_LABELS = {
    "objective": "training objective",
    "elbo": "ELBO",
    "recon": "reconstruction",
    "kl": "KL",
    **LIKELIHOOD_TERM_LABELS,
}
#: Evaluation runs under np.errstate(**QUIET): an overflow is not a warning to print but an
#: error to raise, with its cause, by :meth:`LatentModel.check_finite`.
QUIET = {"over": "ignore", "invalid": "ignore"}


@dataclass(frozen=True)
class LikelihoodConfig(ModelConfig):
    """The likelihood p(x | z) of a model's decoder (:mod:`vae_lib.core.likelihoods`).

    Attributes
    ----------
    likelihood : {"bernoulli", "continuous_bernoulli", "gaussian"}
        Bernoulli logits for binary pixels; a continuous Bernoulli or a Gaussian for grey
        levels.
    decoder_std : float
        The Gaussian's σ (with ``learn_std``, its starting value); only for "gaussian".
    learn_std : bool
        Learn the Gaussian's σ (one parameter ``likelihood.log_std``); only for "gaussian".
    """

    likelihood: str = "bernoulli"
    decoder_std: float = 0.1
    learn_std: bool = False

    def __post_init__(self):
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}; got {self.likelihood!r}")
        if not isinstance(self.learn_std, (bool, np.bool_)):
            raise TypeError(f"learn_std must be True or False; got {self.learn_std!r}")
        if isinstance(self.decoder_std, bool) or not isinstance(
            self.decoder_std, (int, float, np.integer, np.floating)
        ):
            raise TypeError(f"decoder_std must be a number; got {self.decoder_std!r}")
        if not (np.isfinite(self.decoder_std) and self.decoder_std > 0):
            raise ValueError(f"decoder_std must be a finite number above 0; got {self.decoder_std}")
        if self.likelihood != "gaussian" and (self.decoder_std != 0.1 or self.learn_std):
            raise ValueError(
                "decoder_std and learn_std set the Gaussian likelihood's σ; "
                f"likelihood={self.likelihood!r} has none"
            )

    def make_likelihood(self, dtype) -> Likelihood:
        """The likelihood object this config names."""
        return make_likelihood(self.likelihood, dtype, self.decoder_std, self.learn_std)

    def likelihood_param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Shapes of the likelihood's own parameters, named as in ``param_names()``."""
        return {"likelihood.log_std": (1,)} if self.learn_std else {}


@dataclass(frozen=True)
class NetworkConfig(LikelihoodConfig):
    """The networks' common settings, and the likelihood (:class:`LikelihoodConfig`).

    Attributes
    ----------
    input_dim : int
        D, the number of pixels.
    hidden_dims : tuple of int
        Widths of the encoder's hidden layers; the decoder mirrors them.
    activation : {"relu", "tanh"}
    dtype : {"float32", "float64"}
    """

    input_dim: int = 16
    hidden_dims: tuple[int, ...] = (32,)
    activation: str = "relu"
    dtype: str = "float32"

    def __post_init__(self):
        super().__post_init__()
        check_positive_int(self.input_dim, "input_dim")
        if isinstance(self.hidden_dims, (str, bytes)) or not hasattr(self.hidden_dims, "__iter__"):
            raise TypeError(f"hidden_dims must be a sequence of widths; got {self.hidden_dims!r}")
        object.__setattr__(self, "hidden_dims", tuple(self.hidden_dims))
        for width in self.hidden_dims:
            check_positive_int(width, "hidden_dims entry")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}; got {self.activation!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64'; got {self.dtype!r}")


class LatentModel(Model):
    """A model with networks, a decoder and a likelihood (not registered: a base).

    A subclass lists its networks' widths in :meth:`network_sizes` (in ``params`` order);
    :meth:`build` makes one :class:`vae_lib.MLP` for each (:meth:`make_network` may make
    another kind) and then the likelihood, and :meth:`param_shapes` reads the same table.
    """

    @classmethod
    def network_sizes(cls, config: NetworkConfig) -> dict[str, tuple[int, ...]]:
        """The widths of each network, by name, in the order they are made."""
        raise NotImplementedError

    def make_network(self, part: str, sizes: tuple[int, ...], rng: np.random.Generator) -> Module:
        """The network ``part`` of these widths: an MLP unless a model says otherwise."""
        return MLP(sizes, rng, self.config.activation, self.dtype)

    def build(self, rng: np.random.Generator) -> dict[str, Module]:
        networks = {
            part: self.make_network(part, sizes, rng)
            for part, sizes in self.network_sizes(self.config).items()
        }
        return {**networks, "likelihood": self.config.make_likelihood(self.dtype)}

    @classmethod
    def param_shapes(cls, config: NetworkConfig) -> dict[str, tuple[int, ...]]:
        shapes = {}
        for part, sizes in cls.network_sizes(config).items():
            shapes.update({f"{part}.{n}": s for n, s in MLP.param_shapes(sizes).items()})
        return {**shapes, **config.likelihood_param_shapes()}

    @property
    def likelihood(self) -> Likelihood:
        """p(x | z) of the decoder's output (:mod:`vae_lib.core.likelihoods`)."""
        return self.networks["likelihood"]

    @property
    def decoder(self) -> Module:
        return self.networks["decoder"]

    # ------------------------------------------------------------------ decoding
    def check_given(self, given, n: int):
        """What the decoder is given besides the code, checked for ``n`` codes: nothing, for
        this model (a model whose decoder reads more, such as labels, overrides this and
        :meth:`conditioned`)."""
        if given is not None:
            raise ValueError(
                f"a {type(self).__name__}'s decoder reads the code alone: given must be None; "
                f"got {type(given).__name__}"
            )
        return None

    @contextlib.contextmanager
    def conditioned(self, given) -> Iterator[None]:
        """Within this block the networks read ``given`` (checked) with every input."""
        yield

    def decode(self, z, given=None) -> np.ndarray:
        """The decoder's output for p(x|z) (Bernoulli logits, or the likelihood's own
        parameter): codes z (N, K) -> (N, D)."""
        z = self.check_codes(z)
        with self.conditioned(self.check_given(given, len(z))):
            return self.decoder.forward(z)

    def decode_mean(self, z, given=None) -> np.ndarray:
        """The mean image E[x|z] (σ(logits) for the Bernoulli), shape (N, D)."""
        return self.likelihood.mean(self.decode(z, given))

    def sample_data(self, z, rng: np.random.Generator, given=None) -> np.ndarray:
        """x ~ p(x|z) for each code: the mean image and independent pixel noise, (N, D)."""
        return self.likelihood.draw(self.decode(z, given), check_rng(rng))

    def check_codes(self, z, name: str = "z") -> np.ndarray:
        """``z`` as (N, K) codes the decoder reads, of this model's dtype."""
        return check_array(z, name, shape=(None, self.config.latent_dim), dtype=self.dtype)

    # ------------------------------------------------------------------ checks
    def check_data(self, x, name: str = "x") -> np.ndarray:
        """``x`` as an (N, D) array of this model's dtype with values in [0, 1]."""
        return self.likelihood.check_data(x, name, width=self.config.input_dim)

    def check_batch(self, batch, name: str = "batch"):
        return self.check_data(batch, name)

    def check_draws(self, x, rng, n_samples: int, name: str = "n_samples"):
        """The arguments of an estimate from ``n_samples`` draws for each example of ``x``:
        ``x`` checked, ``rng`` a Generator, ``n_samples`` at least 1, and the draws of at
        most the library's size."""
        x = self.check_data(x)
        rng = check_rng(rng)
        n_samples = check_positive_int(n_samples, name)
        check_size(n_samples * len(x), f"{name}={n_samples} for {len(x)} examples")
        return x, rng, n_samples

    def check_finite(self, what: str, *arrays: np.ndarray) -> None:
        """Raise FloatingPointError if an output overflowed (the weights are too large)."""
        for a in arrays:
            if not np.all(np.isfinite(a)):
                largest = max(float(np.max(np.abs(p))) for p in self.params)
                raise FloatingPointError(
                    f"{what} is NaN or infinite in {self.dtype}: the weights are too large "
                    f"for it (largest |weight| {largest:.3g}); this model cannot be evaluated"
                )
