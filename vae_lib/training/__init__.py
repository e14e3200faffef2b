"""Training any registered model: the loop, checkpoints, and the keyed store of results."""
