"""How the study report presents itself: the block that opens ``summary.html``, so that a report
read on its own says which study, data, network and schedule its numbers come from and which
code and command made it, and its tables in the units their text names (points)."""

import datetime

from IPython.display import display

from .. import version


def code_versions(df):
    """Which code (``version.code_version``) the networks of the table ``df`` ran under, in words:
    the one version, or where they differ, which cells ran under which."""
    groups = version.by_version(dict(zip(df.cell, df.code_version)))
    if len(groups) == 1:
        return f"transferlib {version.named(next(iter(groups)))}, every network"
    return f"mixed: {version.in_words(groups)}" if groups else "none"


def schedule(params):
    """The training schedule in words: length, batch, learning rate and its drops."""
    if params.get("epochs"):
        length = f"{params['epochs']} epoch{'s' if params['epochs'] != 1 else ''}"
    elif params.get("iterations") and params.get("val_every"):
        length = f"{params['iterations']:,} iterations, a validation every {params['val_every']:,}"
    else:
        length = "length not given (params.yaml has neither epochs nor iterations)"
    drops = params.get("lr_drops") or []
    at = ", ".join(f"{d:.0%}" for d in drops)
    return (f"{length}; batch {params['batch_size']}, SGD lr {params['lr']:g} (momentum "
            f"{params['momentum']:g}, weight decay {params['weight_decay']:g})"
            + (f", divided by 10 at {at} of the schedule" if drops else ", constant"))


def identity(params, df, halves, metric_name, command="", made=None):
    """The report's opening block as Markdown: the study's name, dataset, classes per half,
    network and width, image size, schedule, networks and replicates, the reported metric, the
    code its networks were trained by (``code_versions``), and apart from it, when and by which
    code and command the report was drawn (``made``, a datetime; default: now, UTC). ``df`` is
    the study's table, ``halves`` its halves.json."""
    made = made or datetime.datetime.now(datetime.timezone.utc)
    sizes = sorted({len(classes) for h in halves.values() for classes in h.values() if classes})  # A: [] of a source
    per_half = " or ".join(map(str, sizes)) if sizes else "unknown (no halves.json)"
    splits = sorted(set(df.split) - {"all"}, key=str)
    width = "" if params["network"] != "caffenet" and params.get("width", 1) == 1 else f", width {params['width']:g}"
    if params.get("source_network"):  # a pretrained source: the target is all the study's classes
        data = f"{params['dataset']}, {per_half} classes, {params['image_size']} px"
        network = (f"pretrained {params['source_network']}"
                   + (f" (weights {params['source_weights']})" if "applications" in params["source_network"] else "")
                   + f", BatchNorm {'updated' if params.get('source_bn_update') else 'kept'} when fine-tuned")
    else:
        data = f"{params['dataset']}, {per_half} classes per half, {params['image_size']} px"
        network = (f"{params['network']}{width}"
                   + (f", units: {params['network_units']}" if params["network"] != "caffenet" else ""))
    rows = [
        ("dataset", data),
        ("network", network),
        ("schedule", schedule(params)),
        ("networks", f"{len(df)} in {len(splits)} split{'s' if len(splits) != 1 else ''} "
                     f"({', '.join(map(str, splits))}): {len(splits)} replicate{'s' if len(splits) != 1 else ''} "
                     "of each verdict"),
        ("reported metric", metric_name),
        ("networks trained by", code_versions(df)),
        ("report drawn", f"{made:%Y-%m-%d %H:%M} UTC by transferlib {version.code_version()}"),
    ]
    if command:
        rows.append(("command", f"`{command}`"))
    table = "\n".join(f"| {what} | {value} |" for what, value in rows)
    return f"# {params.get('study', 'study')}: study summary\n\n| | |\n|---|---|\n{table}\n"


def shown(table, points=(), names=None, digits=2):
    """``table`` as a reader sees it: the ``points`` columns (fractions of accuracy) in points
    to 0.1 (finer than one validation's precision at a few thousand images), the other numbers
    to ``digits``, columns renamed by ``names`` ({column: name})."""
    out = table.round(digits)
    for column in points:
        out[column] = (100 * table[column]).round(1)
    return out.rename(columns=names or {})


def figure(fig, path, missing):
    """Show the figure ``fig`` and save it to ``path``; where a study lacks its networks (``fig``
    is None), say so with ``missing`` instead of drawing empty panels."""
    if fig is None:
        print(missing)
        return
    fig.savefig(path, dpi=120, bbox_inches="tight")
    display(fig)
