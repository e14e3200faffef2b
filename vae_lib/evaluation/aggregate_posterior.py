"""The aggregate posterior q(z) = E_x q(z|x) of an encoder, and the split of the KL term it
allows ("ELBO surgery", Hoffman and Johnson 2016).

Over a data set of N examples, the KL term averaged over the data splits exactly into

.. math:: \\frac1N \\sum_n \\mathrm{KL}(q(z|x_n) \\,\\|\\, p(z))
          = I_q(x; z) + \\mathrm{KL}(q(z) \\,\\|\\, p(z)),
          \\qquad q(z) = \\frac1N \\sum_n q(z|x_n),

where I_q is the mutual information between the index of an example and its code under
q(z|x) with the examples equally likely; it is at most log N.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.distributions import gaussian_log_density_kernel, kl_standard_normal_kernel
from ..core.numerics import logsumexp_kernel
from ..core.validation import check_array, check_positive_int, check_rng, check_size


def _check_posteriors(mu, logvar) -> tuple[np.ndarray, np.ndarray]:
    mu = check_array(mu, "mu", shape=(None, None), dtype=np.float64)
    logvar = check_array(logvar, "logvar", shape=mu.shape, dtype=np.float64)
    if len(mu) == 0:
        raise ValueError("the aggregate posterior needs at least one example; got none")
    return mu, logvar


def log_aggregate_posterior(z, mu, logvar, *, chunk: int = 512) -> np.ndarray:
    """log q(z) = log (1/N) Σ_n N(z; μ_n, diag σ_n²) at each code z.

    Parameters
    ----------
    z : ndarray, shape (M, K)
    mu, logvar : ndarray, shape (N, K)
        The encoder's Gaussians of the N examples.
    chunk : int
        Codes per block (a block holds a chunk × N × K array).

    Returns
    -------
    ndarray, shape (M,), float64
    """
    mu, logvar = _check_posteriors(mu, logvar)
    z = check_array(z, "z", shape=(None, mu.shape[1]), dtype=np.float64)
    chunk = check_positive_int(chunk, "chunk")
    check_size(
        min(chunk, len(z)) * mu.size, f"blocks of {chunk} codes against {len(mu)} posteriors"
    )
    out = np.empty(len(z))
    for lo in range(0, len(z), chunk):
        block = z[lo : lo + chunk, None, :]  # (m, 1, K) against (1, N, K)
        log_q = gaussian_log_density_kernel(block, mu[None], logvar[None])  # (m, N)
        out[lo : lo + chunk] = logsumexp_kernel(log_q, axis=1) - np.log(len(mu))
    return out


@dataclass
class KLSplit:
    """The data-averaged KL term and its two parts, in nats (see the module doc).

    ``mutual_information`` is a Monte Carlo estimate with standard error
    ``mutual_information_se``; ``marginal_kl`` is ``average_kl - mutual_information`` (same
    standard error); ``max_information`` is log N, the ceiling of the first.
    """

    average_kl: float
    mutual_information: float
    mutual_information_se: float
    marginal_kl: float
    max_information: float


def kl_split(mu, logvar, rng: np.random.Generator, *, n_samples: int = 10) -> KLSplit:
    """Split the average KL(q(z|x) ‖ N(0, I)) of N examples into I_q(x; z) and
    KL(q(z) ‖ p(z)), drawing ``n_samples`` codes from each q(z|x_n).

    The information is estimated as E_n E_{q(z|x_n)}[log q(z|x_n) - log q(z)] and the
    marginal KL is what remains of the exact average KL: the integrand of the first has no
    log p(z) in it, whose spread would otherwise dominate the Monte Carlo error.
    """
    mu, logvar = _check_posteriors(mu, logvar)
    rng = check_rng(rng)
    n_samples = check_positive_int(n_samples, "n_samples")
    check_size(n_samples * mu.size, f"n_samples={n_samples} codes of {len(mu)} examples")
    average_kl = float(np.mean(kl_standard_normal_kernel(mu, logvar)))
    std = np.exp(0.5 * logvar)
    z = mu + std * rng.standard_normal((n_samples,) + mu.shape)  # (S, N, K)
    log_own = gaussian_log_density_kernel(z, mu, logvar)  # log q(z | x_n) of its own example
    log_q = log_aggregate_posterior(z.reshape(-1, mu.shape[1]), mu, logvar)
    per_example = (log_own - log_q.reshape(n_samples, len(mu))).mean(axis=0)
    information = float(np.mean(per_example))
    return KLSplit(
        average_kl=average_kl,
        mutual_information=information,
        mutual_information_se=float(np.std(per_example) / np.sqrt(len(mu))),
        marginal_kl=average_kl - information,
        max_information=float(np.log(len(mu))),
    )
