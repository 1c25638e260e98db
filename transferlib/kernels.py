"""Warm kernels: each cell's notebook still runs in a kernel of its own, but that kernel is
started, and has imported TensorFlow and transferlib, while the previous cell trains.

Kernels start one at a time in a background thread, which also avoids the port races of
parallel kernel launches. They die with the runner (ipykernel polls its parent process).
"""

import os
import queue
import threading

from jupyter_client.manager import KernelManager

WARM_UP = "import keras, matplotlib.pyplot\nfrom transferlib import models, plots, steps, train, transfer"


class KernelPool:
    """``spares`` kernels kept started and warmed in ``cwd``; ``take()`` hands one out."""

    def __init__(self, spares, cwd, env=None, kernel_name="python3"):
        self.cwd, self.env, self.kernel_name = str(cwd), env or dict(os.environ), kernel_name
        self.ready, self.orders = queue.Queue(), queue.Queue()
        self.starter = threading.Thread(target=self._serve, daemon=True)
        self.starter.start()
        for _ in range(spares):
            self.orders.put(True)

    def _serve(self):
        while self.orders.get():
            try:
                self.ready.put(self._start())
            except Exception as error:  # handed to the cell that takes this kernel
                self.ready.put(error)

    def _start(self):
        km = KernelManager(kernel_name=self.kernel_name)
        km.start_kernel(cwd=self.cwd, env=self.env)
        client = km.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=120)
            reply = client.execute_interactive(WARM_UP, silent=True, timeout=300)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"warming a kernel failed: {reply['content'].get('evalue')}")
        finally:
            client.stop_channels()
        return km

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
