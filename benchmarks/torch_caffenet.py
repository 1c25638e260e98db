"""An idiomatic PyTorch training loop for the 32 px CaffeNet, the reference of the speed
benchmark: same layers, initialisation, batch size, optimiser and augmentation as
transferlib's, on the same decoded uint8 images."""

import time

import numpy as np
import torch
from torch import nn


def caffenet32(num_classes, conv_filters, fc_units):
    """transferlib.cell.architectures.caffenet(image_size=32) in PyTorch ("scaled" init: He-normal, zero biases)."""
    f1, f2, f3, f4, f5 = conv_filters
    lrn = dict(size=5, alpha=1e-4, beta=0.75, k=1.0)  # PyTorch's alpha is Caffe's (divided by size)
    model = nn.Sequential(
        nn.Conv2d(3, f1, 5, stride=2, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1), nn.LocalResponseNorm(**lrn),
        nn.Conv2d(f1, f2, 5, padding=2, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1), nn.LocalResponseNorm(**lrn),
        nn.Conv2d(f2, f3, 3, padding=1), nn.ReLU(),
        nn.Conv2d(f3, f4, 3, padding=1, groups=2), nn.ReLU(),
        nn.Conv2d(f4, f5, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1),
        nn.Flatten(),
        nn.Linear(f5 * 2 * 2, fc_units), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(fc_units, fc_units), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(fc_units, num_classes),
    )
    layers = [m for m in model if isinstance(m, (nn.Conv2d, nn.Linear))]
    for layer in layers[:-1]:
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        nn.init.zeros_(layer.bias)
    nn.init.normal_(layers[-1].weight, std=0.01)
    nn.init.zeros_(layers[-1].bias)
    return model


def optimizer(model, lr=0.01):
    """Caffe's solver: momentum 0.9, weight decay 5e-4 on weights only, biases at twice the rate."""
    weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
    return torch.optim.SGD([{"params": weights, "weight_decay": 5e-4},
                            {"params": biases, "lr": 2 * lr, "weight_decay": 0.0}], lr=lr, momentum=0.9)


def batches(images, labels, batch_size, size, mean, std, generator):
    """Shuffled batches with a random crop and mirror per image, standardised, NCHW float."""
    x = torch.from_numpy(np.ascontiguousarray(images))  # uint8 NHWC
    y = torch.from_numpy(labels.astype(np.int64))
    mean = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    slack, span = x.shape[1] - size, torch.arange(size)
    while True:
        order = torch.randperm(len(y), generator=generator)
        for i in range(0, len(y) - batch_size + 1, batch_size):
            index = order[i:i + batch_size]
            top, left = torch.randint(0, slack + 1, (2, batch_size, 1), generator=generator)
            rows, cols = top + span, left + span
            crop = x[index[:, None, None], rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
            flip = torch.rand(batch_size, generator=generator) < 0.5
            crop = torch.where(flip.view(-1, 1, 1, 1), crop.flip(-1), crop)
            yield (crop.float() - mean) / std, y[index]


def images_per_second(subset, conv_filters, fc_units, *, batch_size, warmup, steps, mean, std, seed=0):
    """Training img/s of the PyTorch loop over ``steps`` batches after ``warmup`` batches."""
    torch.manual_seed(seed)
    model = caffenet32(len(subset.classes), conv_filters, fc_units)
    opt, loss_fn = optimizer(model), nn.CrossEntropyLoss()
    feed = batches(subset.train_images, subset.train_labels, batch_size, 32, mean, std,
                   torch.Generator().manual_seed(seed))
    model.train()
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        x, y = next(feed)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return steps * batch_size / (time.perf_counter() - start)
