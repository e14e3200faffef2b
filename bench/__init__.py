"""Benchmarks of the book and its library, run by ``make bench`` (``python -m bench``).

Not part of ``make test``: the numbers depend on the machine and on what else runs on it.
One module per concern:

- :mod:`bench.machine`: what the numbers were taken on, and the thread settings;
- :mod:`bench.twins`: the two models (vae_lib and PyTorch) and the FLOPs of an epoch;
- :mod:`bench.training`: training speed against PyTorch, interleaved epoch by epoch, and
  the matrix-multiply rate measured beside it;
- :mod:`bench.quality`: the test ELBO that each library reaches after the same work;
- :mod:`bench.book`: the book's clean build, unchanged rebuild and per-chapter times;
- :mod:`bench.widget_latency`: the size of each widget's precomputed frames on the static
  page, the kernel's share of a control change, and the two below together;
- :mod:`bench.widget_browser`: input to new output painted, on the static page and with a
  kernel (Voilà);
- :mod:`bench.report`: writes ``bench/results.md`` and ``bench/results.json``.
"""
