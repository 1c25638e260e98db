"""Study params files: flat named values in YAML, checked against one schema.

A params file opens with a comment block (what study, the command, time and machine) and then
sets some of the keys of ``Params``; the rest keep the defaults declared there. Unknown keys,
wrong types and values out of range raise one ``ParamsError`` that lists every problem found.
Checks that need the dataset's class list (class ids, empty halves) happen in ``grid.expand``.
"""

import difflib
import math
import re
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path

import yaml

from ..cell_parameters import INITS, PRECISIONS
from ..data import STREAMED
from ..data.image_folder import NAME as FOLDER
from ..nets.units import CAFFENET, MODELS, UNIT_CHOICES, is_function, unit_names
from ..records.curves import BASE_RISE_LIMIT
from ..records.vocabulary import METRIC_COLUMNS

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
    dataset: str                    # "tiny_imagenet", a tfds name such as "cifar100", or "folder"
    data_dir: str | None = None     # None: env TRANSFER_DATA_DIR, then the cache (see sources);
    #                                 dataset folder: the folder of class folders (see folders);
    #                                 relative: to the working folder of the command
    skip_bad_images: bool = False   # Tiny ImageNet: leave out (and count) images that cannot be decoded
    val_fraction: float = 0.1       # dataset folder without val/: each class's share of validation
    image_size: int = 32            # caffenet: one of IMAGE_SIZES; other networks: any >= 16
    model: str = CAFFENET           # caffenet, resnet18, resnet50 or module:function (cell.networks)
    units: str = "stages"           # a ResNet's transfer units between stem and head: stages or blocks
    width: float = 1.0              # scales the filter / unit counts of the network
    classes: str | int | tuple = "all"  # "all", a count (seeded sample), or class ids
    splits: tuple = (0,)            # random split seeds and/or "man_made_natural"
    halves: dict | None = None      # or your own split, {A: [class ids], B: [class ids]} (split "h")
    treatments: tuple = TREATMENTS[:4]  # subset of TREATMENTS, named as for direction AnB; or
    #                                     {split: subset} (stored as pairs) for each split its own
    layers: tuple | str = (1, 2, 3, 4, 5, 6, 7)  # values of n, the number of copied units; "all":
    #                                 1..K-1 for the model's K units (the default beyond caffenet)
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
    init: str | None = None         # initial weights: "paper" (Gaussian std 0.01, 0.005 for fc6,
    #                                 fc7; biases 0/1 as the prototxt) or "he" (He-normal, biases
    #                                 0); None: paper at 227 px, he at 32 and 64 px
    cka_images: int = 500           # validation images (both halves) for the layer similarity
                                    # (linear CKA) of each fine-tuned network to its base; 0: none
                                    # (none for datasets read as records, such as imagenet2012)
    reduced_images_per_class: tuple = ()  # k: extra base and AnB+ cells trained on the first k
                                          # training images per class (beyond the paper)
    reduced_layers: tuple = (3, 7)  # the n of those AnB+ cells (copying the full-data base)
    converged_bases: bool = False   # stop the study where a base's validation top-1 still rose
    #                                 more than base_rise_limit over its last fifth (and beyond
    #                                 noise: curves.still_rising), before anything copies from it
    base_rise_limit: float = BASE_RISE_LIMIT  # points of top-1 (converged_bases)
    metric: str | None = None       # the summary's metric: best10, final or last_k; None: chosen
    #                                 by rule and said why (summary.metrics.choose)
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
    file: str = field(default="<dict>", compare=False, repr=False)  # where it was read

    @classmethod
    def from_dict(cls, d, file="<dict>"):
        """Validated Params from a mapping; a relative ``data_dir`` is made absolute against the
        working folder (where the command runs, not where a cell's kernel works)."""
        if not isinstance(d, dict):
            raise ParamsError(file, [f"expected `key: value` lines, got {type(d).__name__}"])
        known = [f.name for f in fields(cls) if f.name != "file"]
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
        if not {p.partition(":")[0] for p in problems} & {"splits", "treatments"}:
            problems += _treatments_problems(values)
        if not {p.partition(":")[0] for p in problems} & {"model", "units", "image_size", "layers",
                                                          "reduced_layers", "halves", "splits"}:
            problems += _unit_problems(values, d)
        if values.get("skip_bad_images") and values.get("dataset") != "tiny_imagenet":
            problems.append("skip_bad_images: only Tiny ImageNet's decoding can leave images out; "
                            "remove or replace the unreadable images instead, or drop the key")
        if values.get("halves") is not None and values.get("treatments") and isinstance(values["treatments"][0], tuple):
            problems.append("treatments: a mapping by split goes with splits, not with your own halves; "
                            "give a list of treatments")
        if problems:
            raise ParamsError(file, problems)
        if values.get("data_dir") is not None:
            path = Path(values["data_dir"]).expanduser()
            values["data_dir"] = str(path.absolute().resolve())
        return cls(**values, file=file)

    @classmethod
    def defaults(cls):
        """{key: default} of every key that has one, as plain YAML values."""
        return {f.name: list(f.default) if isinstance(f.default, tuple) else f.default
                for f in fields(cls) if f.name != "file" and f.default is not MISSING}

    def to_dict(self):
        """Plain YAML-able values; ``from_dict`` of it gives back equal Params."""
        d = asdict(self)
        del d["file"]
        d = {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
        if self.treatments and isinstance(self.treatments[0], tuple):
            d["treatments"] = {split: list(t) for split, t in self.treatments}
        if d["halves"] is not None:
            d["halves"] = {h: list(v) for h, v in d["halves"].items()}
            del d["splits"]  # your own halves stand for the splits
        return d

    def treatments_of(self, split):
        """The treatments of ``split`` (a seed or MAN_MADE_NATURAL; None: your own halves)."""
        if self.treatments and isinstance(self.treatments[0], tuple):
            return dict(self.treatments)[split]
        return self.treatments


class ParamsError(ValueError):
    """Bad params: the message names the file and, per problem, the key, what is wrong and
    what is allowed."""

    def __init__(self, file, problems):
        self.file, self.problems = str(file), list(problems)
        if len(self.problems) == 1:
            super().__init__(f"{self.file}: {self.problems[0]}")
        else:
            super().__init__(f"{self.file}: {len(self.problems)} problems:"
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
    return Params.from_dict(d, file=str(path))


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
    "dataset": 'name the dataset: "tiny_imagenet", a tfds name such as "cifar100", or "folder" (with data_dir)',
}


def _treatments_problems(values):
    """A treatments mapping names each of the study's splits once."""
    treatments = values.get("treatments", ())
    if not treatments or not isinstance(treatments[0], tuple):
        return []
    named, splits = [s for s, _ in treatments], list(values.get("splits", Params.splits))
    if sorted(map(str, named)) != sorted(map(str, splits)):
        return [f"treatments: names the splits {named}; give the treatments of each of the "
                f"splits {splits}, once"]
    return []


def _by_split(item):
    """{split: value that ``item`` accepts}, stored as a tuple of (split, value) pairs."""
    want = f"a mapping from each split to {item.want}"

    def check(v):
        if not isinstance(v, dict) or not v:
            raise _Invalid(f"got {v!r}; expected {want}")
        return tuple((split, item(value)) for split, value in v.items())
    check.want = want
    return check


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


def _unit_problems(values, given):
    """What depends on the model: its image sizes, and n within its units (1..K-1); a user's
    function's units are known only once built, so ``grid.expand`` checks those n."""
    model, problems = values.get("model", CAFFENET), []
    if model == CAFFENET and values.get("image_size", 32) not in IMAGE_SIZES:
        problems.append(f"image_size: got {values['image_size']!r}; expected one of "
                        f"{', '.join(map(str, IMAGE_SIZES))} for the caffenet (ResNets and your own "
                        "networks take any size >= 16)")
    if "layers" not in given and model != CAFFENET:
        values["layers"] = "all"
    if values.get("halves") is not None:
        if "splits" in given:
            problems.append("halves: given with splits; give your own halves or splits, not both")
        values["splits"] = ()
    if is_function(model):
        return problems
    names = unit_names(model, values.get("units", "stages"))
    top = len(names) - 1
    for key in ("layers", "reduced_layers"):
        if key == "reduced_layers" and not (key in given or values.get("reduced_images_per_class")):
            continue
        ns = values.get(key, (3, 7) if key == "reduced_layers" else ())
        bad = [] if ns == "all" else [n for n in ns if not 1 <= n <= top]
        if bad:
            problems.append(f"{key}: {', '.join(map(str, bad))} not allowed; expected a non-empty list, "
                            f"each an integer n in 1..{top} (the first n of {model}'s units "
                            f"{', '.join(names)}; {names[-1]} is never copied)")
    return problems


def _halves(v):
    """{"A": class ids, "B": class ids}: two non-empty disjoint lists (or null: splits)."""
    want = "{A: [class ids], B: [class ids]}, two non-empty lists with no class in both"
    if v is None:
        return None
    if not isinstance(v, dict) or sorted(map(str, v)) != ["A", "B"]:
        raise _Invalid(f"got {v!r}; expected {want}")
    out = {}
    for half in ("A", "B"):
        ids = v[half]
        if not isinstance(ids, list) or not ids or not all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in ids):
            raise _Invalid(f"{half}: got {ids!r}; expected {want}")
        out[half] = tuple(str(c) for c in ids)
    both = sorted(set(out["A"]) & set(out["B"]))
    if both:
        raise _Invalid(f"{', '.join(both)} in both halves; expected {want}")
    return out


