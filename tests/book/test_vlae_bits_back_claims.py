"""What the page "Bits-back coding: the ELBO as a code length" says about its numbers.

The numbers are exact sums over a model small enough to list, so most claims are identities
that must hold to rounding; the rest are orderings the prose states.
"""

import math

import pytest
from executed import glued

LOG_2 = math.log(2.0)


@pytest.fixture(scope="module")
def g():
    return glued("vlae/bits_back")


def test_the_patches_and_the_mixture(g):
    assert g["bb-n-patches"] == 81 * 4000
    assert 0 < g["bb-n-seen"] <= 512
    assert 0 < g["bb-next-share"] < g["bb-blank-share"] < 100  # blank is the commonest
    # the mixture's code length is above the entropy: no code beats the entropy
    assert 0 < g["bb-entropy-bits"] < g["bb-mixture-bits"] < 9


def test_the_account_of_one_patch_balances(g):
    one = {k[len("bb-one-") :]: v for k, v in g.items() if k.startswith("bb-one-")}
    assert one["paid"] == pytest.approx(one["prior_cost"] + one["data_cost"], abs=1e-9)
    assert one["net"] == pytest.approx(one["paid"] - one["refund"], abs=1e-9)
    assert one["net"] == pytest.approx(one["neg_elbo"], abs=1e-9)
    assert one["net"] - one["ideal"] == pytest.approx(one["excess"], abs=1e-9)
    assert one["excess"] > 0 and one["kl_prior"] > 0 and one["refund"] > 0
    assert one["kl_prior"] == pytest.approx(one["prior_cost"] - one["refund"], abs=1e-9)
    assert g["bb-t-shown"] == 0.5


def test_the_identities_hold_to_rounding(g):
    # "to the rounding of double precision"
    assert g["bb-err-elbo"] < 1e-12
    assert g["bb-err-gap"] < 1e-12
    assert g["bb-err-exact"] < 1e-12
    assert g["bb-min-excess"] > -1e-12  # KL(q ‖ p(z|x)) ≥ 0


def test_the_prior_as_encoder_makes_the_code_free_and_the_image_expensive(g):
    assert abs(g["bb-prior-kl"]) < 1e-12
    assert g["bb-prior-net-bits"] > g["bb-ideal-bits"] + 1


def test_the_average_cost_falls_to_the_mixtures_code_length(g):
    assert g["bb-avg-net-0"] > g["bb-avg-net-1"]
    assert g["bb-avg-net-1"] == pytest.approx(g["bb-mixture-bits"], abs=1e-9)
    assert 0 < g["bb-avg-kl-1"] < g["bb-avg-net-1"]
    assert g["bb-avg-kl-1"] == pytest.approx(g["bb-avg-prior-1"] - g["bb-avg-refund-1"])
    assert g["bb-avg-refund-1"] > 0
    # without the refund the sender pays the net cost plus the refund: "the full price"
    assert g["bb-avg-paid-1"] == pytest.approx(g["bb-avg-net-1"] + g["bb-avg-refund-1"])


def test_information_preference_table(g):
    p = {k[len("bb-pref-") :]: v for k, v in g.items() if k.startswith("bb-pref-")}
    # the factorized decoder needs its code; the imperfect encoder keeps most of the gain
    assert p["factorized-exact"] < p["factorized-approx"] < p["factorized-none"]
    gain = p["factorized-none"] - p["factorized-exact"]
    assert p["factorized-none"] - p["factorized-approx"] > 0.5 * gain
    assert p["factorized-exact"] == pytest.approx(g["bb-mixture-bits"], abs=1e-9)
    # the full decoder reaches the entropy without a code, ties with the exact posterior,
    # loses with the imperfect encoder
    assert p["full-none"] == pytest.approx(g["bb-entropy-bits"], abs=1e-12)
    assert p["full-exact"] == pytest.approx(p["full-none"], abs=1e-9)
    assert p["full-approx"] > p["full-none"] + 0.01
    assert p["full-none"] < p["factorized-exact"]
    assert p["t"] == 0.5 and p["info-full"] > 0.5


def test_the_cheapest_point_of_the_family_carries_no_information(g):
    assert g["bb-family-min-excess"] > 0  # every s > 0 costs more with an imperfect encoder
    assert g["bb-family-exact-spread"] < 1e-9  # the exact posterior ties
    assert g["bb-family-info-max"] == pytest.approx(g["bb-pref-info-full"], abs=1e-9)
    # "the curves for t = 0.5 and 0.75 fall again at the right end", staying above the entropy
    assert g["bb-family-s-before-last"] == pytest.approx(0.9)
    for t in ("0.5", "0.75"):
        assert 0 < g[f"bb-family-excess-{t}-s1"] < g[f"bb-family-excess-{t}-s09"]


def test_the_blank_patch_is_the_quickest_to_fix(g):
    assert g["bb-blank-net-0.0"] > g["bb-blank-net-0.2"] > g["bb-blank-ideal"] > 0
    # most of the way at t = 0.2
    start, end = g["bb-blank-net-0.0"], g["bb-blank-ideal"]
    assert g["bb-blank-net-0.2"] - end < 0.25 * (start - end)


def test_the_working_coder_reaches_the_account_and_decodes_exactly(g):
    assert g["bb-coder-n"] == 10_000 and g["bb-coder-initial"] == 96
    assert g["bb-coder-exact-exact"] == 1 and g["bb-coder-exact-half"] == 1
    # with the exact posterior every draw costs -log2 p(x): equal to the integer's last bit
    assert abs(g["bb-coder-bits-exact"] - g["bb-coder-expected-exact"]) < 1e-3
    # with q_t the draws of z make it random: within a few hundredths of a bit per patch
    assert abs(g["bb-coder-bits-half"] - g["bb-coder-expected-half"]) < 0.05
    # the prose: the coder's difference from the account, in standard errors of its draws
    gap = g["bb-coder-bits-half"] - g["bb-coder-expected-half"]
    assert abs(g["bb-coder-gap-half"] - gap) < 1e-3
    assert 0 < g["bb-coder-se-half"] < 0.05 and g["bb-coder-se-exact"] < 1e-9
    assert g["bb-coder-gap-in-se-half"] == pytest.approx(
        abs(g["bb-coder-gap-half"]) / g["bb-coder-se-half"]
    )
    assert g["bb-coder-gap-in-se-half"] < 3
    # the refund matters
    assert g["bb-coder-paid-half"] > g["bb-coder-bits-half"] + 0.3
    assert g["bb-coder-expected-half"] > g["bb-coder-expected-exact"]
