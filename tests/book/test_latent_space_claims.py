"""What the chapter "The latent space of handwritten digits" says about its numbers.

Most tests read the values the chapter glued (from the last book build's execution cache),
so they check exactly the numbers a reader sees. The exercise on a 50-D latent is checked by
training that model as the exercise's solution does (once: load_or_train caches it).
"""

import math
from statistics import NormalDist

import numpy as np
import pytest
from executed import glued

SIZES = ("2d", "5d", "10d", "20d")
ROWS = ("2d-deep", *SIZES)


@pytest.fixture(scope="module")
def g():
    return glued("latent_space")


def test_the_2d_model_pays_little_kl(g):
    # "of which only ... nats are KL": a small part of the ELBO
    assert 0 < g["latent-2d-train-kl"] < 0.1 * abs(g["latent-2d-train-elbo"])
    assert g["latent-2d-test-elbo"] == g["latent-elbo-2d-deep"]
    # the deeper 2-D model trained twice as long as the comparison's models
    assert g["latent-epochs-2d-deep"] == 2 * g["latent-epochs-sizes"]


def test_scatter_claims(g):
    # most of the 5 nearest codes show the same digit far more often than by chance
    assert g["latent-2d-neighbour-acc"] >= 50
    # the codes cover the prior "and a bit more": fewer means inside radius 2 than prior mass
    assert g["latent-prior-inside-2"] == pytest.approx(100 * (1 - math.exp(-2)))
    assert 50 < g["latent-2d-inside-2"] < g["latent-prior-inside-2"]
    # "each image's own Gaussian is narrow" against the prior's standard deviation of 1
    assert g["latent-2d-sigma-median"] < 0.25


def test_the_quantile_grid_covers_the_central_95_percent(g):
    assert g["latent-grid-max"] == pytest.approx(NormalDist().inv_cdf(0.975), abs=1e-9)


def test_more_coordinates_give_a_better_model_with_shrinking_returns(g):
    lk = [g[f"latent-L1000-{s}"] for s in SIZES]
    assert all(a < b for a, b in zip(lk, lk[1:]))
    steps = np.diff(lk)
    assert all(a > b for a, b in zip(steps, steps[1:]))  # "each step buys less"
    elbo = [g[f"latent-elbo-{s}"] for s in SIZES]
    assert all(a < b for a, b in zip(elbo, elbo[1:]))


def test_latent_size_matters_more_than_depth(g):
    assert g["latent-L1000-2d"] < g["latent-L1000-2d-deep"] < g["latent-L1000-5d"]


def test_the_kl_grows_with_the_code_and_is_more_than_repaid(g):
    kl = [g[f"latent-kl-{s}"] for s in SIZES]
    recon = [g[f"latent-recon-{s}"] for s in SIZES]
    assert all(a < b for a, b in zip(kl, kl[1:]))
    assert all(a < b for a, b in zip(recon, recon[1:]))
    assert recon[-1] - recon[0] > kl[-1] - kl[0]


def test_the_importance_weighted_bound_rises_with_k_and_is_at_least_the_elbo(g):
    assert g["latent-iw-k"] == 1000 and g["latent-iw-n"] == 1000  # the whole test split
    for row in ROWS:
        bounds = [g[f"latent-L{k}-{row}"] for k in (1, 10, 100, 1000)]
        assert all(a < b for a, b in zip(bounds, bounds[1:])), row
        assert bounds[-1] < 0
        assert g[f"latent-gap-{row}"] == pytest.approx(bounds[-1] - bounds[0])
        assert 0 < g[f"latent-gap-{row}"] < 10  # "a few nats"
    # "largest for the 20-D model"
    assert g["latent-gap-20d"] == max(g[f"latent-gap-{row}"] for row in ROWS)


def test_every_unit_is_active_but_not_equally_used(g):
    for row in ROWS:
        assert g[f"latent-active-{row}"] == g[f"latent-latent-{row}"]
    assert g["latent-min-variance"] > 10 * 0.01  # "far above the threshold"
    assert g["latent-kl-dim-max-20d"] > 2 * g["latent-kl-dim-min-20d"]  # "unevenly"


def test_pca_loses_the_neighbourhoods_that_tsne_keeps(g):
    assert g["latent-pca-explained-20d"] < 50  # "keep only ..."
    assert g["latent-knn-pca-20d"] < g["latent-knn-code-20d"] - 30
    assert g["latent-knn-tsne-20d"] > g["latent-knn-code-20d"] - 10  # "keeps most of them"
    assert g["latent-knn-tsne-20d"] > g["latent-knn-pca-20d"] + 30


