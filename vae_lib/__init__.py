"""vae_lib: a small numpy library of Variational Autoencoders, written to be read.

Its subpackages, each importing only from those listed after it:

- ``views``: plots, latent-space rasters and widgets that work on a static page;
- ``evaluation``: importance-weighted bounds, active units, projections, quadrature;
  ``coding``: lossless compression with a trained model (an rANS stack, bits-back coding
  of images, a checked file format), beside it;
- ``training``: :func:`fit`, checkpoints, and one keyed store for trained models and
  other expensive results;
- ``models``: the model protocol (:mod:`vae_lib.models.base`) and every model on it;
- ``data``, ``toys``: digits and patterns; the small exactly solvable problems of the
  theory chapters;
- ``core``: layers, Adam, distributions, divergences, numerics, files (numpy only).

``vae_lib.testing`` holds the gradient checks. What the chapters use is re-exported here,
so they write ``from vae_lib import VAE, fit``; everything but the views. ``import vae_lib``
imports numpy and nothing else that draws: the views (matplotlib, ipywidgets) are imported
from ``vae_lib.views`` by whoever shows something.
"""

from .core.autoregressive import (
    MADE,
    AutoregressiveNetwork,
    MaskedLinear,
    causal_window_mask,
    made_degrees,
    made_masks,
    receptive_field_masks,
    wavefront_steps,
)
from .core.distributions import (
    bernoulli_log_likelihood,
    bernoulli_log_likelihood_grad,
    continuous_bernoulli_log_likelihood,
    continuous_bernoulli_log_norm,
    continuous_bernoulli_mean,
    gaussian_log_density,
    kl_standard_normal,
    kl_standard_normal_grad,
    reparameterize,
    reparameterize_backward,
    sigmoid,
    standard_normal_log_density,
)
from .core.divergences import kl_categorical, kl_diag_gaussians, kl_monte_carlo, kl_per_dimension
from .core.files import atomic_write_npz
from .core.nn import MLP, Linear, ReLU, Tanh
from .core.numerics import LOG_2PI, log_mean_exp, logsumexp, trapezoid_grid
from .core.objectives import ELBOTerms
from .core.optim import Adam
from .data.digits import (
    Dataset,
    binarize_dynamic,
    binarize_static,
    digits8x8,
    mnist_subset,
)
from .data.download import DownloadError, download_file
from .data.mnist import download_mnist, load_mnist
from .data.patterns import PATTERN_NAMES, pattern_templates, patterns
from .evaluation.active_units import active_coordinates, active_units
from .evaluation.gradient_snr import GradientMoments, gradient_moments
from .evaluation.importance import (
    bounds_by_k,
    importance_weighted_bound,
    load_or_estimate_bounds,
    log_importance_weights,
)
from .evaluation.projections import nearest_centroid_accuracy, neighbour_accuracy, pca, tsne
from .evaluation.quadrature import (
    latent_grid,
    vae_log_joint_grid,
    vae_log_marginal_grid,
    vae_posterior_grid,
)
from .models import (
    CVAE,
    HVAE,
    IWAE,
    MODELS,
    VAE,
    VLAE,
    VQVAE,
    AFPriorConfig,
    AFPriorVAE,
    AFPriorVLAE,
    AFPriorVLAEConfig,
    BottomUpHVAE,
    BottomUpHVAEConfig,
    CVAEConfig,
    HVAEConfig,
    IAFPosteriorConfig,
    IAFPosteriorVAE,
    IWAEConfig,
    LikelihoodConfig,
    LossTerms,
    Model,
    ModelConfig,
    VAEConfig,
    VLAEConfig,
    VQVAEConfig,
    register,
)
from .toys.exact_models import (
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
from .toys.gaussian_fit import (
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
from .toys.gradient_estimators import (
    ScalarObjective,
    exact_gradient,
    gaussian_expectation,
    gradient_estimates,
    pathwise_gradient,
    score_function_gradient,
)
from .toys.scale_parameterization import (
    descend_scale,
    largest_stable_lr,
    optimal_scale,
    scale_loss,
    scale_loss_grad,
    scale_step,
)
from .training.cache import default_cache_dir, load_or_train
from .training.checkpoint import load_model, save_model
from .training.fit import History, fit
from .version import __version__ as __version__

__all__ = [
    "AFPriorConfig",
    "AFPriorVAE",
    "IAFPosteriorConfig",
    "IAFPosteriorVAE",
    "Adam",
    "CVAE",
    "CVAEConfig",
    "HVAE",
    "HVAEConfig",
    "BottomUpHVAE",
    "BottomUpHVAEConfig",
    "Dataset",
    "DownloadError",
    "ELBOTerms",
    "GradientMoments",
    "History",
    "IWAE",
    "IWAEConfig",
    "LOG_2PI",
    "LikelihoodConfig",
    "Linear",
    "MaskedLinear",
    "LossTerms",
    "MADE",
    "AutoregressiveNetwork",
    "receptive_field_masks",
    "wavefront_steps",
    "AFPriorVLAE",
    "AFPriorVLAEConfig",
    "MLP",
    "MODELS",
    "Model",
    "ModelConfig",
    "PATTERN_NAMES",
    "ReLU",
    "ReverseKLFit",
    "ScalarObjective",
    "Tanh",
    "ToyModel",
    "VAE",
    "VAEConfig",
    "VLAE",
    "VLAEConfig",
    "VQVAE",
    "VQVAEConfig",
    "active_coordinates",
    "active_units",
    "atomic_write_npz",
    "bernoulli_log_likelihood",
    "bernoulli_log_likelihood_grad",
    "continuous_bernoulli_log_likelihood",
    "continuous_bernoulli_log_norm",
    "continuous_bernoulli_mean",
    "best_gaussian",
    "binarize_dynamic",
    "binarize_static",
    "bounds_by_k",
    "causal_window_mask",
    "default_cache_dir",
    "descend_scale",
    "digits8x8",
    "download_file",
    "download_mnist",
    "exact_gradient",
    "fit",
    "fit_reverse_kl",
    "forward_kl",
    "gaussian_elbo",
    "gaussian_expectation",
    "gaussian_log_density",
    "gradient_estimates",
    "gradient_moments",
    "importance_weighted_bound",
    "kl_categorical",
    "kl_diag_gaussians",
    "kl_monte_carlo",
    "kl_per_dimension",
    "kl_standard_normal",
    "kl_standard_normal_grad",
    "kl_to_posterior",
    "largest_stable_lr",
    "latent_grid",
    "linear_gaussian_exact",
    "load_mnist",
    "load_model",
    "load_or_estimate_bounds",
    "load_or_train",
    "log_importance_weights",
    "log_mean_exp",
    "logsumexp",
    "made_degrees",
    "made_masks",
    "mixture_entropy",
    "mixture_log_density",
    "mixture_score",
    "mnist_subset",
    "moment_match",
    "nearest_centroid_accuracy",
    "neighbour_accuracy",
    "optimal_scale",
    "pathwise_gradient",
    "pattern_templates",
    "patterns",
    "pca",
    "register",
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
    "toy_iw_bound",
    "toy_log_marginal",
    "toy_log_weights",
    "toy_model",
    "toy_posterior",
    "trapezoid_grid",
    "tsne",
    "two_mode_mixture",
    "vae_log_joint_grid",
    "vae_log_marginal_grid",
    "vae_posterior_grid",
]
