"""The parameters a cell's notebook takes, declared once.

From ``PARAMETERS`` follow what the grid injects into each notebook (``for_notebook``), which
values enter a cell's params_hash (``hashed``), and the notebooks' parameters cells, which a
test compares with it (names, order, defaults). A parameter whose ``study`` is True is copied
from the study's Params field of the same name; the others the grid or the runner computes.
"""

from dataclasses import dataclass

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")  # Keras dtype policies
INITS = ("paper", "he")  # a network's initial weights (models.layer_initializers)
NOTEBOOKS = ("base", "transfer")
# The two standalone examples: baseA on Tiny ImageNet's first 10 classes, A3B+ on the next 10.
_HALF_A = ["n01443537", "n01629819", "n01641577", "n01644900", "n01698640", "n01742172",
           "n01768244", "n01770393", "n01774384", "n01774750"]
_HALF_B = ["n01784675", "n01855672", "n01882714", "n01910747", "n01917289", "n01944390",
           "n01945685", "n01950731", "n01983481", "n01984695"]


@dataclass(frozen=True)
class CellParameter:
    """One notebook parameter: its default as the notebook runs standalone (per notebook where
    they differ), a comment for its line, and how it is handled."""

    name: str
    default: object
    comment: str = ""
    notebooks: tuple = NOTEBOOKS
    setting: object = True    # a setting a user changes (or the notebooks where it is one); False:
    #                           the runner's bookkeeping
    hashed: str = "always"    # "always"; "when set": only when not the default (added after the
    #                           first studies, so that their cells keep their hashes); "never"
    study: bool = False       # the study's Params value of the same name
    unset: object = None      # "when set" against this function of the cell's values, not the default

    def setting_in(self, notebook):
        return notebook in self.setting if isinstance(self.setting, tuple) else self.setting

    def default_in(self, notebook):
        return self.default[notebook] if isinstance(self.default, dict) else self.default


def _p(name, default, comment="", **options):
    return CellParameter(name, default, comment, **options)


PARAMETERS = (
    # What the network learns from
    _p("dataset", "tiny_imagenet", '"tiny_imagenet", "folder" or a tfds name such as "cifar100"', study=True),
    _p("data_dir", None, "None: $TRANSFER_DATA_DIR, then the cache", study=True, hashed="never"),
    _p("skip_bad_images", False, "True: leave out images that cannot be decoded", study=True, hashed="when set"),
    _p("val_fraction", 0.1, 'dataset "folder" without val/: each class\'s share of validation images',
       study=True, hashed="when set"),
    _p("classes", {"base": _HALF_A, "transfer": _HALF_B}, "the half's class ids (or a count: the first k)"),
    _p("images_per_class", 0, "k > 0: only the first k training images of each class", hashed="when set"),
    _p("image_size", 32, "32, 64 or 227", study=True),
    _p("width", 0.375, "scales every layer's filters and units", study=True),
    _p("network", "caffenet", "caffenet, resnet18, resnet50 or module:function (cell.networks)", hashed="when set"),
    _p("network_units", "stages", 'a ResNet\'s transfer units between stem and head: "stages" or "blocks"',
       hashed="when set"),
    _p("init", None, '"paper" or "he"; None: paper at 227 px, he at 32 and 64 px', hashed="when set",
       unset=lambda values: default_init(values["image_size"])),
    # What is copied (transfer.ipynb)
    _p("n", {"base": 0, "transfer": 3}, "units copied from the base: 1..7 of the CaffeNet (1..K-1 of K units)", setting=("transfer",)),
    _p("fine_tuned", {"base": False, "transfer": True}, "True: copied layers learn (AnB+); False: frozen (AnB)", setting=("transfer",)),
    _p("kind", {"base": "base", "transfer": "transfer"},
       '"transfer" (from the other half), "selffer" (same half) or "random" (frozen random layers)', setting=("transfer",)),
    # How it trains
    _p("epochs", 4, "or None, with iterations and val_every", study=True),
    _p("iterations", None, "optimiser steps (the paper: 450,000)", study=True, hashed="when set"),
    _p("val_every", None, "steps between validations (the paper: 1,000)", study=True, hashed="when set"),
    _p("batch_size", 64, "the global batch", study=True),
    _p("lr", 0.01, "learning rate of weights (biases: twice it)", study=True),
    _p("lr_drops", [0.75], "fractions of the schedule where lr is divided by 10", study=True),
    _p("momentum", 0.9, "SGD momentum", study=True),
    _p("weight_decay", 5e-4, "on weights, not biases (Caffe's)", study=True),
    _p("cka_images", 0, "> 0: layer similarity to the base on this many validation images",
       notebooks=("transfer",), hashed="when set"),
    _p("cka_classes", [], "... of these classes (both halves)", notebooks=("transfer",), hashed="when set"),
    # Where and how it runs: none of these changes what is computed but precision
    _p("precision", "float32", '"mixed_bfloat16" or "mixed_float16" on a GPU', study=True, hashed="when set"),
    _p("jit_compile", False, "XLA-compile the training step", study=True, hashed="never"),
    _p("distribute", False, "True: this cell on every visible GPU", study=True, hashed="never"),
    _p("memory_growth", False, "True: GPU memory as needed, so that cells share a GPU", study=True, hashed="never"),
    _p("checkpoint", False, "True: back up at every validation, resume after a kill", study=True, hashed="never"),
    # The runner's bookkeeping
    _p("cell", {"base": "r0-baseA", "transfer": "r0-A3B+"}, "the network's name in the paper's notation", setting=False),
    _p("split", "r0", "r<seed>, mmn (man-made/natural) or all", setting=False),
    _p("target", {"base": "A", "transfer": "B"}, "the half it trains on", setting=False),
    _p("source", {"base": "", "transfer": "r0-baseA"}, "the base cell it copies", setting=False),
    _p("seed", 0, "of initialisation, data order and augmentation", setting=False),
    _p("params_hash", "", "written with the metrics: the runner's proof of what ran", setting=False, hashed="never"),
    _p("metrics_path", None, "None: results/notebooks/<cell>.json", setting=False, hashed="never"),
    _p("model_path", None, "None: results/notebooks/<cell>.keras", notebooks=("base",), setting=False, hashed="never"),
    _p("source_model_path", None, "None: results/notebooks/<source>.keras, saved by base.ipynb",
       notebooks=("transfer",), setting=False, hashed="never"),
    _p("checkpoint_dir", None, "with checkpoint: where the backups go", setting=False, hashed="never"),
)


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
    a short schedule at chance (models.caffenet)."""
    return "paper" if image_size == 227 else "he"
