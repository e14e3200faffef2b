"""The machine's pace: a fixed piece of the book's work, timed at the start and the end of
every benchmark run, so that runs taken hours or days apart can be compared.

On the virtual machines the book is benchmarked on, chapters whose code had not changed have
taken 40% longer in one run than in another four hours before, with no other process
running, while a large matrix product ran at about the same rate. A figure from another run
is comparable only with the pace of both runs beside it.

- **VAE epoch**: one epoch of the overview page's VAE (784-256-16, float32, batch 100, Adam,
  dynamic binarization) on the shipped MNIST subset's 4,000 training images: products,
  elementwise passes and the optimizer, as the book's training mixes them. The median of
  ``epochs`` epochs after one untimed epoch.
- **Matrix product**: a 1024 × 1024 float32 product, the compute alone, in GFLOP/s (the
  fastest of 20).

Run as ``python -m bench.pace [--epochs N] [--out file.json]``, one thread.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from . import machine
from .twins import square_sgemm_seconds

LATENT, HIDDEN = 16, (256,)


def vae_epoch_seconds(epochs: int = 5) -> float:
    """The median time of one training epoch of the overview page's VAE."""
    import vae_lib
    from vae_lib.training.fit import fit

    data = vae_lib.mnist_subset()
    config = vae_lib.VAEConfig(input_dim=data.input_dim, hidden_dims=HIDDEN, latent_dim=LATENT)
    model = vae_lib.VAE(config, np.random.default_rng(0))
    x = data.x_train

    def one_epoch(seed: int) -> float:
        start = time.perf_counter()
        fit(
            model,
            x,
            epochs=1,
            rng=np.random.default_rng(seed),
            transform=vae_lib.binarize_dynamic,
            progress=False,
        )
        return time.perf_counter() - start

    one_epoch(0)  # untimed: first touches of the memory, caches
    return statistics.median(one_epoch(seed) for seed in range(1, epochs + 1))


def product_gflops(n: int = 1024, repeats: int = 20) -> float:
    """The rate of an n × n float32 matrix product, GFLOP/s (the fastest of ``repeats``, as
    the training benchmark measures it)."""
    seconds, flops = square_sgemm_seconds(n, repeats)
    return flops / seconds / 1e9


def measure(epochs: int = 5) -> dict:
    """The pace now: ``vae_epoch`` seconds and ``product_gflops``, with the load average."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "vae_epoch": round(vae_epoch_seconds(epochs), 4),
        "product_gflops": round(product_gflops(), 1),
        "load_average": machine.load_average(),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # one thread, as the book's chapters run
    result = measure(args.epochs)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)
    else:
        print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
