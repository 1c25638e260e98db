"""The measurements of ``benchmarks.gpu.run``, each run in a fresh process of its own:

    python -m benchmarks.gpu.measure NAME 'JSON OPTIONS'     # prints one JSON line

``keras``: training img/s of transferlib's CaffeNet under Keras on JAX, through the device input
path (``DeviceBatches``), the model's FLOPs per image; ``torch``: the PyTorch loop of the same
network (``torch_net``); ``matmul``: the bf16 matrix rate through JAX and PyTorch; ``pack``: one
of several cells sharing the GPU, timed from a common start.
"""

import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def images(image_size, *, classes, count, data_dir=None, real=True, seed=0):
    """(uint8 images at the stored size, labels, mean, scale): Tiny ImageNet's first ``classes``
    classes where ``real`` (32 px: the 32 px archive is the one that travels), else ``count``
    synthetic decoded images (random uint8) in ``classes`` classes."""
    from transferlib import data as datasets
    from transferlib.cell import data
    stored = datasets.stored_size(image_size)
    if real:
        dataset = datasets.load("tiny_imagenet", stored, data_dir=data_dir)
        subset = data.select(dataset, dataset.classes[:classes])
        x, y = subset.train_images, subset.train_labels
    else:
        rng = np.random.default_rng(seed)
        x = rng.integers(0, 256, (count, stored, stored, 3), dtype=np.uint8)
        y = rng.integers(0, classes, count).astype(np.int32)
    mean, scale = data.normalisation(x, image_size)
    return x, y, mean, scale


def training_flops(model):
    """Model FLOPs of one training image: 3x the forward multiply-adds x 2 (forward, and the
    gradients of inputs and weights), over the conv and dense layers (grouped: per group)."""
    from transferlib.cell.architectures import GroupedConv2D
    forward = 0
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in ("Conv2D", "GroupedConv2D"):
            k = layer.kernel_size if isinstance(layer.kernel_size, int) else layer.kernel_size[0]
            groups = layer.groups if isinstance(layer, GroupedConv2D) else 1
            _, h, w, out = layer.output.shape
            forward += 2 * k * k * (layer.input.shape[-1] // groups) * out * h * w
        elif kind == "Dense":
            forward += 2 * layer.input.shape[-1] * layer.units
    return 3 * forward


def architecture(image_size, width):
    from transferlib.cell import architectures
    return (tuple(architectures.scaled(f, width) for f in architectures._CONV_FILTERS),
            architectures.scaled(architectures._FC_UNITS[image_size], width))


def cycling(batches, full):
    """A keras PyDataset class whose ``Cycle(length)`` gives ``length`` steps going round the
    first ``full`` batches of ``batches`` (full batches only: one compiled shape)."""
    import keras

    class Cycle(keras.utils.PyDataset):
        def __init__(self, length):
            super().__init__()
            self.length = length

        def __len__(self):
            return self.length

        def __getitem__(self, i):
            return batches[i % full]
    return Cycle


def warm_up(model, cycle, steps, most=5):
    """Train until a ``fit`` of two steps traces and compiles nothing, at most ``most`` times
    after a first ``fit`` of ``steps`` steps: the next ``fit`` calls compile the step again (the
    state comes back from each with other types, twice on the CPU), and a compilation inside the
    timed ``fit`` would be timed. Returns the number of ``fit`` calls."""
    import jax
    traced = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, *_, **__: traced.append(event) if event.startswith("/jax/core/compile/") else None)
    model.fit(cycle(max(1, steps)), epochs=1, verbose=0)
    for calls in range(2, most + 2):
        before = len(traced)
        model.fit(cycle(2), epochs=1, verbose=0)
        jax.block_until_ready(model.get_layer("fc8").kernel.value)
        if len(traced) == before:
            return calls
    raise RuntimeError(f"training still compiles after {most + 1} fit calls: a timing would include it")


