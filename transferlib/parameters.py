"""Every parameter, declared once: the keys of a study's params file, the values of the cells'
notebooks and the values a finished cell is recorded by, one ``Parameter`` per name.

From ``PARAMETERS`` follow the study's ``Params`` and its checks (``driver.params``), what the
grid hands each notebook (``for_notebook``), which values enter a cell's params_hash
(``hashed``), the notebooks' parameters cells (``parameters_cell``) and their check of the names
papermill injects (``check_injected``), and the values a finished cell is recorded by
(``recorded``): results.csv's columns (``columns``, ``records.table``) and the axes of the
study's HParams experiment (``axes``, ``records.tensorboard``). A new entry reaches all of them.
``python -m transferlib.parameters`` writes the parameters cells into the notebooks, and a test
finds them equal to this table.
"""

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

from . import checks as c
from .nets.units import CAFFENET, MODELS, UNIT_CHOICES
from .solver import MOMENTUM, PAPER_LR_DROPS, WEIGHT_DECAY

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")  # Keras dtype policies
INITS = ("paper", "he")  # a network's initial weights (architectures.layer_initializers)
NOTEBOOKS = ("base", "transfer")
TREATMENTS = ("BnB", "BnB+", "AnB", "AnB+", "random")  # the paper's
PRETRAINED_TREATMENTS = ("AnB", "AnB+", "AnBcut", "AnBcut+")  # a study of a pretrained source_network
TREATMENT_NAMES = (*TREATMENTS, "AnBcut", "AnBcut+")
DIRECTIONS = ("AnB", "BnA")
EXECUTORS = ("local", "ray")
MAN_MADE_NATURAL = "man_made_natural"
ALL_CLASSES = ("base", "random")  # cells trained on all the study's classes, not on a half
SHIFTS = ("noise", "blur", "contrast", "grey", "labels")  # cell.shifts: the target half itself, shifted
# The metrics a study may report (params key ``metric``) and the results columns holding them
# (lastk_top1 computed by the summary from each network's curve: summary.metrics).
METRIC_COLUMNS = {"best10": "best10_top1", "final": "top1", "last_k": "lastk_top1"}
BASE_RISE_LIMIT = 1.0  # points: a base whose curve rose more over its last fifth had not converged (records.curves)
# The notebooks run by hand: baseA on Tiny ImageNet's first 10 classes, A3B+ on the next 10.
_HALF_A = ["n01443537", "n01629819", "n01641577", "n01644900", "n01698640", "n01742172",
           "n01768244", "n01770393", "n01774384", "n01774750"]
_HALF_B = ["n01784675", "n01855672", "n01882714", "n01910747", "n01917289", "n01944390",
           "n01945685", "n01950731", "n01983481", "n01984695"]
_SAME = object()


class Required:
    """The default of a key every params file must give; ``hint`` says what to give."""

    def __init__(self, hint):
        self.hint = hint


@dataclass(frozen=True)
class Column:
    """A cell's value as a column of results.csv (``records.table``), read as its default's type:
    ``place``, its place among the columns that say which network a row is; ``absent``, its value
    in a record without it (a table written before the column, a notebook without the
    parameter); None: every record has it."""

    place: int
    absent: object = None


@dataclass(frozen=True)
class Axis:
    """A cell's value as an axis of the study's HParams experiment (``records.tensorboard``):
    what it means, and what the value "" is shown as."""

    description: str
    empty: str = ""


