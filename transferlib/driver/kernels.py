"""Kernels for the cells' notebooks, started warm: booted, with TensorFlow and transferlib
imported. A ``KernelPool`` starts each next kernel while the current cell trains, and pays there
the cell's first calls too (``cell.warm_up``), so that a cell's notebook, still in a kernel of its
own, starts at once.

Kernels are jupyter_client's ``AsyncKernelManager``: nbclient then waits for output and for the
kernel's life side by side, so a kernel killed mid-cell (a signal, the out-of-memory killer)
fails its cell within a second or two instead of leaving the runner waiting for ever.
Kernel starts on one machine are spaced apart (a lock file shared by threads and processes,
Ray workers included), which avoids the port races of parallel kernel launches. Kernels die
with the process that started them (ipykernel polls its parent).
"""

import asyncio
import fcntl
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager

LAUNCH_GAP = 2.0  # seconds between kernel starts on a machine

IMPORTS = ("from transferlib.cell import (conv1_figure, devices, files, inputs, introduction, layer_similarity, "
           "logs, networks, tables, train, transfer, warm_up)\n"
           "import matplotlib.pyplot")
FIRST_CALLS = "warm_up.warm_up()"  # worth its second only where a cell trains meanwhile (a spare)


class ReadyClient(AsyncKernelClient):
    """jupyter_client's async client, ready as soon as the kernel answers on both channels.
    jupyter_client's own ``wait_for_ready`` returns only after IOPub has been silent for 0.2 s,
    and nbclient waits for it at every notebook: 0.2 s of every cell."""

    async def wait_for_ready(self, timeout=None):
        """Return once a kernel_info request's reply and its idle status on IOPub have come
        (asked again while IOPub is not yet subscribed); RuntimeError as soon as the kernel is
        dead, or after ``timeout`` s."""
        deadline = time.monotonic() + (timeout or 60)
        while time.monotonic() < deadline:
            msg_id = self.kernel_info()
            try:
                while not _idle_after(await self.iopub_channel.get_msg(timeout=0.5), msg_id):
                    pass
            except queue.Empty:
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info") from None
                continue
            while (await self.shell_channel.get_msg(timeout=max(deadline - time.monotonic(), 1))
                   )["parent_header"].get("msg_id") != msg_id:
                pass
            return
        raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")


def _idle_after(msg, msg_id):
    return (msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"
            and msg["parent_header"].get("msg_id") == msg_id)


class KernelDied(RuntimeError):
    """A cell's kernel died while it ran (killed by a signal, the out-of-memory killer...)."""


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


def start(cwd, env=None, kernel_name="python3", first_calls=False):
    """A started kernel (an AsyncKernelManager: the caller shuts it down with ``shutdown``)
    working in ``cwd``, with this process's environment and over it ``env`` (the runner's
    ``kernel_env``), the cell's modules imported, and with ``first_calls`` their first calls
    paid too (``cell.warm_up``)."""
    km = AsyncKernelManager(kernel_name=kernel_name, client_class=f"{__name__}.ReadyClient")

    async def boot():
        with _start_slot():
            # The kernel's own stdout/stderr (TensorFlow's C++ log lines) stay out of the
            # runner's terminal; what the notebook prints reaches it through the kernel protocol.
            await km.start_kernel(cwd=str(cwd), env={**os.environ, **(env or {})},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = km.client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=120)
            code = IMPORTS + ("\n" + FIRST_CALLS if first_calls else "")
            reply = await client.execute_interactive(code, silent=True, timeout=300,
                                                     output_hook=lambda msg: None)
            if reply["content"]["status"] != "ok":
                raise RuntimeError(f"warming a kernel failed: {reply['content'].get('evalue')}")
        finally:
            client.stop_channels()

    try:
        asyncio.run(boot())
    except BaseException:
        shutdown(km)
        raise
    return km


def shutdown(km):
    """End the kernel ``km`` now (a kernel already dead is fine)."""
    try:
        asyncio.run(km.shutdown_kernel(now=True))
    except Exception:
        process = getattr(km.provisioner, "process", None)
        if process is not None and process.poll() is None:
            process.kill()


def death(km):
    """Why the kernel ``km`` is dead, in words ("killed by signal 9 (SIGKILL)"), or None if alive."""
    process = getattr(km.provisioner, "process", None)
    code = process.poll() if process is not None else None
    if code is None:
        return None
    if code < 0:
        name = signal.Signals(-code).name
        return (f"killed by signal {-code} ({name}"
                + (", as the out-of-memory killer does)" if name == "SIGKILL" else ")"))
    return f"exited with status {code}"


def execute(source, output, parameters, km):
    """Execute notebook ``source`` with ``parameters`` into ``output`` (papermill) on the kernel
    ``km``, then shut the kernel down. A cell's error raises RuntimeError("Name: message"); a
    kernel that dies, mid-cell or while nbclient connects to it, raises ``KernelDied`` naming
    how it died and the notebook."""
    import papermill
    from nbclient.exceptions import DeadKernelError

    try:
        papermill.execute_notebook(str(source), str(output), parameters=parameters, km=km,
                                   kernel_name=km.kernel_name, progress_bar=False)
    except papermill.PapermillExecutionError as error:
        raise RuntimeError(f"{error.ename}: {error.evalue}") from None
    except Exception as error:
        cause = death(km)
        if cause is None and not isinstance(error, DeadKernelError):
            raise
        raise KernelDied(f"its kernel died ({cause or 'unknown cause'}) while running "
                         f"{output}") from None
    finally:
        shutdown(km)


class KernelPool:
    """``spares`` kernels kept started and warmed in ``cwd`` with ``env`` (see ``start``), first
    calls paid; ``take()`` hands one out.
    ``kill_running()`` ends every kernel handed out and not yet shut down (on Ctrl-C)."""

    def __init__(self, spares, cwd, env=None, kernel_name="python3"):
        self.cwd, self.env, self.kernel_name = cwd, env, kernel_name
        self.ready, self.orders = queue.Queue(), queue.Queue()
        self.handed_out = []
        self.starter = threading.Thread(target=self._serve, daemon=True)
        self.starter.start()
        for _ in range(spares):
            self.orders.put(True)

    def _serve(self):
        while self.orders.get():
            try:
                self.ready.put(start(self.cwd, self.env, self.kernel_name, first_calls=True))
            except Exception as error:  # handed to the cell that takes this kernel
                self.ready.put(error)

    def take(self):
        """A warm kernel (the caller shuts it down); the next one starts warming."""
        self.orders.put(True)
        km = self.ready.get()
        if isinstance(km, Exception):
            raise km
        self.handed_out.append(km)
        return km

    def kill_running(self):
        for km in self.handed_out:
            process = getattr(km.provisioner, "process", None)
            if process is not None and process.poll() is None:
                process.kill()

    def close(self):
        """Stop warming and shut down the kernels not taken."""
        while not self.orders.empty():
            self.orders.get_nowait()
        self.orders.put(False)
        self.starter.join()
        while not self.ready.empty():
            km = self.ready.get()
            if not isinstance(km, Exception):
                shutdown(km)
