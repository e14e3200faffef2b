"""Quality at equal work: the test ELBO each library reaches after the same epochs.

Two comparisons, both after the same number of epochs:

- **independent runs**: each library starts from its own draw of the same initialisation
  scheme and uses its own random numbers (shuffling, ε); the mean over seeds of each is
  compared. Seeds differ by a nat or two for a 2-D latent space, so this needs many: the
  timed runs of :mod:`bench.training` count, and ``python -m bench.quality`` adds untimed
  ones (:func:`independent_run`) with further seeds.
- **same randomness**: a vae_lib model starts from the PyTorch model's initial weights and
  is fed PyTorch's own shuffles and draws of ε (:func:`train_on_torch_randomness`); what
  remains of the difference is the two implementations' arithmetic.

All models are scored by the same code: PyTorch weights are copied into a vae_lib VAE
(checked on a batch with fixed noise first), and :meth:`vae_lib.VAE.elbo` estimates the
ELBO of every test image with the same draws of ε for all.
"""

from __future__ import annotations

import argparse
import json

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
    check = abs(ours - twin.loss_and_grads(x, eps).terms["elbo"])
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
            total += len(batch) * model.loss_and_grads(batch, eps).terms["elbo"]
            optimizer.step(model.grads)
    return total / n


def independent_run(shape: Shape, seed: int, epochs: int, x_train, x_test, batch_size, lr):
    """Train each library from its own draws for ``seed``, untimed; score both.

    The same draws as a timed run of :mod:`bench.training` with this seed would make.
    """
    import torch

    from .twins import torch_epoch, torch_vae

    ours = vae_lib.VAE(shape.config(), np.random.default_rng(seed))
    rng = np.random.default_rng(1000 + seed)
    vae_lib.fit(ours, x_train, epochs=epochs, rng=rng, batch_size=batch_size, lr=lr, progress=False)
    theirs = torch_vae(shape, seed)
    optimizer = torch.optim.Adam(theirs.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(1000 + seed)
    x_torch = torch.from_numpy(x_train)
    for _ in range(epochs):
        torch_epoch(theirs, optimizer, x_torch, generator, batch_size)
    theirs_test, check = score_torch(theirs, shape, x_test)
    return {
        "seed": seed,
        "vae_lib_test_elbo": test_elbo(ours, x_test),
        "torch_test_elbo": theirs_test,
        "transfer_check_nats": check,
    }


def _mean_and_se(values: np.ndarray) -> tuple[float, float | None]:
    se = float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else None
    return float(np.mean(values)), se


def summarize(runs: list[dict], more: list[dict] = ()) -> dict:
    """Means over the runs (seeds) of each library's test ELBO, and their differences.

    ``runs`` are the timed runs (with the same-randomness model); ``more`` are further
    independent runs. The independent difference is a difference of two means of
    independent samples, with its standard error sqrt(s₁²/n + s₂²/n); the same-randomness
    difference is paired, run by run.
    """
    independent = [*runs, *more]
    ours = np.array([r["vae_lib_test_elbo"] for r in independent])
    theirs = np.array([r["torch_test_elbo"] for r in independent])
    same = np.array([r["same_randomness_vae_lib_test_elbo"] for r in runs])
    paired_theirs = np.array([r["torch_test_elbo"] for r in runs])
    (ours_mean, ours_se), (theirs_mean, theirs_se) = _mean_and_se(ours), _mean_and_se(theirs)
    diff_se = None if ours_se is None else float(np.hypot(ours_se, theirs_se))
    same_diff, same_se = _mean_and_se(same - paired_theirs)
    return {
        "independent_runs": len(independent),
        "vae_lib_test_elbo": ours_mean,
        "vae_lib_test_elbo_sd": float(np.std(ours, ddof=1)) if len(ours) > 1 else None,
        "torch_test_elbo": theirs_mean,
        "torch_test_elbo_sd": float(np.std(theirs, ddof=1)) if len(theirs) > 1 else None,
        "difference": ours_mean - theirs_mean,
        "difference_standard_error": diff_se,
        "same_randomness_runs": len(runs),
        "same_randomness_vae_lib_test_elbo": float(np.mean(same)),
        "same_randomness_difference": same_diff,
        "same_randomness_difference_standard_error": same_se,
        "target_nats": TARGET_NATS,
        "meets_target": abs(ours_mean - theirs_mean) <= TARGET_NATS,
        "transfer_check_nats": max(r["transfer_check_nats"] for r in independent),
        "eval_samples": EVAL_SAMPLES,
    }


def main(argv=None) -> None:
    """``python -m bench.quality``: more independent runs, in a subprocess like training's."""
    from . import machine, training

    parser = argparse.ArgumentParser(description="More independent runs for the quality check.")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--first-seed", type=int, required=True)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    machine.limit_threads(args.threads)
    x_train, x_test = training.data()
    shapes = {}
    for shape in training.SHAPES:
        shapes[shape.name] = []
        for seed in range(args.first_seed, args.first_seed + args.runs):
            record = independent_run(
                shape, seed, args.epochs, x_train, x_test, training.BATCH_SIZE, training.LR
            )
            shapes[shape.name].append(record)
            print(
                f"  {shape.name} seed {seed}: test ELBO vae_lib {record['vae_lib_test_elbo']:.2f}"
                f", PyTorch {record['torch_test_elbo']:.2f}",
                flush=True,
            )
    result = {"epochs": args.epochs, "first_seed": args.first_seed, "shapes": shapes}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
