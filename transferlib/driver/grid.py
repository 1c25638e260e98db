"""A study's cells: every network its params ask for, in an order that runs.

Per split the study's classes fall into halves A and B (``splits``). Direction AnB trains on
half B: BnB / BnB+ copy baseB, AnB / AnB+ copy baseA, random freezes random layers; direction
BnA mirrors it on half A (AnA / AnA+ copy baseA, BnA / BnA+ copy baseB). A cell's base comes
before it; the base of each target half is always run, as the reference. ``all_classes`` adds
cells trained on all the study's classes (split ``all``, target ``AB``): their base
``all-baseAB`` (the paper's 1000-class network) and, with "random", ``all-R<n>AB``, the paper's
random frozen weights, which it trained on all 1000 classes.
For each k of
``reduced_images_per_class`` (beyond the paper: the official code's reduced-* networks are
1000-class bases on k images per class, without transfer) a direction adds its target
half's base and AnB+ at each n of ``reduced_layers``, copying the full-data base, both trained on
the first k training images per class: ids end in "-k<k>" ("r0-baseB-k50", "r0-A3B+-k50").
For each b of ``block_shuffle`` (Neyshabur et al. 2020) a direction adds its target half's base
and AnB+ at the top n (every unit but the classifier, fine-tuned), both on the target's images
cut into b x b blocks (``data.block_shuffle``), the AnB+ copying the base of natural images; ids
end in "-b<b>" ("r0-baseB-b4", "r0-A7B+-b4"). The unshuffled AnB+ at the top n, their
reference, is added where the treatments lack it.

A cell's ``params_hash`` covers its notebook parameters and the hashes of the cells it needs,
so a change reaches exactly the cells it affects. Where data and results live, and how a cell
runs on its hardware (XLA, GPUs, memory growth, checkpoints), is not hashed; parameters added
after the first studies enter the hash only when set (``init``: when not the image size's
default), so earlier cells keep their hashes.
"""

import hashlib
import json
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import data, parameters
from ..data import splits
from ..nets import units
from ..parameters import MAN_MADE_NATURAL
from ..records.vocabulary import DISSIMILAR_SPLIT
from .params import ParamsError

_RUNNER_SET = {"params_hash": "", "metrics_path": None, "model_path": None, "source_model_path": None,
               "checkpoint_dir": None, "tensorboard_dir": None}  # paths and proofs the runner adds: none is hashed
_RECORDED = {p.name for p in parameters.PARAMETERS if p.column or p.axis} - {"unit"}  # a Cell's attributes
ALL = "all"  # the split of the cells trained on all classes; their target is "AB"
OWN = "h"    # the split of your own halves (params ``halves``)


@dataclass(frozen=True)
class Cell:
    """One network of the study, named as in the paper (docs/studies.md). The values it is
    recorded by (``values``) read as attributes too: ``cell.kind``, ``cell.n``, ``cell.target``."""

    id: str            # "r0-baseA", "r0-A3B+", "mmn-B5B", "r1-R4A", "all-baseAB", "all-R3AB",
    #                    "r0-A3B+-k50"
    notebook: str      # "base" or "transfer"
    parameters: dict = field(hash=False)  # papermill parameters, JSON-able
    params_hash: str
    needs: tuple       # ids of the cells that must finish first
    unit: str = ""     # the model's n-th transfer unit (conv3, stage2, ...): the last one copied

    @property
    def values(self):
        """Its values as results.csv and the HParams record them (``parameters.recorded``), with
        its network and source_network, and params_hash."""
        return {**self.parameters, **parameters.recorded({**self.parameters, "unit": self.unit}),
                "params_hash": self.params_hash}

    def __getattr__(self, name):
        if name not in _RECORDED:  # also the names pickle and copy look for, before parameters is set
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self.values[name]


def expand(params, class_names=None, drawn=None):
    """The study's cells, each after the cells it needs.

    ``class_names`` are the dataset's class ids in label order (default: read them with
    ``data.class_names``); ``drawn``, the study's ``halves`` where already drawn. Raises
    ParamsError, before any training, for data that cannot be found, class ids not in the dataset
    and splits that leave a half without classes.
    """
    if class_names is None:
        class_names = dataset_classes(params)
    seeds = {split_name(s): s for s in params.splits}
    names = unit_names(params)
    ns = layer_values(params, names)
    cells_of = _pretrained_cells if params.source_network else _split_cells
    cells = [cell for split, members in (halves(params, class_names) if drawn is None else drawn).items()
             for cell in cells_of(params, split, members, params.treatments_of(seeds.get(split)), names, ns)]
    if params.all_classes:
        classes = study_classes(params, class_names)
        cells.append(_cell(params, ALL, "AB", classes, unit_names=names))
        if "random" in params.all_classes:
            cells += [_cell(params, ALL, "AB", classes, n, unit_names=names) for n in ns["random"]]
    return cells


