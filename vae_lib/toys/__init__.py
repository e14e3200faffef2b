"""Small exactly solvable problems that single chapters use to show one idea each: a
one-dimensional latent model, Gaussian fits to a mixture, gradient estimators on scalar
objectives, and the step size of a scale parameter."""
