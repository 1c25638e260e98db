"""The GPU benchmark's one command, end to end on JAX's CPU backend (``--cpu --tiny``), so that
a GPU call never spends its minutes finding a typo. Its figures are not asserted (no timed
tests): only that every part ran and was reported."""

import json
import os
import subprocess
import sys
import tarfile

import pytest

from conftest import SHARED_DATASETS, TINY_32PX

pytest.importorskip("jax")
# Every test here starts processes or trains: the slow tier.
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not TINY_32PX.exists(), reason=f"{TINY_32PX} is absent")]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_gpu_benchmark_runs_end_to_end_on_the_cpu(tmp_path, data_cache, tiny_imagenet):
    env = dict(os.environ, TRANSFER_DATA_DIR=str(SHARED_DATASETS),
               PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    run = subprocess.run([sys.executable, "-m", "benchmarks.gpu.run", "--cpu", "--tiny", "--out", str(tmp_path / "out"),
                          "--cache-dir", str(data_cache)], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=3600)
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-5000:]
    results = json.loads((tmp_path / "out" / "results-gpu.json").read_text())
    report = (tmp_path / "out" / "RESULTS-gpu.md").read_text()
    assert "NOT GPU figures" in report and "--cpu --tiny" in report
    assert results["errors"] == {}
    assert results["matmul"]["jax_tflops"] > 0
    try:
        import torch  # noqa: F401
        has_torch = True
    except ImportError:
        has_torch = False  # the PyTorch half is skipped, and says so
        assert any(k.startswith("PyTorch") for k in results["not_run"])
    for key in ("32px-mixed_bfloat16", "227px-mixed_bfloat16", "64px-mixed_bfloat16", "32px-float32"):
        row = results["throughput"][key]
        assert row["keras"]["img_s"] > 0 and row["keras"]["flops"] > 0 and row["keras"]["backend"] == "cpu"
        assert (row["torch"]["img_s"] > 0) if has_torch else "torch" not in row
    assert set(results["packing"]) == {"1", "2"}
    assert results["packing"]["2"]["cells"][0]["mem_fraction"] == "0.450"  # each of 2 cells: its share
    trained, planned = results["studies"]["findings-gpu"], results["studies"]["gpu-quick"]
    assert trained["exit"] == 0, trained["output_tail"]
    assert trained["cells"] == 3 and trained["overhead_per_cell_s"] > 0
    assert planned["exit"] == 0 and "to run: 3 cells" in planned["output_tail"], planned["output_tail"]
    assert "`gpu-quick`: a dry run" in report
    with tarfile.open(tmp_path / "out" / "findings-gpu.tar.gz") as tar:  # the report to publish, less its models
        names = tar.getnames()
    assert {"findings-gpu/results.csv", "findings-gpu/summary.html", "findings-gpu/cells/r0-A1B.ipynb"} <= set(names)
    assert not any("/models/" in n for n in names)
    for name in ("tiny-imagenet", "paper", "imagenet-fast"):
        assert results["extrapolations"][name]["gpu_hours"] > 0
    assert results["extrapolations"]["paper"]["cells"] == 200  # paper.yaml's networks (test_grid)
    not_run = [k for k in results["not_run"] if not k.startswith("start-up")]  # the GPU run's, when time is left
    assert not_run == ([] if has_torch else not_run[:1])
