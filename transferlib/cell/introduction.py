"""The introduction of a cell's notebook: what this run trains, in the paper's notation."""

from IPython.display import Markdown

from ..nets import units


def introduction(*, cell, kind, n, fine_tuned, split, target, classes, network, network_units, width,
                 image_size, source="", source_classes=(), shift="", shift_severity=0, tuned_unit=0,
                 source_network=None, cut=False):
    """What this run of the notebook trains, from the values it runs with (the runner's, or the
    parameters cell's as they stand): the network in the paper's notation, the half it learns,
    and for a copy the base, its half, the units copied and whether they learn (with
    ``tuned_unit``, the one that does), and the target's ``shift``."""
    if source_network:
        what = (f"**{cell}**: the architecture of {source_network} ({image_size} px) trained on the study's "
                f"classes, {_classes_in_words(classes)}")
        if kind == "base":
            return Markdown(f"{what}; every unit from random weights: training from scratch, the baseline.")
        above = ("then global average pooling and a new classifier (the practitioner's features of unit "
                 f"{n})" if cut else "the units above from random weights")
        return Markdown(f"{what}; its units 1..{n} copied from the pretrained {source_network} and "
                        f"{'fine-tuned' if fine_tuned else 'frozen'}; {above}.")
    names = None if units.is_function(network) else units.unit_names(network, network_units)
    if shift:
        shifted = (f" The half's {'labels' if shift == 'labels' else 'images'} are shifted: {shift} at severity "
                   f"{shift_severity}, the same in every cell of the study.")
        if not (n and names and n == len(names)):
            return Markdown(introduction(cell=cell, kind=kind, n=n, fine_tuned=fine_tuned, split=split, target=target,
                                         classes=classes, network=network, network_units=network_units, width=width,
                                         image_size=image_size, source=source,
                                         source_classes=source_classes).data + shifted)
        learns = (f"only unit {tuned_unit} ({names[tuned_unit - 1]}) learning" if tuned_unit
                  else "all of them learning")
        return Markdown(f"**{cell}**: {network} (width {width:g}, {image_size} px) trained on half {target} of split "
                        f"{split}, {_classes_in_words(classes)}; every unit, the classifier too, copied from "
                        f"**{source}**, which learned this same half, {learns}.{shifted}")
    copied = (f"unit 1 ({names[0]})" if n == 1 else f"units 1..{n} ({', '.join(names[:n])})") if names \
        else f"units 1..{n}"
    half = "all the study's classes" if split == "all" else f"half {target} of split {split}"
    what = (f"**{cell}**: {network} (width {width:g}, {image_size} px) trained on {half}, "
            f"{_classes_in_words(classes)}")
    if kind == "base":
        return Markdown(f"{what}; every unit from random weights. A base network.")
    if kind == "random":
        return Markdown(f"{what}; its {copied} random weights, frozen; the units above trained.")
    origin = "the other half" if kind == "transfer" else "this same half"
    return Markdown(f"{what}; its {copied} copied from **{source}**, which learned {origin} "
                    f"({_classes_in_words(source_classes)}), and {'fine-tuned' if fine_tuned else 'frozen'}; "
                    "the units above from random weights.")


def _classes_in_words(classes, shown=5):
    if isinstance(classes, int):
        return f"its first {classes} classes"
    more = f", ... ({len(classes)} in all)" if len(classes) > shown else ""
    return f"{len(classes)} classes: {', '.join(map(str, classes[:shown]))}{more}"
