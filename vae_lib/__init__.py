"""vae_lib: a small numpy library of Variational Autoencoders, written to be read.

Everything public is re-exported here, so chapters write ``from vae_lib import VAE, fit``.
"""

from .cache import default_cache_dir, load_or_train
from .checkpoint import atomic_write_npz, load_model, save_model
from .data import PATTERN_NAMES, pattern_templates, patterns
from .datasets import (
    Dataset,
    binarize_dynamic,
    binarize_static,
    digits8x8,
    format_nats,
    mnist_subset,
)
from .distributions import (
    bernoulli_log_likelihood,
    bernoulli_log_likelihood_grad,
    gaussian_log_density,
    kl_standard_normal,
    kl_standard_normal_grad,
    log_mean_exp,
    reparameterize,
    reparameterize_backward,
    sigmoid,
    standard_normal_log_density,
)
from .download import DownloadError, download_file, download_mnist, load_mnist
from .metrics import (
    active_units,
    importance_weighted_bound,
    log_importance_weights,
    nearest_centroid_accuracy,
)
from .nn import MLP, Adam, Linear, ReLU, Tanh
from .train import History, fit
from .vae import VAE, ELBOTerms, VAEConfig

__version__ = "0.1.0"

__all__ = [
    "MLP",
    "PATTERN_NAMES",
    "VAE",
    "Adam",
    "Dataset",
    "DownloadError",
    "ELBOTerms",
    "History",
    "Linear",
    "ReLU",
    "Tanh",
    "VAEConfig",
    "active_units",
    "atomic_write_npz",
    "bernoulli_log_likelihood",
    "bernoulli_log_likelihood_grad",
    "binarize_dynamic",
    "binarize_static",
    "default_cache_dir",
    "digits8x8",
    "download_file",
    "download_mnist",
    "fit",
    "format_nats",
    "gaussian_log_density",
    "importance_weighted_bound",
    "kl_standard_normal",
    "kl_standard_normal_grad",
    "load_mnist",
    "load_model",
    "load_or_train",
    "log_importance_weights",
    "log_mean_exp",
    "mnist_subset",
    "nearest_centroid_accuracy",
    "pattern_templates",
    "patterns",
    "reparameterize",
    "reparameterize_backward",
    "save_model",
    "sigmoid",
    "standard_normal_log_density",
]
