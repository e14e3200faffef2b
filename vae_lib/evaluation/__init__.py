"""Measures of trained models: importance-weighted bounds, active units, projections of
the codes, and the exact evidence by quadrature for a small latent."""
