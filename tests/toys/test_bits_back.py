import itertools

import numpy as np
import pytest

from vae_lib.toys.bits_back import (
    BitsBackAccount,
    DiscreteLatentModel,
    all_binary_images,
    bits_back_account,
    empirical_distribution,
    factorized_mixture,
    fit_factorized_mixture,
    image_index,
    mutual_information,
    same_marginal_family,
    split_by_posterior,
    tempered_encoder,
)


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    return factorized_mixture(rng.dirichlet(np.ones(3)), rng.uniform(0.05, 0.95, size=(3, 4)))


def brute_force(model_prior, theta):
    """p(x, z) for every image and code, by looping over pixels."""
    images = list(itertools.product((0, 1), repeat=theta.shape[1]))
    joint = np.empty((len(images), len(model_prior)))
    for i, x in enumerate(images):
        for z, pz in enumerate(model_prior):
            joint[i, z] = pz * np.prod([t if b else 1 - t for b, t in zip(x, theta[z])])
    return joint


# ----------------------------------------------------------------------------- images
def test_images_and_their_indices_round_trip():
    images = all_binary_images(5)
    assert images.shape == (32, 5)
    np.testing.assert_array_equal(image_index(images), np.arange(32))
    np.testing.assert_array_equal(images[6], [0, 0, 1, 1, 0])  # pixel 0 is the top bit
    x = np.array([[1, 0, 1], [1, 0, 1], [0, 0, 0], [1, 1, 1]])
    np.testing.assert_allclose(empirical_distribution(x), [0.25, 0, 0, 0, 0, 0.5, 0, 0.25])


def test_image_helpers_refuse_bad_input():
    with pytest.raises(ValueError, match="n_pixels must be at most 16"):
        all_binary_images(17)
    with pytest.raises(ValueError, match="binary images"):
        image_index(np.array([[0.5, 1.0]]))
    with pytest.raises(ValueError, match="x must be a 2-D array"):
        image_index(np.zeros(3))


