"""The exact evidence and posterior of a VAE with a small latent, by quadrature over a grid.

With a latent of one or two dimensions, p(x) = ∫ p(x|z) p(z) dz is an integral over a line
or a plane, and a fine grid computes it as accurately as we like. That gives a ground truth
to hold the ELBO and the importance-weighted estimates against. Equation labels refer to the
chapter "The evidence lower bound" (chapters/elbo.md).
"""

from __future__ import annotations

import numpy as np

from ..core.numerics import logsumexp_kernel, trapezoid_grid
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
