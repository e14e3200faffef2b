"""A latent-variable model small enough to solve exactly, for checking the ELBO by hand.

The latent z is one number, so the evidence p(x) = ∫ p(x|z) p(z) dz and the true posterior
p(z|x) can be computed by quadrature over a fine grid of z, to many digits. With that, every
quantity of variational inference can be seen, not only bounded: the ELBO of a Gaussian
q(z) = N(m, s²), the gap log p(x) - ELBO, and the KL divergence from q to the true posterior.
Equation labels refer to the chapter "The evidence lower bound" (chapters/elbo.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.numerics import LOG_2PI, log_mean_exp, logsumexp_kernel, trapezoid_grid
from ..core.objectives import ELBOTerms
from ..core.validation import check_array, check_positive_float, check_positive_int, check_rng

GRID_LIMIT = 20.0  # the quadrature grid covers z in [-GRID_LIMIT, GRID_LIMIT] ...
GRID_POINTS = 8001  # ... with this many points (spacing 0.005)
Q_GRID_LIMIT = 12.0  # expectations under q = N(m, s²) use z = m + s t, t in [-12, 12] ...
Q_GRID_POINTS = 1601  # ... with this many points


@dataclass(frozen=True, eq=False)
class ToyModel:
    r"""A 1-D latent, a tiny tanh decoder and Gaussian noise.

    .. math:: z \sim \mathcal N(0, 1), \qquad x \mid z \sim \mathcal N\big(f(z), s^2 I_D\big),
              \qquad f(z) = c + a z + \sum_{h=1}^{H} v_h \tanh(w_h z + b_h)

    With no hidden units (H = 0) this is the linear-Gaussian model, whose evidence and
    posterior are Gaussian in closed form (:func:`linear_gaussian_exact`).

    Attributes
    ----------
    offset : ndarray, shape (D,)
        c.
    slope : ndarray, shape (D,)
        a.
    hidden_weights, hidden_biases : ndarray, shape (H,)
        w and b.
    output_weights : ndarray, shape (H, D)
        v (row h is the vector v_h).
    noise_std : float
        s, the standard deviation of the observation noise.
    """

    offset: np.ndarray
    slope: np.ndarray
    hidden_weights: np.ndarray
    hidden_biases: np.ndarray
    output_weights: np.ndarray
    noise_std: float

    def __post_init__(self):
        offset = check_array(self.offset, "offset", ndim=1, dtype=np.float64)
        d = len(offset)
        if d < 1:
            raise ValueError("offset must have at least one entry (D >= 1); got shape (0,)")
        slope = check_array(self.slope, "slope", shape=(d,), dtype=np.float64)
        w = check_array(self.hidden_weights, "hidden_weights", ndim=1, dtype=np.float64)
        h = len(w)
        b = check_array(self.hidden_biases, "hidden_biases", shape=(h,), dtype=np.float64)
        v = check_array(self.output_weights, "output_weights", shape=(h, d), dtype=np.float64)
        for name, value in (
            ("offset", offset),
            ("slope", slope),
            ("hidden_weights", w),
            ("hidden_biases", b),
            ("output_weights", v),
            ("noise_std", check_positive_float(self.noise_std, "noise_std")),
        ):
            object.__setattr__(self, name, value)

    @property
    def data_dim(self) -> int:
        """D, the size of an observation."""
        return len(self.offset)

    @property
    def is_linear(self) -> bool:
        """True when f(z) = c + a z (no hidden unit reaches the output)."""
        return not np.any(self.output_weights)

    def check_observation(self, x) -> np.ndarray:
        """``x`` as a float64 array of shape (D,)."""
        return check_array(x, "x", shape=(self.data_dim,), dtype=np.float64)

    def decoder_mean(self, z) -> np.ndarray:
        """f(z) for an array of latents: z of shape (...) -> shape (..., D)."""
        z = check_array(z, "z", dtype=np.float64)
        return self._decoder_mean(z)

    def _decoder_mean(self, z: np.ndarray) -> np.ndarray:
        zc = z[..., None]
        out = self.offset + zc * self.slope
        if len(self.hidden_weights):
            hidden = np.tanh(zc * self.hidden_weights + self.hidden_biases)
            h, d = self.output_weights.shape
            out = out + (hidden.reshape(-1, h) @ self.output_weights).reshape(*z.shape, d)
        return out

    def log_likelihood(self, x, z) -> np.ndarray:
        r"""log p(x | z) = log N(x; f(z), s² I_D), for one x of shape (D,) and z of shape (...).

        Returns
        -------
        ndarray, shape of ``z``, nats
        """
        x = self.check_observation(x)
        z = check_array(z, "z", dtype=np.float64)
        return self._log_likelihood(x, z)

    def _log_likelihood(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        r2 = np.sum((x - self._decoder_mean(z)) ** 2, axis=-1)
        s2 = self.noise_std**2
        return -0.5 * (r2 / s2 + self.data_dim * (LOG_2PI + np.log(s2)))

    def log_joint(self, x, z) -> np.ndarray:
        r"""log p(x, z) = log p(x | z) + log N(z; 0, 1), shape of ``z``."""
        x = self.check_observation(x)
        z = check_array(z, "z", dtype=np.float64)
        return self._log_joint(x, z)

    def _log_joint(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        return self._log_likelihood(x, z) - 0.5 * (LOG_2PI + z * z)

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Draw z ~ p(z), then x ~ p(x|z): returns z of shape (n,) and x of shape (n, D)."""
        n = check_positive_int(n, "n")
        rng = check_rng(rng)
        z = rng.standard_normal(n)
        x = self._decoder_mean(z) + self.noise_std * rng.standard_normal((n, self.data_dim))
        return z, x


