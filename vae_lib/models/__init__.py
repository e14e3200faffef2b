"""The models, each a registered class that follows the protocol of :mod:`.base`."""

from .base import MODELS, LossTerms, Model, ModelConfig, model_class, model_class_for, register
from .iwae import IWAE, IWAEConfig
from .vae import VAE, VAEConfig

__all__ = [
    "IWAE",
    "MODELS",
    "VAE",
    "IWAEConfig",
    "LossTerms",
    "Model",
    "ModelConfig",
    "VAEConfig",
    "model_class",
    "model_class_for",
    "register",
]
