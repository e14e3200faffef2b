import numpy as np
import pytest

from vae_lib import PATTERN_NAMES, pattern_templates, patterns


def test_patterns_shape_range_and_labels():
    x, labels = patterns(10, np.random.default_rng(0))
    assert x.shape == (10, 16) and labels.tolist() == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]
    assert x.min() >= 0 and x.max() <= 1
    assert len(PATTERN_NAMES) == 4


def test_noiseless_patterns_are_the_templates():
    x, labels = patterns(4, np.random.default_rng(0), noise=0.0)
    np.testing.assert_array_equal(x.reshape(4, 4, 4), pattern_templates())
    assert pattern_templates()[0, 1].tolist() == [1, 1, 1, 1]  # the horizontal line is row 1


def test_same_seed_same_data():
    a, _ = patterns(5, np.random.default_rng(1))
    b, _ = patterns(5, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be at least 1; got 0"):
        patterns(0, np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        patterns(3, np.random.RandomState(0))
    with pytest.raises(ValueError, match="noise must be a finite number of at least 0; got -1"):
        patterns(3, np.random.default_rng(0), noise=-1)
