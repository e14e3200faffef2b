r"""A file of images compressed by bits-back coding, that refuses what it cannot decode.

Layout (all integers little-endian):

=========  ======  ==================================================================
bytes      field
=========  ======  ==================================================================
8          magic   ``b"VAEBBANS"``
2          format  :data:`FORMAT_VERSION`
32         model   SHA-256 of the model (:func:`model_sha256`)
8          n       the number of images
4          D       pixels per image
1 + 1 + 1          latent bits, posterior precision, pixel precision
4          T       initial words: random bits the first image borrows
8          seed    of the initial words, so that the receiver can check it got them back
8          peak    the longest the message was between two images, in bits
32         images  SHA-256 of the images (packed bits), checked after decoding
4·W        the message, W 32-bit words
32         SHA-256 of everything before it
=========  ======  ==================================================================

Decoding checks, before it decodes anything, the magic, the format, the checksum (a cut or
damaged file), the model (a file made with another model), the header's settings and the
count the caller expects; while it decodes, that the message never grows past the longest
the encoder wrote; after, that the message gave back exactly its initial words and the
images their checksum. Any failure is a :class:`CompressedFileError` that says which check
failed, never images that are not the ones compressed.

The checksums detect accident, not intent: SHA-256 without a key is not a signature, and a
file doctored with care (its hashes recomputed) decodes to whatever images its doctor
encoded. A doctored file still cannot make decoding use memory beyond its peak, nor run
longer than its count of images, each at most the file's length in bits.
"""

from __future__ import annotations

import hashlib
import json
import struct

import numpy as np

from ..core.validation import check_positive_int, describe_value
from .ans import HEAD_WORDS, WORD_BITS, Message, random_message
from .bits_back import BitsBackCoder

MAGIC = b"VAEBBANS"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<8sH32sQIBBBIQQ32s")
_DIGEST = 32


class CompressedFileError(ValueError):
    """A compressed file that cannot be decoded into the images it was made from."""


def model_sha256(model) -> str:
    """SHA-256 of a model's identity: its registered name, its config, and every parameter
    (name, dtype, shape and bytes), in order."""
    h = hashlib.sha256()
    h.update(json.dumps([model.name, model.config.to_dict()], sort_keys=True).encode())
    for name, p in zip(model.param_names(), model.params):
        h.update(json.dumps([name, p.dtype.str, p.shape]).encode())
        h.update(np.ascontiguousarray(p).tobytes())
    return h.hexdigest()


def images_sha256(images: np.ndarray) -> bytes:
    """SHA-256 of binary images (N, D) as packed bits, with their shape."""
    h = hashlib.sha256(struct.pack("<QI", *images.shape))
    h.update(np.packbits(images, axis=1).tobytes())
    return h.digest()