# ----------------------------------------------------------------------------- the model
def test_factorized_mixture_matches_a_brute_force_sum():
    rng = np.random.default_rng(1)
    prior, theta = rng.dirichlet(np.ones(3)), rng.uniform(0.05, 0.95, size=(3, 4))
    m = factorized_mixture(prior, theta)
    joint = brute_force(prior, theta)
    np.testing.assert_allclose(np.exp(m.log_joint()), joint, rtol=1e-12)
    np.testing.assert_allclose(np.exp(m.log_evidence()), joint.sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(m.posterior(), joint / joint.sum(axis=1, keepdims=True))
    assert np.exp(m.log_evidence()).sum() == pytest.approx(1.0, abs=1e-12)
    assert (m.n_states, m.n_pixels) == (3, 4)


def test_model_refuses_tables_that_are_not_distributions():
    with pytest.raises(ValueError, match="exp\\(log_prior\\) must be probabilities"):
        DiscreteLatentModel(np.log([0.5, 0.6]), np.log(np.full((2, 4), 0.25)))
    with pytest.raises(ValueError, match="exp\\(log_likelihood\\) must be probabilities"):
        DiscreteLatentModel(np.log([0.5, 0.5]), np.log(np.full((2, 4), 0.3)))
    with pytest.raises(ValueError, match="2\\^D columns"):
        DiscreteLatentModel(np.log([0.5, 0.5]), np.log(np.full((2, 3), 1 / 3)))
    with pytest.raises(ValueError, match="shape \\(M, 2\\^D\\) with M = 2"):
        DiscreteLatentModel(np.log([0.5, 0.5]), np.log(np.full((3, 4), 0.25)))
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        factorized_mixture([1.0], [[0.0, 0.5]])


# ----------------------------------------------------------------------------- the account
@pytest.mark.parametrize("t", [0.0, 0.3, 1.0])
def test_the_account_balances(model, t):
    q = tempered_encoder(model, t)
    a = bits_back_account(model, q)
    np.testing.assert_allclose(a.paid - a.refund, a.neg_elbo, atol=1e-12)
    np.testing.assert_allclose(a.net - a.ideal, a.excess, atol=1e-12)
    assert np.all(a.excess >= -1e-12)
    np.testing.assert_allclose(a.kl_prior, a.prior_cost - a.refund, atol=1e-12)


def test_random_encoders_balance_too(model):
    q = np.random.default_rng(2).dirichlet(np.ones(3), size=16)
    a = bits_back_account(model, q)
    np.testing.assert_allclose(a.net, a.ideal + a.excess, atol=1e-12)
    assert np.all(a.excess > 0)


def test_the_exact_posterior_pays_the_ideal_length_and_the_prior_pays_no_kl(model):
    exact = bits_back_account(model, model.posterior())
    np.testing.assert_allclose(exact.net, exact.ideal, atol=1e-12)
    np.testing.assert_allclose(exact.excess, 0, atol=1e-12)
    prior = bits_back_account(model, tempered_encoder(model, 0.0))
    np.testing.assert_allclose(prior.kl_prior, 0, atol=1e-12)
    np.testing.assert_allclose(prior.refund, prior.prior_cost, atol=1e-12)


def test_the_protocol_simulated_costs_the_negative_elbo_on_average(model):
    # the sender draws z ~ q(z|x), pays -log p(z) - log p(x|z); the receiver recovers
    # -log q(z|x) bits: the mean net cost over many draws is -ELBO
    rng = np.random.default_rng(3)
    q = tempered_encoder(model, 0.5)
    a = bits_back_account(model, q)
    for i in (0, 7, 15):
        z = rng.choice(model.n_states, size=200_000, p=q[i])
        cost = -model.log_prior[z] - model.log_likelihood[z, i] + np.log(q[i, z])
        assert abs(cost.mean() - a.neg_elbo[i]) < 4 * cost.std() / np.sqrt(len(z))


def test_bits_are_nats_over_log_2_and_means_weight_by_the_data(model):
    a = bits_back_account(model, model.posterior())
    b = a.in_bits()
    assert isinstance(b, BitsBackAccount)
    np.testing.assert_allclose(b.net * np.log(2), a.net)
    p = np.exp(model.log_evidence())
    mean = a.mean(p)
    assert mean["ideal"] == pytest.approx(-np.sum(p * np.log(p)))  # the entropy of p(x)
    with pytest.raises(ValueError, match="p_data must be probabilities"):
        a.mean(np.ones(16))


def test_account_refuses_bad_encoders(model):
    with pytest.raises(ValueError, match="q must have shape"):
        bits_back_account(model, np.full((16, 2), 0.5))
    with pytest.raises(ValueError, match="q must be probabilities"):
        bits_back_account(model, np.full((16, 3), 0.5))
    with np.errstate(divide="ignore"):
        table = np.log([[0.5, 0.5], [1.0, 0.0]])
    impossible = DiscreteLatentModel(np.log([0.5, 0.5]), table)
    with pytest.raises(ValueError, match="cannot make the image"):
        bits_back_account(impossible, np.full((2, 2), 0.5))


# ----------------------------------------------------------------------------- encoders
def test_tempered_encoder_runs_from_the_prior_to_the_posterior(model):
    np.testing.assert_allclose(
        tempered_encoder(model, 0.0), np.tile(np.exp(model.log_prior), (16, 1))
    )
    np.testing.assert_allclose(tempered_encoder(model, 1.0), model.posterior(), atol=1e-14)
    # KL(q_t ‖ p(z|x)) falls as t rises: its derivative is -(1 - t) Var_{q_t}[log p(x|z)]
    excess = [
        bits_back_account(model, tempered_encoder(model, t)).excess for t in np.linspace(0, 1, 6)
    ]
    assert np.all(np.diff(excess, axis=0) <= 1e-12)
    with pytest.raises(ValueError, match="t must be a number in \\[0, 1\\]"):
        tempered_encoder(model, 1.5)


# ----------------------------------------------------------------------------- fitting
def test_em_never_lowers_the_expected_log_likelihood():
    rng = np.random.default_rng(4)
    truth = factorized_mixture([0.3, 0.7], rng.uniform(0.1, 0.9, size=(2, 5)))
    p = np.exp(truth.log_evidence())
    fits = [
        fit_factorized_mixture(p, 2, np.random.default_rng(5), n_iter=n) for n in (1, 3, 10, 50)
    ]
    values = [np.sum(p * m.log_evidence()) for m in fits]
    assert all(a <= b + 1e-12 for a, b in zip(values, values[1:]))
    assert values[-1] <= np.sum(p * np.log(p)) + 1e-12  # never above minus the entropy


def test_one_state_em_gives_the_pixel_marginals():
    x = np.random.default_rng(6).integers(0, 2, size=(500, 4)).astype(float)
    m = fit_factorized_mixture(empirical_distribution(x), 1, np.random.default_rng(0), n_iter=2)
    expected = factorized_mixture([1.0], np.clip(x.mean(axis=0), 1e-4, 1 - 1e-4)[None, :])
    np.testing.assert_allclose(m.log_likelihood, expected.log_likelihood, atol=1e-12)
    with pytest.raises(ValueError, match="p_data must have 2\\^D entries"):
        fit_factorized_mixture(np.full(3, 1 / 3), 2, np.random.default_rng(0))


# ----------------------------------------------------------------------------- information
def test_same_marginal_family_keeps_the_evidence_and_scales_the_information(model):
    infos = []
    for s in (0.0, 0.4, 1.0):
        f = same_marginal_family(model, s)
        np.testing.assert_allclose(f.log_evidence(), model.log_evidence(), atol=1e-12)
        infos.append(mutual_information(f))
    assert infos[0] == pytest.approx(0.0, abs=1e-12)
    assert infos[0] < infos[1] < infos[2] == pytest.approx(mutual_information(model))
    with pytest.raises(ValueError, match="s must be a number in \\[0, 1\\]"):
        same_marginal_family(model, -0.1)


def test_mutual_information_is_the_entropy_of_z_minus_its_conditional_entropy(model):
    p_x = np.exp(model.log_evidence())
    post = model.posterior()
    prior = np.exp(model.log_prior)
    h_z = -np.sum(prior * np.log(prior))
    h_z_given_x = -np.sum(p_x[:, None] * post * np.log(post))
    assert mutual_information(model) == pytest.approx(h_z - h_z_given_x, abs=1e-12)


def test_split_by_posterior_has_the_data_as_evidence_and_the_same_posterior(model):
    rng = np.random.default_rng(7)
    p_data = rng.dirichlet(np.ones(16))
    p_data[3] = 0.0
    p_data /= p_data.sum()
    split = split_by_posterior(p_data, model)
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(split.log_evidence(), np.log(p_data), atol=1e-12)
    seen = p_data > 0
    np.testing.assert_allclose(split.posterior()[seen], model.posterior()[seen], atol=1e-12)
    a = bits_back_account(split, tempered_encoder(split, 0.5))
    assert np.isnan(a.net[3]) and np.all(np.isfinite(a.net[seen]))
    assert a.mean(p_data)["ideal"] == pytest.approx(-np.sum(p_data[seen] * np.log(p_data[seen])))
    with pytest.raises(ValueError, match="p_data must have shape \\(16,\\)"):
        split_by_posterior(np.full(8, 1 / 8), model)


def test_an_empirical_distribution_of_no_images_is_refused():
    from vae_lib.toys.bits_back import empirical_distribution

    with pytest.raises(ValueError, match="at least one image"):
        empirical_distribution(np.zeros((0, 3)))
