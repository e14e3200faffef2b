"""The same VAE in vae_lib and in PyTorch, the FLOPs of an epoch, and the products alone.

Both models are the MLP VAE the book trains on MNIST: encoder D → H → 2K (μ and log σ²,
ReLU between), decoder K → H → D, Bernoulli decoder from logits, N(0, I) prior, Adam with
PyTorch's default settings. Both initialise every Linear layer with W, b ~ U(±1/√n_in).
The PyTorch model is written as a PyTorch user would write it (``nn.Sequential``,
``binary_cross_entropy_with_logits``, ``torch.optim.Adam`` with its defaults).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import vae_lib

INPUT_DIM = 784


@dataclass(frozen=True)
class Shape:
    """An MLP VAE D-H-K, e.g. 784-512-2."""

    hidden: int
    latent: int
    input_dim: int = INPUT_DIM

    @property
    def name(self) -> str:
        return f"{self.input_dim}-{self.hidden}-{self.latent}"

    def layers(self) -> list[tuple[int, int]]:
        """(n_in, n_out) of every Linear layer: the encoder's two, then the decoder's two."""
        d, h, k = self.input_dim, self.hidden, self.latent
        return [(d, h), (h, 2 * k), (k, h), (h, d)]

    def config(self) -> vae_lib.VAEConfig:
        return vae_lib.VAEConfig(
            input_dim=self.input_dim, hidden_dims=(self.hidden,), latent_dim=self.latent
        )


def batch_sizes(n_examples: int, batch_size: int) -> list[int]:
    """The batches of one epoch; the last, smaller one is kept (as :func:`vae_lib.fit` does)."""
    return [min(batch_size, n_examples - lo) for lo in range(0, n_examples, batch_size)]


def products(shape: Shape, n: int) -> list[tuple[int, int, int]]:
    """The matrix products (m, k, n) of one training step on a batch of ``n`` examples.

    For each layer y = x W: forward x W; backward xᵀ dy (the weight gradient) and dy Wᵀ
    (the input gradient), except the first layer's input gradient, which nobody needs (the
    input is data; PyTorch's autograd skips it too).
    """
    out = []
    for i, (n_in, n_out) in enumerate(shape.layers()):
        out.append((n, n_in, n_out))  # forward: (n, n_in) @ (n_in, n_out)
        out.append((n_in, n, n_out))  # weight gradient: (n_in, n) @ (n, n_out)
        if i > 0:
            out.append((n, n_out, n_in))  # input gradient: (n, n_out) @ (n_out, n_in)
    return out


def epoch_flops(shape: Shape, n_examples: int, batch_size: int) -> int:
    """Floating-point operations of the matrix products of one epoch (2 m k n each)."""
    return sum(
        2 * m * k * n
        for b in batch_sizes(n_examples, batch_size)
        for (m, k, n) in products(shape, b)
    )


class ProductsAlone:
    """The matrix products of one epoch and nothing else, in numpy float32.

    The same shapes, transposes and ``out=`` arrays as vae_lib's layers use, so that its
    rate is the ceiling for the training epoch: the epoch does this work plus everything
    that is not a matrix product.
    """

    def __init__(self, shape: Shape, n_examples: int, batch_size: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.steps = []
        for b in batch_sizes(n_examples, batch_size):
            step = []
            for i, (n_in, n_out) in enumerate(shape.layers()):
                x = rng.standard_normal((b, n_in), dtype=np.float32)
                w = rng.standard_normal((n_in, n_out), dtype=np.float32)
                dy = rng.standard_normal((b, n_out), dtype=np.float32)
                y, dw = np.empty((b, n_out), np.float32), np.empty_like(w)
                dx = np.empty((b, n_in), np.float32) if i > 0 else None
                step.append((x, w, dy, y, dw, dx))
            self.steps.append(step)

    def run(self) -> None:
        for step in self.steps:
            for x, w, dy, y, dw, dx in step:
                np.matmul(x, w, out=y)
                np.matmul(x.T, dy, out=dw)
                if dx is not None:
                    np.matmul(dy, w.T, out=dx)


def square_sgemm_seconds(n: int = 1024, repeats: int = 3) -> tuple[float, int]:
    """Fastest of ``repeats`` float32 products of two n × n matrices: (seconds, FLOPs)."""
    import time

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty_like(a)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=c)
        best = min(best, time.perf_counter() - start)
    return best, 2 * n**3


# ----------------------------------------------------------------------------- PyTorch
def torch_vae(shape: Shape, seed: int):
    """The PyTorch twin, initialised by PyTorch's own default (W, b ~ U(±1/√n_in))."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    d, h, k = shape.input_dim, shape.hidden, shape.latent

    class TorchVAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.latent = k
            self.encoder = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, 2 * k))
            self.decoder = nn.Sequential(nn.Linear(k, h), nn.ReLU(), nn.Linear(h, d))

        def forward(self, x, eps):
            """The mean over the batch of the ELBO, its reconstruction term and its KL."""
            out = self.encoder(x)
            mu, logvar = out[:, :k], out[:, k:]
            z = mu + torch.exp(0.5 * logvar) * eps
            logits = self.decoder(z)
            n = x.shape[0]
            recon = -nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
            kl = 0.5 * torch.sum(mu * mu + torch.exp(logvar) - 1.0 - logvar) / n
            return recon - kl, recon, kl

    return TorchVAE()


def torch_epoch(model, optimizer, x, generator, batch_size: int) -> float:
    """One epoch of minibatch Adam on the negative ELBO; returns the epoch's mean ELBO."""
    import torch

    n = x.shape[0]
    order = torch.randperm(n, generator=generator)
    total = 0.0
    for lo in range(0, n, batch_size):
        batch = x[order[lo : lo + batch_size]]
        eps = torch.randn(batch.shape[0], model.latent, generator=generator)
        optimizer.zero_grad()
        elbo, _, _ = model(batch, eps)
        (-elbo).backward()
        optimizer.step()
        total += batch.shape[0] * elbo.item()
    return total / n


def torch_to_vae_lib(model, shape: Shape) -> vae_lib.VAE:
    """A vae_lib VAE holding the PyTorch model's weights (PyTorch stores W as (out, in))."""
    twin = vae_lib.VAE(shape.config(), np.random.default_rng(0))
    linears = [m for part in (model.encoder, model.decoder) for m in part if hasattr(m, "weight")]
    params = twin.params
    for i, layer in enumerate(linears):
        params[2 * i][...] = layer.weight.detach().numpy().T
        params[2 * i + 1][...] = layer.bias.detach().numpy()
    return twin
