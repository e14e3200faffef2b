"""What the chapter "Decoders and data" says about its numbers, read from its glued values."""

import math

import pytest
from executed import glued

SIGMAS = ("0.05", "0.1", "0.2", "0.4")
DENSITIES = ("cb", *(f"gauss-{s}" for s in SIGMAS), "gauss-learned")


@pytest.fixture(scope="module")
def g():
    return glued("decoders")


def test_the_data_and_the_bernoulli_mass(g):
    assert g["decoders-D"] == 784
    assert 50 < g["decoders-frac-zero"] < 95  # "most pixel values are exactly black"
    # positions black in every training image: a minority of the 784
    assert 0 < g["decoders-always-zero"] < 784 / 2
    # the Bernoulli formula's mass over grey levels at λ = 1/2 is 1/C(1/2) = 1/2, its best
    # case; it falls "slowly towards 0 at both ends"
    assert g["decoders-mass-half"] == pytest.approx(0.5, abs=1e-4)
    assert g["decoders-mass-max"] == pytest.approx(g["decoders-mass-half"], abs=1e-6)
    assert 0 < g["decoders-mass-end"] < 0.2 and g["decoders-lam-end"] <= 1e-3
    lam = g["decoders-lam-end"]  # 1/C(λ) = (1 - 2λ) / (2 artanh(1 - 2λ))
    assert g["decoders-mass-end"] == pytest.approx((1 - 2 * lam) / (2 * math.atanh(1 - 2 * lam)))
    assert g["decoders-mass-max-error"] < 1e-5


def test_fixed_sigma_acts_as_beta(g):
    assert g["decoders-epochs"] == 30
    kl = [g[f"decoders-kl-{s}"] for s in SIGMAS]
    assert all(a > b for a, b in zip(kl, kl[1:]))  # the rate falls as σ grows
    assert g["decoders-sq-0.05"] < g["decoders-sq-0.4"]  # the error rises from ... to ...
    # "their squared error, in the table above, moves by less than 2"
    sq = [g[f"decoders-sq-{s}"] for s in SIGMAS]
    assert max(sq) - min(sq) < 2
    # "from σ = 0.05 to 0.1 the rate falls ... while the test squared error barely moves":
    # a tenth of the whole rise, for a large share of the rate's fall
    rise = g["decoders-sq-0.4"] - g["decoders-sq-0.05"]
    assert abs(g["decoders-sq-0.1"] - g["decoders-sq-0.05"]) < 0.1 * rise
    assert g["decoders-kl-0.05"] - g["decoders-kl-0.1"] > 0.25 * (kl[0] - kl[-1])
    for s in SIGMAS:
        assert g[f"decoders-beta-{s}"] == pytest.approx(2 * float(s) ** 2)
    # the identity holds "to float32 rounding" on a batch of about 20 squared units
    assert g["decoders-identity-error"] < 1e-3


def test_learned_sigma_settles_at_the_rmse(g):
    assert g["decoders-epochs-learned"] == 100
    assert g["decoders-learned-std"] < 0.5  # it left its start at 1
    assert g["decoders-learned-std"] == pytest.approx(g["decoders-rmse"], rel=0.05)


def test_the_table(g):
    assert g["decoders-k"] == 200
    assert g["decoders-bernoulli-elbo"] < 0  # a 'log-probability' of grey levels
    for key in ("bernoulli", *DENSITIES):
        se = g[f"decoders-{key}-lk_se"] + g[f"decoders-{key}-elbo_se"]
        assert g[f"decoders-{key}-lk"] > g[f"decoders-{key}-elbo"] - se  # L_K above the ELBO
    for key in DENSITIES:  # bits per dimension are the same nats in other units
        expected = -g[f"decoders-{key}-lk"] / (784 * math.log(2))
        assert g[f"decoders-{key}-bpd"] == pytest.approx(expected, rel=1e-9)
    # "the continuous Bernoulli's L_K is far above the best Gaussian's"
    best_gauss = max(g[f"decoders-{k}-lk"] for k in DENSITIES if k != "cb")
    assert g["decoders-cb-lk"] > best_gauss + 500
    assert g["decoders-gauss-0.1-elbo"] > 0  # a density's nats can be positive


