"""Quality at equal work: the test ELBO each library reaches after the same epochs.

Two comparisons, both after the same number of epochs:

- **independent runs**: each library starts from its own draw of the same initialisation
  scheme and uses its own random numbers (shuffling, ε); the mean over seeds of each is
  compared. Seeds differ by a nat or two for a 2-D latent space, so this needs several.
- **same randomness**: a vae_lib model starts from the PyTorch model's initial weights and
  is fed PyTorch's own shuffles and draws of ε (:func:`train_on_torch_randomness`); what
  remains of the difference is the two implementations' arithmetic.

All models are scored by the same code: PyTorch weights are copied into a vae_lib VAE
(checked on a batch with fixed noise first), and :meth:`vae_lib.VAE.elbo` estimates the
ELBO of every test image with the same draws of ε for all.
"""

from __future__ import annotations

import numpy as np

import vae_lib

from .twins import Shape, torch_to_vae_lib

TARGET_NATS = 1.0  # |ELBO(vae_lib) - ELBO(PyTorch)| at most this, in nats per image
EVAL_SAMPLES = 10  # draws of z per test image for the ELBO estimate
EVAL_SEED = 12345


def test_elbo(model: vae_lib.VAE, x_test: np.ndarray) -> float:
    """Mean over the test images of the ELBO, each estimated with EVAL_SAMPLES draws."""
    terms = model.elbo(x_test, np.random.default_rng(EVAL_SEED), n_samples=EVAL_SAMPLES)
    return float(np.mean(terms.elbo))


def score_torch(model, shape: Shape, x_test: np.ndarray) -> tuple[float, float]:
    """(test ELBO, transfer check): the PyTorch model scored by vae_lib's code.

    The transfer check is |ELBO_torch - ELBO_vae_lib| on 100 test images with the same ε,
    each library computing it its own way; it should be float32 rounding, not a bug.
    """
    import torch

    twin = torch_to_vae_lib(model, shape)
    x = x_test[:100]
    eps = np.random.default_rng(0).standard_normal((len(x), shape.latent), dtype=np.float32)
    with torch.no_grad():
        ours = model(torch.from_numpy(x), torch.from_numpy(eps))[0].item()
    check = abs(ours - twin.loss_and_grads(x, eps=eps).elbo)
    return test_elbo(twin, x_test), check


def train_on_torch_randomness(
    model: vae_lib.VAE, x_train, seed: int, epochs: int, batch_size: int, lr: float
) -> float:
    """Train ``model`` with the shuffles and ε that :func:`bench.twins.torch_epoch` draws
    from a generator seeded with ``seed``; return the last epoch's mean ELBO."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    optimizer = vae_lib.Adam(model.params, lr=lr)
    n, k = len(x_train), model.config.latent_dim
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator).numpy()
        total = 0.0
        for lo in range(0, n, batch_size):
            batch = x_train[order[lo : lo + batch_size]]
            eps = torch.randn(len(batch), k, generator=generator).numpy()
            total += len(batch) * model.loss_and_grads(batch, eps=eps).elbo
            optimizer.step(model.grads)
    return total / n


def _mean_and_se(values: np.ndarray) -> tuple[float, float | None]:
    se = float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else None
    return float(np.mean(values)), se


def summarize(runs: list[dict]) -> dict:
    """Means over the runs (seeds) of each library's test ELBO, and their differences."""
    ours = np.array([r["vae_lib_test_elbo"] for r in runs])
    theirs = np.array([r["torch_test_elbo"] for r in runs])
    same = np.array([r["same_randomness_vae_lib_test_elbo"] for r in runs])
    diff, diff_se = _mean_and_se(ours - theirs)
    same_diff, same_se = _mean_and_se(same - theirs)
    return {
        "vae_lib_test_elbo": float(np.mean(ours)),
        "torch_test_elbo": float(np.mean(theirs)),
        "difference": diff,
        "difference_standard_error": diff_se,
        "same_randomness_vae_lib_test_elbo": float(np.mean(same)),
        "same_randomness_difference": same_diff,
        "same_randomness_difference_standard_error": same_se,
        "target_nats": TARGET_NATS,
        "meets_target": abs(diff) <= TARGET_NATS,
        "transfer_check_nats": max(r["transfer_check_nats"] for r in runs),
        "eval_samples": EVAL_SAMPLES,
    }
