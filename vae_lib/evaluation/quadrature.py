"""The exact evidence and posterior of a VAE with a small latent, by quadrature over a grid.

With a latent of one or two dimensions, p(x) = ∫ p(x|z) p(z) dz is an integral over a line
or a plane, and a fine grid computes it as accurately as we like. That gives a ground truth
to hold the ELBO and the importance-weighted estimates against. Equation labels refer to the
chapter "The evidence lower bound" (chapters/elbo.md).
"""

from __future__ import annotations

import numpy as np

from ..core.numerics import LOG_2PI, logsumexp_kernel, trapezoid_grid
from ..core.optim import Adam
from ..core.validation import check_positive_int, check_size


def _check_model(model):
    if not callable(getattr(model, "log_joint_pairs", None)):
        raise TypeError(
            f"quadrature needs a model with log_joint_pairs(x, z) (a VAE, say); got "
            f"{type(model).__name__}"
        )
    if model.latent_dim not in (1, 2):
        raise ValueError(
            f"quadrature needs a latent of 1 or 2 dimensions; got latent_dim={model.latent_dim}"
        )
    return model


def latent_grid(latent_dim: int, limit: float = 6.0, n: int = 241):
    r"""A grid over [-limit, limit]^K and its log trapezoid weights.

    Parameters
    ----------
    latent_dim : int
        K, 1 or 2.
    limit : float
    n : int
        Points per axis.

    Returns
    -------
    axis : ndarray, shape (n,)
        The points along each axis.
    z : ndarray, shape (n**K, K)
        Every grid point, the last coordinate varying fastest.
    log_w : ndarray, shape (n**K,)
        log of the trapezoid weight of each point (the product of the 1-D weights).
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    if latent_dim > 2:
        raise ValueError(f"latent_dim must be 1 or 2; got {latent_dim}")
    check_size(check_positive_int(n, "n") ** latent_dim, f"a grid of n={n} points per axis")
    axis, log_w1 = trapezoid_grid(limit, n)
    mesh = np.meshgrid(*([axis] * latent_dim), indexing="ij")
    z = np.stack([m.ravel() for m in mesh], axis=-1)
    log_w = sum(np.meshgrid(*([log_w1] * latent_dim), indexing="ij")).ravel()
    return axis, z, log_w


def vae_log_joint_grid(
    model, x, *, limit: float = 6.0, n: int = 241
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""log p(x, z) = log p(x | z) + log N(z; 0, I) at every point of a latent grid.

    Parameters
    ----------
    model : a model with ``log_joint_pairs`` and ``latent_dim`` 1 or 2 (a VAE, say)
    x : ndarray, shape (N, D), values in [0, 1]
    limit, n : the grid, n points per axis on [-limit, limit]

    Returns
    -------
    axis : ndarray, shape (n,)
    log_joint : ndarray, shape (N, n**K), float64
    log_w : ndarray, shape (n**K,)
        log trapezoid weights of the grid points.
    """
    model = _check_model(model)
    axis, z, log_w = latent_grid(model.latent_dim, limit, n)
    return axis, model.log_joint_pairs(x, z), log_w


def vae_log_marginal_grid(
    model, x, *, limit: float = 6.0, n: int = 241, batch_size: int = 50
) -> np.ndarray:
    r"""The evidence log p(x) of each example by the trapezoid rule over a latent grid.

    .. math:: \log p(x) = \log \int p(x \mid z)\, p(z)\, dz
              \approx \log \sum_i w_i\, e^{\log p(x, z_i)}

    (equation `elbo-marginal`). Accurate when the posterior is negligible outside
    [-limit, limit]^K and spans several grid spacings. The default grid (spacing 0.05)
    leaves out a prior mass of about 2e-9 per latent dimension.

    Returns
    -------
    ndarray, shape (N,), nats
    """
    model = _check_model(model)
    x = model.check_batch(x, "x")
    batch_size = check_positive_int(batch_size, "batch_size")
    out = []
    for lo in range(0, len(x), batch_size):
        _, log_joint, log_w = vae_log_joint_grid(model, x[lo : lo + batch_size], limit=limit, n=n)
        out.append(logsumexp_kernel(log_joint + log_w, axis=1))
    return np.concatenate(out)


def vae_posterior_grid(
    model, x, *, limit: float = 6.0, n: int = 241
) -> tuple[np.ndarray, np.ndarray]:
    r"""The true posterior p(z | x) = p(x, z) / p(x) of each example on a latent grid.

    Returns
    -------
    axis : ndarray, shape (n,)
    density : ndarray, shape (N, n) for K = 1, or (N, n, n) for K = 2
        p(z | x) at the grid points (for K = 2, ``density[i, a, b]`` is at
        z = (axis[a], axis[b])); its trapezoid integral is 1.
    """
    axis, log_joint, log_w = vae_log_joint_grid(model, x, limit=limit, n=n)
    log_post = log_joint - logsumexp_kernel(log_joint + log_w, axis=1)[:, None]
    shape = (len(log_joint),) + (n,) * model.latent_dim
    return axis, np.exp(log_post).reshape(shape)


