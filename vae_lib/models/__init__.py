"""The models, each a registered class that follows the protocol of :mod:`.base`."""

from .base import MODELS, LossTerms, Model, ModelConfig, model_class, model_class_for, register
from .cvae import CVAE, CVAEConfig
from .flows import AFPriorConfig, AFPriorVAE, IAFPosteriorConfig, IAFPosteriorVAE
from .gaussian_latent import GaussianLatentConfig, GaussianLatentModel
from .hvae import HVAE, BottomUpHVAE, BottomUpHVAEConfig, HVAEConfig
from .iwae import IWAE, IWAEConfig
from .latent_model import LatentModel, LikelihoodConfig, NetworkConfig
from .vae import VAE, VAEConfig
from .vlae import VLAE, AFPriorVLAE, AFPriorVLAEConfig, VLAEConfig
from .vqvae import VQVAE, VQVAEConfig

__all__ = [
    "AFPriorConfig",
    "AFPriorVAE",
    "AFPriorVLAE",
    "AFPriorVLAEConfig",
    "IAFPosteriorConfig",
    "IAFPosteriorVAE",
    "CVAE",
    "HVAE",
    "HVAEConfig",
    "BottomUpHVAE",
    "BottomUpHVAEConfig",
    "GaussianLatentConfig",
    "GaussianLatentModel",
    "LatentModel",
    "LikelihoodConfig",
    "NetworkConfig",
    "IWAE",
    "MODELS",
    "VAE",
    "CVAEConfig",
    "IWAEConfig",
    "LossTerms",
    "Model",
    "ModelConfig",
    "VAEConfig",
    "VLAE",
    "VLAEConfig",
    "VQVAE",
    "VQVAEConfig",
    "model_class",
    "model_class_for",
    "register",
]
