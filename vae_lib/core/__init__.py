"""The numpy core: layers, optimizer, distributions, divergences, numerics and files.

Nothing here imports from the rest of vae_lib, and nothing here needs more than numpy.
"""