def unit_names(params):
    """The ordered transfer units of the study's model (``units``); a user's function or a
    pretrained source is built once, in a subprocess, to learn them (ParamsError naming its key if
    it cannot be)."""
    if params.source_network:
        try:
            return units.source_unit_names(params.source_network, params.image_size, params.source_weights,
                                           params.source_units, params.source_preprocess)
        except ValueError as e:
            raise ParamsError(params.file, [f"source_network: {e}"]) from None
    if not units.is_function(params.network):
        return units.unit_names(params.network, params.network_units)
    try:
        return units.user_unit_names(params.network, params.image_size, params.width, params.network_units)
    except ValueError as e:
        raise ParamsError(params.file, [f"model: {e}"]) from None


def layer_values(params, names):
    """{treatment: its values of n} (``Params.layers_of``, "all" being 1..K-1 for K units);
    ParamsError for an n beyond the units (checked here for a user's function, in params for
    the others)."""
    ns = {t: params.layers_of(t, tuple(range(1, len(names)))) for t in parameters.TREATMENT_NAMES}
    top = len(names) - 1
    every = sorted({n for values in ns.values() for n in values})
    for key, values in (("layers", every), ("reduced_layers", params.reduced_layers if params.reduced_images_per_class else ())):
        bad = [n for n in values if not 1 <= n <= top]
        if bad:
            raise ParamsError(params.file, [
                f"{key}: {', '.join(map(str, bad))} not allowed; expected each an integer n in 1..{top} "
                f"(the first n of the units {', '.join(names)}; {names[-1]} is never copied)"])
    return ns


def dataset_classes(params, download=True):
    """The dataset's class ids (``data.class_names``; a dataset not yet there is downloaded
    where ``download``, else, where no place for it was given, its published class list is
    used), or ParamsError naming the key whose data cannot be found."""
    if params.data_dir is not None and not Path(params.data_dir).exists():
        raise ParamsError(params.file, [f"data_dir: {params.data_dir} does not exist; give the "
                                          "folder (or archive) that holds the dataset, or null"])
    try:
        return list(data.class_names(params.dataset, params.data_dir, download=download))
    except data.CorruptDataError:
        raise
    except data.DataNotFoundError as e:
        nowhere_given = params.data_dir is None and not data.env_path("TRANSFER_DATA_DIR")
        if not download and nowhere_given and (published := data.published_classes(params.dataset)):
            return list(published)  # planned before the download
        raise ParamsError(params.file, [f"dataset: {e}"]) from None
    except ValueError as e:  # tfds knows no such dataset, or it is not for classification
        hint = re.search(r"Did you mean: .*", str(e))
        raise ParamsError(params.file, [
            f"dataset: {str(e).splitlines()[0]}{' ' + hint[0] if hint else ''} (expected "
            f"{data.TINY_IMAGENET!r} or a tfds image classification dataset)"]) from None


def study_classes(params, class_names):
    """The study's class ids in dataset order: all, a seeded sample of a count, or those listed."""
    if params.classes == "all":
        return list(class_names)
    if isinstance(params.classes, int):
        if params.classes > len(class_names):
            raise ParamsError(params.file, [
                f"classes: {params.classes} asked, {params.dataset} has {len(class_names)}"])
        drawn = np.random.RandomState([params.seed]).choice(
            len(class_names), params.classes, replace=False)
        return [class_names[i] for i in sorted(drawn)]
    known = set(class_names)
    unknown = [c for c in params.classes if c not in known]
    if unknown:
        raise ParamsError(params.file, [
            f"classes: not classes of {params.dataset}: {', '.join(unknown)}; "
            f"its class ids look like {', '.join(class_names[:3])}"])
    return [c for c in class_names if c in params.classes]


