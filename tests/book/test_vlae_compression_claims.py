"""What the chapter "Compressing digits with bits-back coding" says about its numbers, read
from the values the executed chapter glued."""

import pytest
from executed import glued

MODELS = ("w0", "w2")


@pytest.fixture(scope="module")
def g():
    return glued("vlae/compression")


def test_every_digit_decodes_back_and_every_bad_file_is_refused(g):
    assert g["cmp-n"] == 1000
    assert g["cmp-all-exact"] == "True"
    assert g["cmp-n-refused"] == 4  # another model, cut, flipped bit, wrong count
    # "rounding is enough to break a code": the two computations of the logits differ, and
    # so do some of the integer frequencies made from them
    assert 0 < g["cmp-logits-differ"] <= g["cmp-logits-total"] == 20 * 784
    assert 0 < g["cmp-frequencies-differ"] <= g["cmp-logits-differ"]
    assert g["cmp-largest-ulps"] >= 1


def test_coarse_buckets_cost_bits_and_fine_ones_cost_nothing_measurable(g):
    for key in MODELS:
        cost, se = g[f"cmp-disc-cost-{key}-b2"], g[f"cmp-disc-cost-se-{key}-b2"]
        assert cost > 3 * se and cost > 1  # "too coarse"
        for bits in (8, 12):  # "below what 10 draws per image can resolve"
            cost, se = g[f"cmp-disc-cost-{key}-b{bits}"], g[f"cmp-disc-cost-se-{key}-b{bits}"]
            assert abs(cost) < 3 * se and se < 0.1
    # "a cost of ... for the factorized decoder and ... for the windowed one, whose code
    # carries less"
    assert g["cmp-disc-cost-w0-b2"] > g["cmp-disc-cost-w2-b2"]


def test_the_coder_costs_what_the_elbo_says(g):
    for key in MODELS:
        gap, se = g[f"cmp-gap-{key}"], g[f"cmp-gap-se-{key}"]
        assert abs(gap) < 3 * se + 0.05  # the draw of the codes, not a loss of the method
        assert abs(g[f"cmp-gap-percent-{key}"]) < 1.0  # within 1% of -ELBO / ln 2
        assert g[f"cmp-cost-{key}"] == pytest.approx(g[f"cmp-neg-elbo-{key}"] + gap, abs=1e-9)


def test_the_better_elbo_compresses_better_by_its_margin(g):
    assert g["cmp-saving"] > 3 * g["cmp-saving-se"] and g["cmp-saving"] > 10
    assert g["cmp-elbo-margin"] > 3 * g["cmp-elbo-margin-se"]
    assert abs(g["cmp-saving-vs-margin"]) < 3 * g["cmp-saving-vs-margin-se"]
    assert g["cmp-saving"] - g["cmp-elbo-margin"] == pytest.approx(g["cmp-saving-vs-margin"])
    assert g["cmp-wavefront-steps"] == 3 * 27 + 27 + 1  # (w + 1) r + c at the last pixel
    # "the saving is in the code": the KL terms differ by most of it, the pixels' terms little
    assert g["cmp-code-saving"] > 0.8 * g["cmp-saving"]
    assert abs(g["cmp-pixel-difference"]) < 0.2 * g["cmp-saving"]
    # "the KL term is ... ± ... bits smaller, while its pixels cost about as much given its
    # code, a difference of ... ± ..."
    assert g["cmp-code-saving"] > 3 * g["cmp-code-saving-se"]
    assert abs(g["cmp-pixel-difference"]) < 3 * g["cmp-pixel-difference-se"]


def test_the_initial_bits_and_the_header_amortise(g):
    assert g["cmp-initial-bits"] == 32 * (32 * 24 // 32 + 3)  # a full draw, and the head
    assert g["cmp-overhead-bytes"] == 109 + 32  # the header, and the SHA-256 of the file
    a10, a100, a1000 = (g[f"cmp-amortised-w2-{n}"] for n in (10, 100, 1000))
    assert a10 > a100 > a1000 > g["cmp-cost-w2"]
    fixed = g["cmp-initial-bits"] + 8 * g["cmp-overhead-bytes"]
    assert a1000 == pytest.approx(g["cmp-cost-w2"] + fixed / 1000, abs=1e-6)
    # the file holds the message in whole 32-bit words
    assert a1000 <= g["cmp-file-bits-w2"] < a1000 + 32 / 1000


def test_bits_back_beats_the_general_purpose_compressors(g):
    assert g["cmp-best-general"] > g["cmp-file-bits-w0"] > g["cmp-file-bits-w2"]
    assert g["cmp-ratio-w2"] == pytest.approx(g["cmp-best-general"] / g["cmp-file-bits-w2"])
    assert g["cmp-ratio-w2"] > 1.2
    assert g["cmp-weights-mb-w2"] == pytest.approx(4 * g["cmp-weights-w2"] / 1e6)


def test_the_widget_traces_add_up(g):
    for key in MODELS:
        borrowed, pixels, net = (g[f"cmp-trace-{t}-{key}"] for t in ("borrowed", "pixels", "net"))
        # net = pixels + the prior's 32 x 12 bits - the bits borrowed
        assert net == pytest.approx(pixels + 32 * 12 - borrowed, abs=1)
        assert 0 < borrowed < 32 * 24
    # "the windowed code borrows more"
    assert g["cmp-trace-borrowed-w2"] > g["cmp-trace-borrowed-w0"]
