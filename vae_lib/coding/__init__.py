"""Lossless coding with the book's models: a message as a stack of symbols (rANS), the
prior's buckets that make a continuous code codable, and bits-back coding of images with a
trained VAE or VLAE (BB-ANS), in a container that refuses what it cannot decode."""