def halves(params, class_names):
    """{split name: {"A": class ids, "B": class ids}} for each of the study's splits, or for
    split "h", your own ``halves`` (in the dataset's class order)."""
    if params.halves is not None:
        known = set(class_names)
        unknown = [c for h in "AB" for c in params.halves[h] if c not in known]
        if unknown:
            raise ParamsError(params.file, [
                f"halves: not classes of {params.dataset}: {', '.join(unknown)}; its class ids look "
                f"like {', '.join(class_names[:3])}"])
        return {OWN: {h: [c for c in class_names if c in params.halves[h]] for h in "AB"}}
    classes = study_classes(params, class_names)
    if params.source_network:  # the target: all the study's classes, in every replicate
        return {split_name(split): {"A": [], "B": classes} for split in params.splits}
    if len(classes) < 2:
        raise ParamsError(params.file, [f"classes: {classes} leaves a half without classes; "
                                          "give at least 2"])
    out, problems = {}, []
    for split in params.splits:
        if split != MAN_MADE_NATURAL:
            a, b = splits.random_halves(classes, split)
            out[split_name(split)] = {"A": a, "B": b}
            continue
        try:
            a, b = splits.man_made_natural(classes)
        except ValueError as e:
            problems.append(f"splits: {MAN_MADE_NATURAL}: {e}")
            continue
        for half, members, group in (("A", a, "man-made"), ("B", b, "natural")):
            if not members:
                problems.append(f"splits: {MAN_MADE_NATURAL} leaves half {half} ({group}) without "
                                f"classes: none of the study's {len(classes)} classes is {group}; "
                                "choose classes of both groups or drop this split")
        out[split_name(split)] = {"A": a, "B": b}
    for split, members in out.items():
        small = [f"{h} ({len(members[h])})" for h in "AB" if 0 < len(members[h]) < 2]
        if small:
            problems.append(f"classes: split {split} leaves half {' and '.join(small)} with fewer than 2 "
                            f"classes, and a classifier needs at least 2: give at least 4 classes")
    if problems:
        raise ParamsError(params.file, problems)
    return out


def split_name(split):
    """A params split (a seed, or man_made_natural) as cells and results name it: "r<seed>" or
    "mmn"."""
    return DISSIMILAR_SPLIT if split == MAN_MADE_NATURAL else f"r{split}"


def describe(cells):
    """A table of the cells for a dry run: id, kind, n and the cells each needs."""
    width = max([len(c.id) for c in cells] + [4])
    rows = [f"{'cell':<{width}}  {'kind':<8}  n  needs"]
    rows += [f"{c.id:<{width}}  {c.kind:<8}  {c.n}  {' '.join(c.needs)}".rstrip() for c in cells]
    return "\n".join(rows + [f"{len(cells)} cells"])


def _split_cells(params, split, members, treatments, names, ns):
    """One split's cells: the bases that are needed, then per direction, n and treatment (each
    treatment at its own n, ``ns``: {treatment: n}), then the reduced-data cells per k: the target
    half's base and AnB+ at each of ``reduced_layers``, then the block-shuffled cells per b: the
    target half's base and AnB+ at the top n."""
    specs = []  # (target half, n, source half or None for base and random, fine-tuned, k, b)
    for direction in params.directions:
        target = direction[-1]
        other = "A" if target == "B" else "B"
        for n in sorted({n for t in treatments for n in ns[t]}):
            for treatment in (t for t in treatments if n in ns[t]):
                source = (None if treatment == "random"
                          else target if treatment.startswith("B") else other)
                specs.append((target, n, source, treatment.endswith("+"), 0, 0))
    for k in params.reduced_images_per_class:
        for direction in params.directions:
            target, other = direction[-1], direction[0]
            specs.append((target, 0, None, False, k, 0))
            specs += [(target, n, other, True, k, 0) for n in params.reduced_layers]
    top = len(names) - 1
    for b in params.block_shuffle:
        for direction in params.directions:
            target, other = direction[-1], direction[0]
            reference = (target, top, other, True, 0, 0)
            specs += ([] if reference in specs else [reference])
            specs += [(target, 0, None, False, 0, b), (target, top, other, True, 0, b)]
    needed = {t for t, *_ in specs} | {s for _, _, s, *_ in specs if s}
    needed |= {d[-1] for d in params.directions} if params.target_shift else set()
    bases = {h: _cell(params, split, h, members[h], unit_names=names) for h in sorted(needed)}
    yield from bases.values()
    for target, n, source, fine, k, b in specs:
        yield _cell(params, split, target, members[target], n, bases.get(source), fine, k, b,
                    cka_classes=members["A"] + members["B"], unit_names=names)
    yield from _shift_cells(params, split, members, bases, names)


def _pretrained_cells(params, split, members, treatments, names, ns):
    """A replicate of a study of a pretrained ``source_network``: its base (the source's
    architecture trained from scratch on the study's classes, "r0-baseB") and per n and treatment
    the network copying units 1..n from the source ("r0-A3B", "r0-A3B+"; cut, the head right after
    unit n: "r0-A3Bcut", "r0-A3Bcut+"). At the top n the cut network is the whole source with a
    new head, the AnB's own: only the AnB is trained there."""
    classes, top = members["B"], len(names) - 1
    yield _cell(params, split, "B", classes, unit_names=names)
    for n in sorted({n for t in treatments for n in ns[t]}):
        for treatment in (t for t in treatments if n in ns[t]):
            cut = treatment.startswith("AnBcut")
            if not (cut and n == top):
                yield _cell(params, split, "B", classes, n, fine_tuned=treatment.endswith("+"), unit_names=names,
                            cut=cut)


