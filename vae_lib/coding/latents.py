r"""Continuous latents made codable: the prior's buckets of equal mass (BB-ANS).

A coder sends symbols from finite alphabets, so the code z ∈ R^K of a Gaussian-latent model
is discretised, one coordinate at a time, into 2^B buckets of equal mass under the prior
N(0, 1): bucket b is the interval [e_b, e_{b+1}) with e_b = Φ⁻¹(b / 2^B) (Townsend et al.
2019). Under the prior every bucket has probability 2^-B, so pushing a code with the prior
costs exactly B bits per coordinate. The posterior q(z_k | x) = N(μ_k, σ_k²) gives bucket b
the mass Φ((e_{b+1} − μ_k)/σ_k) − Φ((e_b − μ_k)/σ_k), and the decoder reads each bucket at
its centre, the prior's median within it, c_b = Φ⁻¹((b + ½) / 2^B).

The posterior's frequencies out of 2^P are

.. math:: F(b) = \lfloor \Phi((e_b - \mu)/\sigma) \, (2^P - 2^B) \rfloor + b ,

a cumulative table that starts at 0, ends at 2^P and rises by at least 1 per bucket, so
every bucket can be coded and a pop finds its bucket by bisection, computing Φ at about B
edges instead of all 2^B. Φ is the standard library's ``erfc``, evaluated the same way by
the sender and the receiver.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from ..core.validation import check_array, describe_value
from .ans import Message, check_precision

#: The most bits per coordinate: 2^16 buckets.
MAX_LATENT_BITS = 16
_SQRT_HALF = math.sqrt(0.5)


def standard_normal_cdf(t: float) -> float:
    """Φ(t), from ``math.erfc`` (accurate in both tails)."""
    return 0.5 * math.erfc(-t * _SQRT_HALF)


class PriorBuckets:
    """The 2^B buckets of equal N(0, 1) mass, their edges and their centres.

    Parameters
    ----------
    bits : int
        B, from 1 to :data:`MAX_LATENT_BITS`.
    posterior_precision : int
        P, the precision of the posterior's frequencies; at least B + 4, so that reserving
        one count per bucket costs at most a 16th of the range, and at most 32.
    """

    def __init__(self, bits: int, posterior_precision: int):
        if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
            raise TypeError(f"bits must be an integer; got {describe_value(bits)}")
        if not 1 <= bits <= MAX_LATENT_BITS:
            raise ValueError(f"bits must be from 1 to {MAX_LATENT_BITS}; got {bits}")
        precision = check_precision(posterior_precision)
        if precision < bits + 4:
            raise ValueError(
                f"posterior_precision must be at least bits + 4 = {bits + 4}; got {precision}"
            )
        self.bits, self.precision = int(bits), precision
        n = 1 << self.bits
        inv_cdf = NormalDist().inv_cdf
        #: e_0 … e_{2^B}, with e_0 = -inf and e_{2^B} = +inf
        self.edges = [-math.inf] + [inv_cdf(b / n) for b in range(1, n)] + [math.inf]
        #: c_b, each bucket's prior median
        self.centres = np.array([inv_cdf((b + 0.5) / n) for b in range(n)])
        self._spread = (1 << precision) - n

    @property
    def n_buckets(self) -> int:
        return 1 << self.bits

    def bucket_of(self, z) -> np.ndarray:
        """The bucket holding each value of ``z``: an int array of its shape."""
        z = check_array(z, "z", dtype=np.float64)
        return np.searchsorted(np.array(self.edges[1:-1]), z, side="right")

    # ------------------------------------------------------------------ the prior
    def push_prior(self, message: Message, buckets, trace: list | None = None) -> None:
        """Push the buckets of one code with the prior: B bits each, exactly. With ``trace``,
        the message's length after each push is appended to it."""
        for b in reversed(buckets):
            message.push_uniform(int(b), self.bits)
            if trace is not None:
                trace.append(message.bit_length())

    def pop_prior(self, message: Message, k: int) -> list[int]:
        """Pop ``k`` buckets with the prior (the inverse of :meth:`push_prior`)."""
        return [message.pop_uniform(self.bits) for _ in range(k)]

    # ------------------------------------------------------------------ the posterior
    def _cumulative(self, b: int, mu: float, sigma: float) -> int:
        """F(b) for the posterior N(mu, sigma²)."""
        if b == 0:
            return 0
        if b == self.n_buckets:
            return 1 << self.precision
        return math.floor(standard_normal_cdf((self.edges[b] - mu) / sigma) * self._spread) + b

    def posterior_interval(self, b: int, mu: float, sigma: float) -> tuple[int, int]:
        """(start, freq) of bucket b under the posterior N(mu, sigma²)."""
        start = self._cumulative(b, mu, sigma)
        return start, self._cumulative(b + 1, mu, sigma) - start

    def push_posterior(self, message: Message, buckets, mu, sigma) -> None:
        """Push one code's buckets with q(z | x) = N(mu, diag sigma²) (arrays of shape (K,))."""
        for b, m, s in zip(reversed(buckets), mu[::-1].tolist(), sigma[::-1].tolist()):
            start, freq = self.posterior_interval(int(b), m, s)
            message.push(start, freq, self.precision)

    def pop_posterior(self, message: Message, mu, sigma, trace: list | None = None) -> list[int]:
        """Pop one code's buckets with q(z | x): the sender's draw of z from the posterior,
        paid for with bits of the message. With ``trace``, the message's length after each
        pop is appended to it."""
        out = []
        for m, s in zip(mu.tolist(), sigma.tolist()):
            slot = message.peek(self.precision)
            low, high = 0, self.n_buckets  # F(low) ≤ slot < F(high)
            while high - low > 1:
                mid = (low + high) // 2
                if self._cumulative(mid, m, s) <= slot:
                    low = mid
                else:
                    high = mid
            start, freq = self.posterior_interval(low, m, s)
            message.pop_interval(start, freq, self.precision)
            out.append(low)
            if trace is not None:
                trace.append(message.bit_length())
        return out

    def posterior_log_mass(self, buckets, mu, sigma) -> np.ndarray:
        r"""log Q̃(b) = log[Φ((e_{b+1} − μ)/σ) − Φ((e_b − μ)/σ)] of each bucket, unquantized:
        ``buckets``, ``mu``, ``sigma`` of one shape; the same shape out, nats."""
        buckets = np.asarray(buckets)
        mu, sigma = np.broadcast_arrays(np.asarray(mu, float), np.asarray(sigma, float))
        edges = np.array(self.edges)
        cdf = np.frompyfunc(standard_normal_cdf, 1, 1)
        upper = (edges[buckets + 1] - mu) / sigma
        lower = (edges[buckets] - mu) / sigma
        # the smaller of the two tail masses, for accuracy far from the mean
        left_of_mean = upper <= 0
        with np.errstate(divide="ignore"):
            from_left = cdf(upper).astype(float) - cdf(lower).astype(float)
            from_right = cdf(-lower).astype(float) - cdf(-upper).astype(float)
            return np.log(np.where(left_of_mean, from_left, from_right))
