"""The networks a study can train and their ordered transfer units, known without TensorFlow.

The paper's n is "the first n units": a unit is what the transfer construction copies, freezes
or fine-tunes as one piece. The CaffeNet's units are its eight weight layers, conv1..fc8. A
ResNet's are its stem, each residual stage (``network_units: stages``) or each residual block
(``network_units: blocks``), and its head (global pooling and the classifier). A user's network
(``model: module:function``) declares its own (see ``cell.networks``). The last unit is the
classifier, never copied, so n runs over 1..K-1 for K units.

Each built-in network is an entry of ``NETWORKS``, keyed by its name as ``cell.architectures``
registers its builder: its unit names and the image sizes it is defined for. The driver reads
them from here (``unit_names``); for a user's function it asks a subprocess that builds the
network once (``user_unit_names``), so the driver itself never imports TensorFlow.
"""

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from functools import partial
from typing import Callable

CAFFENET = "caffenet"  # the paper's network, a study's default
UNIT_CHOICES = ("stages", "blocks")
CAFFENET_UNITS = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8")
RESNET_BLOCKS = {"resnet18": (2, 2, 2, 2), "resnet50": (3, 4, 6, 3)}  # residual blocks per stage
FUNCTION = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")  # module:function


def _resnet_units(blocks, network_units):
    """A ResNet's stem, stages (``stage1``..) or blocks (``stage1_block1``..) and head."""
    if network_units not in UNIT_CHOICES:
        raise ValueError(f"network_units must be one of {UNIT_CHOICES}, got {network_units!r}")
    if network_units == "stages":
        middle = [f"stage{s}" for s in range(1, len(blocks) + 1)]
    else:
        middle = [f"stage{s}_block{b}" for s, count in enumerate(blocks, 1) for b in range(1, count + 1)]
    return ("stem", *middle, "head")


@dataclass(frozen=True)
class Known:
    """What is known of a built-in network without building it: ``units(network_units)``, its
    ordered unit names, and ``image_sizes``, the sizes it is defined for (empty: any >= 16)."""

    units: Callable[[str], tuple]
    image_sizes: tuple = ()


# The built-in networks by name; ``cell.architectures`` registers a builder under each.
NETWORKS = {CAFFENET: Known(lambda network_units: CAFFENET_UNITS, image_sizes=(32, 64, 227)),
            **{name: Known(partial(_resnet_units, blocks)) for name, blocks in RESNET_BLOCKS.items()}}
MODELS = tuple(NETWORKS)


def is_function(network):
    """Whether ``network`` names a user's function, ``module:function``."""
    return bool(FUNCTION.fullmatch(network))


def known(network):
    """The ``Known`` entry of a built-in ``network``; ValueError naming the built-in ones."""
    if network not in NETWORKS:
        raise ValueError(f"network must be one of {', '.join(MODELS)} or module:function, got {network!r}")
    return NETWORKS[network]


def unit_names(network, network_units="stages"):
    """The ordered unit names of a built-in ``network``: conv1..fc8, or a ResNet's stem, stages
    (``stage1``..) or blocks (``stage1_block1``..) and head."""
    return known(network).units(network_units)


def recorded_unit(names, n, tuned_unit=0):
    """The unit a cell is recorded by, of its network's unit ``names``: the n-th, the last one
    copied, or in a surgical cell the one that learns (``tuned_unit``); "" for a base (n = 0)."""
    return names[(tuned_unit or n) - 1] if n else ""


_CACHE = {}


def cwd_on_pythonpath():
    """$PYTHONPATH with the working folder first: a ``module:function`` network in the folder the
    study was started from must import in the processes that build it (this check's, the cells'
    kernels, which work in the study folder)."""
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join(dict.fromkeys([os.getcwd(), *paths]))


def user_unit_names(network, image_size, width, network_units="stages"):
    """The unit names of the user's function ``network`` ("module:function"), found by building it
    once in a subprocess (TensorFlow stays out of the driver). Raises ValueError with the
    subprocess's last error line when it cannot be imported or built."""
    code = ("from transferlib.cell import networks; "
            "names = networks.build(a[0], 2, int(a[1]), width=float(a[2]), network_units=a[3]).names")
    return _built(code, network, image_size, width, network_units)


def source_unit_names(source, image_size, weights, source_units=(), source_preprocess=None):
    """The unit names of a pretrained ``source`` (``cell.pretrained``) at ``image_size``, the head
    last, found as ``user_unit_names`` finds a function's: ValueError with its error line for a
    source that cannot be built there (its weights are not read)."""
    code = ("from transferlib.cell import pretrained; "
            "names = pretrained.check(a[0], int(a[1]), a[2], json.loads(a[3]), json.loads(a[4]))")
    return _built(code, source, image_size, weights, json.dumps(list(source_units)), json.dumps(source_preprocess))


def _built(code, name, *args):
    """The unit names that ``code`` (setting ``names`` from the argument list ``a``) finds,
    run once per arguments in a subprocess; ValueError naming ``name`` if it fails."""
    key = (code, name, *args)
    if key not in _CACHE:
        script = f"import json, sys; a = sys.argv[1:]; {code}; print('UNITS ' + json.dumps(list(names)))"
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": cwd_on_pythonpath()}
        done = subprocess.run([sys.executable, "-c", script, name, *map(str, args)],
                              capture_output=True, text=True, env=env)
        lines = [line for line in done.stdout.splitlines() if line.startswith("UNITS ")]
        if done.returncode or not lines:
            error = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise ValueError(f"{name} could not be built: {error}")
        _CACHE[key] = tuple(json.loads(lines[-1][6:]))
    return _CACHE[key]
