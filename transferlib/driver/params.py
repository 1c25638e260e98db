"""Study params files: flat named values in YAML, checked against one schema.

A params file opens with a comment block (what study, the command, time and machine) and then
sets some of the keys of ``Params``; the rest keep their defaults. ``parameters.STUDY`` declares
each key: its type, check, default and comment. Unknown keys,
wrong types and values out of range raise one ``ParamsError`` that lists every problem found;
checks across keys are the named rules of ``RULES``.
Checks that need the dataset's class list (class ids, empty halves) happen in ``grid.expand``.
"""

import re
from dataclasses import asdict, field, fields, make_dataclass
from pathlib import Path

import yaml

from ..checks import Invalid, unknown
from ..data import STREAMED, block_shuffle, stored_size, tiny_imagenet
from ..nets.units import CAFFENET, is_function, known, unit_names
from ..parameters import PRETRAINED_TREATMENTS, RENAMED, STUDY, Required


class _Study:
    """The methods of ``Params``, whose fields ``parameters.STUDY`` declares."""

    @classmethod
    def from_dict(cls, d, file="<dict>"):
        """Validated Params from a mapping; a relative ``data_dir`` is made absolute against the
        working folder (where the command runs, not where a cell's kernel works)."""
        if not isinstance(d, dict):
            raise ParamsError(file, [f"expected `key: value` lines, got {type(d).__name__}"])
        known = [f.name for f in fields(cls) if f.name != "file"]
        problems, values = [], {}
        for key in d:
            if key in RENAMED:
                problems.append(f"{key}: renamed {RENAMED[key]}; write `{RENAMED[key]}: {d[key]}`")
            elif key not in known:
                problems.append(unknown(key, known))
        for key in known:
            if key not in d:
                if isinstance(_DEFAULTS[key], Required):
                    problems.append(f"{key}: missing; {_DEFAULTS[key].hint}")
                continue
            try:
                values[key] = _CHECKS[key](d[key])
            except Invalid as e:
                problems.append(f"{key}: {e}")
        problems += _problems_of(RULES_ON_GIVEN, values, d, problems)
        _complete(values, d)
        problems += _problems_of(RULES_ON_COMPLETED, values, d, problems)
        if problems:
            raise ParamsError(file, problems)
        if values.get("data_dir") is not None:
            path = Path(values["data_dir"]).expanduser()
            values["data_dir"] = str(path.absolute().resolve())
        return cls(**values, file=file)

    def to_dict(self):
        """Plain YAML-able values; ``from_dict`` of it gives back equal Params."""
        d = asdict(self)
        del d["file"]
        d = {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
        if self.treatments and isinstance(self.treatments[0], tuple):
            d["treatments"] = {split: list(t) for split, t in self.treatments}
        if self.layers and isinstance(self.layers[0], tuple):
            d["layers"] = {treatment: list(ns) for treatment, ns in self.layers}
        if d["halves"] is not None:
            d["halves"] = {h: list(v) for h, v in d["halves"].items()}
            del d["splits"]  # your own halves stand for the splits
        return d

    def layers_of(self, treatment, every):
        """The n of ``treatment``: ``layers`` as given, ``every`` (1..K-1) for "all", and where
        ``layers`` maps treatments to their n, its own (none where it is not mapped)."""
        if self.layers == "all":
            return every
        if self.layers and isinstance(self.layers[0], tuple):
            return dict(self.layers).get(treatment, ())
        return self.layers

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


def load_params(path, overrides=()):
    """Read and validate a params file, with ``overrides`` ("key=value" strings, each value read
    as YAML, as the command line gives them) taking the place of the file's values, exactly as if
    they were written in it."""
    path = Path(path)
    given = parse_overrides(overrides)
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
        d = {"study": path.stem, **d, **given}
    where = f"{path} with {' '.join(overrides)}" if given else str(path)
    return Params.from_dict(d, file=where)


def parse_overrides(overrides):
    """{key: value} of "key=value" strings, each value read as YAML (``epochs=2``,
    ``splits=[0,1]``, ``metric=null``); ParamsError for one without a key and '='."""
    out, problems = {}, []
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            problems.append(f"{item!r}: an override is key=value, e.g. epochs=2 or splits=[0,1]")
            continue
        try:
            out[key.strip()] = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as e:
            problems.append(f"{key.strip()}: {text!r} is not a YAML value ({getattr(e, 'problem', e)})")
    if problems:
        raise ParamsError("the command line", problems)
    return out


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


# --- rules across keys ------------------------------------------------------------------------
# Each rule is a function of the checked values and the mapping given that returns its problems
# ("key: what is wrong") and changes nothing; ``_reads`` declares the keys it reads, and a rule is
# skipped when one of them already has a problem (its verdict would rest on a refused value).
# ``RULES_ON_GIVEN`` read the values as given, ``_complete`` then sets the values other keys
# imply, and ``RULES_ON_COMPLETED`` read those; problems are reported in the order of ``RULES``.

def _reads(*keys):
    """Declare the keys a rule reads: a problem already found in one of them skips the rule."""
    def declare(rule):
        rule.reads = keys
        return rule
    return declare


def _problems_of(rules, values, given, found):
    """The problems of ``rules`` in order, each rule skipped when a key it reads already has a
    problem, in ``found`` or from an earlier rule."""
    problems = []
    for rule in rules:
        refused = {p.partition(":")[0] for p in found + problems}  # each problem starts "key: "
        if refused.isdisjoint(rule.reads):
            problems += rule(values, given)
    return problems


@_reads("epochs", "iterations", "val_every")
def _schedule(values, given):
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


@_reads("splits", "treatments")
def _treatments_by_split(values, given):
    """A treatments mapping names each of the study's splits once."""
    treatments = values.get("treatments", ())
    if not treatments or not isinstance(treatments[0], tuple):
        return []
    named, splits = [s for s, _ in treatments], list(values.get("splits", Params.splits))
    if sorted(map(str, named)) != sorted(map(str, splits)):
        return [f"treatments: names the splits {named}; give the treatments of each of the "
                f"splits {splits}, once"]
    return []


@_reads("layers", "treatments")
def _layers_by_treatment(values, given):
    """A layers mapping gives the n of the study's treatments, and of no other."""
    layers = values.get("layers", ())
    if layers == "all" or not layers or not isinstance(layers[0], tuple):
        return []
    treatments = values.get("treatments", Params.treatments)
    study = {t for _, ts in treatments for t in ts} if treatments and isinstance(treatments[0], tuple) else set(treatments)
    mapped = {t for t, _ in layers}
    problems = []
    if mapped - study:
        problems.append(f"layers: gives n for {', '.join(sorted(mapped - study))}, not among the treatments "
                        f"{', '.join(sorted(study)) or '(none)'}; add it to treatments or drop it from layers")
    if study - mapped:
        problems.append(f"layers: gives no n for {', '.join(sorted(study - mapped))} of the treatments; give "
                        "each treatment its list of n, or one list of n for all")
    return problems


_NOT_WITH_SOURCE = ("network", "network_units", "width", "init", "halves", "all_classes",
                    "reduced_images_per_class", "block_shuffle", "target_shift")
_PRETRAINED_ONLY = ("source_weights", "source_units", "source_preprocess", "source_bn_update")


@_reads("source_network", "treatments", "directions")
def _pretrained_source(values, given):
    """A study of a pretrained ``source_network``: its network is the source's architecture, its
    target all the study's classes (direction AnB), its replicates the splits' seeds, and its
    treatments of AnB, AnB+, AnBcut and AnBcut+; the keys that go with a source only with one."""
    cut = [t for t in _treatment_names(values.get("treatments", ())) if t.startswith("AnBcut")]
    if not values.get("source_network"):
        return ([f"treatments: {', '.join(cut)} copy a pretrained source_network; give source_network "
                 "or drop them"] if cut else []) + [
            f"{key}: goes with source_network; give source_network or drop {key}" for key in _PRETRAINED_ONLY
            if key in given and values.get(key, _DEFAULTS[key]) != _DEFAULTS[key]]
    problems = [f"{key}: not with source_network, whose network is the source's own and whose target is "
                "all the study's classes; drop it" for key in _NOT_WITH_SOURCE
                if key in given and values.get(key, _DEFAULTS[key]) != _DEFAULTS[key]]
    if values.get("dataset") in STREAMED:
        problems.append(f"source_network: {values['dataset']} is read as records; a pretrained source is "
                        "studied on decoded images (an image folder, Tiny ImageNet or a tfds dataset)")
    if any(not isinstance(s, int) for s in values.get("splits", ())):
        problems.append("splits: with source_network each split is a replicate seed (0, 1, ...); "
                        "man_made_natural has no halves to split here")
    other = [t for t in _treatment_names(values.get("treatments", ())) if t not in PRETRAINED_TREATMENTS]
    if other:
        problems.append(f"treatments: {', '.join(other)} not with source_network; give of "
                        f"{', '.join(PRETRAINED_TREATMENTS)}")
    if "BnA" in values.get("directions", ()) and "directions" in given:
        problems.append("directions: with source_network the target is the study's classes (AnB); drop BnA")
    return problems


def _treatment_names(treatments):
    """The treatment names of a ``treatments`` value, a list or {split: list}."""
    if treatments and isinstance(treatments[0], tuple):
        return sorted({t for _, ts in treatments for t in ts})
    return list(treatments)


def _complete(values, given):
    """Set the values that other keys imply, after the rules that read them as given and before
    those that read them completed: a pretrained source's study is AnB, of its four treatments
    at every n unless given; another network than the caffenet copies every n unless ``layers``
    is given; your own halves stand for the splits."""
    if values.get("source_network"):
        values["directions"] = ("AnB",)
        values.setdefault("treatments", PRETRAINED_TREATMENTS)
        values.setdefault("layers", "all")
    elif "layers" not in given and values.get("network", CAFFENET) != CAFFENET:
        values["layers"] = "all"
    if values.get("halves") is not None:
        values["splits"] = ()


@_reads("network", "network_units", "image_size", "layers", "reduced_layers", "halves", "splits",
        "source_network")
def _network_units(values, given):
    """What depends on the model: its image sizes, halves or splits, and n within its units
    (1..K-1); a user's function's or a pretrained source's units are known only once built, so
    ``grid.expand`` checks those n."""
    if values.get("source_network"):
        return []
    model, problems = values.get("network", CAFFENET), []
    sizes = () if is_function(model) else known(model).image_sizes
    if sizes and values.get("image_size", 32) not in sizes:
        problems.append(f"image_size: got {values['image_size']!r}; expected one of "
                        f"{', '.join(map(str, sizes))} for the {model} (ResNets and your own "
                        "networks take any size >= 16)")
    if values.get("halves") is not None and "splits" in given:
        problems.append("halves: given with splits; give your own halves or splits, not both")
    if is_function(model):
        return problems
    names = unit_names(model, values.get("network_units", _DEFAULTS["network_units"]))
    top = len(names) - 1
    for key in ("layers", "reduced_layers"):
        if key == "reduced_layers" and not (key in given or values.get("reduced_images_per_class")):
            continue
        ns = values.get(key, _DEFAULTS[key])
        if ns != "all" and ns and isinstance(ns[0], tuple):  # {treatment: [n, ...]}
            ns = sorted({n for _, per_treatment in ns for n in per_treatment})
        bad = [] if ns == "all" else [n for n in ns if not 1 <= n <= top]
        if bad:
            problems.append(f"{key}: {', '.join(map(str, bad))} not allowed; expected a non-empty list, "
                            f"each an integer n in 1..{top} (the first n of {model}'s units "
                            f"{', '.join(names)}; {names[-1]} is never copied)")
    return problems


@_reads("skip_bad_images", "dataset")
def _skip_needs_tiny_imagenet(values, given):
    """Only Tiny ImageNet's decoding leaves unreadable images out."""
    if values.get("skip_bad_images") and values.get("dataset") != "tiny_imagenet":
        return ["skip_bad_images: only Tiny ImageNet's decoding can leave images out; "
                "remove or replace the unreadable images instead, or drop the key"]
    return []


@_reads("transfer_scores", "dataset")
def _scores_need_decoded_images(values, given):
    """``transfer_scores`` need the images decoded, not read as records."""
    if values.get("transfer_scores") and values.get("dataset") in STREAMED:
        return [f"transfer_scores: {values['dataset']} is read as records, and the scores need its "
                "images decoded; drop the key (or set it false)"]
    return []


@_reads("target_shift", "dataset")
def _shift_needs_decoded_images(values, given):
    """A ``target_shift`` needs the images decoded, not read as records."""
    if values.get("target_shift") and values.get("dataset") in STREAMED:
        return [f"target_shift: {values['dataset']} is read as records, and a shift needs its images "
                "decoded; drop the key (or give [])"]
    return []


@_reads("base_iterations", "iterations", "val_every")
def _base_iterations_fit(values, given):
    """The bases' own length goes with iterations, on the same validations."""
    return _length_problems("base_iterations", values)


@_reads("shift_iterations", "iterations", "val_every")
def _shift_iterations_fit(values, given):
    """The shifted targets' own length goes with iterations, on the same validations."""
    return _length_problems("shift_iterations", values)


def _length_problems(key, values):
    """``key``, the length of some cells, needs iterations and a val_every that divides it."""
    if values.get(key) and not (values.get("iterations") and values.get("val_every")
                                and values[key] % values["val_every"] == 0):
        return [f"{key}: {values[key]} needs iterations and a val_every that divides it "
                f"(val_every: {values.get('val_every')}); drop it or fix val_every"]
    return []


@_reads("block_shuffle", "dataset", "image_size")
def _block_shuffle_fits(values, given):
    """``block_shuffle``'s sides must cut the stored images into whole blocks, decoded arrays."""
    sides = values.get("block_shuffle")
    if not sides:
        return []
    if values.get("dataset") in STREAMED:
        return [f"block_shuffle: {values['dataset']} is read as records, and shuffling needs its images "
                "decoded; drop the key"]
    side = stored_size(values.get("image_size", _DEFAULTS["image_size"]))
    bad = [b for b in sides if side % b]
    if bad:
        return [f"block_shuffle: {', '.join(map(str, bad))} do not divide the {side} px side at which "
                f"{values.get('image_size', _DEFAULTS['image_size'])} px crops are stored; choose from "
                f"{', '.join(map(str, block_shuffle.sizes(side)))}"]
    return []


@_reads("val_holdout", "dataset")
def _holdout_fits(values, given):
    """``val_holdout`` takes decoded training images, and leaves each class some to train on
    (known here for Tiny ImageNet; elsewhere ``data.holdout.held_out`` refuses it before training)."""
    k, dataset = values.get("val_holdout"), values.get("dataset")
    if not k:
        return []
    if dataset in STREAMED:
        return [f"val_holdout: {dataset} is read as records, and holding out training images needs them "
                "decoded; drop the key (or set it 0)"]
    if dataset == tiny_imagenet.NAME and k >= tiny_imagenet.TRAIN_PER_CLASS:
        return [f"val_holdout: {k} of Tiny ImageNet's {tiny_imagenet.TRAIN_PER_CLASS} training images per "
                f"class leave none to train on; give fewer (such as {tiny_imagenet.TRAIN_PER_CLASS // 5})"]
    return []


@_reads("halves", "treatments")
def _halves_take_a_list(values, given):
    """Your own halves take a list of treatments, not a mapping by split."""
    if values.get("halves") is not None and values.get("treatments") and isinstance(values["treatments"][0], tuple):
        return ["treatments: a mapping by split goes with splits, not with your own halves; "
                "give a list of treatments"]
    return []


RULES_ON_GIVEN = (_schedule, _treatments_by_split, _layers_by_treatment, _pretrained_source)
RULES_ON_COMPLETED = (_network_units, _skip_needs_tiny_imagenet, _scores_need_decoded_images,
                      _shift_needs_decoded_images, _base_iterations_fit, _shift_iterations_fit,
                      _block_shuffle_fits, _holdout_fits, _halves_take_a_list)
RULES = RULES_ON_GIVEN + RULES_ON_COMPLETED

_DEFAULTS = {p.name: p.default for p in STUDY}
_CHECKS = {p.name: p.check for p in STUDY}
Params = make_dataclass(
    "Params",
    [(p.name, p.type, field() if isinstance(p.default, Required) else field(default=p.default))
     for p in STUDY] + [("file", str, field(default="<dict>", compare=False, repr=False))],
    bases=(_Study,), frozen=True, kw_only=True,
    namespace={"__doc__": "One study: a field per key of ``parameters.STUDY``, lists stored as "
                          "tuples, ``data_dir`` absolute or None; ``file``: where it was read."})
Params.__module__ = __name__  # where pickle (Ray) finds it