@dataclass(frozen=True)
class Parameter:
    """One parameter. A study's key has a ``type`` and a ``check`` (else it is a cell's own
    value, computed by the grid or the runner); ``default`` is the study's, and ``hand_run``
    the notebooks' where they differ (a value, or {notebook: value}), ``why`` says why.
    ``notebooks`` take it: ``copied`` from the study as it is, else computed by the grid."""

    name: str
    default: object
    comment: str
    type: object = None
    check: object = None
    notebooks: tuple = NOTEBOOKS
    hand_run: object = _SAME
    why: str = ""
    copied: bool = True
    setting: object = True  # a setting a user changes (or the notebooks where it is one); False:
    #                         the runner's bookkeeping
    hashed: str = "always"  # "always"; "when set": only when not the notebooks' default (added
    #                         after the first studies, so that their cells keep their hashes); "never"
    unset: object = None    # "when set" against this function of the cell's values, not the default
    column: Column = None   # its column of results.csv, where it has one
    axis: Axis = None       # its axis of the HParams experiment, where it has one

    @property
    def in_study(self):
        return self.check is not None

    @property
    def value_type(self):
        """The type of its values, as its default shows it."""
        return type(next(iter(self.default.values())) if isinstance(self.default, dict) else self.default)

    def setting_in(self, notebook):
        return notebook in self.setting if isinstance(self.setting, tuple) else self.setting

    def default_in(self, notebook):
        """The notebook's default, as the notebook shows it (lists, not tuples)."""
        value = self.default if self.hand_run is _SAME else self.hand_run
        value = value[notebook] if isinstance(value, dict) else value
        return list(value) if isinstance(value, tuple) else value


def _study(name, type_, check, default, comment, **options):
    """A params-file key, by default copied into both notebooks."""
    return Parameter(name, default, comment, type=type_, check=check, **options)


def _study_only(name, type_, check, default, comment):
    return Parameter(name, default, comment, type=type_, check=check, notebooks=())


def _cell(name, default, comment, **options):
    """A cell's own value, which the grid or the runner computes."""
    return Parameter(name, default, comment, copied=False, **options)


_N = c.integer(lambda v: True, "an integer n")
_SEED = c.integer(lambda v: 0 <= v < 2**32, "an integer in 0..2**32-1")
_COUNT = c.either(c.integer(lambda v: v >= 1, "an integer >= 1"), c.NULL)
_TREATMENTS = c.listed(c.one_of(TREATMENT_NAMES), empty_ok=True)

