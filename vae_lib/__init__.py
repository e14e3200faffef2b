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
from .divergences import kl_categorical, kl_diag_gaussians, kl_monte_carlo, kl_per_dimension
from .download import DownloadError, download_file, download_mnist, load_mnist
from .gaussian_fit import (
    ReverseKLFit,
    fit_reverse_kl,
    forward_kl,
    mixture_entropy,
    mixture_log_density,
    mixture_score,
    moment_match,
    reverse_kl,
    reverse_kl_grad,
    two_mode_mixture,
)
from .gradient_estimators import (
    ScalarObjective,
    exact_gradient,
    gaussian_expectation,
    gradient_estimates,
    pathwise_gradient,
    score_function_gradient,
)
from .metrics import (
    active_units,
    importance_weighted_bound,
    log_importance_weights,
    nearest_centroid_accuracy,
)
from .nn import MLP, Adam, Linear, ReLU, Tanh
from .quadrature import latent_grid, vae_log_joint_grid, vae_log_marginal_grid, vae_posterior_grid
from .scale_parameterization import (
    descend_scale,
    largest_stable_lr,
    optimal_scale,
    scale_loss,
    scale_loss_grad,
    scale_step,
)
from .toy_models import (
    ToyModel,
    best_gaussian,
    gaussian_elbo,
    kl_to_posterior,
    linear_gaussian_exact,
    toy_iw_bound,
    toy_log_marginal,
    toy_log_weights,
    toy_model,
    toy_posterior,
)
from .train import History, fit
from .vae import VAE, ELBOTerms, VAEConfig
from .widgets import Dropdown, Slider, Toggle, interactive_output

__version__ = "0.1.0"

__all__ = [
    "Slider",
    "MLP",
    "PATTERN_NAMES",
    "VAE",
    "Adam",
    "Dataset",
    "Dropdown",
    "DownloadError",
    "ELBOTerms",
    "History",
    "Linear",
    "ReLU",
    "ReverseKLFit",
    "ScalarObjective",
    "Tanh",
    "Toggle",
    "VAEConfig",
    "active_units",
    "atomic_write_npz",
    "bernoulli_log_likelihood",
    "bernoulli_log_likelihood_grad",
    "binarize_dynamic",
    "binarize_static",
    "default_cache_dir",
    "descend_scale",
    "digits8x8",
    "download_file",
    "download_mnist",
    "exact_gradient",
    "fit",
    "fit_reverse_kl",
    "format_nats",
    "forward_kl",
    "gaussian_expectation",
    "gaussian_log_density",
    "gradient_estimates",
    "importance_weighted_bound",
    "interactive_output",
    "kl_categorical",
    "kl_diag_gaussians",
    "kl_monte_carlo",
    "kl_per_dimension",
    "kl_standard_normal",
    "kl_standard_normal_grad",
    "largest_stable_lr",
    "load_mnist",
    "load_model",
    "load_or_train",
    "log_importance_weights",
    "log_mean_exp",
    "mixture_entropy",
    "mixture_log_density",
    "mixture_score",
    "mnist_subset",
    "moment_match",
    "nearest_centroid_accuracy",
    "optimal_scale",
    "pattern_templates",
    "pathwise_gradient",
    "patterns",
    "reparameterize",
    "reparameterize_backward",
    "reverse_kl",
    "reverse_kl_grad",
    "save_model",
    "scale_loss",
    "scale_loss_grad",
    "scale_step",
    "score_function_gradient",
    "sigmoid",
    "standard_normal_log_density",
    "two_mode_mixture",
    "ToyModel",
    "best_gaussian",
    "gaussian_elbo",
    "kl_to_posterior",
    "latent_grid",
    "linear_gaussian_exact",
    "toy_iw_bound",
    "toy_log_marginal",
    "toy_log_weights",
    "toy_model",
    "toy_posterior",
    "vae_log_joint_grid",
    "vae_log_marginal_grid",
    "vae_posterior_grid",
]
