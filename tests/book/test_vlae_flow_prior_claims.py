"""What the page "An autoregressive-flow prior" says about its numbers.

The glued values are read from the executed page. The equivalence of an AF-prior VAE and an
IAF-posterior VAE rests on the flow's log-determinant (checked against finite differences)
and on f^-1(f(z)) = z (checked to rounding); the comparison of the trained models
is checked as the orderings and standard errors the prose states.
"""

import math

import pytest
from executed import glued

MODELS = ("vae", "af", "iaf")


@pytest.fixture(scope="module")
def g():
    return glued("vlae/flow_prior")


def test_settings_the_prose_states(g):
    assert g["flow-epochs"] == 40 and g["flow-latent"] == 32
    assert g["flow-iw-k"] == 1000 and g["flow-iw-n"] == 500 and g["flow-test-n"] == 1000
    # "exactly the same parameters"; the plain VAE has no flow
    assert g["flow-params-af"] == g["flow-params-iaf"] > g["flow-params-vae"]


def test_the_log_determinant_matches_finite_differences(g):
    # "the two log-determinants agree to ... nats, the error of the finite differences"
    assert g["flow-jac-n"] == 5
    assert 0 <= g["flow-jac-error"] < 1e-6


def test_the_masked_weights_are_counted(g):
    # the parameter counts include the MADE's masked-out weights
    assert 0 < g["flow-masked-zero-n"] < g["flow-params-af"] - g["flow-params-vae"]


def test_the_equivalence_holds_to_rounding(g):
    assert g["flow-eq-error"] < 1e-9
    assert g["flow-eq-kl-error"] < 1e-9
    assert g["flow-eq-k"] == 20 and g["flow-eq-n"] == 50
    assert -200 < g["flow-eq-mean-log-w"] < -50  # a log-weight of a binarized digit


def test_the_table_is_consistent(g):
    for m in MODELS:
        assert g[f"flow-elbo-{m}"] == pytest.approx(g[f"flow-recon-{m}"] - g[f"flow-kl-{m}"])
        assert g[f"flow-kl-bits-{m}"] == pytest.approx(g[f"flow-kl-{m}"] / math.log(2))
        assert g[f"flow-lk-{m}"] > g[f"flow-elbo-{m}"]  # L_K is at least the ELBO
        assert 0 < g[f"flow-gap-{m}"] < 15
        assert 0 < g[f"flow-elbo-se-{m}"] < 3 and 0 < g[f"flow-lk-se-{m}"] < 3
    assert g["flow-gain-elbo-vae"] == 0 and g["flow-gain-lk-vae"] == 0


def test_the_af_prior_gives_the_best_model(g):
    """On three seeds, paired: every gain the prose states is > 3 standard errors."""
    assert g["flow-n-seeds"] == 3
    for m in ("af", "iaf"):
        assert g[f"flow-gain-elbo-{m}"] > 3 * g[f"flow-gain-elbo-se-{m}"]
        assert g[f"flow-gain-lk-{m}"] > 2 * g[f"flow-gain-lk-se-{m}"]
    assert g["flow-gain-lk-af"] > 3 * g["flow-gain-lk-se-af"]
    # "the AF prior leads the IAF posterior by ... nats of ELBO and ... of L_1000"
    for term in ("elbo", "lk"):
        assert g[f"flow-af-minus-iaf-{term}"] > 3 * g[f"flow-af-minus-iaf-{term}-se"]
    # "less of the IAF posterior's gain shows in L_1000 than in the ELBO, which would make
    # part of it a tighter bound ...; the gaps below put that to the test": the means here
    # (the ELBO over all test images, L_1000 over the first 500), the paired test below
    assert g["flow-gain-lk-iaf"] < g["flow-gain-elbo-iaf"]


def test_the_af_prior_makes_the_code_cheapest(g):
    assert g["flow-kl-af"] < g["flow-kl-iaf"] < g["flow-kl-vae"]
    # "paired by seed, the AF prior's code is ... shorter than the IAF posterior's, and that
    # one ... shorter than the fixed prior's"
    for a, b in (("af", "iaf"), ("iaf", "vae")):
        shorter = g[f"flow-kl-shorter-{a}-{b}"]
        assert shorter == pytest.approx(g[f"flow-kl-{b}"] - g[f"flow-kl-{a}"], abs=1e-6)
        assert shorter > 3 * g[f"flow-kl-shorter-se-{a}-{b}"], (a, b)


def test_the_iaf_posterior_has_the_smallest_inference_gap(g):
    assert g["flow-gap-iaf"] < min(g["flow-gap-af"], g["flow-gap-vae"])
    assert g["flow-gap-af"] < g["flow-gap-vae"]
    # paired differences of the gaps are the differences of the mean gaps
    for a, b in (("iaf", "vae"), ("af", "vae"), ("iaf", "af")):
        assert g[f"flow-gap-diff-{a}-{b}"] == pytest.approx(
            g[f"flow-gap-{a}"] - g[f"flow-gap-{b}"], abs=1e-6
        )
        assert 0 < g[f"flow-gap-diff-se-{a}-{b}"] < 0.5
    # "the AF prior made the encoder more exact, by more than three standard errors; the IAF
    # posterior's gap <what three seeds say of it>; and whether the IAF posterior did more
    # than the AF prior, three seeds cannot tell"
    assert g["flow-gap-diff-af-vae"] < -3 * g["flow-gap-diff-se-af-vae"]
    diff, se = g["flow-gap-diff-iaf-vae"], g["flow-gap-diff-se-iaf-vae"]
    verdict = g["flow-gap-verdict-iaf"]
    if diff < -3 * se:
        assert verdict == "is smaller too, by more than three standard errors"
    elif diff < 0:
        assert verdict.startswith("is smaller too, but by less than three")
    else:
        assert verdict == "is not smaller"
    assert abs(g["flow-gap-diff-iaf-af"]) < 3 * g["flow-gap-diff-se-iaf-af"]


def test_the_vlae_with_the_af_prior(g):
    lossy = glued("vlae/lossy_code")
    # the page loads the lossy-code page's models: the same numbers
    assert g["flow-vlae-elbo-vlae"] == pytest.approx(lossy["lossy-elbo-w2"])
    assert g["flow-vlae-elbo-vae"] == pytest.approx(lossy["lossy-elbo-w0"])
    # "only the gain in L_200 is more than three standard errors from zero"
    assert g["flow-vlae-af-minus-normal-lk"] > 3 * g["flow-vlae-af-minus-normal-lk-se"]
    for term in ("elbo", "kl"):
        diff, se = g[f"flow-vlae-af-minus-normal-{term}"], g[f"flow-vlae-af-minus-normal-{term}-se"]
        assert abs(diff) < 3 * se, term
    # "the windowed decoder is where most of the gain comes from"
    for key in ("vlae", "vlae-af"):
        assert g[f"flow-vlae-gain-elbo-{key}"] > 10 * g["flow-vlae-gain-elbo-iaf"]
        assert g[f"flow-vlae-gain-elbo-{key}"] > 3 * g[f"flow-vlae-gain-elbo-se-{key}"]
    assert g["flow-vlae-gain-elbo-iaf"] > 3 * g["flow-vlae-gain-elbo-se-iaf"]


def test_the_af_prior_matches_the_spread_of_the_codes(g):
    # a rough indicator: the codes are wider than the fixed prior, not than the AF prior
    assert g["flow-spread-vae"] > 1.05 and g["flow-spread-iaf"] > 1.05
    assert abs(g["flow-spread-af"] - 1) < min(g["flow-spread-vae"], g["flow-spread-iaf"]) - 1
