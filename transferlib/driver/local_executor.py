"""The local executor: cells run here, up to ``workers`` at once, each in a warm kernel."""

from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import closing

from . import kernels
from .executors import Launcher, not_run, record


def execute(study, todo, bar, *, workers=1):
    """Run ``todo`` in up to ``workers`` threads at once, each after the cells it needs.
    Returns {cell id: (notebook, error)} of the cells that failed or could not run."""
    if not todo:
        return {}
    warm = kernels.KernelPool(workers, study.driver_dir)
    launch = Launcher(study, warm)
    waiting, failed, running = list(todo), {}, {}
    pending_ids = {c.id for c in todo}
    with ThreadPoolExecutor(max_workers=workers) as pool, closing(warm):
        while waiting or running:
            for cell in list(waiting):
                blocked = [n for n in cell.needs if n in failed]
                if blocked:
                    waiting.remove(cell)
                    pending_ids.discard(cell.id)
                    not_run(study, cell, blocked[0], failed, bar)
                elif len(running) < workers and not any(n in pending_ids for n in cell.needs):
                    waiting.remove(cell)
                    running[pool.submit(launch, cell)] = cell
            if not running:
                continue
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                cell = running.pop(future)
                pending_ids.discard(cell.id)
                record(study, cell, future.result, failed, bar)
    return failed