def toy_model(kind: str = "bimodal") -> ToyModel:
    """The toy models of the ELBO chapter, with 1-D observations.

    ``"bimodal"``: f(z) = -1 + 1.5 tanh(1.5 z + 1.5) - 1.5 tanh(4 z - 2.8), a bump that rises
    gently and falls steeply, with noise s = 0.4. An x on the bump's flank could have come
    from either side, so its posterior has two modes of different widths.

    ``"linear"``: f(z) = 0.5 + 1.5 z with s = 0.8, the linear-Gaussian model.
    """
    if kind == "bimodal":
        return ToyModel(
            offset=[-1.0],
            slope=[0.0],
            hidden_weights=[1.5, 4.0],
            hidden_biases=[1.5, -2.8],
            output_weights=[[1.5], [-1.5]],
            noise_std=0.4,
        )
    if kind == "linear":
        return ToyModel(
            offset=[0.5],
            slope=[1.5],
            hidden_weights=[],
            hidden_biases=[],
            output_weights=np.zeros((0, 1)),
            noise_std=0.8,
        )
    raise ValueError(f"kind must be 'bimodal' or 'linear'; got {kind!r}")


# ----------------------------------------------------------------------------- quadrature
def _check_model(model) -> ToyModel:
    if not isinstance(model, ToyModel):
        raise TypeError(f"model must be a ToyModel; got {type(model).__name__}")
    return model


def toy_log_marginal(model: ToyModel, x, *, limit: float = GRID_LIMIT, n: int = GRID_POINTS):
    r"""The evidence log p(x) by the trapezoid rule over a grid of z, in log space.

    .. math:: \log p(x) = \log \int p(x \mid z)\, p(z)\, dz
              \approx \log \sum_i w_i\, e^{\log p(x, z_i)}

    (equation `elbo-marginal`). The integrand is smooth and negligible at
    ±``limit``, where the trapezoid rule converges faster than any power of the spacing.

    Parameters
    ----------
    model : ToyModel
    x : ndarray, shape (D,)
    limit, n : the grid, n points on [-limit, limit]

    Returns
    -------
    float, nats
    """
    model = _check_model(model)
    x = model.check_observation(x)
    z, log_w = trapezoid_grid(limit, n)
    return float(logsumexp_kernel(model._log_joint(x, z) + log_w))


def toy_posterior(model: ToyModel, x, *, limit: float = GRID_LIMIT, n: int = GRID_POINTS):
    r"""The true posterior p(z | x) = p(x, z) / p(x) on a grid.

    Returns
    -------
    z : ndarray, shape (n,)
        The grid.
    density : ndarray, shape (n,)
        p(z_i | x); its trapezoid integral is 1.
    """
    model = _check_model(model)
    x = model.check_observation(x)
    z, log_w = trapezoid_grid(limit, n)
    log_joint = model._log_joint(x, z)
    return z, np.exp(log_joint - logsumexp_kernel(log_joint + log_w))


def _check_gaussian(mean, std) -> tuple[np.ndarray, np.ndarray]:
    mean = check_array(mean, "mean", dtype=np.float64)
    std = check_array(std, "std", dtype=np.float64)
    if np.any(std <= 0):
        raise ValueError(f"std must be greater than 0; got a smallest value of {std.min():.4g}")
    try:
        return np.broadcast_arrays(mean, std)
    except ValueError:
        raise ValueError(
            f"mean and std must broadcast together; got shapes {mean.shape} and {std.shape}"
        ) from None


