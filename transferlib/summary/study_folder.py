"""What the summary notebook reads from a study's folder besides results.csv: the folder itself
(``find_study``), its saved bases' first-layer filters and its layer similarities."""

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from ..cell.files import load_model
from ..cell.layer_similarity import layer_similarity
from ..cell.networks import representations_of
from ..data import STREAMED
from ..cell.conv1_figure import conv1_filters, first_conv
from ..records import layout, store, table, vocabulary
from ..atomic import write_text_atomic


class NoStudy(FileNotFoundError):
    """No study folder where the summary looked. In a notebook its message is all it shows, one
    line, no traceback (IPython's ``_render_traceback_``); Run All stops there."""

    def _render_traceback_(self):
        return [str(self)]


def find_study(study_dir=None):
    """The study folder ``study_dir`` names (relative: to the working folder, else to $PWD, the
    folder JupyterLab started in), or with None the most recently finished study under
    results/ there; says which. Else ``NoStudy``, naming the folders searched relative to $PWD
    and what to do."""
    here, typed_in = Path.cwd(), Path(os.environ.get("PWD") or Path.cwd())
    if study_dir is not None:
        tried = [Path(study_dir)] if Path(study_dir).is_absolute() else [here / study_dir, typed_in / study_dir]
        for folder in tried:
            if (folder / layout.TABLE).is_file():
                return folder.resolve()
        raise NoStudy(f"no {layout.TABLE} in {_searched(tried, typed_in)}: give study_dir the folder of a study "
                      "that has run (such as results/quick)")
    roots = [here / "results", typed_in / "results"]
    done = [t.parent for r in dict.fromkeys(roots) for t in r.glob(f"*/{layout.TABLE}")]
    if not done:
        published = (typed_in / "docs" / "findings" / layout.TABLE).is_file()
        copy = " copy the published one there (cp -r docs/findings results/findings)," if published else ""
        raise NoStudy(f"no finished study in {_searched(roots, typed_in)}. Run one from that folder (transferlib run "
                      f"quick, as the README's first command),{copy} or set study_dir to a study's folder.")
    newest = max(done, key=lambda f: (f / layout.TABLE).stat().st_mtime).resolve()
    print(f"the most recent finished study: {newest.name}")
    return newest


def _searched(folders, typed_in):
    """The ``folders`` searched, each once, relative to ``typed_in``, the folder JupyterLab
    started in (a report names no folder of the machine), and that folder named."""
    shown = dict.fromkeys(f"{os.path.relpath(f, typed_in)}{os.sep}" for f in folders)
    return f"{' or '.join(shown)} (relative to the folder JupyterLab started in)"


CKA_COLUMNS = ("split", "cell", "reference", "treatment", "n", "layer", "layer_name", "cka",
               "params_hash")


def conv1_figures(df, study_dir, root=None):
    """Yields the first-layer filters of each full-data base, drawn from its saved network under
    ``root`` (default ``study_dir``) and saved as ``conv1-<base>.png`` in ``study_dir``. Bases
    whose network is not there (a published study's folder keeps no models) are said in one
    line: their figures already in ``study_dir`` kept, the others not drawn."""
    root = root or study_dir
    grid = vocabulary.paper_grid(df)
    kept, missing = [], []
    for base in sorted(grid.cell[grid.kind == "base"]):
        path = store.join(root, "models", f"{base}.keras")
        if not store.exists(path):
            (kept if (Path(study_dir) / f"conv1-{base}.png").is_file() else missing).append(base)
            continue
        weights = conv1_weights(path)
        if weights is None:
            print(f"{base}: its first layer is not a convolution on the RGB input (a source that preprocesses "
                  "its own, such as to grey); no first-layer filters to draw")
            continue
        fig = conv1_filters(weights, f"{base}: first-layer filters")
        fig.savefig(Path(study_dir) / f"conv1-{base}.png", dpi=120, bbox_inches="tight")
        yield fig
    models = shown_path(store.join(root, "models"), study_dir)
    if kept:
        print(f"the first-layer filters of {len(kept)} base{'s' if len(kept) > 1 else ''} are the conv1-*.png "
              f"figures already in this folder, kept: their saved networks ({models}) are not here")
    if missing:
        print(f"{', '.join(missing)}: saved network{'s' if len(missing) > 1 else ''} not in {models}, nor "
              "conv1-*.png figures here; their first-layer filters are not drawn")


