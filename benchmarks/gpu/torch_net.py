"""The PyTorch reference of the GPU benchmark: transferlib's CaffeNet at 32, 64 and 227 px as an
idiomatic PyTorch training loop on the same device, same initialisation, solver, batch and
augmentation (uint8 images on the device, random crop and mirror there), in bf16 autocast or
float32, channels-last, optionally ``torch.compile``d. Extends ``benchmarks/torch_caffenet.py``
(32 px only) to every size."""

import time

import numpy as np
import torch
from torch import nn

from benchmarks.torch_caffenet import optimizer  # Caffe's solver, the CPU comparison's

# transferlib.cell.architectures: conv1 (kernel, stride, padding) and pooling padding per size.
STEM = {227: (11, 4, 0, 0), 64: (5, 2, 2, 1), 32: (5, 2, 2, 1)}


def caffenet(image_size, num_classes, conv_filters, fc_units):
    """``architectures.caffenet(num_classes, image_size)`` in PyTorch: the paper's init at 227 px
    (Gaussian 0.01 / 0.005, biases 0 or 1), "scaled" (He-normal, zero biases) below."""
    k1, s1, p1, pp = STEM[image_size]
    f1, f2, f3, f4, f5 = conv_filters
    lrn = dict(size=5, alpha=1e-4, beta=0.75, k=1.0)  # PyTorch's alpha is Caffe's
    features = nn.Sequential(
        nn.Conv2d(3, f1, k1, stride=s1, padding=p1), nn.ReLU(), nn.MaxPool2d(3, 2, padding=pp), nn.LocalResponseNorm(**lrn),
        nn.Conv2d(f1, f2, 5, padding=2, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2, padding=pp), nn.LocalResponseNorm(**lrn),
        nn.Conv2d(f2, f3, 3, padding=1), nn.ReLU(),
        nn.Conv2d(f3, f4, 3, padding=1, groups=2), nn.ReLU(),
        nn.Conv2d(f4, f5, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2, padding=pp),
        nn.Flatten())
    with torch.no_grad():
        flat = features(torch.zeros(1, 3, image_size, image_size)).shape[1]
    model = nn.Sequential(
        *features,
        nn.Linear(flat, fc_units), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(fc_units, fc_units), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(fc_units, num_classes))
    weighted = [m for m in model if isinstance(m, (nn.Conv2d, nn.Linear))]
    for i, layer in enumerate(weighted):
        if image_size == 227:
            nn.init.normal_(layer.weight, std=0.005 if i in (5, 6) else 0.01)
            nn.init.constant_(layer.bias, 1.0 if i in (1, 3, 4, 5, 6) else 0.0)
        elif i < len(weighted) - 1:
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
        else:
            nn.init.normal_(layer.weight, std=0.01)
            nn.init.zeros_(layer.bias)
    return model


def images_per_second(images, labels, *, image_size, num_classes, conv_filters, fc_units, batch_size,
                      warmup, steps, mean, scale, bf16, compile, device, seed=0):
    """Training img/s over ``steps`` steps after ``warmup`` steps (compilation included there).
    ``images``: uint8 NHWC at the stored size, put on ``device`` once; crops and mirrors are
    drawn and applied there."""
    torch.manual_seed(seed)
    dev = torch.device(device)
    model = caffenet(image_size, num_classes, conv_filters, fc_units).to(dev, memory_format=torch.channels_last)
    opt, loss_fn = optimizer(model), nn.CrossEntropyLoss()
    x_all = torch.from_numpy(np.ascontiguousarray(images)).to(dev)
    y_all = torch.from_numpy(labels.astype(np.int64)).to(dev)
    mean = torch.tensor(mean, dtype=torch.float32, device=dev).view(1, 3, 1, 1)
    scale = torch.tensor(scale, dtype=torch.float32, device=dev).view(1, 3, 1, 1)
    slack, span = x_all.shape[1] - image_size, torch.arange(image_size, device=dev)
    gen = torch.Generator(device=dev).manual_seed(seed)

    def batch():
        index = torch.randint(0, len(y_all), (batch_size,), device=dev, generator=gen)
        top, left = torch.randint(0, slack + 1, (2, batch_size, 1), device=dev, generator=gen)
        crop = x_all[index[:, None, None], (top + span)[:, :, None], (left + span)[:, None, :]]
        flip = torch.rand(batch_size, device=dev, generator=gen) < 0.5
        crop = torch.where(flip.view(-1, 1, 1, 1), crop.flip(2), crop).permute(0, 3, 1, 2)
        x = ((crop.float() - mean) / scale).contiguous(memory_format=torch.channels_last)
        return x, y_all[index]

    def step(x, y):
        opt.zero_grad(set_to_none=True)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model(x).float(), y)
        loss.backward()
        opt.step()
        return loss

    run = torch.compile(step) if compile else step
    model.train()
    for i in range(warmup + steps):
        if i == warmup:
            _sync(dev)
            start = time.perf_counter()
        run(*batch())
    _sync(dev)
    return steps * batch_size / (time.perf_counter() - start)


def _sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize()


def matmul_rate(n=8192, repeats=10, device="cuda"):
    """TFLOP/s of an n x n x n bfloat16 matrix product through PyTorch (mean of ``repeats``
    after three warm-ups)."""
    dev = torch.device(device)
    a = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    _sync(dev)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    _sync(dev)
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e12
