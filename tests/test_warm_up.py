"""A spare kernel's warm-up (``cell.warm_up``, run by the runner's kernel pool)
changes nothing a cell computes: the same cell in a fresh process and in a warmed one gives the
same network."""

import json
import os
import subprocess
import sys

import pytest

from conftest import SHARED_DATASETS, TINY_32PX

# Every test here starts processes or trains: the slow tier.
pytestmark = pytest.mark.slow

CELL = """
import hashlib, json, sys
from transferlib.cell import devices, inputs, networks, train, warm_up
if sys.argv[1] == "warm":
    warm_up.warm_up()
devices.setup(seed=3)
subset, train_ds, val_ds = inputs.load_data("tiny_imagenet", 4, image_size=32, batch_size=16, seed=3,
                                            max_per_class=32)
net = networks.build("caffenet", len(subset.classes), 32, width=0.125, seed=3)
result = train.train(net.model, train_ds, val_ds, iterations=4, val_every=2, seed=3, progress=False,
                     print_fn=lambda *a: None)
digest = hashlib.sha256(b"".join(w.numpy().tobytes() for w in net.model.weights)).hexdigest()
print(json.dumps({"layers": [l.name for l in net.model.layers], "weights": digest,
                  "val_top1": [h["val_top1"] for h in result.history]}))
"""


@pytest.mark.skipif(not TINY_32PX.exists(), reason="needs ../shared/datasets")
def test_a_warmed_kernel_trains_the_same_network_as_a_fresh_one(tiny_imagenet, data_cache):
    env = dict(os.environ, TRANSFER_DATA_DIR=str(SHARED_DATASETS), TRANSFER_CACHE_DIR=str(data_cache))
    runs = {how: subprocess.run([sys.executable, "-c", CELL, how], env=env, capture_output=True, text=True)
            for how in ("fresh", "warm")}
    for how, run in runs.items():
        assert run.returncode == 0, f"{how}: {run.stderr[-2000:]}"
    fresh, warm = (json.loads(runs[how].stdout.strip().splitlines()[-1]) for how in ("fresh", "warm"))
    assert fresh == warm
    assert len(fresh["val_top1"]) == 2