def shown_path(path, study_dir):
    """``path`` as a report names it: relative to the study folder where it lies in it (a
    report names no folder of the machine it was made on), else as it is (a URL)."""
    if store.is_url(path) or not Path(path).is_relative_to(Path(study_dir).resolve()):
        return str(path)
    return str(Path(path).relative_to(Path(study_dir).resolve()))


def conv1_weights(model_path):
    """conv1's kernel [k, k, 3, filters] of the network saved at ``model_path`` (or URL); of a
    network without conv1 (a ResNet), its first convolution on the RGB input; None where it has
    none."""
    conv = first_conv(load_model(model_path))
    return None if conv is None else conv.get_weights()[0]


def similarity_table(study_dir, params, root=None):
    """The study's layer similarities, one row per pair of networks and layer (CKA_COLUMNS), also
    written to ``study_dir/cka.csv``; ``root`` (default ``study_dir``) is the folder or URL
    holding the study's cells/ and models/; ``params``: the study's (a mapping: ``parameters.completed``).
    Each fine-tuned network against its base, as its cell measured it,
    and baseA against baseB of each split, computed here from the saved bases on the study's
    ``cka_images`` (rows of an earlier cka.csv are reused while both bases and cka_images are
    unchanged, and for a cell whose metrics are not there: a published study's folder)."""
    study = Path(study_dir)
    root = root or study
    df = table.read(study)
    params = SimpleNamespace(**params)
    path = study / "cka.csv"
    earlier = pd.read_csv(path, keep_default_na=False) if path.exists() else None
    rows = []
    grid = vocabulary.paper_grid(df)
    tuned = grid[grid.fine_tuned & (grid.source != "")] if params.cka_images else df[:0]
    for cell in tuned.itertuples():
        measured = store.join(root, "cells", f"{cell.cell}.json")
        if not store.exists(measured):
            kept = [] if earlier is None else list(earlier[(earlier.cell == cell.cell) & (
                earlier.params_hash == cell.params_hash)].itertuples(index=False, name=None))
            if not kept:
                print(f"{cell.cell}: its metrics ({shown_path(measured, study)}) are not here, nor its rows in "
                      "cka.csv; its layer similarity is left out")
            rows += kept
            continue
        metrics = json.loads(store.read_text(measured))
        pooled = vocabulary.treatment(cell._asdict(), pooled=True)
        rows += [(cell.split, cell.cell, cell.source, pooled, cell.n, i, name, value, cell.params_hash)
                 for i, (name, value) in enumerate(metrics.get("cka", {}).items(), 1)]
    bases = grid[grid.kind == "base"].set_index("cell").params_hash
    halves = None
    for split in sorted(df.split.unique()):
        a, b = f"{split}-baseA", f"{split}-baseB"
        if not params.cka_images or params.dataset in STREAMED or a not in bases or b not in bases:
            continue
        pair_hash = f"{bases[a]}/{bases[b]}/{params.cka_images}"
        if earlier is not None and (earlier.params_hash == pair_hash).any():
            rows += list(earlier[earlier.params_hash == pair_hash].itertuples(index=False, name=None))
            continue
        saved = [store.join(root, "models", f"{x}.keras") for x in (a, b)]
        if not all(map(store.exists, saved)):
            print(f"{split}: its bases' networks ({', '.join(shown_path(p, study) for p in saved)}) are not here, "
                  "nor their rows in cka.csv; their layer similarity is left out")
            continue
        halves = halves or json.loads((study / layout.HALVES).read_text())
        ha, hb = halves[split]["A"], halves[split]["B"]
        model_a, model_b = map(load_model, saved)
        units = representations_of(model_a, params.network,
                                   params.network_units, params.image_size, params.width)
        cka = layer_similarity(model_a, ha, model_b, hb, classes=ha + hb, count=params.cka_images,
                               dataset=params.dataset, image_size=params.image_size,
                               batch_size=params.batch_size, data_dir=params.data_dir, layers=units,
                               val_fraction=params.val_fraction)
        rows += [(split, b, a, "base", 0, i, name, cka[name], pair_hash)
                 for i, name in enumerate(units, 1)]
    out = pd.DataFrame(rows, columns=CKA_COLUMNS)
    if len(out):
        write_text_atomic(path, out.to_csv(index=False))
    return out
