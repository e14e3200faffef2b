"""What the page "The VQ-VAE: discrete codes from a codebook" says about its numbers.

Each test reads the values the page glued (from the last book build's execution cache), so
it checks exactly the numbers a reader sees.
"""

import math

import pytest
from executed import glued, over_seeds

SETTINGS = ("random", "encoder", "restart", "ema")


@pytest.fixture(scope="module")
def g():
    return glued("variants/vqvae")


def test_the_settings_the_prose_names(g):
    # the prose writes L = 8, K = 128, d = 8, 256 hidden units, 30 epochs, beta_c = 0.25,
    # restarts every 200 steps (5 epochs of 40 batches), gamma = 0.99, epsilon = 1e-5,
    # "8 x 100 encoder outputs", "4,000 x 8 = 32,000 codes", "dead codes (of 128)"
    assert (g["vq-L"], g["vq-K"], g["vq-d"]) == (8, 128, 8)
    assert g["vq-hidden"] == 256 and g["vq-epochs"] == 30
    assert g["vq-beta"] == pytest.approx(0.25)
    assert g["vq-restart-every"] == 200 == 5 * 4000 / 100
    assert g["vq-ema-decay"] == pytest.approx(0.99)
    assert g["vq-ema-epsilon"] == pytest.approx(1e-5)
    assert g["vq-bits"] == pytest.approx(56.0)


def test_the_gradient_checks(g):
    # the backward pass is the surrogate's exact derivative, not the loss's
    assert g["vq-check-surrogate"] < 1e-6
    assert g["vq-check-loss"] > 0.1
    assert int(g["vq-check-params"].replace(",", "")) > 10_000


def test_ema_at_zero_decay_is_the_mean(g):
    assert g["vq-ema-gap"] < 1e-10


RUNS = ("", "-run2", "-run3")  # seeds 23, 24, 25


def _over_seeds(g, key):
    return over_seeds(g, f"vq-seeds-{key}", ("run1", "run2", "run3"))


def test_three_seeds(g):
    assert [g[f"vq-seed-{i}"] for i in (1, 2, 3)] == [23, 24, 25]


@pytest.mark.parametrize("run", RUNS)
def test_random_init_leaves_many_dead_codes_and_the_remedies_revive_them(g, run):
    dead = {s: g[f"vq-dead-{s}{run}"] for s in SETTINGS}
    ppl = {s: g[f"vq-ppl-{s}{run}"] for s in SETTINGS}
    assert all(0 <= d <= 128 and d == int(d) for d in dead.values())
    assert all(1 <= p <= 128 for p in ppl.values())
    # "each remedy leaves few entries dead", in every run
    assert dead["random"] >= 30
    for s in ("encoder", "restart", "ema"):
        assert dead[s] <= 10 < dead["random"]
        assert ppl[s] > ppl["random"]
    # "the encoder's outputs move away from it in the first steps"
    assert g["vq-commit-first-random"] > 10 * g["vq-commit-last-random"]


def test_over_seeds_each_remedy_has_fewer_dead_codes_and_a_higher_perplexity(g):
    for s in ("encoder", "restart", "ema"):
        for key in (f"dead-random-minus-{s}", f"ppl-{s}-minus-random"):
            mean, se, per_seed = _over_seeds(g, key)
            assert mean > 3 * se > 0
        for i, run in enumerate(RUNS, start=1):
            assert g[f"vq-seeds-dead-random-minus-{s}-run{i}"] == (
                g[f"vq-dead-random{run}"] - g[f"vq-dead-{s}{run}"]
            )


def test_how_firm_the_seed_comparisons_are(g):
    # "positive on all three seeds"
    assert all(g[f"vq-seeds-recon-encoder-minus-random-run{r}"] > 0 for r in (1, 2, 3))
    # "the EMA codebook's leads, each many standard errors from zero"
    for other in ("encoder", "restart", "random"):
        key = f"vq-seeds-recon-ema-minus-{other}"
        assert g[key] > 6 * g[f"{key}-se"]


