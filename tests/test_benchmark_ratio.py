"""The benchmark's ratio statistic (``benchmarks.run.median_interval``) and its reading: one
stray pair cannot turn half speed into parity; the results file is named by the CPU."""

import math
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import run

# Issue 30's pairs on a 2-core AMD EPYC (the first one PyTorch's slowest by far), and four like the rest.
HALF_SPEED = [1.94, 0.57, 0.57, 0.46, 0.53, 0.55, 0.52, 0.56, 0.50]


def read(ratios):
    _, low, high, _, _ = run.median_interval(ratios)
    return run.reading(low, high)


def test_one_stray_pair_does_not_make_parity():
    median, low, high, _, _ = run.median_interval(HALF_SPEED)
    assert (median, low, high) == (0.55, 0.50, 0.57)
    assert read(HALF_SPEED) == "slower"
    assert "**slower**" in run.ratio_line("transferlib / PyTorch", HALF_SPEED)


@pytest.mark.parametrize("ratios, said", [
    ([0.97, 1.04, 0.99, 1.02, 0.95, 1.01, 1.06, 0.98, 1.00], "parity"),
    ([1.12, 1.05, 1.21, 0.93, 1.08, 1.10, 1.15, 1.07, 1.09], "faster"),
    ([1.02, 1.01, 1.03, 1.02, 1.04, 1.01, 1.02, 1.05, 1.03], "faster"),
])
def test_reading(ratios, said):
    assert read(ratios) == said


def test_nine_pairs_give_the_2nd_and_8th_order_statistics():
    """P(Bin(9, 1/2) <= 1) = 10/512 = 0.0195 <= 0.025 < P(<= 2) = 46/512: the interval's ends are
    the 2nd smallest and 2nd largest of 9, and it holds the median with probability 1 - 2 * 10/512."""
    assert sum(math.comb(9, i) for i in range(2)) / 2 ** 9 == pytest.approx(0.0195, abs=1e-4)
    _, low, high, k, coverage = run.median_interval(list(range(1, 10)))
    assert (low, high, k) == (2, 8, 2)
    assert coverage == 1 - 2 * 10 / 512


def test_fewer_than_six_pairs_have_no_interval():
    with pytest.raises(ValueError, match="too few"):
        run.median_interval([0.9, 1.1, 1.0, 0.95, 1.05])


def test_the_benchmark_refuses_fewer_than_nine_pairs():
    done = subprocess.run([sys.executable, "-m", "benchmarks.run", "--pairs", "8", "--no-study"],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--pairs: at least 9" in done.stderr, done.stderr


@pytest.mark.parametrize("model, name", [
    ("Intel(R) Xeon(R) Processor", "intel-xeon"),
    ("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz", "intel-xeon"),
    ("AMD EPYC", "amd-epyc"),
    ("AMD EPYC 7B13 64-Core Processor", "amd-epyc"),
    ("Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz", "intel-core-i7-8700"),
])
def test_results_file_named_by_cpu(model, name):
    assert run.cpu_name(model) == name
