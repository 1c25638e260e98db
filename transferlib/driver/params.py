"""Study params files: flat named values in YAML, checked against one schema.

A params file opens with a comment block (what study, the command, time and machine) and then
sets some of the keys of ``Params``; the rest keep the defaults declared there. Unknown keys,
wrong types and values out of range raise one ``ParamsError`` that lists every problem found.
Checks that need the dataset's class list (class ids, empty halves) happen in ``grid.expand``.
"""

import difflib
import math
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import yaml

from ..cell_parameters import PRECISIONS
from ..sources import STREAMED

TREATMENTS = ("BnB", "BnB+", "AnB", "AnB+", "random")
DIRECTIONS = ("AnB", "BnA")
IMAGE_SIZES = (32, 64, 227)
EXECUTORS = ("local", "ray")
MAN_MADE_NATURAL = "man_made_natural"
ALL_CLASSES = ("base", "random")  # cells trained on all the study's classes, not on a half


@dataclass(frozen=True, kw_only=True)
class Params:
    """One study. Lists are stored as tuples; ``data_dir`` is absolute or None."""

    study: str = "study"            # results subfolder; load_params defaults it to the file's stem
    dataset: str                    # "tiny_imagenet" or a tfds name such as "cifar100"
    data_dir: str | None = None     # None: env TRANSFER_DATA_DIR, then the cache (see sources);
    #                                 relative: to the working folder of the command
    skip_bad_images: bool = False   # leave out (and count) images that cannot be decoded
    image_size: int = 32            # one of IMAGE_SIZES
    width: float = 1.0              # scales the filter / unit counts of the network
    classes: str | int | tuple = "all"  # "all", a count (seeded sample), or class ids
    splits: tuple = (0,)            # random split seeds and/or "man_made_natural"
    treatments: tuple = TREATMENTS[:4]  # subset of TREATMENTS, named as for direction AnB
    layers: tuple = (1, 2, 3, 4, 5, 6, 7)  # values of n, the number of copied layers
    directions: tuple = DIRECTIONS  # AnB: target half B; BnA: target half A
    all_classes: tuple = ()         # of ALL_CLASSES: a base, and random weights for each n, on all classes
    epochs: int | None = None       # base and transfer networks alike; or else:
    iterations: int | None = None   # optimiser steps of every network (the paper: 450,000), with
    val_every: int | None = None    # a validation every val_every steps (the paper: 1,000)
    batch_size: int = 256           # the global batch, split over GPUs with distribute
    lr: float = 0.01
    lr_drops: tuple = (2 / 9, 4 / 9, 6 / 9, 8 / 9)  # fractions of the schedule where lr /= 10
    momentum: float = 0.9
    weight_decay: float = 5e-4
    seed: int = 0                   # class sample and per-cell seeds
    cka_images: int = 500           # validation images (both halves) for the layer similarity
                                    # (linear CKA) of each fine-tuned network to its base; 0: none
                                    # (none for datasets read as records, such as imagenet2012)
    reduced_images_per_class: tuple = ()  # k: extra base and AnB+ cells trained on the first k
                                          # training images per class (the official reduced-*)
    reduced_layers: tuple = (3, 7)  # the n of those AnB+ cells (copying the full-data base)
    precision: str = "float32"      # or mixed_bfloat16, mixed_float16 (with loss scaling)
    jit_compile: bool = False       # XLA-compile the training step
    distribute: bool = False        # one cell on every visible GPU (tf.distribute.MirroredStrategy)
    memory_growth: bool = False     # GPU memory taken as needed, so that cells can share a GPU
    checkpoint: bool = False        # back up a cell at every validation; a killed cell resumes there
    results_dir: str = "results"    # a folder (relative: to the working directory) or a URL
    #                                 fsspec understands, e.g. file:///shared/results (see store)
    # How cells run; none of these changes what a cell computes, so none enters its hash.
    executor: str = "local"         # "local" (threads here) or "ray" (one Ray task per cell)
    ray_address: str | None = None  # the Ray cluster to join; None: $RAY_ADDRESS, else a local one
    cpus_per_cell: float = 1.0      # Ray: CPUs each cell holds
    gpus_per_cell: float = 0.0      # Ray: GPUs each cell holds; a fraction shares a GPU
    source: str = field(default="<dict>", compare=False, repr=False)  # where it was read

    @classmethod
    def from_dict(cls, d, source="<dict>"):
        """Validated Params from a mapping; a relative ``data_dir`` is made absolute against the
        working folder (where the command runs, not where a cell's kernel works)."""
        if not isinstance(d, dict):
            raise ParamsError(source, [f"expected `key: value` lines, got {type(d).__name__}"])
        known = [f.name for f in fields(cls) if f.name != "source"]
        problems, values = [], {}
        for key in d:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
                problems.append(f"{key}: unknown key; {hint}")
        for key in known:
            if key not in d:
                if key in _REQUIRED:
                    problems.append(f"{key}: missing; {_REQUIRED[key]}")
                continue
            try:
                values[key] = _CHECKS[key](d[key])
            except _Invalid as e:
                problems.append(f"{key}: {e}")
        if not {p.partition(":")[0] for p in problems} & {"epochs", "iterations", "val_every"}:
            problems += _schedule_problems(values)
        if problems:
            raise ParamsError(source, problems)
        if values.get("data_dir") is not None:
            path = Path(values["data_dir"]).expanduser()
            values["data_dir"] = str(path.absolute().resolve())
        return cls(**values, source=source)

    def to_dict(self):
        """Plain YAML-able values; ``from_dict`` of it gives back equal Params."""
        d = asdict(self)
        del d["source"]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