def test_exercise_1_numbers():
    phi = NormalDist().cdf
    mass = (phi(1) - phi(-1)) ** 2
    assert 0.45 < mass < 0.5  # "almost half"
    even = np.linspace(-3, 3, 20)
    assert np.sum(np.abs(even) <= 1) == 6  # "6 of its 20 values on each axis"
    assert (6 / 20) ** 2 == pytest.approx(0.09)  # "about a tenth"


def test_exercise_2_a_50d_latent_adds_no_information(g):
    import vae_lib

    data = vae_lib.mnist_subset()
    rng = np.random.default_rng(5)  # the chapter's SEED; its first draw binarizes the test set
    x_test = vae_lib.binarize_dynamic(data.x_test, rng)
    config = vae_lib.VAEConfig(input_dim=784, hidden_dims=(256,), latent_dim=50)
    model, _ = vae_lib.load_or_train(
        config,
        data.x_train,
        epochs=int(g["latent-epochs-sizes"]),  # EPOCHS, as the exercise says
        seed=5,
        name="latent-50d",
        batch_size=100,
        lr=2e-3,
        transform=vae_lib.binarize_dynamic,
    )
    terms = model.elbo(x_test, np.random.default_rng(0), n_samples=10)
    # "the total KL stays close to the 20-D model's and the ELBO does not improve"
    assert float(np.mean(terms.kl)) == pytest.approx(g["latent-kl-20d"], rel=0.15)
    assert float(np.mean(terms.elbo)) < g["latent-elbo-20d"] + 1.0
    mu, logvar = (a.astype(np.float64) for a in model.encode(x_test))
    kl = np.mean(mu**2 + np.exp(logvar) - 1 - logvar, axis=0) / 2
    # "about a dozen carry more than a nat each ... down to a few hundredths of a nat"
    assert 8 <= np.sum(kl > 1.0) <= 16
    assert kl.min() < 0.1


def test_steps_are_precise_when_paired(g):
    # "known more precisely", "far less than any of the steps"
    lk = [g[f"latent-L1000-{s}"] for s in SIZES]
    assert min(b - a for a, b in zip(lk, lk[1:])) > 4 * g["latent-step-se-max"]
    assert g["latent-step-se-max"] < min(g[f"latent-L1000-se-{s}"] for s in SIZES)


def test_every_model_fits_its_training_set_better_than_the_test_set(g):
    gaps = [g[f"latent-train-test-{s}"] for s in ROWS]
    assert g["latent-train-test-min"] == min(gaps) and g["latent-train-test-max"] == max(gaps)
    for s in ROWS:  # each gap well beyond the uncertainty of the test ELBO
        assert g[f"latent-train-test-{s}"] > 2 * g[f"latent-elbo-se-{s}"]


def test_numbers_are_far_from_the_literature(g):
    assert all(g[f"latent-L1000-{s}"] < -90 for s in ROWS)


def test_the_prior_has_holes_where_the_codes_are_not(g):
    # "a prior sample falls into a hole ...% of the time": a real but minor share
    assert 3 < g["latent-hole-mass"] < 40
    assert g["latent-hole-mass-se"] < 0.1 * g["latent-hole-mass"]


def test_elbo_surgery(g):
    log_n = g["latent-split-log-n"]
    assert log_n == pytest.approx(math.log(1000))
    for s in ROWS:
        kl, info = g[f"latent-split-average_kl-{s}"], g[f"latent-split-mutual_information-{s}"]
        assert kl == pytest.approx(g[f"latent-kl-{s}"], rel=1e-6)  # the table's KL column
        assert kl == pytest.approx(info + g[f"latent-split-marginal_kl-{s}"])
        assert 0 < info < log_n + 3 * g[f"latent-split-mutual_information_se-{s}"]
    # the 2-D models spend most of their KL on information
    for s in ("2d", "2d-deep"):
        assert g[f"latent-split-mutual_information-{s}"] > 0.5 * g[f"latent-split-average_kl-{s}"]
    # the 20-D model reaches the ceiling; most of its KL is marginal
    assert g["latent-split-mutual_information-20d"] > log_n - 0.1
    assert g["latent-split-marginal_kl-20d"] > 2 * g["latent-split-mutual_information-20d"]