def _shift_cells(params, split, members, bases, names):
    """Per shift of ``target_shift`` and direction, on the target half itself shifted, trained on
    the first ``shift_images_per_class`` images per class (0: all), its base copied (ids end in
    "@<shift>"): from scratch ("r0-baseB@noise"), the linear probe (units 1..K-1 frozen, a fresh
    classifier: "r0-B7B@noise"), full fine-tuning (every unit copied and learning: "r0-B8B+@noise")
    and surgical fine-tuning of each unit k (every unit copied, only unit k learning:
    "r0-B8B+conv1@noise", ..., "r0-B8B+fc8@noise")."""
    K, k = len(names), params.shift_images_per_class
    for shift in params.target_shift:
        for direction in params.directions:
            target = direction[-1]
            made = dict(split=split, target=target, classes=members[target], images_per_class=k,
                        unit_names=names, shift=shift)
            yield _cell(params, **made)
            yield _cell(params, n=K - 1, base=bases[target], **made)
            yield _cell(params, n=K, base=bases[target], fine_tuned=True, **made)
            yield from (_cell(params, n=K, base=bases[target], fine_tuned=True, tuned_unit=u, **made)
                        for u in range(1, K + 1))


def _cell(params, split, target, classes, n=0, base=None, fine_tuned=False, images_per_class=0, block_size=0,
          cka_classes=(), unit_names=units.CAFFENET_UNITS, shift="", tuned_unit=0, cut=False):
    """A base cell (n = 0), a cell copying ``n`` layers of ``base`` (or of the study's pretrained
    ``source_network``, with the head after unit n where ``cut``), or a random one; trained on
    the first ``images_per_class`` training images per class (0: all), cut into ``block_size``
    blocks (0: whole). A fine-tuned copy on all the natural data measures its layer similarity to
    ``base`` on validation images of ``cka_classes``. With ``shift``, on its target half shifted
    (``_shift_cells``), only unit ``tuned_unit`` learning."""
    suffix = f"@{shift}" if shift else (f"-k{images_per_class}" if images_per_class else "") + (
        f"-b{block_size}" if block_size else "")
    if n == 0:
        kind, cell_id = "base", f"{split}-base{target}{suffix}"
    elif params.source_network:
        kind, cell_id = "transfer", f"{split}-A{n}{target}{'cut' if cut else ''}{'+' if fine_tuned else ''}"
    elif base is None:
        kind, cell_id = "random", f"{split}-R{n}{target}{suffix}"
    else:
        kind = "selffer" if base.target == target else "transfer"
        tuned = unit_names[tuned_unit - 1] if tuned_unit else ""
        cell_id = f"{split}-{base.target}{n}{target}{'+' if fine_tuned else ''}{tuned}{suffix}"
    source = base.id if base else ""
    notebook = "transfer" if n else "base"
    computed = {
        "classes": list(classes), "images_per_class": images_per_class, "block_size": block_size,
        "data_seed": params.seed, "n": n,
        "fine_tuned": fine_tuned, "kind": kind, "cka_images": 0, "cka_classes": [],
        "cell": cell_id, "split": split, "target": target, "source": source,
        "source_classes": list(base.parameters["classes"]) if base else [],
        "target_base": f"{split}-base{target}{suffix}",
        "init": params.init or parameters.default_init(params.image_size),
        "seed": zlib.crc32(f"{params.seed}/{cell_id}".encode()) & 0x7FFFFFFF,
        "shift": shift, "shift_severity": params.shift_severity if shift else 0, "tuned_unit": tuned_unit,
        "cut": cut,
    }
    if (base is not None and fine_tuned and not images_per_class and not block_size and params.cka_images
            and params.dataset not in data.STREAMED and not shift):
        computed |= {"cka_images": params.cka_images, "cka_classes": list(cka_classes)}
    values = {p.name: getattr(params, p.name) if p.copied else computed[p.name]
              for p in parameters.for_notebook(notebook)
              if p.copied or p.name in computed}  # the runner adds the paths
    values = {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
    if shift and params.shift_iterations:
        values["iterations"] = params.shift_iterations
    elif kind == "base" and params.base_iterations:
        values["iterations"] = params.base_iterations
    needs = (base,) if base else ()
    blob = json.dumps([parameters.hashed(notebook, {**values, **_RUNNER_SET}),
                       [b.params_hash for b in needs]],
                      sort_keys=True, separators=(",", ":"), allow_nan=False)
    return Cell(id=cell_id, notebook=notebook, parameters=values,
                params_hash=hashlib.sha256(blob.encode()).hexdigest()[:16],
                needs=tuple(b.id for b in needs), unit=units.recorded_unit(unit_names, n, tuned_unit))
