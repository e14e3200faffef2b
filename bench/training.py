"""Training speed against PyTorch on the same work, and the matrix-multiply rate beside it.

For each model shape and each seed, a vae_lib model and its PyTorch twin train on the same
data (the MNIST subset's 4,000 training images, statically binarized) with the same
settings (batch 100, Adam lr 1e-3, float32). Their epochs are interleaved, A B C A B C ...:

- A, one epoch of :func:`vae_lib.fit` (continuing the run: same model, optimizer, history);
- B, one epoch of the PyTorch twin;
- C, the matrix products of one epoch alone (:class:`bench.twins.ProductsAlone`), and one
  1024 × 1024 float32 product, the machine's large-matrix rate;

so that a slow minute of a shared machine slows all of them alike. The first epoch of each
run is a warm-up and is not timed. After the last epoch, both models are scored on the test
images, and a third model, vae_lib fed PyTorch's initial weights and random numbers, is
trained and scored (:mod:`bench.quality`).

Run as ``python -m bench.training --threads T --out file.json`` in a subprocess whose
environment already fixes the thread counts (:func:`bench.machine.thread_env`).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import vae_lib

from . import machine, quality
from .twins import (
    ProductsAlone,
    Shape,
    epoch_flops,
    square_sgemm_seconds,
    torch_epoch,
    torch_to_vae_lib,
    torch_vae,
)

SHAPES = (Shape(hidden=512, latent=2), Shape(hidden=400, latent=20))
BATCH_SIZE = 100
LR = 1e-3
RATIO_TARGET = 0.8  # vae_lib's median epoch at most this times PyTorch's
SHARE_TARGET = 0.5  # vae_lib's FLOP rate at least this share of the matrix-multiply rate


def data() -> tuple[np.ndarray, np.ndarray]:
    """The MNIST subset, statically binarized: (x_train (4000, 784), x_test (1000, 784))."""
    ds = vae_lib.mnist_subset()
    return vae_lib.binarize_static(ds.x_train), vae_lib.binarize_static(ds.x_test)


def run_shape(shape: Shape, epochs: int, runs: int, x_train, x_test) -> dict:
    """Interleaved training of ``runs`` seeds × ``epochs`` epochs of one shape."""
    import torch

    x_torch = torch.from_numpy(x_train)
    alone = ProductsAlone(shape, len(x_train), BATCH_SIZE)
    seconds = {"vae_lib": [], "torch": [], "products": [], "square": []}
    square_flops = 0
    records = []
    for seed in range(runs):
        ours = vae_lib.VAE(shape.config(), np.random.default_rng(seed))
        optimizer = vae_lib.Adam(ours.params, lr=LR)
        rng, history = np.random.default_rng(1000 + seed), None
        theirs = torch_vae(shape, seed)
        same_randomness = torch_to_vae_lib(theirs, shape)  # PyTorch's initial weights
        their_optimizer = torch.optim.Adam(theirs.parameters(), lr=LR)
        generator = torch.Generator().manual_seed(1000 + seed)
        for epoch in range(epochs):
            start = time.perf_counter()
            history = vae_lib.fit(
                ours,
                x_train,
                epochs=1,
                rng=rng,
                batch_size=BATCH_SIZE,
                lr=LR,
                progress=False,
                history=history,
                optimizer=optimizer,
            )
            t_a = time.perf_counter()
            their_elbo = torch_epoch(theirs, their_optimizer, x_torch, generator, BATCH_SIZE)
            t_b = time.perf_counter()
            alone.run()
            t_c = time.perf_counter()
            t_square, square_flops = square_sgemm_seconds()
            if epoch > 0:  # the first epoch of a run warms up caches and allocators
                seconds["vae_lib"].append(t_a - start)
                seconds["torch"].append(t_b - t_a)
                seconds["products"].append(t_c - t_b)
                seconds["square"].append(t_square)
        theirs_test, check = quality.score_torch(theirs, shape, x_test)
        quality.train_on_torch_randomness(
            same_randomness, x_train, 1000 + seed, epochs, BATCH_SIZE, LR
        )
        records.append(
            {
                "seed": seed,
                "vae_lib_train_elbo": history["elbo"][-1],
                "torch_train_elbo": their_elbo,
                "vae_lib_test_elbo": quality.test_elbo(ours, x_test),
                "torch_test_elbo": theirs_test,
                "transfer_check_nats": check,
                "same_randomness_vae_lib_test_elbo": quality.test_elbo(same_randomness, x_test),
            }
        )
        print(
            f"  {shape.name} seed {seed}: test ELBO vae_lib {records[-1]['vae_lib_test_elbo']:.2f}"
            f", PyTorch {theirs_test:.2f}; median epoch so far vae_lib "
            f"{np.median(seconds['vae_lib']):.3f} s, PyTorch {np.median(seconds['torch']):.3f} s",
            flush=True,
        )

    flops = epoch_flops(shape, len(x_train), BATCH_SIZE)
    median = {name: float(np.median(t)) for name, t in seconds.items()}
    gflops = {name: flops / median[name] / 1e9 for name in ("vae_lib", "torch", "products")}
    gflops["square"] = square_flops / median["square"] / 1e9
    paired = np.array(seconds["vae_lib"]) / np.array(seconds["torch"])
    return {
        "shape": shape.name,
        "epochs_per_run": epochs,
        "runs": runs,
        "timed_epochs": len(seconds["vae_lib"]),
        "examples": len(x_train),
        "batch_size": BATCH_SIZE,
        "flops_per_epoch": flops,
        "seconds": seconds,
        "median_seconds": median,
        "ratio": median["vae_lib"] / median["torch"],
        "paired_ratio_quartiles": [float(q) for q in np.percentile(paired, [25, 50, 75])],
        "gflops": gflops,
        "share_of_products": gflops["vae_lib"] / gflops["products"],
        "share_of_square": gflops["vae_lib"] / gflops["square"],
        "torch_share_of_products": gflops["torch"] / gflops["products"],
        "meets_ratio_target": median["vae_lib"] / median["torch"] <= RATIO_TARGET,
        "meets_share_target": gflops["vae_lib"] / gflops["products"] >= SHARE_TARGET,
        "records": records,
        "quality": quality.summarize(records),
    }


def run(threads: int, epochs: int, runs: int) -> dict:
    threads_used = machine.limit_threads(threads)
    x_train, x_test = data()
    load_before = machine.load_average()
    results = [run_shape(shape, epochs, runs, x_train, x_test) for shape in SHAPES]
    return {
        "threads": threads_used,
        "load_average": {"before": load_before, "after": machine.load_average()},
        "data": "MNIST subset, 4000 training and 1000 test images, statically binarized at 0.5",
        "settings": {"batch_size": BATCH_SIZE, "lr": LR, "dtype": "float32", "optimizer": "Adam"},
        "targets": {"ratio": RATIO_TARGET, "share": SHARE_TARGET},
        "shapes": results,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    result = run(args.threads, args.epochs, args.runs)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
