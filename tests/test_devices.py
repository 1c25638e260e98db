"""The ``devices`` options of a params file as a cell receives and applies them, on a CPU:
precision, jit_compile, memory_growth and distribute reach the notebook's parameters and do
what they say through the calls the notebooks make; gpus_per_cell reaches the kernels' environment."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import yaml

from test_faults import SMOKE, THREE_CELLS
from transferlib.cell import architectures, data, devices, train
from transferlib.driver.kernel_env import kernel_env
from transferlib.driver.loaded_study import load_study
from transferlib.driver.params import load_params

DEVICES = dict(precision="mixed_bfloat16", jit_compile=True, memory_growth=True, distribute=True,
               gpus_per_cell=0.5)


@pytest.fixture
def study_with_devices(tmp_path):
    values = {**yaml.safe_load(SMOKE.read_text()), **THREE_CELLS, **DEVICES, "study": "devices"}
    path = tmp_path / "devices.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


@pytest.fixture
def float32_after():
    yield
    keras.mixed_precision.set_dtype_policy("float32")


def test_each_option_reaches_every_cells_parameters_and_leaves_the_hash_alone(study_with_devices, tmp_path):
    params = load_params(study_with_devices)
    assert (params.precision, params.jit_compile, params.memory_growth, params.distribute,
            params.gpus_per_cell) == tuple(DEVICES.values())
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump({**yaml.safe_load(SMOKE.read_text()), **THREE_CELLS, "study": "devices",
                                     "precision": DEVICES["precision"]}))
    hashes = {c.id: c.params_hash for c in load_study(plain, tmp_path / "results", download=False).cells}
    study = load_study(study_with_devices, tmp_path / "results", download=False)
    assert len(study.cells) == 3
    for cell in study.cells:
        sent = study.cell_parameters(cell)
        for key in ("precision", "jit_compile", "memory_growth", "distribute"):
            assert sent[key] == DEVICES[key], key
        # where the cell runs (XLA, GPUs, memory) is not what it computes: the hash stays
        assert hashes[cell.id] == cell.params_hash


def test_gpus_per_cell_reaches_the_kernels_env(study_with_devices):
    params = load_params(study_with_devices)
    assert kernel_env(params)["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"  # a shared GPU
    whole = params.__class__.from_dict({**yaml.safe_load(study_with_devices.read_text()), "gpus_per_cell": 1})
    assert "TF_FORCE_GPU_ALLOW_GROWTH" not in kernel_env(whole)


@pytest.mark.slow
def test_the_options_applied_as_a_notebook_applies_them(study_with_devices, tmp_path, float32_after):
    """devices.setup, the model built in the strategy's scope and train.train with jit_compile,
    as base.ipynb calls them, with the parameters a cell of this study receives."""
    study = load_study(study_with_devices, tmp_path / "results", download=False)
    p = study.cell_parameters(study.cells[0])
    strategy = devices.setup(precision=p["precision"], memory_growth=p["memory_growth"],
                             distribute=p["distribute"], batch_size=p["batch_size"])
    assert isinstance(strategy, tf.distribute.MirroredStrategy)
    assert strategy.num_replicas_in_sync == max(1, len(tf.config.list_physical_devices("GPU")))
    rng = np.random.default_rng(0)
    pictures = rng.integers(0, 256, (64, 36, 36, 3), dtype=np.uint8)
    labels = (np.arange(64) % 2).astype(np.int32)
    subset = data.Subset(("a", "b"), pictures, labels, pictures[:16], labels[:16])
    train_ds, val_ds = data.pipelines(subset, image_size=32, batch_size=p["batch_size"], seed=0)
    with strategy.scope():
        model = architectures.caffenet(2, 32, p["width"], seed=0)
        result = train.train(model, train_ds, val_ds, epochs=1, lr=p["lr"], lr_drops=[], seed=0,
                             jit_compile=p["jit_compile"], progress=False, print_fn=None)
    conv1 = model.get_layer("conv1")
    assert conv1.compute_dtype == "bfloat16" and conv1.kernel.dtype == "float32"  # mixed: float32 weights
    assert model.output.dtype == "float32"  # the softmax in float32
    assert model.jit_compile is True
    assert isinstance(conv1.kernel.value, tf.distribute.DistributedValues)  # built in the strategy
    assert np.isfinite(result.history[-1]["loss"])


def test_memory_growth_and_distribute_refusals_on_a_cpu(float32_after):
    assert isinstance(devices.setup(memory_growth=True), tf.distribute.Strategy)  # no GPU: nothing to grow
    with pytest.raises(ValueError, match="precision must be one of"):
        devices.setup(precision="bfloat16")
