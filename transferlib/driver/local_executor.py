"""The local executor: cells run here, up to ``workers`` at once, each in a warm kernel."""

from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from . import kernels
from .executors import Launcher, not_run, record

SYSTEMIC = 2  # the first cells all failing with one same error, none done: the study stops


def execute(study, todo, *, check_data, progress, env, workers=1):
    """Run ``todo`` in up to ``workers`` threads at once, each after the cells it needs, in
    kernels started with ``env``, once ``check_data()`` has passed (the first kernels boot
    meanwhile). Returns {cell id: (notebook, error)} of the cells that failed or could not run.

    Where the first SYSTEMIC cells to finish all fail with the same error (data not found, an
    import error: the study's, not a cell's), or a base a cell copies from had not converged
    (``Study.unconverged``), no further cell is started. Ctrl-C kills the running cells'
    kernels and returns within seconds."""
    if not todo:
        check_data()
        progress()
        return {}
    warm = kernels.KernelPool(workers, study.driver_dir, env=env)
    try:
        check_data()
    except BaseException:
        warm.close()
        raise
    bar = progress()
    launch = Launcher(study, warm)
    waiting, failed, running = list(todo), {}, {}
    pending_ids = {c.id for c in todo}
    errors, succeeded = [], False
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        while waiting or running:
            if not succeeded and len(errors) >= SYSTEMIC and len(set(errors)) == 1:
                for cell in waiting:
                    failed[cell.id] = (study.notebook(cell), f"not run: the study stopped after its first "
                                       f"{len(errors)} cells failed with the same error")
                    bar.update()
                waiting = []
                if not running:
                    break
            for cell in list(waiting):
                blocked = [n for n in cell.needs if n in failed]
                if blocked:
                    waiting.remove(cell)
                    pending_ids.discard(cell.id)
                    not_run(study, cell, blocked[0], failed, bar)
                elif len(running) < workers and not any(n in pending_ids for n in cell.needs):
                    if why := study.unconverged(cell):
                        for other in waiting:
                            failed[other.id] = (study.notebook(other), why)
                            bar.update()
                        waiting = []
                        break
                    waiting.remove(cell)
                    running[pool.submit(launch, cell)] = cell
            if not running:
                continue
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                cell = running.pop(future)
                pending_ids.discard(cell.id)
                record(study, cell, future.result, failed, bar)
                if cell.id in failed:
                    errors.append(failed[cell.id][1])
                else:
                    succeeded = True
    except BaseException:  # Ctrl-C: end the running kernels, so that their threads end too
        warm.kill_running()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    warm.close()
    return failed