def keras_rate(image_size, precision, *, width, classes, batch, warmup, steps, real, count=0, data_dir=None):
    """{img_s, flops, compile_s}: training img/s of ``architectures.caffenet`` after ``warmup`` steps."""
    import jax

    from transferlib.cell import architectures, data, devices, train
    devices.setup(precision=precision)
    x, y, mean, scale = images(image_size, classes=classes, count=count, data_dir=data_dir, real=real)
    train_ds = data.pipelines(data.Subset(tuple(range(classes)), x, y, x[:batch], y[:batch]),
                              image_size=image_size, batch_size=batch, seed=0, kind="device")[0]
    full = len(y) // batch  # full batches only: one compiled shape

    Cycle = cycling(train_ds, full)

    model = architectures.caffenet(classes, image_size, width)
    train.compile_model(model, lr=0.01, lr_drops=(), total_steps=warmup + steps, jit_compile=True)
    start = time.perf_counter()
    warm_up(model, Cycle, warmup)
    compiled = time.perf_counter()
    model.fit(Cycle(steps), epochs=1, verbose=0)
    jax.block_until_ready(model.get_layer("fc8").kernel.value)
    end = time.perf_counter()
    return {"img_s": steps * batch / (end - compiled), "flops": training_flops(model),
            "warmup_s": compiled - start, "backend": jax.default_backend(),
            "device": str(jax.devices()[0].device_kind)}


def torch_rate(image_size, bf16, *, width, classes, batch, warmup, steps, real, compile, count=0,
               data_dir=None, device="cuda"):
    """{img_s}: the PyTorch loop's training img/s of the same network (``torch_net``)."""
    import torch

    from benchmarks.gpu import torch_net
    if device == "cpu":
        torch.set_num_threads(os.cpu_count())
    x, y, mean, scale = images(image_size, classes=classes, count=count, data_dir=data_dir, real=real)
    convs, fc = architecture(image_size, width)
    start = time.perf_counter()
    rate = torch_net.images_per_second(x, y, image_size=image_size, num_classes=classes, conv_filters=convs,
                                       fc_units=fc, batch_size=batch, warmup=warmup, steps=steps, mean=mean,
                                       scale=scale, bf16=bf16, compile=compile, device=device)
    return {"img_s": rate, "seconds": time.perf_counter() - start, "torch": torch.__version__}


def matmul(n, device="cuda"):
    """{jax_tflops, torch_tflops}: an n x n x n bf16 matrix product's rate, through each."""
    import jax
    import jax.numpy as jnp
    out = {}
    a = jax.random.normal(jax.random.key(0), (n, n), jnp.bfloat16)
    b = jax.random.normal(jax.random.key(1), (n, n), jnp.bfloat16)
    product = jax.jit(lambda a, b: a @ b)
    for _ in range(3):
        product(a, b).block_until_ready()
    repeats = 10
    start = time.perf_counter()
    for _ in range(repeats):
        c = product(a, b)
    c.block_until_ready()
    out["jax_tflops"] = 2 * n**3 * repeats / (time.perf_counter() - start) / 1e12
    try:
        from benchmarks.gpu import torch_net
        out["torch_tflops"] = torch_net.matmul_rate(n, device=device)
    except ImportError as e:
        out["torch_error"] = str(e)
    return out


def pack(index, barrier, *, image_size, precision, width, classes, batch, warmup, steps, real, data_dir=None):
    """One of several cells sharing the GPU: compile and warm up, say ready (a file in
    ``barrier``), wait for ``barrier/go``, then time ``steps`` steps. {img_s, start, end}."""
    import jax

    from transferlib.cell import architectures, data, devices, train
    devices.setup(precision=precision)
    x, y, mean, scale = images(image_size, classes=classes, count=0, data_dir=data_dir, real=real)
    train_ds = data.pipelines(data.Subset(tuple(range(classes)), x, y, x[:batch], y[:batch]),
                              image_size=image_size, batch_size=batch, seed=index, kind="device")[0]
    full = len(y) // batch

    Cycle = cycling(train_ds, full)

    model = architectures.caffenet(classes, image_size, width, seed=index)
    train.compile_model(model, lr=0.01, lr_drops=(), total_steps=warmup + steps, jit_compile=True)
    warm_up(model, Cycle, warmup)
    barrier = Path(barrier)
    (barrier / f"ready-{index}").touch()
    while not (barrier / "go").exists():
        time.sleep(0.01)
    start = time.time()
    model.fit(Cycle(steps), epochs=1, verbose=0)
    jax.block_until_ready(model.get_layer("fc8").kernel.value)
    end = time.time()
    return {"img_s": steps * batch / (end - start), "start": start, "end": end, "images": steps * batch,
            "mem_fraction": os.environ.get("XLA_PYTHON_CLIENT_MEM_FRACTION")}


MEASURES = {"keras": keras_rate, "torch": torch_rate, "matmul": matmul, "pack": pack}


if __name__ == "__main__":
    name, options = sys.argv[1], json.loads(sys.argv[2])
    args = options.pop("args", [])
    print(json.dumps(MEASURES[name](*args, **options)))
