"""The VLAE's training step in vae_lib and in PyTorch: the same model, one thread each.

The model is the one of chapters/vlae/lossy_code.md: the MLP VAE 784-256-32 whose decoder
adds an autoregressive network over the image, ℓ = g(z) + ReLU(x (W₁ ⊙ M₁) + b₁)(W₂ ⊙ M₂)
+ x (A ⊙ F), two hidden units per pixel, with F the causal window of
:func:`vae_lib.causal_window_mask` and M₁, M₂ from :func:`vae_lib.receptive_field_masks`
(training by teacher forcing: one parallel pass). The PyTorch twin is written as a PyTorch
user would write it: ``nn.Linear`` layers, the masked layers as matrix products with
``W * M``, ``binary_cross_entropy_with_logits``, ``torch.optim.Adam`` with its defaults,
autograd for the backward pass. It starts from the vae_lib model's initial weights.

Epochs are interleaved, A B A B ..., so that a slow minute of a shared machine slows both
alike; the first epoch of each is a warm-up and is not timed. The data: the MNIST subset's
4,000 training images, statically binarized; batch 100, Adam lr 4e-3 (the book's), float32.

Run as ``python -m bench.vlae [--epochs E] [--out file.json]``; it sets one thread for
numpy's BLAS and for PyTorch (PyTorch is installed by ``make bench`` from
bench/requirements.txt, never a dependency of the book).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import vae_lib
from vae_lib.core.autoregressive import FULL

from . import machine
from .twins import torch_epoch

HIDDEN, LATENT, UNITS_PER_PIXEL = 256, 32, 2
WINDOWS = (2, FULL)
BATCH_SIZE = 100
LR = 4e-3


def config(window) -> vae_lib.VLAEConfig:
    return vae_lib.VLAEConfig(
        input_dim=784,
        hidden_dims=(HIDDEN,),
        latent_dim=LATENT,
        window=window,
        units_per_pixel=UNITS_PER_PIXEL,
    )


def torch_vlae(ours: vae_lib.VLAE):
    """The PyTorch twin of a vae_lib VLAE, holding a copy of its weights."""
    import torch
    from torch import nn

    d, h, k = 784, HIDDEN, LATENT

    class TorchVLAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.latent = k
            self.encoder = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, 2 * k))
            self.decoder = nn.Sequential(nn.Linear(k, h), nn.ReLU(), nn.Linear(h, d))
            # the autoregressive network, weights (in, out) as vae_lib stores them
            net = ours.decoder.network
            for name, layer in (("hidden", net.hidden), ("output", net.output), ("skip", net.skip)):
                self.register_parameter(f"{name}_weight", nn.Parameter(torch.zeros(layer.W.shape)))
                self.register_buffer(
                    f"{name}_mask", torch.from_numpy(layer.mask.astype(np.float32))
                )
            self.hidden_bias = nn.Parameter(torch.zeros(net.hidden.b.shape))

        def forward(self, x, eps):
            out = self.encoder(x)
            mu, logvar = out[:, :k], out[:, k:]
            z = mu + torch.exp(0.5 * logvar) * eps
            # teacher forcing: the autoregressive network reads the observed pixels
            hidden = torch.relu(x @ (self.hidden_weight * self.hidden_mask) + self.hidden_bias)
            context = hidden @ (self.output_weight * self.output_mask)
            logits = self.decoder(z) + context + x @ (self.skip_weight * self.skip_mask)
            n = x.shape[0]
            recon = -nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
            kl = 0.5 * torch.sum(mu * mu + torch.exp(logvar) - 1.0 - logvar) / n
            return recon - kl, recon, kl  # as bench.twins's VAE returns them

    twin = TorchVLAE()
    with torch.no_grad():
        linears = [m for part in (twin.encoder, twin.decoder) for m in part if hasattr(m, "weight")]
        params = ours.params
        for i, layer in enumerate(linears):
            layer.weight.copy_(torch.from_numpy(params[2 * i].T.copy()))
            layer.bias.copy_(torch.from_numpy(params[2 * i + 1]))
        net = ours.decoder.network
        twin.hidden_weight.copy_(torch.from_numpy(net.hidden.W))
        twin.hidden_bias.copy_(torch.from_numpy(net.hidden.b))
        twin.output_weight.copy_(torch.from_numpy(net.output.W))
        twin.skip_weight.copy_(torch.from_numpy(net.skip.W))
    return twin


def same_loss(ours: vae_lib.VLAE, theirs, x: np.ndarray) -> float:
    """|vae_lib's negative ELBO - PyTorch's| on one batch with the same ε (nats): the twins
    compute the same function."""
    import torch

    eps = np.random.default_rng(0).standard_normal((len(x), LATENT), dtype=np.float32)
    mine = ours.loss_and_grads(x, eps).loss
    with torch.no_grad():
        their = -float(theirs(torch.from_numpy(x), torch.from_numpy(eps))[0])
    return abs(mine - their)


def run_window(window, epochs: int, x_train: np.ndarray) -> dict:
    import torch

    ours = vae_lib.VLAE(config(window), np.random.default_rng(0))
    theirs = torch_vlae(ours)
    check = same_loss(ours, theirs, x_train[:BATCH_SIZE])
    # the optimizer fit itself makes: it passes over the weights a window's masks reach
    optimizer = vae_lib.Adam(ours.params, lr=LR, regions=ours.param_regions())
    their_optimizer = torch.optim.Adam(theirs.parameters(), lr=LR)
    rng, history = np.random.default_rng(1), None
    generator = torch.Generator().manual_seed(1)
    x_torch = torch.from_numpy(x_train)
    seconds = {"vae_lib": [], "torch": []}
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
        middle = time.perf_counter()
        their_elbo = torch_epoch(theirs, their_optimizer, x_torch, generator, BATCH_SIZE)
        end = time.perf_counter()
        if epoch > 0:
            seconds["vae_lib"].append(middle - start)
            seconds["torch"].append(end - middle)
    median = {name: float(np.median(t)) for name, t in seconds.items()}
    result = {
        "window": window,
        "autoregressive_weights": ours.n_autoregressive_weights,
        "params": ours.num_params(),
        "timed_epochs": epochs - 1,
        "seconds": seconds,
        "median_seconds": median,
        "ratio": median["vae_lib"] / median["torch"],
        "same_loss_check_nats": check,
        "final_train_elbo": {"vae_lib": history["elbo"][-1], "torch": their_elbo},
    }
    print(
        f"window {window}: median epoch vae_lib {median['vae_lib']:.3f} s, PyTorch "
        f"{median['torch']:.3f} s, ratio {result['ratio']:.2f} (loss check {check:.1e} nats)",
        flush=True,
    )
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    threads = machine.limit_threads(1)
    x_train = vae_lib.binarize_static(vae_lib.mnist_subset().x_train)
    load_before = machine.load_average()
    result = {
        "threads": threads,
        "load_average": {"before": load_before},
        "data": "MNIST subset, 4000 training images, statically binarized at 0.5",
        "settings": {"batch_size": BATCH_SIZE, "lr": LR, "dtype": "float32", "optimizer": "Adam"},
        "windows": [run_window(w, args.epochs, x_train) for w in WINDOWS],
    }
    result["load_average"]["after"] = machine.load_average()
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