# ----------------------------------------------------------------------------- best Gaussian
def gaussian_elbo_grid(log_joint, axis, mu, logvar) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""The ELBO of q = N(μ, diag σ²) for each example, by quadrature on a latent grid, and
    its gradient in μ and log σ².

    .. math:: \mathcal L(q) = \sum_g \bar q_g \log p(x, z_g) + \mathcal H(q)

    where :math:`\bar q_g` are q's density times the trapezoid weights at the grid points,
    normalised to sum to 1 (q factorises over the axes, so the sum is one product per axis),
    and :math:`\mathcal H(q) = \tfrac12 \sum_j (\log 2\pi e + \log\sigma_j^2)` is exact. The
    gradient is exact for this sum. Accurate when σ spans several grid spacings.

    Parameters
    ----------
    log_joint : ndarray, shape (N, n**K)
        log p(x, z) on the grid, as :func:`vae_log_joint_grid` returns it (K = 1 or 2).
    axis : ndarray, shape (n,)
        The grid's points along each axis.
    mu, logvar : ndarray, shape (N, K)

    Returns
    -------
    elbo : ndarray, shape (N,)
    d_mu, d_logvar : ndarray, shape (N, K)
        ∂ELBO/∂μ and ∂ELBO/∂log σ².
    """
    axis = np.asarray(axis, dtype=np.float64)
    n = len(axis)
    mu, logvar = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
    n_examples, k = mu.shape
    if k not in (1, 2) or logvar.shape != mu.shape or log_joint.shape != (n_examples, n**k):
        raise ValueError(
            f"expected mu and logvar of shape (N, K) with K 1 or 2 and log_joint of shape "
            f"(N, n**K) for an axis of n={n}; got {mu.shape}, {logvar.shape}, {log_joint.shape}"
        )
    _, log_trap = trapezoid_grid(float(axis[-1]), n)
    offset = axis[None, None, :] - mu[:, :, None]  # (N, K, n)
    precision = np.exp(-logvar)[:, :, None]
    log_q = log_trap - 0.5 * offset**2 * precision
    weights = np.exp(log_q - logsumexp_kernel(log_q, axis=2)[..., None])  # (N, K, n), rows sum 1
    score_mu = offset * precision  # ∂ log q̄_g / ∂μ before normalisation
    score_logvar = 0.5 * offset**2 * precision  # ∂ log q̄_g / ∂log σ², likewise

    f = log_joint.reshape((n_examples,) + (n,) * k)
    if k == 1:
        marginals = [f]  # E = w · f
    else:  # E = w₁ᵀ F w₂: each axis sees F averaged over the other (batched matrix-vector
        # products, which BLAS runs in about 60% of einsum's time on the default grid)
        marginals = [
            np.matmul(f, weights[:, 1, :, None])[..., 0],  # Σ_b F[a, b] w₂[b]
            np.matmul(weights[:, 0, None, :], f)[:, 0, :],  # Σ_a w₁[a] F[a, b]
        ]
    expected = np.sum(weights[:, 0] * marginals[0], axis=1)
    d_mu, d_logvar = np.empty_like(mu), np.empty_like(mu)
    for j, g in enumerate(marginals):
        # the derivative of a normalised weight is w (s - Σ w s): a covariance under w
        centred = g - expected[:, None]
        d_mu[:, j] = np.sum(weights[:, j] * score_mu[:, j] * centred, axis=1)
        d_logvar[:, j] = np.sum(weights[:, j] * score_logvar[:, j] * centred, axis=1) + 0.5
    entropy = 0.5 * np.sum(LOG_2PI + 1.0 + logvar, axis=1)
    return expected + entropy, d_mu, d_logvar


def best_gaussian_grid(
    log_joint, axis, mu, logvar, *, steps: int = 600, lr: float = 0.02
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""For each example, the diagonal Gaussian q* with the highest ELBO, by Adam on
    :func:`gaussian_elbo_grid` from the starting point (μ, log σ²), e.g. the encoder's.

    log p(x) - ELBO(q*) is the *approximation gap* of the Gaussian family, and
    ELBO(q*) - ELBO(q_φ) the *amortization gap* of an encoder q_φ (Cremer et al. 2018).

    Returns
    -------
    mu, logvar : ndarray, shape (N, K)
        q*'s parameters.
    elbo : ndarray, shape (N,)
        Its ELBO.
    """
    steps = check_positive_int(steps, "steps")
    mu = np.array(mu, dtype=np.float64)
    logvar = np.array(logvar, dtype=np.float64)
    optimizer = Adam([mu, logvar], lr=lr)
    for _ in range(steps):
        _, d_mu, d_logvar = gaussian_elbo_grid(log_joint, axis, mu, logvar)
        optimizer.step([-d_mu, -d_logvar])  # Adam descends: ascend the ELBO
    elbo, _, _ = gaussian_elbo_grid(log_joint, axis, mu, logvar)
    return mu, logvar, elbo
