"""The cells' kernels (``driver.kernels``): a client that waits for a kernel never outlives it."""

import asyncio
import time

import pytest

from transferlib.driver import kernels


def test_waiting_for_a_dead_kernel_fails_at_once(tmp_path):
    """A kernel killed while nbclient waits for it to answer (Ctrl-C as a cell's notebook
    starts) is an error within seconds, not a wait of papermill's 60 s start timeout."""
    km = kernels.start(tmp_path)
    try:
        km.provisioner.process.kill()
        km.provisioner.process.wait()
        client = km.client()
        client.start_channels()
        start = time.monotonic()
        with pytest.raises(RuntimeError, match="died"):
            asyncio.run(client.wait_for_ready(timeout=60))
        assert time.monotonic() - start < 10
    finally:
        kernels.shutdown(km)