PARAMETERS = (
    _study_only("study", str, c.text("a name of letters, digits, '.', '_' and '-' (the results subfolder)",
                                     r"[A-Za-z0-9][A-Za-z0-9._-]*"),
                "study", "the results subfolder; a params file's default: the file's name"),
    # What the network learns from
    _study("dataset", str, c.text('"tiny_imagenet", a tfds name or "folder"'),
           Required('name the dataset: "tiny_imagenet", a tfds name such as "cifar100", or "folder" (with data_dir)'),
           '"tiny_imagenet", "folder" or a tfds name such as "cifar100"', hand_run="tiny_imagenet"),
    _study("data_dir", str | None, c.either(c.NULL, c.text("a folder path")), None,
           "None: $TRANSFER_DATA_DIR, then the cache; a folder dataset: its folder of class folders",
           hashed="never"),
    _study("skip_bad_images", bool, c.BOOLEAN, False, "True: leave out images that cannot be decoded",
           hashed="when set"),
    _study("val_fraction", float, c.real(lambda v: 0 < v < 1, "a fraction strictly between 0 and 1"), 0.1,
           'dataset "folder" without val/: each class\'s share of validation images', hashed="when set"),
    _study("val_holdout", int, c.integer(lambda v: v >= 0, "an integer >= 0 (0: none)"), 0,
           "k > 0: k training images per class held out (seeded, the same in every cell) and added to the "
           "validation images", hashed="when set"),
    _study("classes", str | int | tuple,
           c.either(c.one_of(["all"]), c.integer(lambda v: v >= 2, "a class count >= 2"),
                    c.listed(c.text("a class id of the dataset"))),
           "all", "the half's class ids (or a count: the first k); a study's: all, a count or ids",
           hand_run={"base": _HALF_A, "transfer": _HALF_B}, copied=False),
    _study_only("splits", tuple, c.listed(c.either(c.integer(lambda v: 0 <= v < 2**32, "a split seed (an integer >= 0)"),
                                                   c.one_of([MAN_MADE_NATURAL]))),
                (0,), "random split seeds and/or man_made_natural"),
    _study_only("halves", dict | None, c.halves, None,
                "or your own split, {A: [class ids], B: [class ids]} (split h)"),
    _cell("images_per_class", 0, "k > 0: only the first k training images of each class", hashed="when set",
          column=Column(10), axis=Axis("training images per class (0: all)")),
    _study_only("block_shuffle", tuple, c.listed(c.integer(lambda v: v >= 1, "a block side b >= 1 (px)"),
                                                 empty_ok=True, increasing=True),
                (), "b: extra target bases and AnB+ at the top n on images cut into b x b blocks in a seeded order"),
    _cell("block_size", 0, "b > 0: the images cut into b x b blocks laid out in a seeded order (data.block_shuffle)",
          hashed="when set", column=Column(11, absent=0),
          axis=Axis("side of the blocks its images were cut into (0: whole images)")),
    _cell("data_seed", 0, "the study's seed, the same in every cell: of the order of block_size's blocks, of shift's "
          "draws and of val_holdout's images",
          setting=False, hashed="never"),
    _study("image_size", int, c.integer(lambda v: v >= 16, "an integer >= 16 (caffenet: one of 32, 64, 227)"),
           32, "32, 64 or 227 for the caffenet; other networks: 16 or more"),
    _study("width", float, c.real(lambda v: v > 0, "a number > 0"), 1.0,
           "scales every layer's filters and units", hand_run=0.375, why="the paper's network"),
    _study("network", str, c.either(c.one_of(list(MODELS)),
                                    c.text("module:function (your function returning a Keras model)",
                                           r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")),
           CAFFENET, f"{', '.join(MODELS)} or module:function (cell.networks)", hashed="when set"),
    _study("network_units", str, c.one_of(UNIT_CHOICES), "stages",
           'a ResNet\'s transfer units between stem and head: "stages" or "blocks"', hashed="when set"),
    _study("source_network", str | None, c.either(c.NULL, c.text(
        "a .keras or .h5 file, keras.applications.<Name>, keras_hub:<preset> or module:function")), None,
        "a pretrained network copied instead of a trained baseA: a .keras/.h5 file, keras.applications.<Name>, "
        "keras_hub:<preset> or module:function (cell.pretrained); the target is all the study's classes",
        hashed="when set"),
    _study("source_weights", str, c.text('"imagenet" or a weights file'), "imagenet",
           "source_network keras.applications.<Name>: imagenet (Keras's cache) or a local weights file",
           hashed="when set"),
    _study("source_units", tuple, c.listed(c.text("a layer name of the source"), empty_ok=True), (),
           "the source's layer that ends each unit, where its layer names do not say them; []: by name",
           hashed="when set"),
    _study("source_preprocess", str | None, c.either(c.NULL, c.text("module:function", r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")),
           None, "module:function from float 0..255 RGB to the source's input; None: its family's own",
           hashed="when set"),
    _study("source_bn_update", bool, c.BOOLEAN, False,
           "True: fine-tuned copies of the source's BatchNorm update its statistics (False: inference mode, "
           "as Keras advises for pretrained weights)", notebooks=("transfer",), hashed="when set"),
    _study("init", str | None, c.either(c.NULL, c.one_of(INITS)), None,
           '"paper" or "he"; None: paper at 227 px, he at 32 and 64 px', copied=False, hashed="when set",
           unset=lambda values: default_init(values["image_size"])),
    # What is copied
    _study_only("treatments", tuple, c.either(_TREATMENTS, c.by_split(_TREATMENTS)), TREATMENTS[:4],
                "of BnB, BnB+, AnB, AnB+, random (named as for direction AnB), or {split: those}; []: none; with "
                "source_network, of AnB, AnB+, AnBcut, AnBcut+ (cut: the head right after unit n), all by default"),
    _study_only("layers", tuple | str | dict,
                c.either(c.one_of(["all"]), c.listed(_N), c.keyed(TREATMENT_NAMES, c.listed(_N))), (1, 2, 3, 4, 5, 6, 7),
                "values of n, the number of copied units; all: 1..K-1 of K (the default beyond caffenet); "
                "or {treatment: [n, ...]}, each treatment its own n"),
    _study_only("directions", tuple, c.listed(c.one_of(DIRECTIONS)), DIRECTIONS,
                "AnB: target half B; BnA: target half A"),
    _study_only("all_classes", tuple, c.listed(c.one_of(ALL_CLASSES), empty_ok=True), (),
                "of base, random: a base, and random weights for each n, on all the study's classes"),
    _cell("n", {"base": 0, "transfer": 3}, "units copied from the base: 1..7 of the CaffeNet (1..K-1 of K units)",
          setting=("transfer",), column=Column(6), axis=Axis("units copied from the base (0: a base)")),
    _cell("fine_tuned", {"base": False, "transfer": True}, "True: copied layers learn (AnB+); False: frozen (AnB)",
          setting=("transfer",), column=Column(8), axis=Axis("copied units learn")),
    _cell("cut", False, "True: the new head follows unit n (features of unit n pooled, a new classifier)",
          notebooks=("transfer",), setting=("transfer",), hashed="when set", column=Column(9, absent=False)),
    _cell("kind", {"base": "base", "transfer": "transfer"},
          '"transfer" (from the other half), "selffer" (same half) or "random" (frozen random layers)',
          setting=("transfer",), column=Column(3)),
    # How it trains
    _study("epochs", int | None, _COUNT, None, "or None, with iterations and val_every",
           hand_run=4, why="a params file gives epochs, or iterations and val_every"),
    _study("iterations", int | None, _COUNT, None, "optimiser steps (the paper: 450,000)", hashed="when set"),
    _study("val_every", int | None, _COUNT, None, "steps between validations (the paper: 1,000)",
           hashed="when set"),
    _study("batch_size", int, c.integer(lambda v: v >= 1, "an integer >= 1"), 256, "the global batch",
           hand_run=64, why="the paper's"),
    _study("lr", float, c.real(lambda v: v > 0, "a number > 0"), 0.01, "learning rate of weights (biases: twice it)"),
    _study("lr_drops", tuple, c.listed(c.real(lambda v: 0 < v < 1, "a fraction strictly between 0 and 1"),
                                       empty_ok=True, increasing=True),
           PAPER_LR_DROPS, "fractions of the schedule where lr is divided by 10", hand_run=[0.75],
           why="the paper's four drops"),
    _study("momentum", float, c.real(lambda v: 0 <= v < 1, "a number in [0, 1)"), MOMENTUM, "SGD momentum"),
    _study("weight_decay", float, c.real(lambda v: v >= 0, "a number >= 0"), WEIGHT_DECAY,
           "on weights, not biases (Caffe's)"),
    _study("seed", int, _SEED, 0, "of initialisation, data order and augmentation; a study's: of its "
           "class sample and of each cell's seed", copied=False, setting=False),
    _study("cka_images", int, c.integer(lambda v: v >= 0, "an integer >= 0 (0: no layer similarity)"), 500,
           "> 0: layer similarity (linear CKA) to the base on this many validation images",
           notebooks=("transfer",), hand_run=0, why="the grid sets it with cka_classes",
           copied=False, hashed="when set"),
    _cell("cka_classes", [], "... of these classes (both halves)", notebooks=("transfer",), hashed="when set"),
    _study_only("reduced_images_per_class", tuple,
                c.listed(c.integer(lambda v: v >= 1, "an integer k >= 1"), empty_ok=True, increasing=True),
                (), "k: extra base and AnB+ cells trained on the first k training images per class"),
    _study_only("reduced_layers", tuple, c.listed(_N), (3, 7), "the n of those AnB+ cells (copying the full-data base)"),
    _study_only("target_shift", tuple, c.listed(c.one_of(list(SHIFTS)), empty_ok=True), (),
                "of noise, blur, contrast (input-level), grey (feature-level), labels (output-level): per shift "
                "a surgical study whose target is each direction's target half itself, shifted (cell.shifts)"),
    _study("shift_severity", int, c.integer(lambda v: 1 <= v <= 5, "an integer in 1..5"), 3,
           "1..5: how strong the target's shift is (0: none)", hand_run=0, why="the grid sets it with shift",
           copied=False, hashed="when set"),
    _study_only("shift_images_per_class", int, c.integer(lambda v: v >= 0, "an integer >= 0 (0: all)"), 0,
                "k > 0: the shifted target's networks train on its first k training images per class"),
    _study_only("base_iterations", int | None, _COUNT, None,
                "the bases' optimiser steps (None: iterations), so that they can converge while the networks "
                "that copy them train iterations; val_every divides them"),
    _study_only("shift_iterations", int | None, _COUNT, None,
                "the shifted target's networks: optimiser steps (None: iterations); val_every divides them"),
    _cell("shift", "", 'the target\'s shift (target_shift): "" none, noise, blur, contrast, grey or labels',
          hashed="when set", column=Column(12, absent=""),
          axis=Axis("the target's shift in a surgical study (none: the paper's target)", empty="none")),
    _cell("tuned_unit", 0, "k > 0: all K units copied, the classifier too, and only unit k learns "
          "(surgical fine-tuning)", notebooks=("transfer",), setting=("transfer",), hashed="when set",
          column=Column(13, absent=0)),
    _study_only("converged_bases", bool, c.BOOLEAN, False,
                "stop the study where a base's validation top-1 still rose more than base_rise_limit "
                "over the last fifth before the last lr drop, beyond noise (curves.still_rising), before "
                "anything copies from it"),
    _study_only("base_rise_limit", float, c.real(lambda v: v >= 0, "a number of points >= 0, such as 1"),
                BASE_RISE_LIMIT, "points of top-1 (converged_bases)"),
    _study_only("metric", str | None, c.either(c.NULL, c.one_of(list(METRIC_COLUMNS))), None,
                "the summary's metric: best10, final or last_k; None: chosen by rule and said why"),
    _study_only("transfer_scores", bool, c.BOOLEAN, False,
                "the summary scores each base's frozen unit-n features on the other half (a linear probe, "
                "LogME, the H-score) beside AnB and AnB+ (summary.layer_scores)"),
    # Where and how it runs: none of these changes what is computed but precision
    _study("precision", str, c.one_of(PRECISIONS), "float32", '"mixed_bfloat16" or "mixed_float16" on a GPU',
           hashed="when set"),
    _study("jit_compile", bool, c.BOOLEAN, False, "XLA-compile the training step", hashed="never"),
    _study("distribute", bool, c.BOOLEAN, False, "True: this cell on every visible GPU", hashed="never"),
    _study("memory_growth", bool, c.BOOLEAN, False, "True: GPU memory as needed, so that cells share a GPU",
           hashed="never"),
    _study("checkpoint", bool, c.BOOLEAN, False, "True: back up at every validation, resume after a kill",
           hashed="never"),
    _study_only("results_dir", str, c.text("a folder path or a URL such as file:///shared/results"), "results",
                "a folder (relative: to the working directory) or a URL fsspec understands"),
    _study_only("executor", str, c.one_of(EXECUTORS), "local", '"local" (threads here) or "ray" (a Ray task per cell)'),
    _study_only("ray_address", str | None,
                c.either(c.NULL, c.text("a Ray address such as 10.0.0.1:6379 or auto")), None,
                "the Ray cluster to join; None: $RAY_ADDRESS, else a local one"),
    _study_only("cpus_per_cell", float, c.real(lambda v: v > 0, "a number > 0"), 1.0, "Ray: CPUs each cell holds"),
    _study_only("gpus_per_cell", float, c.real(lambda v: v >= 0, "a number >= 0 (a fraction shares a GPU)"), 0.0,
                "Ray: GPUs each cell holds; a fraction shares a GPU"),
    # The runner's bookkeeping
    _cell("cell", {"base": "r0-baseA", "transfer": "r0-A3B+"}, "the network's name in the paper's notation",
          setting=False, column=Column(1)),
    _cell("split", "r0", "r<seed>, mmn (man-made/natural) or all", setting=False, column=Column(2),
          axis=Axis("r<seed>, mmn (man-made/natural), h (your halves) or all")),
    _cell("target", {"base": "A", "transfer": "B"}, "the half it trains on", setting=False, column=Column(5),
          axis=Axis("the half it trains on: A, B or AB (all classes)")),
    _cell("source", {"base": "", "transfer": "r0-baseA"}, "the base cell it copies", setting=False,
          column=Column(4)),
    _cell("unit", "", "the model's n-th transfer unit (conv3, stage2, ...), the last one copied; a surgical "
          "cell's, the one that learns: the grid's, no notebook's", notebooks=(), setting=False, hashed="never",
          column=Column(7, absent=""), axis=Axis("the last unit copied")),
    _cell("source_classes", _HALF_A, "the classes its base learned", notebooks=("transfer",), setting=False,
          hashed="never"),
    _cell("target_base", "r0-baseB", "the base of the half it trains on: its baseline", notebooks=("transfer",),
          setting=False, hashed="never"),
    _cell("params_hash", "", "written with the metrics: the runner's proof of what ran", setting=False,
          hashed="never"),
    _cell("metrics_path", None, "None: results/notebooks/<cell>.json", setting=False, hashed="never"),
    _cell("model_path", None, "None: results/notebooks/<cell>.keras", notebooks=("base",), setting=False,
          hashed="never"),
    _cell("source_model_path", None, "None: results/notebooks/<source>.keras, saved by base.ipynb",
          notebooks=("transfer",), setting=False, hashed="never"),
    _cell("checkpoint_dir", None, "with checkpoint: where the backups go", setting=False, hashed="never"),
    _cell("tensorboard_dir", None, "None: results/notebooks/tensorboard/<cell>", setting=False, hashed="never"),
)
STUDY = tuple(p for p in PARAMETERS if p.in_study)


def columns():
    """The parameters that are columns of results.csv, in the table's order."""
    return sorted((p for p in PARAMETERS if p.column), key=lambda p: p.column.place)


def axes():
    """The parameters that are axes of the HParams experiment, in results.csv's order."""
    return sorted((p for p in PARAMETERS if p.axis), key=lambda p: p.column.place if p.column else len(PARAMETERS))


def recorded(values):
    """A cell's ``values`` (its notebook's parameters, and its unit) as results.csv and the
    HParams record them: each column's and axis's value, ``absent`` where ``values`` lack it."""
    return {p.name: p.column.absent if p.name not in values and p.column and p.column.absent is not None
            else values[p.name] for p in PARAMETERS if p.column or p.axis}


RENAMED = {"model": "network", "units": "network_units"}  # an old key: its name now


def completed(given):
    """(a study's params as saved in its params.yaml, old keys renamed and each absent key given
    its default; the keys assumed). A folder made by hand from another tool's results needs
    only ``dataset`` (and ``image_size`` where it is not 32); nothing is checked here."""
    given = {RENAMED.get(k, k): v for k, v in given.items()}
    defaults = {p.name: list(p.default) if isinstance(p.default, tuple) else p.default
                for p in STUDY if not isinstance(p.default, Required)}
    if "halves" in given:
        del defaults["splits"]
    return {**defaults, **given}, [k for k in defaults if k not in given]


def for_notebook(notebook):
    """The parameters of ``notebook`` ("base" or "transfer"), in the notebook's order: its
    settings, then the runner's bookkeeping."""
    mine = [p for p in PARAMETERS if notebook in p.notebooks]
    return [p for p in mine if p.setting_in(notebook)] + [p for p in mine if not p.setting_in(notebook)]


def hashed(notebook, values):
    """The part of a cell's ``values`` that its params_hash covers. Transfer cells also carry
    fine_tune and random_first, the names their first studies hashed, so those cells stay done."""
    out = {}
    for p in for_notebook(notebook):
        value = values[p.name]
        unset = p.unset(values) if p.unset else p.default_in(notebook)
        if p.hashed == "always" or (p.hashed == "when set" and value != unset):
            out[p.name] = value
    if notebook == "transfer":
        out |= {"fine_tune": values["fine_tuned"], "random_first": values["kind"] == "random"}
    return out


def default_init(image_size):
    """The paper's initialisation at its 227 px; He's at 32 and 64 px, where the paper's leaves
    a short schedule at chance (architectures.caffenet)."""
    return "paper" if image_size == 227 else "he"


INJECTED = "# Parameters\n"  # how the cell papermill injects after the parameters cell begins
_STUDY_ONLY = {p.name for p in STUDY if not p.notebooks}


def check_injected(notebook, namespace):
    """Stop a notebook run by papermill with a name ``notebook`` does not declare (``-p epoch 2``,
    a misspelt key in ``-f values.yaml``), which would otherwise only set a new variable while
    the declared one kept its default: ValueError with a did-you-mean per name. Called first
    thing after the parameters cell with the kernel's ``globals()``: papermill's injected cell
    is then the one run before (``In[-2]``); where it is not (a run by hand), nothing is checked."""
    history = namespace.get("In") or []
    injected = history[-2] if len(history) >= 2 else ""
    if not injected.startswith(INJECTED):
        return
    given = [target.id for node in ast.parse(injected).body if isinstance(node, ast.Assign)
             for target in node.targets if isinstance(target, ast.Name)
             and not target.id.startswith("PAPERMILL_")]  # papermill's own (--inject-paths)
    declared = [p.name for p in for_notebook(notebook)]
    problems = [c.unknown(name, declared, "parameter") + (" (a study's key: studies run with python -m "
                                                           "transferlib run)" if name in _STUDY_ONLY else "")
                for name in given if name not in declared]
    if problems:
        raise ValueError(f"{notebook}.ipynb was given parameters it does not declare "
                         f"(transferlib/parameters.py):\n  " + "\n  ".join(problems))


SETTINGS = ("# Settings a user changes first, sized for a run by hand on a laptop; each line says what it\n"
            "# means, and where a study's default differs, what that is and why.")
BOOKKEEPING = "# --- the runner's bookkeeping: it sets these per network; as they stand, for a run by hand ---"


def parameters_cell(notebook):
    """The source of ``notebook``'s parameters cell: one line per parameter, its value for a run
    by hand and its comment (and the study's default, where that differs, with the reason),
    wrapped at ``WIDTH``."""
    lines = [SETTINGS]
    for p in for_notebook(notebook):
        if BOOKKEEPING not in lines and not p.setting_in(notebook):
            lines += ["", BOOKKEEPING]
        comment = p.comment
        if p.why:
            comment += f" (studies default to {_shown(p.default)}: {p.why})"
        lines += _commented(_assignment(p.name, p.default_in(notebook)), comment)
    return "\n".join(lines)


WIDTH = 100  # the characters of a line JupyterLab and the HTML export show without cutting it off


def _assignment(name, value):
    """``name = value`` as lines: a list too long for one line broken between its items, each
    line aligned under the first item."""
    line = f"{name} = {value!r}"
    if len(line) <= WIDTH or not isinstance(value, list):
        return [line]
    lines = [f"{name} = [{value[0]!r}"]
    for item in map(repr, value[1:]):
        if len(lines[-1]) + len(item) + 3 > WIDTH:
            lines[-1] += ","
            lines.append(" " * (len(name) + 4) + item)
        else:
            lines[-1] += f", {item}"
    return [*lines[:-1], lines[-1] + "]"]


def _commented(code, comment):
    """``code``'s lines with ``comment`` after the last, its ``#`` at column 31 (or two spaces
    after the code), wrapped at ``WIDTH`` into ``#`` lines aligned under it."""
    column = max(31, len(code[-1]) + 2)
    first, *rest = textwrap.wrap(comment, WIDTH - column - 2)
    return [*code[:-1], f"{code[-1]:<{column}}# {first}", *(f"{'':<{column}}# {part}" for part in rest)]


def _shown(value):
    if isinstance(value, tuple):
        return "[" + ", ".join(f"{v:.3g}" if isinstance(v, float) else repr(v) for v in value) + "]"
    return "given in the params file" if isinstance(value, Required) else repr(value)


NOTEBOOK_FOLDER = Path(__file__).parent / "notebooks"


def write_parameters_cells(folder=NOTEBOOK_FOLDER):
    """Write each notebook's parameters cell from ``PARAMETERS`` (the cell tagged "parameters")."""
    import nbformat

    for notebook in NOTEBOOKS:
        path = Path(folder) / f"{notebook}.ipynb"
        nb = nbformat.read(path, as_version=4)
        cell = next(cell for cell in nb.cells if "parameters" in cell.metadata.get("tags", ()))
        cell.source = parameters_cell(notebook)
        nbformat.write(nb, path)


if __name__ == "__main__":
    write_parameters_cells()
