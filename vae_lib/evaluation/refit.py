r"""A fresh encoder for a frozen decoder: a yardstick that favours neither of two models.

L_K estimates log p_θ(x) by importance sampling with the model's own encoder as the
proposal. A model trained on L_K (an IWAE) has trained its encoder to be a good proposal, so
part of its lead in L_K over a VAE can be a tighter *estimate* rather than a better *model*.
To compare the decoders alone, give each the same proposal procedure: a new encoder,
trained on L_K with the decoder's weights held fixed, from the same initial weights, on the
same data and schedule. Then L_K with the refitted encoders compares p_θ(x) of the two
decoders with estimators of equal quality (up to how well each refit succeeds).
"""

from __future__ import annotations

import numpy as np

from ..core.optim import Adam
from ..core.validation import check_positive_int
from ..models.gaussian_latent import GaussianLatentModel
from ..models.iwae import IWAE, IWAEConfig
from ..training.cache import (
    check_seed,
    data_fingerprint,
    load_arrays_keyed,
    load_or_compute,
    model_fingerprint,
    save_arrays_keyed,
    training_code,
    transform_key_name,
    transform_module,
)


def _check_model(model) -> GaussianLatentModel:
    if not isinstance(model, GaussianLatentModel) or not hasattr(model, "decoder"):
        raise TypeError(
            "refit_encoder needs a model with a Gaussian encoder and one decoder network (a "
            f"VAE or an IWAE); got {type(model).__name__}"
        )
    return model


def with_fresh_encoder(model, n_samples: int, seed: int) -> IWAE:
    """An IWAE (K = ``n_samples``) with ``model``'s config, ``model``'s decoder weights
    (copies) and a new encoder drawn from ``seed``."""
    model = _check_model(model)
    c = model.config
    config = IWAEConfig(
        input_dim=c.input_dim,
        hidden_dims=c.hidden_dims,
        latent_dim=c.latent_dim,
        activation=c.activation,
        dtype=c.dtype,
        likelihood=c.likelihood,
        decoder_std=c.decoder_std,
        learn_std=c.learn_std,
        n_samples=check_positive_int(n_samples, "n_samples"),
    )
    fresh = IWAE(config, np.random.default_rng(check_seed(seed)))
    theirs = dict(zip(model.param_names(), model.params))
    for name, p in zip(fresh.param_names(), fresh.params):
        if not name.startswith("encoder."):
            p[...] = theirs[name]
    return fresh


def refit_encoder(
    model,
    x,
    *,
    n_samples: int,
    epochs: int,
    seed: int,
    batch_size: int = 100,
    lr: float = 1e-3,
    transform=None,
    transform_name: str | None = None,
    name: str = "refit",
    cache_dir=None,
) -> IWAE:
    """``model``'s decoder, frozen, with a new encoder trained on L_K by Adam.

    Training follows :func:`vae_lib.fit`'s schedule (shuffled batches of ``x``, each passed
    through ``transform(batch, rng)`` if given, e.g. a fresh binarization), but only the
    encoder's parameters move. The result is cached like a trained model, keyed by the
    model's weights, the data, the settings and the code that trains it (that of a trained
    model, this module's and the transform's), so a change to a plotting helper refits
    nothing. The transform is keyed by its module and qualified name, or by
    ``transform_name`` (needed for a lambda or a local function), as in
    :func:`vae_lib.load_or_train`.

    Returns
    -------
    IWAE with ``n_samples`` = K: the decoder's weights equal ``model``'s
    """
    model = _check_model(model)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    seed = check_seed(seed)
    fresh = with_fresh_encoder(model, n_samples, seed)
    x = np.ascontiguousarray(fresh.check_data(x))
    encoder = [i for i, n in enumerate(fresh.param_names()) if n.startswith("encoder.")]
    key_fields = {
        "estimate": "refitted encoder",
        **model_fingerprint(model),
        "data": data_fingerprint(x),
        "n_samples": n_samples,
        "epochs": epochs,
        "seed": seed,
        "batch_size": batch_size,
        "lr": lr,
        "transform": transform_key_name(transform, transform_name),
    }

    def train() -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        params, grads = fresh.params, fresh.grads
        optimizer = Adam([params[i] for i in encoder], lr=lr)
        for _ in range(epochs):
            order = rng.permutation(len(x))
            for start in range(0, len(x), batch_size):
                batch = x[order[start : start + batch_size]]
                if transform is not None:
                    batch = transform(batch, rng)
                fresh.loss_and_grads(batch, fresh.draw_noise(batch, rng))
                optimizer.step([grads[i] for i in encoder])
        return {str(i): params[i] for i in encoder}

    def load(path, key) -> dict[str, np.ndarray]:
        arrays = load_arrays_keyed(path, key)
        for i in encoder:
            if arrays[str(i)].shape != fresh.params[i].shape:
                raise ValueError(f"its parameter {i} has shape {arrays[str(i)].shape}")
        return arrays

    arrays = load_or_compute(
        name,
        key_fields,
        train,
        save=save_arrays_keyed,
        load=load,
        code=training_code(__name__, transform_module(key_fields["transform"])),
        cache_dir=cache_dir,
    )
    for i in encoder:
        fresh.params[i][...] = arrays[str(i)]
    return fresh