class ParamsError(ValueError):
    """Bad params: the message names the file and, per problem, the key, what is wrong and
    what is allowed."""

    def __init__(self, source, problems):
        self.source, self.problems = str(source), list(problems)
        if len(self.problems) == 1:
            super().__init__(f"{self.source}: {self.problems[0]}")
        else:
            super().__init__(f"{self.source}: {len(self.problems)} problems:"
                             + "".join(f"\n  {p}" for p in self.problems))


def load_params(path):
    """Read and validate a params file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise ParamsError(path, [f"cannot read the params file ({e.strerror})"]) from None
    try:
        d = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise ParamsError(f"{path}:{mark.line + 1}" if mark else path,
                          [f"YAML syntax error: {e.problem or e.context}"]) from None
    d = {} if d is None else d
    if isinstance(d, dict):
        d = {"study": path.stem, **d}
    return Params.from_dict(d, source=str(path))


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads 5e-4 as a float (as YAML 1.2 does) and refuses repeated keys."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep)
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is set twice", key_node.start_mark)
            seen.add(key)
        return mapping


_Loader.add_implicit_resolver("tag:yaml.org,2002:float",
                              re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
                              list("-+0123456789."))


class _Invalid(Exception):
    """One value's problem, phrased to follow ``key: ``; ``hint`` is a did-you-mean, if any."""

    def __init__(self, message, hint=""):
        super().__init__(message)
        self.hint = hint


def _checker(want, test, convert=lambda v: v, hint=lambda v: ""):
    """A check that returns ``convert(v)`` when ``test(v)``, else raises naming ``want``."""
    def check(v):
        if not test(v):
            raise _Invalid(f"got {v!r}; expected {want}{hint(v)}", hint(v))
        return convert(v)
    check.want = want
    return check


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _integer(ok, want):
    return _checker(want, lambda v: _is_int(v) and ok(v))


def _real(ok, want):
    """A finite number (inf and nan are refused) that ``ok`` accepts, as a float."""
    return _checker(want, lambda v: (_is_int(v) or isinstance(v, float)) and math.isfinite(v) and ok(v), float)


def _text(want, pattern=r".+"):
    return _checker(want, lambda v: isinstance(v, str) and re.fullmatch(pattern, v))


def _one_of(allowed):
    def hint(v):
        close = difflib.get_close_matches(str(v), [str(a) for a in allowed], n=1)
        return f" (did you mean {close[0]!r}?)" if close and isinstance(v, str) else ""
    want = (f"one of {', '.join(map(repr, allowed))}" if len(allowed) > 1
            else repr(allowed[0]))
    return _checker(want, lambda v: not isinstance(v, bool) and v in allowed, hint=hint)


def _either(*checks):
    """The first of ``checks`` that accepts the value."""
    want = " or ".join(c.want for c in checks)

    def check(v):
        hints = []
        for c in checks:
            try:
                return c(v)
            except _Invalid as e:
                if isinstance(v, list) and getattr(c, "takes_list", False):
                    raise  # the list's own problem says more
                hints.append(e.hint)
        raise _Invalid(f"got {v!r}; expected {want}{''.join(hints)}", "".join(hints))
    check.want = want
    return check


def _list(item, empty_ok=False, increasing=False):
    """A list of values that ``item`` accepts, each once (increasing if asked), as a tuple."""
    want = ("a list" if empty_ok else "a non-empty list") + f", each {item.want}"

    def check(v):
        if not isinstance(v, list) or not (v or empty_ok):
            raise _Invalid(f"got {v!r}; expected {want}")
        out, bad = [], []
        for x in v:
            try:
                out.append(item(x))
            except _Invalid as e:
                bad.append(f"{x!r}{e.hint}")
        if bad:
            raise _Invalid(f"{', '.join(bad)} not allowed; expected {want}")
        repeated = sorted({repr(x) for x in out if out.count(x) > 1})
        if repeated:
            raise _Invalid(f"{', '.join(repeated)} repeated; list each value once")
        if increasing and out != sorted(out):
            raise _Invalid(f"got {v!r}; expected increasing values")
        return tuple(out)
    check.want, check.takes_list = want, True
    return check


