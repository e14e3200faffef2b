"""Data: the synthetic 4×4 patterns, real handwritten digits (shipped in ``files/``) and
the downloader for full MNIST."""
