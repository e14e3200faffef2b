r"""A latent-variable model small enough to enumerate, for reading the ELBO as a code length.

The latent z takes one of M values and the observation x is a binary image of D pixels, so
every one of the 2^D images and M codes can be listed and every quantity of bits-back coding
computed as a finite sum, exactly: the evidence p(x), the posterior p(z|x), what a sender
pays to transmit (z, x), what the receiver gives back, and the gap between the two. A model
is held as tables, log p(z) of shape (M,) and log p(x|z) of shape (M, 2^D), so the same
class holds a decoder whose pixels are independent given z (:func:`factorized_mixture`) and
one that can represent any distribution over images, as an autoregressive decoder can.
Equation labels refer to the chapter "Bits-back coding" (chapters/vlae/bits_back.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.divergences import kl_categorical
from ..core.numerics import LOG_2, logsumexp_kernel
from ..core.validation import check_array, check_positive_int, check_rng

#: The most pixels an enumerated image may have (2^16 = 65,536 images).
MAX_PIXELS = 16


# ----------------------------------------------------------------------------- images
def all_binary_images(n_pixels: int) -> np.ndarray:
    """Every binary image of ``n_pixels`` pixels, row i being the binary digits of i.

    Returns
    -------
    ndarray, shape (2^D, D), float64, values in {0, 1}; pixel 0 is the most significant bit
    """
    d = check_positive_int(n_pixels, "n_pixels")
    if d > MAX_PIXELS:
        raise ValueError(f"n_pixels must be at most {MAX_PIXELS} to enumerate; got {d}")
    return ((np.arange(2**d)[:, None] >> np.arange(d - 1, -1, -1)) & 1).astype(np.float64)


def image_index(x) -> np.ndarray:
    """The row of :func:`all_binary_images` that holds each binary image: (N, D) -> (N,)."""
    x = check_array(x, "x", ndim=2)
    if x.shape[1] > MAX_PIXELS:
        raise ValueError(f"x must have at most {MAX_PIXELS} pixels; got {x.shape[1]}")
    if not np.all((x == 0) | (x == 1)):
        raise ValueError("x must hold binary images (values 0 and 1 only)")
    d = x.shape[1]
    return (x.astype(np.int64) << np.arange(d - 1, -1, -1)).sum(axis=1)


def empirical_distribution(x) -> np.ndarray:
    """The share of the images ``x`` (N, D) equal to each of the 2^D images: shape (2^D,)."""
    index = image_index(x)
    if len(index) == 0:
        raise ValueError("an empirical distribution needs at least one image; got none")
    return np.bincount(index, minlength=2 ** np.shape(x)[1]) / len(index)


def check_probabilities(p, name: str, axis_name: str) -> np.ndarray:
    """``p`` as float64 if its last axis holds probabilities over ``axis_name``, else raise."""
    p = check_array(p, name, dtype=np.float64)
    if p.ndim == 0 or np.any(p < 0) or np.any(np.abs(p.sum(axis=-1) - 1.0) > 1e-9):
        raise ValueError(
            f"{name} must be probabilities over the {axis_name} (non-negative, summing to 1 "
            f"along the last axis); got shape {p.shape}, minimum {p.min():.4g} and sums "
            f"from {p.sum(axis=-1).min():.6g} to {p.sum(axis=-1).max():.6g}"
        )
    return p


# ----------------------------------------------------------------------------- the model
@dataclass(frozen=True, eq=False)
class DiscreteLatentModel:
    r"""p(z) p(x|z) over M codes and all 2^D binary images, held as tables of logs.

    Attributes
    ----------
    log_prior : ndarray, shape (M,)
        log p(z).
    log_likelihood : ndarray, shape (M, 2^D)
        log p(x|z); row z is a distribution over the images of :func:`all_binary_images`.
        An entry may be -inf (an image that code cannot make).
    """

    log_prior: np.ndarray
    log_likelihood: np.ndarray

    def __post_init__(self):
        with np.errstate(divide="ignore"):
            prior = check_probabilities(np.exp(np.asarray(self.log_prior)), "exp(log_prior)", "M")
            table = np.asarray(self.log_likelihood, dtype=np.float64)
            if table.ndim != 2 or table.shape[0] != prior.shape[-1] or prior.ndim != 1:
                raise ValueError(
                    f"log_likelihood must have shape (M, 2^D) with M = {prior.size} codes; "
                    f"got {table.shape}"
                )
            n_images = table.shape[1]
            if n_images < 2 or n_images & (n_images - 1) or n_images > 2**MAX_PIXELS:
                raise ValueError(
                    f"log_likelihood must have 2^D columns, one per image, D from 1 to "
                    f"{MAX_PIXELS}; got {n_images}"
                )
            if np.any(np.isnan(table)) or np.any(table == np.inf):
                raise ValueError("log_likelihood must hold finite numbers or -inf")
            check_probabilities(np.exp(table), "exp(log_likelihood)", "2^D images")
        object.__setattr__(self, "log_prior", np.log(prior))
        object.__setattr__(self, "log_likelihood", table)

    @property
    def n_states(self) -> int:
        """M, the number of codes."""
        return self.log_prior.size

    @property
    def n_pixels(self) -> int:
        """D, the number of pixels."""
        return self.log_likelihood.shape[1].bit_length() - 1

    def log_joint(self) -> np.ndarray:
        """log p(x, z) = log p(z) + log p(x|z) for every image and code: (2^D, M)."""
        return (self.log_prior[:, None] + self.log_likelihood).T

    def log_evidence(self) -> np.ndarray:
        r"""log p(x) = log Σ_z p(z) p(x|z) of every image: (2^D,), nats."""
        log_joint = self.log_joint()
        out = np.full(len(log_joint), -np.inf)  # an image no code can make
        possible = np.isfinite(log_joint).any(axis=1)
        out[possible] = logsumexp_kernel(log_joint[possible], axis=1)
        return out

    def posterior(self) -> np.ndarray:
        """p(z|x) of every image: (2^D, M); an image of probability 0 gets the prior."""
        log_joint, log_px = self.log_joint(), self.log_evidence()
        with np.errstate(invalid="ignore"):
            post = np.exp(log_joint - log_px[:, None])
        return np.where(np.isfinite(log_px)[:, None], post, np.exp(self.log_prior))


def factorized_mixture(prior, pixel_probs) -> DiscreteLatentModel:
    r"""A mixture of factorized Bernoullis: p(x|z) = Π_d θ_{zd}^{x_d} (1 - θ_{zd})^{1 - x_d}.

    Parameters
    ----------
    prior : ndarray, shape (M,)
        p(z).
    pixel_probs : ndarray, shape (M, D)
        θ, each strictly between 0 and 1.
    """
    prior = check_probabilities(prior, "prior", "M codes")
    theta = check_array(pixel_probs, "pixel_probs", shape=(prior.size, None), dtype=np.float64)
    if np.any(theta <= 0) or np.any(theta >= 1):
        raise ValueError("pixel_probs must lie strictly between 0 and 1")
    images = all_binary_images(theta.shape[1])
    table = np.log(theta) @ images.T + np.log1p(-theta) @ (1.0 - images).T
    with np.errstate(divide="ignore"):
        return DiscreteLatentModel(np.log(prior), table)


def fit_factorized_mixture(
    p_data, n_states: int, rng: np.random.Generator, n_iter: int = 200
) -> DiscreteLatentModel:
    r"""A mixture of M factorized Bernoullis fitted to a distribution over images by EM.

    Each iteration sets the responsibilities r(z|x) to the model's posterior, then
    p(z) = Σ_x p_data(x) r(z|x) and θ_{zd} = Σ_x p_data(x) r(z|x) x_d / p(z): exact sums
    over the 2^D images, weighted by ``p_data``, so that the expected log-likelihood never
    falls. θ is kept in [10⁻⁴, 1 - 10⁻⁴] so that no image gets probability 0.

    Parameters
    ----------
    p_data : ndarray, shape (2^D,)
        The data distribution, e.g. :func:`empirical_distribution`.
    n_states : int
        M.
    rng : numpy.random.Generator
        Draws the starting responsibilities.
    """
    p_data = check_probabilities(p_data, "p_data", "2^D images")
    if p_data.ndim != 1:
        raise ValueError(f"p_data must be 1-D, one probability per image; got {p_data.shape}")
    n_states = check_positive_int(n_states, "n_states")
    rng, n_iter = check_rng(rng), check_positive_int(n_iter, "n_iter")
    d = p_data.size.bit_length() - 1
    if 2**d != p_data.size:
        raise ValueError(f"p_data must have 2^D entries; got {p_data.size}")
    images = all_binary_images(d)
    resp = rng.dirichlet(np.ones(n_states), size=p_data.size)
    for _ in range(n_iter):
        weight = p_data[:, None] * resp  # (2^D, M)
        prior = np.maximum(weight.sum(axis=0), 1e-12)
        theta = np.clip(weight.T @ images / prior[:, None], 1e-4, 1 - 1e-4)
        model = factorized_mixture(prior / prior.sum(), theta)
        resp = model.posterior()
    return model


def same_marginal_family(model: DiscreteLatentModel, s: float) -> DiscreteLatentModel:
    r"""The model with p_s(x|z) = s p(x|z) + (1 - s) p(x) and the same prior.

    Its evidence is p(x) for every s, since Σ_z p(z) p_s(x|z) = s p(x) + (1 - s) p(x); at
    s = 0 the decoder ignores z (p_s(x|z) = p(x), the posterior is the prior), at s = 1 it
    is ``model``. In between, s sets how much z says about x with the marginal fixed.
    """
    model = check_discrete_model(model)
    if not (isinstance(s, (int, float, np.integer, np.floating)) and 0.0 <= s <= 1.0):
        raise ValueError(f"s must be a number in [0, 1]; got {s!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        mixed = np.logaddexp(
            np.log(s) + model.log_likelihood, np.log1p(-s) + model.log_evidence()[None, :]
        )
    return DiscreteLatentModel(model.log_prior, mixed)


def split_by_posterior(p_data, model: DiscreteLatentModel) -> DiscreteLatentModel:
    r"""A model whose evidence is exactly ``p_data`` and whose posterior is ``model``'s.

    With r(z|x) the posterior of ``model``, it has the prior w_z = Σ_x p_data(x) r(z|x) and
    the decoder p(x|z) = p_data(x) r(z|x) / w_z, a table that no factorized decoder could
    hold: the decoder of unlimited capacity that splits the data among the codes as r does.
    Then Σ_z w_z p(x|z) = p_data(x), and p(z|x) = r(z|x).
    """
    model = check_discrete_model(model)
    p_data = check_probabilities(p_data, "p_data", "2^D images")
    if p_data.shape != (model.log_likelihood.shape[1],):
        raise ValueError(
            f"p_data must have shape ({model.log_likelihood.shape[1]},), one probability per "
            f"image of the model; got {p_data.shape}"
        )
    resp = model.posterior()  # (2^D, M)
    weight = p_data[:, None] * resp
    prior = weight.sum(axis=0)
    if np.any(prior <= 0):
        raise ValueError("every code must take a share of p_data; a code with w_z = 0 has none")
    with np.errstate(divide="ignore"):
        return DiscreteLatentModel(np.log(prior), np.log(weight / prior).T)


def check_discrete_model(model) -> DiscreteLatentModel:
    """``model`` if it is a :class:`DiscreteLatentModel`, else a ``TypeError``."""
    if not isinstance(model, DiscreteLatentModel):
        raise TypeError(f"model must be a DiscreteLatentModel; got {type(model).__name__}")
    return model


# ----------------------------------------------------------------------------- encoders
def check_encoder(q, model: DiscreteLatentModel) -> np.ndarray:
    """``q`` as float64 if it is an encoder table q(z|x) for ``model``: shape (2^D, M), each
    row probabilities over the M codes."""
    q = check_probabilities(q, "q", "M codes")
    if q.shape != (model.log_likelihood.shape[1], model.n_states):
        raise ValueError(
            f"q must have shape (2^D, M) = {(model.log_likelihood.shape[1], model.n_states)}; "
            f"got {q.shape}"
        )
    return q


def tempered_encoder(model: DiscreteLatentModel, t: float) -> np.ndarray:
    r"""q_t(z|x) ∝ p(z) p(x|z)^t for every image: (2^D, M).

    The posterior of a model whose likelihood is raised to the power t: t = 0 is an encoder
    that ignores x (the prior), t = 1 the exact posterior, and in between an encoder that
    listens to the image only partly (eq. ``bits-back-tempered``).
    """
    model = check_discrete_model(model)
    if not (isinstance(t, (int, float, np.integer, np.floating)) and 0.0 <= t <= 1.0):
        raise ValueError(f"t must be a number in [0, 1]; got {t!r}")
    prior = np.exp(model.log_prior)
    if t == 0:
        return np.tile(prior, (model.log_likelihood.shape[1], 1))
    log_w = model.log_prior + t * model.log_likelihood.T  # (2^D, M)
    possible = np.isfinite(log_w).any(axis=1)
    q = np.tile(prior, (len(log_w), 1))  # an image no code can make: q is never used
    q[possible] = np.exp(log_w[possible] - logsumexp_kernel(log_w[possible], axis=1)[:, None])
    return q


# ----------------------------------------------------------------------------- the account
@dataclass
class BitsBackAccount:
    r"""What sending each image with bits-back coding costs, term by term, in nats.

    Every attribute is an array of shape (2^D,), one value per image (eq.
    ``bits-back-account``). The identities ``net == neg_elbo`` and
    ``net - ideal == excess`` hold to rounding: each side is computed on its own.

    Attributes
    ----------
    prior_cost : E_q[-log p(z)], the bits that send z.
    data_cost : E_q[-log p(x|z)], the bits that send x once z is known.
    paid : prior_cost + data_cost, what the sender transmits.
    refund : E_q[-log q(z|x)], the entropy of q: the bits the receiver gets back.
    net : paid - refund.
    neg_elbo : -ELBO = E_q[-log p(x|z)] + KL(q(z|x) ‖ p(z)).
    ideal : -log p(x), the length of the best code for x.
    excess : KL(q(z|x) ‖ p(z|x)), computed from the posterior.
    kl_prior : KL(q(z|x) ‖ p(z)), the net cost of z.
    """

    prior_cost: np.ndarray
    data_cost: np.ndarray
    paid: np.ndarray
    refund: np.ndarray
    net: np.ndarray
    neg_elbo: np.ndarray
    ideal: np.ndarray
    excess: np.ndarray
    kl_prior: np.ndarray

    def in_bits(self) -> BitsBackAccount:
        """The same account in bits (every term divided by log 2)."""
        return BitsBackAccount(**{k: v / LOG_2 for k, v in vars(self).items()})

    def mean(self, p_data) -> dict[str, float]:
        """Each term averaged over images drawn from ``p_data`` (shape (2^D,))."""
        p_data = check_probabilities(p_data, "p_data", "2^D images")
        out = {}
        for name, value in vars(self).items():
            if p_data.shape != value.shape:
                raise ValueError(f"p_data must have shape {value.shape}; got {p_data.shape}")
            out[name] = float(np.sum(np.where(p_data > 0, p_data * value, 0.0)))
        return out


def bits_back_account(model: DiscreteLatentModel, q) -> BitsBackAccount:
    r"""The bits-back account of every image for the encoder ``q``.

    .. math:: \underbrace{\mathbb E_q[-\log p(z) - \log p(x \mid z)]}_{\text{paid}}
              - \underbrace{\mathbb E_q[-\log q(z \mid x)]}_{\text{refund}}
              = -\mathcal L(x) = -\log p(x) + \mathrm{KL}(q(z \mid x) \,\|\, p(z \mid x))

    Parameters
    ----------
    model : DiscreteLatentModel
    q : ndarray, shape (2^D, M)
        q(z|x) for every image; a code with q = 0 costs nothing, a code with q > 0 must have
        p(x, z) > 0.

    Returns
    -------
    BitsBackAccount, nats; NaN for the images of probability 0 under the model
    """
    model, q = check_discrete_model(model), check_encoder(q, model)
    log_lik = model.log_likelihood.T  # (2^D, M)
    ideal = -model.log_evidence()
    possible = np.isfinite(ideal)  # an image of probability 0 is never sent
    if np.any((q > 0) & ~np.isfinite(log_lik + model.log_prior) & possible[:, None]):
        raise ValueError("q puts mass on a code z that cannot make the image x (p(x, z) = 0)")

    def expect(values):
        return np.sum(np.where(q > 0, q * values, 0.0), axis=1)

    with np.errstate(divide="ignore"):
        prior_cost = expect(-model.log_prior[None, :])
        data_cost = expect(-log_lik)
        refund = expect(-np.log(q))
    prior = np.broadcast_to(np.exp(model.log_prior), q.shape)
    kl_prior = kl_categorical(q, prior)
    with np.errstate(invalid="ignore", divide="ignore"):
        excess = kl_categorical(q, model.posterior())
    paid = prior_cost + data_cost
    terms = {
        "prior_cost": prior_cost,
        "data_cost": data_cost,
        "paid": paid,
        "refund": refund,
        "net": paid - refund,
        "neg_elbo": data_cost + kl_prior,
        "ideal": ideal,
        "excess": excess,
        "kl_prior": kl_prior,
    }
    return BitsBackAccount(**{k: np.where(possible, v, np.nan) for k, v in terms.items()})


def mutual_information(model: DiscreteLatentModel) -> float:
    r"""I(x; z) = Σ_x p(x) KL(p(z|x) ‖ p(z)) under the model's own joint, in nats."""
    model = check_discrete_model(model)
    log_px = model.log_evidence()
    post = model.posterior()
    kl = kl_categorical(post, np.broadcast_to(np.exp(model.log_prior), post.shape))
    return float(np.sum(np.exp(log_px) * kl))
