"""What the page "VAE variants, side by side" says about its table."""

import functools
import math

import pytest
from executed import glued, over_seeds

ROWS = range(6)  # VAE, β-VAE, conditional VAE, IWAE, hierarchical VAE, VQ-VAE
VAE, BETA, CVAE, IWAE, HVAE, VQVAE = ROWS


@pytest.fixture(scope="module")
def g():
    return glued("variants/overview")


def value(g, row, key):
    return g[f"overview-{row}-{key}"]


def test_every_elbo_is_rate_plus_distortion(g):
    for row in ROWS:
        assert value(g, row, "elbo") == pytest.approx(
            -(value(g, row, "rate") + value(g, row, "distortion")), abs=1e-6
        )


def test_importance_bounds_do_not_fall_with_k_and_are_at_least_the_elbo(g):
    for row in ROWS:
        l1, l10, lk = (value(g, row, k) for k in ("L1", "L10", "lk"))
        if row == VQVAE:  # a point-mass q: every L_K is the ELBO
            # equal up to float32 rounding: the bounds and the ELBO take different paths
            # through the decoder, whose products round differently on different CPUs
            same = functools.partial(pytest.approx, rel=1e-7)
            assert l1 == same(lk) and l10 == same(lk)
            assert lk == same(value(g, row, "elbo"))
        else:
            assert l1 < l10 < lk
            assert lk > value(g, row, "elbo")


def test_beta_trades_rate_for_distortion_and_loses_elbo(g):
    assert value(g, BETA, "rate") < value(g, VAE, "rate")
    assert value(g, BETA, "distortion") > value(g, VAE, "distortion")
    assert value(g, BETA, "elbo") < value(g, VAE, "elbo")


def test_iwae_has_the_better_likelihood_and_the_looser_elbo(g):
    assert value(g, IWAE, "lk") > value(g, VAE, "lk")
    assert value(g, IWAE, "elbo") < value(g, VAE, "elbo")


def test_hierarchical_vae_is_behind_with_this_budget(g):
    assert value(g, HVAE, "elbo") < value(g, VAE, "elbo")


def test_vq_vae_rate_is_its_codebook_and_its_elbo_is_low(g):
    assert value(g, VQVAE, "rate") == pytest.approx(8 * math.log(128))
    assert abs(value(g, VQVAE, "distortion") - value(g, VAE, "distortion")) < 5  # "close"
    assert value(g, VQVAE, "elbo") < value(g, VAE, "elbo") - 10


def paired(g, tag, key):
    return g[f"overview-{tag}-minus-vae-{key}"], g[f"overview-{tag}-minus-vae-{key}-se"]


def test_paired_differences_are_the_differences_of_the_means(g):
    for tag, row in (("beta", BETA), ("iwae", IWAE), ("hvae", HVAE)):
        for key in ("elbo", "lk"):
            diff, se = paired(g, tag, key)
            assert diff == pytest.approx(value(g, row, key) - value(g, VAE, key), abs=1e-6)
            # images differ more than models: the paired error is below either mean's error
            assert 0 < se < max(value(g, row, f"{key}_se"), value(g, VAE, f"{key}_se"))


def test_the_bullets_differences_are_clear_of_their_paired_errors(g):
    # β-VAE "loses ELBO"
    diff, se = paired(g, "beta", "elbo")
    assert diff < -3 * se
    # IWAE: higher L_200, lower ELBO, each by several paired standard errors
    diff, se = paired(g, "iwae", "lk")
    assert diff > 3 * se
    diff, se = paired(g, "iwae", "elbo")
    assert diff < -3 * se
    # hierarchical VAE "behind the plain VAE" on both
    for key in ("elbo", "lk"):
        diff, se = paired(g, "hvae", key)
        assert diff < -3 * se


def test_the_stated_differences_hold_over_three_seeds(g):
    assert [g[f"overview-seed-{i}"] for i in (1, 2, 3)] == [23, 24, 25]
    # "every difference the notes state holds at more than three of its standard errors"
    for tag, key, sign in (
        ("beta", "elbo", -1),  # the β-VAE loses ELBO
        ("iwae", "lk", +1),  # the IWAE: a higher L_200 ...
        ("iwae", "elbo", -1),  # ... and a lower ELBO
        ("hvae", "elbo", -1),  # the hierarchical VAE is behind on both
        ("hvae", "lk", -1),
    ):
        mean, se, _ = over_seeds(g, f"overview-seeds-{tag}-{key}", (23, 24, 25))
        assert sign * mean > 3 * se
        # the first seed's value is the table's paired difference
        assert g[f"overview-seeds-{tag}-{key}-23"] == pytest.approx(
            g[f"overview-{tag}-minus-vae-{key}"], abs=1e-9
        )
