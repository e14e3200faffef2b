"""The stored code prior: the fit it replaces, once, and fitted again when the key changes."""

import numpy as np
import pytest

from vae_lib.models.code_prior import AutoregressiveCodePrior
from vae_lib.training.code_prior import load_or_fit_code_prior

L, K = 3, 5
SETTINGS = dict(codebook_size=K, hidden_dims=(8,), seed=2, fit_seed=7, max_epochs=6, patience=2)


@pytest.fixture(scope="module")
def strings():
    codes = np.random.default_rng(0).integers(0, K, size=(80, L))
    return codes[:60], codes[60:]


@pytest.fixture
def fits(monkeypatch):
    """Counts the calls of AutoregressiveCodePrior.fit."""
    calls = []
    real_fit = AutoregressiveCodePrior.fit

    def counting_fit(self, *args, **kwargs):
        calls.append(args)
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(AutoregressiveCodePrior, "fit", counting_fit)
    return calls


def test_it_is_the_fit_it_stands_for(strings, tmp_path):
    codes, held_out = strings
    prior, history = load_or_fit_code_prior(codes, held_out, cache_dir=tmp_path, **SETTINGS)
    fresh = AutoregressiveCodePrior(L, K, (8,), np.random.default_rng(2))
    expected = fresh.fit(codes, held_out, np.random.default_rng(7), max_epochs=6, patience=2)
    assert history == expected
    for mine, theirs in zip(prior.params, fresh.params):
        np.testing.assert_array_equal(mine, theirs)


def test_it_is_fitted_once_and_loaded_after(strings, tmp_path, fits):
    codes, held_out = strings
    first = load_or_fit_code_prior(codes, held_out, cache_dir=tmp_path, **SETTINGS)
    second = load_or_fit_code_prior(codes, held_out, cache_dir=tmp_path, **SETTINGS)
    assert len(fits) == 1 and len(list(tmp_path.glob("code-prior-*.npz"))) == 1
    assert first[1] == second[1]
    np.testing.assert_array_equal(first[0].log_prob(held_out), second[0].log_prob(held_out))


@pytest.mark.parametrize(
    "change",
    [{"fit_seed": 8}, {"seed": 3}, {"hidden_dims": (9,)}, {"patience": 3}, {"codes": "other"}],
)
def test_a_change_of_any_key_field_fits_again(strings, tmp_path, fits, change):
    codes, held_out = strings
    load_or_fit_code_prior(codes, held_out, cache_dir=tmp_path, **SETTINGS)
    settings = {**SETTINGS, **change}
    if settings.pop("codes", None):
        codes = codes[::-1].copy()
    load_or_fit_code_prior(codes, held_out, cache_dir=tmp_path, **settings)
    assert len(fits) == 2


def test_bad_input_is_refused(strings, tmp_path):
    codes, held_out = strings
    with pytest.raises(ValueError, match="codes must be a 2-D array"):
        load_or_fit_code_prior(codes[0], held_out, cache_dir=tmp_path, **SETTINGS)
    with pytest.raises(ValueError, match="fit_seed must be at least 0"):
        load_or_fit_code_prior(codes, held_out, cache_dir=tmp_path, **{**SETTINGS, "fit_seed": -1})
    with pytest.raises(ValueError, match=r"codes must have shape \(N, 3\)"):
        load_or_fit_code_prior(codes, held_out[:, :2], cache_dir=tmp_path, **SETTINGS)
    assert not list(tmp_path.glob("*.npz"))
