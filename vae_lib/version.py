"""The version of vae_lib, part of every cache key (a new version retrains, never reuses)."""

__version__ = "0.2.0"