_NULL = _checker("null", lambda v: v is None)
_REQUIRED = {
    "dataset": 'name the dataset: "tiny_imagenet" or a tfds name such as "cifar100"',
}


def _schedule_problems(values):
    """How long networks train: epochs, or iterations with val_every dividing them."""
    epochs, iterations, every = (values.get(k) for k in ("epochs", "iterations", "val_every"))
    if epochs is None and iterations is None:
        return ["epochs: missing; give the number of training epochs of every network (an integer "
                ">= 1), or iterations and val_every"]
    if epochs is not None and iterations is not None:
        return ["epochs, iterations: both set; give epochs, or iterations and val_every"]
    if (iterations is None) != (every is None):
        return ["val_every: " + ("missing; give the steps between validations with iterations"
                                 if every is None else "only goes with iterations; drop it, or give iterations")]
    if iterations is not None and iterations % every:
        return [f"val_every: {every} does not divide iterations ({iterations}); use a divisor"]
    if epochs is not None and values.get("dataset") in STREAMED:
        return [f"epochs: {values['dataset']} is read as records whose half sizes are not known "
                "in advance; give iterations and val_every instead"]
    return []


_CHECKS = {
    "study": _text("a name of letters, digits, '.', '_' and '-' (the results subfolder)",
                   r"[A-Za-z0-9][A-Za-z0-9._-]*"),
    "dataset": _text('"tiny_imagenet" or a tfds name'),
    "data_dir": _either(_NULL, _text("a folder path")),
    "image_size": _one_of(IMAGE_SIZES),
    "width": _real(lambda v: v > 0, "a number > 0"),
    "classes": _either(_one_of(["all"]), _integer(lambda v: v >= 2, "a class count >= 2"),
                       _list(_text("a class id of the dataset"))),
    "splits": _list(_either(_integer(lambda v: 0 <= v < 2**32, "a split seed (an integer >= 0)"),
                            _one_of([MAN_MADE_NATURAL]))),
    "treatments": _list(_one_of(TREATMENTS)),
    "layers": _list(_integer(lambda v: 1 <= v <= 7, "an integer n in 1..7")),
    "directions": _list(_one_of(DIRECTIONS)),
    "all_classes": _list(_one_of(ALL_CLASSES), empty_ok=True),
    "epochs": _either(_integer(lambda v: v >= 1, "an integer >= 1"), _NULL),
    "iterations": _either(_integer(lambda v: v >= 1, "an integer >= 1"), _NULL),
    "val_every": _either(_integer(lambda v: v >= 1, "an integer >= 1"), _NULL),
    "batch_size": _integer(lambda v: v >= 1, "an integer >= 1"),
    "lr": _real(lambda v: v > 0, "a number > 0"),
    "lr_drops": _list(_real(lambda v: 0 < v < 1, "a fraction strictly between 0 and 1"),
                      empty_ok=True, increasing=True),
    "momentum": _real(lambda v: 0 <= v < 1, "a number in [0, 1)"),
    "weight_decay": _real(lambda v: v >= 0, "a number >= 0"),
    "seed": _integer(lambda v: 0 <= v < 2**32, "an integer in 0..2**32-1"),
    "cka_images": _integer(lambda v: v >= 0, "an integer >= 0 (0: no layer similarity)"),
    "reduced_images_per_class": _list(_integer(lambda v: v >= 1, "an integer k >= 1"),
                                      empty_ok=True, increasing=True),
    "reduced_layers": _list(_integer(lambda v: 1 <= v <= 7, "an integer n in 1..7")),
    "precision": _one_of(PRECISIONS),
    "jit_compile": _checker("true or false", lambda v: isinstance(v, bool)),
    "distribute": _checker("true or false", lambda v: isinstance(v, bool)),
    "memory_growth": _checker("true or false", lambda v: isinstance(v, bool)),
    "checkpoint": _checker("true or false", lambda v: isinstance(v, bool)),
    "skip_bad_images": _checker("true or false", lambda v: isinstance(v, bool)),
    "results_dir": _text("a folder path or a URL such as file:///shared/results"),
    "executor": _one_of(EXECUTORS),
    "ray_address": _either(_checker("null", lambda v: v is None),
                           _text("a Ray address such as 10.0.0.1:6379 or auto")),
    "cpus_per_cell": _real(lambda v: v > 0, "a number > 0"),
    "gpus_per_cell": _real(lambda v: v >= 0, "a number >= 0 (a fraction shares a GPU)"),
}