_halves.want = "{A: [class ids], B: [class ids]}"

_CHECKS = {
    "study": _text("a name of letters, digits, '.', '_' and '-' (the results subfolder)",
                   r"[A-Za-z0-9][A-Za-z0-9._-]*"),
    "dataset": _text(f'"tiny_imagenet", a tfds name or "{FOLDER}"'),
    "data_dir": _either(_NULL, _text("a folder path")),
    "val_fraction": _real(lambda v: 0 < v < 1, "a fraction strictly between 0 and 1"),
    "image_size": _integer(lambda v: v >= 16, "an integer >= 16 (caffenet: one of 32, 64, 227)"),
    "model": _either(_one_of(list(MODELS)), _text("module:function (your function returning a Keras model)",
                                                  r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")),
    "units": _one_of(UNIT_CHOICES),
    "halves": _halves,
    "width": _real(lambda v: v > 0, "a number > 0"),
    "classes": _either(_one_of(["all"]), _integer(lambda v: v >= 2, "a class count >= 2"),
                       _list(_text("a class id of the dataset"))),
    "splits": _list(_either(_integer(lambda v: 0 <= v < 2**32, "a split seed (an integer >= 0)"),
                            _one_of([MAN_MADE_NATURAL]))),
    "treatments": _either(_list(_one_of(TREATMENTS)), _by_split(_list(_one_of(TREATMENTS)))),
    "layers": _either(_one_of(["all"]), _list(_integer(lambda v: True, "an integer n"))),
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
    "init": _either(_NULL, _one_of(INITS)),
    "cka_images": _integer(lambda v: v >= 0, "an integer >= 0 (0: no layer similarity)"),
    "reduced_images_per_class": _list(_integer(lambda v: v >= 1, "an integer k >= 1"),
                                      empty_ok=True, increasing=True),
    "reduced_layers": _list(_integer(lambda v: True, "an integer n")),
    "metric": _either(_NULL, _one_of(list(METRIC_COLUMNS))),
    "converged_bases": _checker("true or false", lambda v: isinstance(v, bool)),
    "base_rise_limit": _real(lambda v: v >= 0, "a number of points >= 0, such as 1"),
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
