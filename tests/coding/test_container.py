import hashlib
import struct

import numpy as np
import pytest

from vae_lib.coding.bits_back import BitsBackCoder
from vae_lib.coding.container import (
    MAGIC,
    CompressedFileError,
    compress,
    decompress,
    model_sha256,
    read_header,
)
from vae_lib.models.vae import VAE


@pytest.fixture(scope="module")
def packed(vae, images):
    return compress(BitsBackCoder(vae), images[:40], seed=3)


def resealed(body: bytes) -> bytes:
    """A file with a doctored body and a checksum that matches it."""
    return body + hashlib.sha256(body).digest()


def test_round_trip_is_bit_exact_and_the_header_says_what_it_holds(vae, vlae, images):
    for model in (vae, vlae):
        data = compress(BitsBackCoder(model, latent_bits=8, posterior_precision=20), images, seed=1)
        np.testing.assert_array_equal(decompress(model, data, n_images=len(images)), images)
        header = read_header(data)
        assert header["n_images"] == len(images) and header["pixels"] == 16
        assert header["model"] == model_sha256(model) and header["latent_bits"] == 8


def test_another_model_is_refused_before_decoding(vae, packed):
    other = VAE(vae.config, np.random.default_rng(99))
    with pytest.raises(CompressedFileError, match="made with another model"):
        decompress(other, packed)


@pytest.mark.parametrize("cut", [1, 4, 100, -1])
def test_a_cut_file_is_refused(vae, packed, cut):
    data = packed[:cut] if cut > 0 else packed[:-1]
    with pytest.raises(CompressedFileError, match="cut short or damaged|not a bits-back file"):
        decompress(vae, data)


def test_a_damaged_byte_anywhere_is_refused(vae, packed):
    for position in range(8, len(packed), 37):
        data = bytearray(packed)
        data[position] ^= 0x10
        with pytest.raises(CompressedFileError):
            decompress(vae, bytes(data))


def test_a_wrong_count_is_refused(vae, packed):
    with pytest.raises(CompressedFileError, match="holds 40 images, not the 41 expected"):
        decompress(vae, packed, n_images=41)


def test_a_doctored_count_decodes_to_an_error_not_to_other_images(vae, packed):
    """With the checksum made to match, a header asking for more or fewer images than the
    message holds fails a check; it never returns images, nor runs on."""
    body = packed[:-32]
    offset = len(MAGIC) + 2 + 32
    for n in (39, 41, 400, 2**40):
        doctored = body[:offset] + struct.pack("<Q", n) + body[offset + 8 :]
        with pytest.raises(CompressedFileError):
            decompress(vae, resealed(doctored))


def test_bad_arguments_are_refused(vae, images, packed):
    coder = BitsBackCoder(vae)
    with pytest.raises(TypeError, match="data must be bytes"):
        decompress(vae, "not bytes")
    with pytest.raises(CompressedFileError, match="not a bits-back file"):
        decompress(vae, b"PK\x03\x04" + packed[4:])
    with pytest.raises(ValueError, match="at least one image"):
        compress(coder, images[:0])
    with pytest.raises(ValueError, match="seed must be an integer"):
        compress(coder, images, seed=-1)
    with pytest.raises(ValueError, match="n_images must be"):
        decompress(vae, packed, n_images=0)


def test_the_lengths_it_reports_are_the_message_inside_the_file(vae, images):
    lengths = []
    data = compress(BitsBackCoder(vae), images[:30], seed=4, lengths=lengths)
    assert len(lengths) == 31 and lengths[0] == 32 * read_header(data)["initial_words"]
    assert lengths[-1] <= 32 * len(read_header(data)["words"]) < lengths[-1] + 32


def doctored(packed: bytes, field: str, value) -> bytes:
    """The file with one header field changed and its checksum made to match."""
    body = bytearray(packed[:-32])
    fields = _HEADER_LAYOUT
    offset = sum(
        struct.calcsize("<" + f) for name, f in fields[: [n for n, _ in fields].index(field)]
    )
    fmt = "<" + dict(fields)[field]
    body[offset : offset + struct.calcsize(fmt)] = struct.pack(fmt, value)
    return resealed(bytes(body))


_HEADER_LAYOUT = [
    ("magic", "8s"),
    ("format", "H"),
    ("model", "32s"),
    ("n_images", "Q"),
    ("pixels", "I"),
    ("latent_bits", "B"),
    ("posterior_precision", "B"),
    ("pixel_precision", "B"),
    ("initial_words", "I"),
    ("seed", "Q"),
    ("peak", "Q"),
]


@pytest.mark.parametrize(
    "field, value, error",
    [
        ("initial_words", 2, "initial words"),
        ("initial_words", 2**32 - 1, "initial words"),
        ("latent_bits", 0, "settings"),
        ("posterior_precision", 40, "settings"),
        ("pixel_precision", 0, "settings"),
        ("pixels", 15, "pixels"),
        ("format", 2, "format version"),
        ("peak", 100, "grew to"),
        ("seed", 4, "did not end where encoding began"),
    ],
)
def test_every_doctored_header_field_is_refused_with_a_clear_error(
    vae, packed, field, value, error
):
    with pytest.raises(CompressedFileError, match=error):
        decompress(vae, doctored(packed, field, value))
