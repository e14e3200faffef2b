import numpy as np
import pytest

import vae_lib


def pytest_collection_modifyitems(items):
    """The tests marked slow first, longest first where the mark says how long (``seconds``),
    the rest in their order: with one process per core (pytest-xdist), a long test started
    last would leave the other processes idle."""

    def order(item):
        slow = item.get_closest_marker("slow")
        return (slow is None, -slow.kwargs.get("seconds", 0) if slow else 0)

    items.sort(key=order)  # a stable sort


@pytest.fixture(scope="session")
def trained_pattern_vae():
    """The first chapter's model, trained as the chapter trains it (about 2 s)."""
    rng = np.random.default_rng(0)
    x, labels = vae_lib.patterns(200, rng)
    untrained = vae_lib.VAE(vae_lib.VAEConfig(), np.random.default_rng(1))
    model = vae_lib.VAE(vae_lib.VAEConfig(), np.random.default_rng(1))
    history = vae_lib.fit(model, x, epochs=300, batch_size=20, lr=3e-3, rng=rng, progress=False)
    return {"x": x, "labels": labels, "model": model, "untrained": untrained, "history": history}
