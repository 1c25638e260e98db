"""Kernels for the cells' notebooks, started warm: booted, with TensorFlow and transferlib
imported. A ``KernelPool`` starts each next kernel while the current cell trains, so that a
cell's notebook, still in a kernel of its own, starts at once.

Kernel starts on one machine are spaced apart (a lock file shared by threads and processes,
Ray workers included), which avoids the port races of parallel kernel launches. Kernels die
with the process that started them (ipykernel polls its parent).
"""

import fcntl
import os
import queue
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from jupyter_client.manager import KernelManager

LAUNCH_GAP = 2.0  # seconds between kernel starts on a machine

WARM_UP = "import keras, matplotlib.pyplot\nfrom transferlib.cell import devices, figures, models, steps, train, transfer"


@contextmanager
def _start_slot():
    """Wait until LAUNCH_GAP after this machine's last kernel start, and hold the slot while
    starting one."""
    lock_path = Path(tempfile.gettempdir()) / f"transferlib-kernel-start-{os.getuid()}.lock"
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        time.sleep(max(0.0, os.fstat(lock.fileno()).st_mtime + LAUNCH_GAP - time.time()))
        os.utime(lock.fileno())
        yield


def start(cwd, env=None, kernel_name="python3"):
    """A started, warmed kernel (a KernelManager: the caller shuts it down) working in ``cwd``."""
    km = KernelManager(kernel_name=kernel_name)
    with _start_slot():
        # The kernel's own stdout/stderr (TensorFlow's C++ log lines) stay out of the runner's
        # terminal; what the notebook prints reaches the notebook through the kernel protocol.
        km.start_kernel(cwd=str(cwd), env=env or dict(os.environ), stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        reply = client.execute_interactive(WARM_UP, silent=True, timeout=300,
                                           output_hook=lambda msg: None)  # import warnings: not the runner's
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"warming a kernel failed: {reply['content'].get('evalue')}")
    except BaseException:
        km.shutdown_kernel(now=True)
        raise
    finally:
        client.stop_channels()
    return km


def execute(source, output, parameters, km):
    """Execute notebook ``source`` with ``parameters`` into ``output`` (papermill) on the kernel
    ``km``, then shut the kernel down. A cell's error raises RuntimeError("Name: message")."""
    import papermill

    try:
        papermill.execute_notebook(str(source), str(output), parameters=parameters, km=km,
                                   kernel_name=km.kernel_name, progress_bar=False)
    except papermill.PapermillExecutionError as error:
        raise RuntimeError(f"{error.ename}: {error.evalue}") from None
    finally:
        km.shutdown_kernel(now=True)


class KernelPool:
    """``spares`` kernels kept started and warmed in ``cwd``; ``take()`` hands one out."""

    def __init__(self, spares, cwd, env=None, kernel_name="python3"):
        self.cwd, self.env, self.kernel_name = cwd, env, kernel_name
        self.ready, self.orders = queue.Queue(), queue.Queue()
        self.starter = threading.Thread(target=self._serve, daemon=True)
        self.starter.start()
        for _ in range(spares):
            self.orders.put(True)

    def _serve(self):
        while self.orders.get():
            try:
                self.ready.put(start(self.cwd, self.env, self.kernel_name))
            except Exception as error:  # handed to the cell that takes this kernel
                self.ready.put(error)

    def take(self):
        """A warm KernelManager (the caller shuts it down); the next one starts warming."""
        self.orders.put(True)
        km = self.ready.get()
        if isinstance(km, Exception):
            raise km
        return km

    def close(self):
        """Stop warming and shut down the kernels not taken."""
        while not self.orders.empty():
            self.orders.get_nowait()
        self.orders.put(False)
        self.starter.join()
        while not self.ready.empty():
            km = self.ready.get()
            if not isinstance(km, Exception):
                km.shutdown_kernel(now=True)
