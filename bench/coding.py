"""The bits-back coder's speed: the rANS stack's cost per symbol as messages grow, and images
per second with the VLAE page's two decoders, split into the networks' time and the coding's.

- **Linear in the message.** Push n symbols of a three-symbol table at precision 24, then pop
  them, for n from 25,000 to 200,000: with the bounded head of
  :class:`vae_lib.coding.ans.Message` the time per symbol stays flat. The same pushes on one
  growing Python integer (the rule without renormalisation) are timed beside it, to show the
  quadratic cost that the bounded head removes.
- **Images.** The models of chapters/vlae/compression.md (784-256-32; the factorized decoder
  and the window w = 2 with two hidden units per pixel), with freshly initialised weights:
  the time does not depend on their values. Per image: the encoder's pass for q(z | x), the
  decoder's pixel probabilities along its decoding order with nothing coded, and the whole
  encode and decode; the coding's own share is the rest.

Run as ``python -m bench.coding [--images N] [--out file.json]``, one thread.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import vae_lib
from vae_lib.coding.ans import Message, pop_table, push_table, quantize, random_message
from vae_lib.coding.bits_back import BitsBackCoder

from . import machine

SYMBOL_COUNTS = (25_000, 50_000, 100_000, 200_000)
PRECISION = 24
#: The target: the time per symbol at the largest count over that at the smallest.
TARGET_GROWTH = 1.5


def _symbols(n: int):
    rng = np.random.default_rng(0)
    starts, freqs = quantize(np.array([0.7, 0.2, 0.1]), PRECISION)
    return rng.choice(3, size=n, p=[0.7, 0.2, 0.1]).tolist(), starts, freqs


def stack_seconds(n: int) -> dict:
    """Push then pop n symbols on a Message; checks that they come back."""
    symbols, starts, freqs = _symbols(n)
    message = Message()
    start = time.perf_counter()
    for s in symbols:
        push_table(message, s, starts, freqs, PRECISION)
    pushed = time.perf_counter() - start
    start = time.perf_counter()
    back = [pop_table(message, starts, freqs, PRECISION) for _ in symbols]
    popped = time.perf_counter() - start
    assert back[::-1] == symbols
    return {"n": n, "push": pushed, "pop": popped, "bits": message.bit_length()}


def growing_integer_seconds(n: int) -> float:
    """The same pushes onto one unbounded integer: each costs time in its length."""
    symbols, starts, freqs = _symbols(n)
    state = 1 << 32
    start = time.perf_counter()
    for s in symbols:
        f, c = int(freqs[s]), int(starts[s])
        state = ((state // f) << PRECISION) + state % f + c
    return time.perf_counter() - start


def model(window: int) -> vae_lib.VLAE:
    config = vae_lib.VLAEConfig(
        input_dim=784,
        hidden_dims=(256,),
        latent_dim=32,
        window=window,
        units_per_pixel=0 if window == 0 else 2,
        image_shape=(28, 28),
    )
    return vae_lib.VLAE(config, np.random.default_rng(0))


def image_seconds(window: int, images: np.ndarray) -> dict:
    """Seconds per image for each part of coding ``images`` with the model of ``window``."""
    coder = BitsBackCoder(model(window))
    n = len(images)
    start = time.perf_counter()
    for x in images:
        coder.posterior(x)
    posterior = (time.perf_counter() - start) / n
    code = coder.code_of([2048] * 32)
    start = time.perf_counter()
    for x in images:
        coder.pixels_in_order(code, lambda pixels, logits, x=x: x[pixels][None])
    pixels = (time.perf_counter() - start) / n
    message = random_message(30, np.random.default_rng(1))
    start = time.perf_counter()
    coder.encode(images, message)
    encode = (time.perf_counter() - start) / n
    start = time.perf_counter()
    decoded = coder.decode(n, message)
    decode = (time.perf_counter() - start) / n
    assert np.array_equal(decoded, images)
    return {
        "window": window,
        "steps": len(coder.plan.steps) if coder.autoregressive else 1,
        "posterior": posterior,
        "pixel_probabilities": pixels,
        "encode": encode,
        "decode": decode,
        # an encode runs the encoder once and the decoder once; the rest is the coding
        "coding_share": 1 - (posterior + pixels) / encode,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.coding", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--images", type=int, default=200, help="images coded per model")
    parser.add_argument("--out", type=str, default=None)
    args = parser.parse_args(argv)
    threads = machine.limit_threads(1)
    data = vae_lib.mnist_subset()
    images = vae_lib.binarize_dynamic(data.x_test[: args.images], np.random.default_rng(17))
    images = images.astype(np.uint8)
    stack = [stack_seconds(n) for n in SYMBOL_COUNTS]
    per_symbol = [(r["push"] + r["pop"]) / r["n"] for r in stack]
    result = {
        "threads": threads,
        "precision": PRECISION,
        "stack": stack,
        "growing_integer": [{"n": n, "push": growing_integer_seconds(n)} for n in SYMBOL_COUNTS],
        "per_symbol_growth": per_symbol[-1] / per_symbol[0],
        "target_growth": TARGET_GROWTH,
        "meets_target": per_symbol[-1] / per_symbol[0] <= TARGET_GROWTH,
        "images": args.images,
        "models": [image_seconds(w, images) for w in (0, 2)],
        "load_average": machine.load_average(),
    }
    text = json.dumps(result, indent=1)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