def test_reconstructions(g):
    recon = {s: g[f"vq-recon-{s}"] for s in SETTINGS}
    assert all(-250 < r < 0 for r in recon.values())
    # "a standard error over the 1,000 test images of about ... nats"
    assert all(0 < g[f"vq-recon-se-{s}"] < 3 for s in SETTINGS)
    # "the three runs of a setting differ by up to ... nats"
    gaps = [
        max(g[f"vq-recon-{s}{r}"] for r in RUNS) - min(g[f"vq-recon-{s}{r}"] for r in RUNS)
        for s in SETTINGS
    ]
    assert g["vq-recon-run-gap"] == pytest.approx(max(gaps))
    assert g["vq-recon-run-gap"] > 3 * max(g[f"vq-recon-se-{s}"] for s in SETTINGS)
    # the first row of the paired table is the first runs' difference of means
    assert g["vq-seeds-recon-encoder-minus-random-run1"] == pytest.approx(
        recon["encoder"] - recon["random"], abs=1e-4
    )
    # stated directions, over three seeds: the encoder initialisation beats random init, the
    # EMA codebook beats every other setting
    for key in (
        "recon-encoder-minus-random",
        "recon-ema-minus-encoder",
        "recon-ema-minus-restart",
        "recon-ema-minus-random",
        "ppl-restart-minus-encoder",  # "restarts use more entries than the encoder init"
    ):
        mean, se, _ = _over_seeds(g, key)
        assert mean > 3 * se > 0
    # "restarts are ahead of random init by ..., less than three standard errors from zero:
    # the seeds disagree on how much"
    mean, se, per_seed = _over_seeds(g, "recon-restart-minus-random")
    assert 0 < mean < 3 * se
    assert max(per_seed) > 3 * min(per_seed) > 0
    # restarts "do not reconstruct better" than the encoder initialisation: "ahead by ...,
    # with a sign that changes between seeds"
    mean, se, per_seed = _over_seeds(g, "recon-encoder-minus-restart")
    assert abs(mean) < 3 * se
    assert min(per_seed) < 0 < max(per_seed)
    assert mean > 0


def test_the_bounds_with_a_uniform_and_a_fitted_prior(g):
    assert g["vq-uniform-cost"] == pytest.approx(8 * math.log(128))
    # the prose's model is the EMA one
    assert g["vq-test-recon"] == pytest.approx(g["vq-recon-ema"])
    assert g["vq-test-elbo-uniform"] == pytest.approx(g["vq-test-recon"] - g["vq-uniform-cost"])
    assert g["vq-test-elbo-prior"] == pytest.approx(g["vq-test-recon"] + g["vq-test-log-prior"])
    # the fitted prior does better than the uniform one
    assert -g["vq-uniform-cost"] < g["vq-test-log-prior"] < 0
    assert g["vq-test-elbo-uniform"] < g["vq-test-elbo-prior"] < g["vq-test-recon"]
    # each mean with its own standard error: the uniform prior's cost is the same for every
    # image, so that ELBO's is the reconstruction's; the log-prior's is far smaller
    assert g["vq-test-elbo-uniform-se"] == pytest.approx(g["vq-test-recon-se"])
    assert g["vq-test-elbo-prior-se"] == pytest.approx(g["vq-test-recon-se"], rel=0.2)
    assert 0 < g["vq-test-log-prior-se"] < 0.2 * g["vq-test-recon-se"]
    # most test strings were never seen in training
    assert 50 < g["vq-unseen-strings"] <= 100


def test_a_dead_ema_entry_waits_then_falls(g):
    # "its length halves at step ..., against ... from ln(N/ε)/(1 - γ)"
    assert g["vq-dead-predicted-step"] == pytest.approx(math.log(5 / 1e-5) / 0.01)
    assert abs(g["vq-dead-half-step"] - g["vq-dead-predicted-step"]) < 20
    # "goes from 90% to 10% of its length in ... steps, a few times 1/(1 - γ)"
    assert 100 < g["vq-dead-fall-steps"] < 1000


def test_the_autoregressive_prior_beats_the_independent_one(g):
    # "more log-probability than the independent one", at the spread between fits and
    # between test images
    assert (
        g["vq-ar-gain"] > 3 * g["vq-ar-gain-se"] and g["vq-ar-gain"] > 3 * g["vq-ar-gain-images-se"]
    )
    # "a string costs ... bits instead of ...": the same gain in bits
    assert g["vq-ind-bits"] - g["vq-ar-bits"] == pytest.approx(g["vq-ar-bits-saved"], abs=1e-6)
    assert g["vq-ar-bits-saved"] == pytest.approx(g["vq-ar-gain"] / math.log(2))
    # "the fits stopped after ... epochs": early, before the limit of 100
    assert 1 <= g["vq-ar-epochs-min"] <= g["vq-ar-epochs-max"] < 100
    # "each fit stopped five epochs later": the patience, not the cap of 100 epochs
    assert g["vq-ar-after-best-min"] == g["vq-ar-after-best-max"] == 5
    assert g["vq-ar-n-fit"] == 3600
    # the verdict the page states on the samples' purity follows from the numbers
    gap, se = g["vq-purity-gap"], g["vq-purity-gap-se"]
    verdict = g["vq-purity-verdict"]
    if gap > 3 * se:
        assert verdict.startswith("more than three standard errors: fewer")
    elif gap < -3 * se:
        assert verdict.startswith("more than three standard errors the other way")
    else:
        assert verdict.startswith("within three standard errors")
    assert g["vq-purity-ar"] - g["vq-purity-independent"] == pytest.approx(g["vq-purity-gap"])