def initial_words(coder: BitsBackCoder) -> int:
    """How many 32-bit words the first image can borrow at most: a pop of a coordinate takes
    at most the posterior's precision in bits, and the head's words must stay."""
    k = coder.model.config.latent_dim
    return -(-k * coder.buckets.precision // WORD_BITS) + HEAD_WORDS


def compress(coder: BitsBackCoder, images, seed: int = 0, lengths: list | None = None) -> bytes:
    """The images (N, D), binary, compressed by bits-back coding with ``coder``'s model.

    ``seed`` draws the initial bits. With ``lengths`` (a list), the message's length in bits
    before the first image and after each image is appended to it.
    """
    images = coder.check_images(images)
    if len(images) == 0:
        raise ValueError("images must hold at least one image; got none")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise ValueError(f"seed must be an integer from 0 to 2^64 - 1; got {describe_value(seed)}")
    n_initial = initial_words(coder)
    message = random_message(n_initial, np.random.default_rng(int(seed)))
    before = message.bit_length()
    after = coder.encode(images, message)
    if lengths is not None:
        lengths.extend([before, *after])
    peak = max(before, *after)
    s = coder.settings
    header = _HEADER.pack(
        MAGIC,
        FORMAT_VERSION,
        bytes.fromhex(model_sha256(coder.model)),
        len(images),
        images.shape[1],
        s["latent_bits"],
        s["posterior_precision"],
        s["pixel_precision"],
        n_initial,
        int(seed),
        peak,
        images_sha256(images),
    )
    body = header + message.to_words().astype("<u4").tobytes()
    return body + hashlib.sha256(body).digest()


def read_header(data) -> dict:
    """The header's fields, once the file's checksum and format are checked."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes; got {describe_value(data)}")
    data = bytes(data)
    if len(data) < _HEADER.size + _DIGEST or data[: len(MAGIC)] != MAGIC:
        raise CompressedFileError(
            f"not a bits-back file: it must start with {MAGIC!r} and hold at least "
            f"{_HEADER.size + _DIGEST} bytes; got {len(data)} bytes starting {data[:8]!r}"
        )
    body, digest = data[:-_DIGEST], data[-_DIGEST:]
    if hashlib.sha256(body).digest() != digest:
        raise CompressedFileError(
            "the file's checksum does not match its contents: it was cut short or damaged"
        )
    fields = _HEADER.unpack(body[: _HEADER.size])
    names = ("magic", "format", "model", "n_images", "pixels", "latent_bits")
    names += ("posterior_precision", "pixel_precision", "initial_words", "seed", "peak")
    names += ("images",)
    header = dict(zip(names, fields))
    if header["format"] != FORMAT_VERSION:
        raise CompressedFileError(
            f"format version {header['format']} is not the one this library reads "
            f"({FORMAT_VERSION})"
        )
    if (len(body) - _HEADER.size) % 4:
        raise CompressedFileError("the message is not a whole number of 32-bit words")
    header["model"] = header["model"].hex()
    header["words"] = np.frombuffer(body[_HEADER.size :], dtype="<u4")
    return header


def decompress(model, data, n_images: int | None = None) -> np.ndarray:
    """The images a file from :func:`compress` holds, (N, D) uint8, decoded with ``model``.

    Parameters
    ----------
    model : the model the file was made with (checked by its SHA-256)
    data : bytes
    n_images : int, optional
        The count the caller expects; a file that holds another is refused.
    """
    header = read_header(data)
    if n_images is not None and check_positive_int(n_images, "n_images") != header["n_images"]:
        raise CompressedFileError(
            f"the file holds {header['n_images']} images, not the {n_images} expected"
        )
    if header["n_images"] > 32 * len(header["words"]):
        raise CompressedFileError(
            f"the file claims {header['n_images']} images in a message of "
            f"{32 * len(header['words'])} bits: fewer than one bit per image"
        )
    if header["model"] != model_sha256(model):
        raise CompressedFileError(
            f"the file was made with another model (SHA-256 {header['model'][:12]}…; this "
            f"model's is {model_sha256(model)[:12]}…): only the same model decodes it"
        )
    settings = {k: header[k] for k in ("latent_bits", "posterior_precision", "pixel_precision")}
    try:
        coder = BitsBackCoder(model, **settings)
    except ValueError as error:
        raise CompressedFileError(f"the file's settings {settings} are invalid: {error}") from error
    if header["pixels"] != coder.input_dim:
        raise CompressedFileError(
            f"the file's images have {header['pixels']} pixels; the model's have {coder.input_dim}"
        )
    if header["initial_words"] != initial_words(coder):
        raise CompressedFileError(
            f"the file declares {header['initial_words']} initial words; its settings need "
            f"{initial_words(coder)}"
        )
    try:
        message = Message.from_words(header["words"])
        images = coder.decode(header["n_images"], message, max_bits=header["peak"])
    except (ValueError, FloatingPointError) as error:  # MessageExhausted is a ValueError
        raise CompressedFileError(f"the message does not decode: {error}") from error
    start = random_message(header["initial_words"], np.random.default_rng(header["seed"]))
    if message != start or images_sha256(images) != header["images"]:
        raise CompressedFileError(
            "decoding did not end where encoding began, or the images fail their checksum: "
            "the file was written by different arithmetic (another model or machine)"
        )
    return images
