"""The tables a cell's notebook shows: its results, beside its base's, its network's units and
its layer similarity to its base."""

import json
from pathlib import Path

import pandas as pd
from IPython.display import Markdown

from .files import standalone_path
from .train import BEST_OF


def metrics_table(result):
    """The validation results of ``result`` as a one-row table, accuracies in points; the
    paper's best-10 only after at least 10 validations (of fewer it would be their mean)."""
    points = {"top-1 (%)": result.top1, "top-5 (%)": result.top5}
    if result.validations >= BEST_OF:
        points[f"best-{BEST_OF} top-1 (%)"] = result.best10_top1
    row = {**{name: 100 * value for name, value in points.items()}, "validations": result.validations,
           "train seconds": result.train_seconds}
    formats = {name: "{:.1f}" for name in points} | {"validations": "{:d}", "train seconds": "{:.0f}"}
    return pd.DataFrame([row]).style.format(formats).hide(axis="index")


def beside_its_base(result, cell, target_base, metrics_path=None, *, target):
    """This network's final top-1 beside that of ``target_base``, the base of the half
    ``target`` it trained on (the paper's baseline), read from the base's metrics beside this
    network's (``metrics_path``'s folder; run by hand, ``standalone_path``): whether the copy
    helped. Without them, what is missing: run by hand, how to train it."""
    folder = Path(metrics_path).parent if metrics_path else Path(standalone_path(""))
    path = folder / f"{target_base}.json"
    if not path.is_file() and metrics_path:
        return Markdown(f"No baseline: **{target_base}** had not finished when this network did (no {path.name} "
                        "beside its metrics); the study's summary sets them side by side.")
    if not path.is_file():
        return Markdown(f"No baseline: **{target_base}** was not trained in this folder (no {path.name} beside "
                        f"this network's metrics). To train it, run `base.ipynb` on this network's half: in its "
                        f"parameters cell `cell = {target_base!r}`, `target = {target!r}` and `classes` as in this "
                        "notebook's; then run this notebook again to see whether the copy helped.")
    base = json.loads(path.read_text())["top1"]
    rows = [(cell, 100 * result.top1), (target_base, 100 * base),
            (f"{cell} - {target_base}", 100 * (result.top1 - base))]
    table = pd.DataFrame(rows, columns=["network", "final top-1 (%)"])
    return table.style.format({"final top-1 (%)": "{:+.1f}"}, subset=pd.IndexSlice[2:, :]) \
        .format({"final top-1 (%)": "{:.1f}"}, subset=pd.IndexSlice[:1, :]).hide(axis="index")


def layer_table(net, *, n=0, fine_tuned=False, kind="base"):
    """One column per transfer unit of the ``networks.Network`` ``net``: where its weights come
    from (copied-frozen, copied-fine-tuned, random-frozen or fresh), whether it learns, and its
    parameter count."""
    origin = ("random-frozen" if kind == "random" else
              "copied-fine-tuned" if fine_tuned else "copied-frozen")
    columns = {}
    for i, (name, members) in enumerate(net.units, 1):
        layers = [net.model.get_layer(m) for m in members]
        learns = all(l.trainable for l in layers)
        copied = "copied-frozen" if origin.startswith("copied") and not learns else origin  # a surgical cell's
        columns[name] = {"weights": copied if i <= n else "fresh",
                         "learns": "yes" if learns else "no",
                         "parameters": f"{sum(l.count_params() for l in layers):,}"}
    return pd.DataFrame(columns)


def cka_table(cka):
    """The layer similarities {layer: CKA} of a cell as a one-row table, to 3 decimals."""
    return pd.DataFrame([cka], index=["CKA to the base"]).style.format("{:.3f}")