def gaussian_elbo(
    model: ToyModel, x, mean, std, *, limit: float = Q_GRID_LIMIT, n: int = Q_GRID_POINTS
) -> ELBOTerms:
    r"""The ELBO of q(z) = N(mean, std²), exactly up to quadrature.

    .. math:: \mathcal L(q) = \underbrace{\mathbb E_{q(z)}[\log p(x \mid z)]}_{\text{recon}}
              - \underbrace{\mathrm{KL}(q(z)\,\|\,p(z))}_{\text{kl}}

    (equation `elbo-split`). The expectation is a trapezoid sum over z = m + s t on a grid of
    t in [-``limit``, ``limit``], a grid that moves and stretches with q; the KL to the
    N(0, 1) prior is the closed form (m² + s² - 1 - log s²)/2.

    Parameters
    ----------
    model : ToyModel
    x : ndarray, shape (D,)
    mean, std : array_like, broadcastable to a common shape (...)
        One Gaussian q per entry.

    Returns
    -------
    ELBOTerms of arrays of shape (...), nats
    """
    model = _check_model(model)
    x = model.check_observation(x)
    mean, std = _check_gaussian(mean, std)
    t, log_w = trapezoid_grid(limit, n)
    w = np.exp(log_w - 0.5 * (LOG_2PI + t * t))  # E_{N(0,1)}[g(t)] ≈ Σ_j w_j g(t_j)
    z = mean[..., None] + std[..., None] * t
    recon = model._log_likelihood(x, z) @ w
    kl = 0.5 * (mean**2 + std**2 - 1.0 - 2.0 * np.log(std))
    return ELBOTerms(elbo=recon - kl, recon=recon, kl=kl)


def kl_to_posterior(
    model: ToyModel, x, mean, std, *, limit: float = GRID_LIMIT, n: int = GRID_POINTS
) -> np.ndarray:
    r"""KL(q ‖ p(z|x)) for q = N(mean, std²), by the trapezoid rule on the grid.

    .. math:: \mathrm{KL}(q \,\|\, p(z \mid x)) = \int q(z)
              \log \frac{q(z)}{p(z \mid x)}\, dz

    The posterior is normalized on the grid (:func:`toy_posterior`), and nothing here uses
    the ELBO, so comparing this with log p(x) - ELBO checks equation
    `elbo-identity` numerically.

    Parameters
    ----------
    mean, std : array_like, broadcastable to a common shape (...)
        ``std`` must span at least 4 grid spacings, and |mean| + 8 std stay inside the grid,
        so that the grid resolves q.

    Returns
    -------
    ndarray, shape (...), nats
    """
    model = _check_model(model)
    x = model.check_observation(x)
    mean, std = _check_gaussian(mean, std)
    z, log_w = trapezoid_grid(limit, n)
    spacing = z[1] - z[0]
    if np.any(std < 4 * spacing):
        raise ValueError(
            f"std must be at least 4 grid spacings ({4 * spacing:.3g}) for the grid to resolve "
            f"q; got a smallest value of {std.min():.3g} (raise n)"
        )
    reach = np.abs(mean) + 8.0 * std
    if np.any(reach > limit):
        raise ValueError(
            f"q must lie inside the grid: |mean| + 8 std must be at most limit={limit:g}; got "
            f"{reach.max():.3g} (raise limit)"
        )
    log_joint = model._log_joint(x, z)
    log_post = log_joint - logsumexp_kernel(log_joint + log_w)
    log_q = -0.5 * (LOG_2PI + ((z - mean[..., None]) / std[..., None]) ** 2) - np.log(
        std[..., None]
    )
    return np.sum(np.exp(log_q + log_w) * (log_q - log_post), axis=-1)


def best_gaussian(
    model: ToyModel, x, *, mean_range: tuple[float, float] = (-5.0, 5.0)
) -> tuple[float, float]:
    r"""The Gaussian q = N(m, s²) of largest ELBO, with m in ``mean_range``.

    .. math:: (m^\star, s^\star) = \arg\max_{m, s} \mathcal L(\mathcal N(m, s^2))
              = \arg\min_{m, s} \mathrm{KL}(\mathcal N(m, s^2) \,\|\, p(z \mid x))

    Found by search on a grid of (m, log s), refined seven times around the best point: slow
    but certain to find the global maximum on the range, which gradient ascent is not when
    the posterior has several modes. A narrow ``mean_range`` finds a local maximum.

    Returns
    -------
    mean, std : float
    """
    model = _check_model(model)
    x = model.check_observation(x)
    lo, hi = (float(v) for v in mean_range)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"mean_range must be (low, high) with low < high; got {mean_range}")
    means = np.linspace(lo, hi, 61)
    log_stds = np.linspace(np.log(0.02), np.log(3.0), 31)
    for _ in range(8):
        # a coarser grid under q for the search (accurate to about 1e-6 nats here)
        elbo = gaussian_elbo(model, x, means[:, None], np.exp(log_stds)[None, :], n=401).elbo
        i, j = np.unravel_index(np.argmax(elbo), elbo.shape)
        m, ls = means[i], log_stds[j]
        dm, dls = 2 * (means[1] - means[0]), 2 * (log_stds[1] - log_stds[0])
        means = np.linspace(max(lo, m - dm), min(hi, m + dm), 21)
        log_stds = np.linspace(ls - dls, ls + dls, 21)
    return float(m), float(np.exp(ls))


