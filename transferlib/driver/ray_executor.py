"""The Ray executor: each cell one Ray task, on whichever node has its CPUs and GPUs free.

A cell's task takes the ObjectRefs of the base cells it needs as arguments, so Ray starts it
as soon as they have finished (no barrier between the bases and the rest). A task whose worker
dies (its node lost, its process killed) is run again, up to CELL_RETRIES times; a cell that
fails by itself (its notebook raised) is not. The driver books cells as they finish, in any
order, into the same bar and results.csv as the local executor. Imported only when asked for.
"""

import ray

from .executors import Launcher, not_run, record

CELL_RETRIES = 3


@ray.remote
def _run_cell(launch, cell, *bases):
    """Run ``cell`` on a worker; ``bases``, the metrics of the cells it needs, only order it."""
    return launch(cell)


def execute(study, todo, *, check_data, progress, env, address=None):
    """Run ``todo`` on the Ray cluster at ``address`` (None: $RAY_ADDRESS, else a new local
    instance), after ``check_data()``. ``env`` is set in each cell's worker (which reads the
    cache folder too) and handed to its kernel. Returns {cell id: (notebook, error)} of the
    cells that failed or could not run."""
    check_data()
    bar = progress()
    if not ray.is_initialized():
        ray.init(address=address, log_to_driver=False)
    options = dict(num_cpus=study.params.cpus_per_cell, num_gpus=study.params.gpus_per_cell,
                   max_retries=CELL_RETRIES, runtime_env={"env_vars": env})
    launch = ray.put(Launcher(study, env=env))
    refs = {}
    for cell in todo:  # grid order: a cell's bases come before it
        bases = [refs[n] for n in cell.needs if n in refs]
        refs[cell.id] = _run_cell.options(name=cell.id, **options).remote(launch, cell, *bases)
    cells = {ref: cell for cell, ref in zip(todo, refs.values())}
    failed, pending = {}, list(refs.values())
    while pending:
        [ref], pending = ray.wait(pending, num_returns=1)
        cell = cells[ref]
        blocked = [n for n in cell.needs if n in refs and _failed(refs[n])]
        if blocked:
            not_run(study, cell, blocked[0], failed, bar)
        else:
            record(study, cell, lambda: _result(ref), failed, bar)
    return failed


def _result(ref):
    """The finished task's metrics, or the cell's own error."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as e:
        raise e.cause from None


def _failed(ref):
    """Whether the finished task ``ref`` raised."""
    try:
        ray.get(ref, timeout=0)
    except ray.exceptions.GetTimeoutError:
        return False
    except ray.exceptions.RayError:
        return True
    return False
