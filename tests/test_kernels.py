"""The cells' kernels (``driver.kernels``): a client that waits for a kernel never outlives it."""

import asyncio
import time

import nbformat
import pytest

from transferlib.driver import kernels

# Every test here starts processes or trains: the slow tier.
pytestmark = pytest.mark.slow


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



def test_a_kernel_killed_before_its_notebook_starts_is_reported_as_its_death(tmp_path):
    """The out-of-memory killer can strike between a kernel's hand-out and nbclient's first
    message: the cell's error still names the death, not nbclient's connection error."""
    km = kernels.start(tmp_path)
    km.provisioner.process.kill()
    km.provisioner.process.wait()
    notebook = tmp_path / "in.ipynb"
    notebook.write_text(nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])))
    with pytest.raises(kernels.KernelDied, match=r"killed by signal 9 \(SIGKILL.*out\.ipynb"):
        kernels.execute(notebook, tmp_path / "out.ipynb", {}, km)