# ----------------------------------------------------------------------------- sampling
def toy_log_weights(
    model: ToyModel, x, mean: float, std: float, shape, rng: np.random.Generator
) -> np.ndarray:
    r"""Log importance weights log w = log p(x, z) - log q(z), for draws z ~ q = N(mean, std²).

    Parameters
    ----------
    shape : int or tuple of int
        How many draws, in what shape.

    Returns
    -------
    ndarray, shape ``shape``
    """
    model = _check_model(model)
    x = model.check_observation(x)
    mean = float(check_array(mean, "mean", ndim=0))
    std = check_positive_float(std, "std")
    rng = check_rng(rng)
    eps = rng.standard_normal(shape)
    z = mean + std * eps
    return model._log_joint(x, z) + 0.5 * (LOG_2PI + eps * eps) + np.log(std)


def toy_iw_bound(
    model: ToyModel,
    x,
    mean: float,
    std: float,
    k,
    rng: np.random.Generator,
    n_repeats: int = 1,
) -> np.ndarray:
    r"""Independent draws of the K-sample importance-weighted estimate, proposal q = N(m, s²).

    .. math:: \hat{\mathcal L}_K = \log \frac1K \sum_{k=1}^K \frac{p(x, z_k)}{q(z_k)},
              \qquad z_k \sim q, \qquad \mathcal L_K = \mathbb E[\hat{\mathcal L}_K]

    (equation `elbo-iw`, (Burda et al., 2016)). The mean of the returned draws
    estimates L_K; with K = 1 it estimates the ELBO.

    Parameters
    ----------
    k : int or sequence of int
        K, the number of importance samples in one estimate. For a sequence, each repeat
        draws max(k) samples once and the estimate for each K uses the first K of them, so
        that the estimates for different K share their samples and their differences carry
        little Monte Carlo noise.
    n_repeats : int
        How many independent estimates to return (for each K).

    Returns
    -------
    ndarray, shape (n_repeats,), or (len(k), n_repeats) for a sequence ``k``; nats
    """
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    ks = [check_positive_int(v, "k") for v in np.atleast_1d(k)] if np.ndim(k) else None
    if ks is not None and not ks:
        raise ValueError("k must be an integer or a non-empty sequence of integers; got []")
    k_max = max(ks) if ks is not None else check_positive_int(k, "k")
    out = np.empty((len(ks) if ks is not None else 1, n_repeats))
    chunk = max(1, 200_000 // k_max)  # repeats per pass, to bound memory
    for lo in range(0, n_repeats, chunk):
        m = min(chunk, n_repeats - lo)
        log_w = toy_log_weights(model, x, mean, std, (m, k_max), rng)
        for i, kk in enumerate(ks if ks is not None else [k_max]):
            out[i, lo : lo + m] = log_mean_exp(log_w[:, :kk], axis=1)
    return out if ks is not None else out[0]


# ----------------------------------------------------------------------------- closed form
def linear_gaussian_exact(model: ToyModel, x) -> tuple[float, float, float]:
    r"""Evidence and posterior of the linear-Gaussian model in closed form.

    With f(z) = c + a z: x ~ N(c, a aᵀ + s² I), and the posterior is Gaussian,

    .. math:: p(z \mid x) = \mathcal N\!\left(\frac{a^\top (x - c)}{s^2 + \|a\|^2},\;
              \frac{s^2}{s^2 + \|a\|^2}\right)

    Returns
    -------
    log_marginal : float
        log p(x), nats.
    post_mean, post_std : float
        Mean and standard deviation of p(z | x).
    """
    model = _check_model(model)
    if not model.is_linear:
        raise ValueError("model must be linear (output_weights all zero) for the closed form")
    x = model.check_observation(x)
    a, s2, d = model.slope, model.noise_std**2, model.data_dim
    r = x - model.offset
    ata, atr = float(a @ a), float(a @ r)
    # matrix determinant lemma and Sherman-Morrison for s² I + a aᵀ
    logdet = d * np.log(s2) + np.log1p(ata / s2)
    quad = (r @ r - atr**2 / (s2 + ata)) / s2
    log_marginal = -0.5 * (d * LOG_2PI + logdet + quad)
    return float(log_marginal), atr / (s2 + ata), float(np.sqrt(s2 / (s2 + ata)))
