"""A guard against hangs that reads no clock in an assertion.

:func:`returns` runs a call in a daemon thread and waits for it at most
:data:`~vae_lib.testing.HANG_SECONDS`, far above any call's time on a loaded machine: a call
still running then has hung, and the test fails saying so. A call that returns, however
slowly, passes; its result or exception is handed back as if it had been called directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

from vae_lib.testing import HANG_SECONDS

T = TypeVar("T")


def returns(call: Callable[[], T], what: str = "the call", seconds: float = HANG_SECONDS) -> T:
    """``call()``'s result (or its exception, raised here), unless it is still running after
    ``seconds``: then the test fails with "<what> did not return"."""
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = call()
        except BaseException as err:  # handed to the caller below
            outcome["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"{what} did not return within {seconds:g} s: it hangs", pytrace=False)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