def test_elbo_against_sigma(g):
    e = {s: g[f"decoders-gauss-{s}-elbo"] for s in SIGMAS}
    assert g["decoders-gauss-learned-elbo"] > max(e.values())  # best for the learned σ
    # ... "though that model also trained longer"
    assert g["decoders-epochs-learned"] > g["decoders-epochs"]
    assert e["0.2"] == max(e.values())  # of the fixed ones, σ = 0.2
    assert e["0.05"] < e["0.1"] < e["0.2"] and e["0.4"] < e["0.2"]  # falls on either side
    assert e["0.05"] < e["0.4"]  # "much faster towards small σ"


def test_dequantized_evaluation(g):
    # the continuous Bernoulli's ELBO drops; the learned-σ Gaussian's hardly moves
    assert g["decoders-cb-deq-elbo"] < g["decoders-cb-elbo"] - 500
    learned, deq = g["decoders-gauss-learned-elbo"], g["decoders-gauss-learned-deq-elbo"]
    assert abs(deq - learned) < 0.05 * abs(learned)
    # the pile-up accounts for about 1,230 of the continuous Bernoulli's ~3,000-nat lead, and
    # it "still leads" at the dequantized images; paired differences on the same images
    drop, lead, deq_lead = (g[f"decoders-{n}"] for n in ("cb-deq-drop", "cb-lead", "cb-deq-lead"))
    assert drop == pytest.approx(g["decoders-cb-elbo"] - g["decoders-cb-deq-elbo"], rel=1e-6)
    assert deq_lead == pytest.approx(
        g["decoders-cb-deq-elbo"] - g["decoders-gauss-learned-deq-elbo"], rel=1e-6
    )
    assert lead == pytest.approx(deq_lead + drop + deq - learned, rel=1e-6)
    assert 0 < drop < lead and deq_lead > 10 * g["decoders-cb-deq-lead-se"] > 0
    for name in ("cb-deq-drop", "cb-lead"):
        assert 0 < g[f"decoders-{name}-se"] < 0.05 * g[f"decoders-{name}"]
    for key in ("cb", "gauss-learned", "gauss-0.1"):
        expected = -g[f"decoders-{key}-deq-elbo"] / (784 * math.log(2)) + 8
        assert g[f"decoders-{key}-deq-bpd"] == pytest.approx(expected, rel=1e-9)
        assert 0 < g[f"decoders-{key}-deq-bpd"] < 8  # a bound on 8-bit images, better than 8


def test_linear_vae_is_ppca(g):
    assert g["decoders-pca-k"] == 5 and g["decoders-pca-epochs"] == 200
    assert g["decoders-pca-angle-max"] < 10  # degrees: the principal subspace
    assert g["decoders-pca-sigma-vae"] == pytest.approx(g["decoders-pca-sigma-ml"], rel=0.02)
    # "close below PPCA's exact log-likelihood"
    assert 0 < g["decoders-pca-ll"] - g["decoders-pca-elbo"] < 5
    # the per-image log-likelihoods average to the closed form; the paired gap
    assert g["decoders-pca-ll-images-error"] < 1e-6
    gap, se = g["decoders-pca-gap"], g["decoders-pca-gap-se"]
    assert gap == pytest.approx(g["decoders-pca-ll"] - g["decoders-pca-elbo"], abs=1e-6)
    assert gap > 5 * se > 0


def test_collapse_below_sigma_squared(g):
    assert g["decoders-collapse-epochs"] == 600
    assert g["decoders-collapse-alive"] == 3  # "2 of the 5 coordinates should collapse"
    assert g["decoders-pca-k"] - g["decoders-collapse-alive"] == 2
    assert g["decoders-collapse-alive-error"] < 0.03
    assert g["decoders-collapse-kl-dead-max"] < 0.02 < g["decoders-collapse-kl-alive-min"]
