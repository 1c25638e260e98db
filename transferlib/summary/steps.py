"""The steps the summary notebook runs besides the statistics: conv1 filters of the saved
bases and the study's layer similarities."""

import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import yaml

from .. import layout, sources, store, table, vocabulary
from ..atomic import write_text_atomic
from ..cell.models import WEIGHT_LAYERS
from ..cell.steps import layer_similarity, load_model

CKA_COLUMNS = ("split", "cell", "reference", "treatment", "n", "layer", "layer_name", "cka",
               "params_hash")


def conv1_weights(model_path):
    """conv1's kernel [k, k, 3, filters] of the network saved at ``model_path`` (or URL)."""
    return load_model(model_path).get_layer("conv1").get_weights()[0]


def similarity_table(study_dir, root=None):
    """The study's layer similarities, one row per pair of networks and layer (CKA_COLUMNS), also
    written to ``study_dir/cka.csv``; ``root`` (default ``study_dir``) is the folder or URL
    holding the study's cells/ and models/. Each fine-tuned network against its base, as its cell measured it,
    and baseA against baseB of each split, computed here from the saved bases on the study's
    ``cka_images`` (rows of an earlier cka.csv are reused while both bases and cka_images are
    unchanged)."""
    study = Path(study_dir)
    root = root or study
    df = table.read(study)
    params = SimpleNamespace(**yaml.safe_load((study / layout.PARAMS).read_text()))
    rows = []
    for cell in df[df.fine_tuned & (df.images_per_class == 0) & (df.source != "")].itertuples():
        metrics = json.loads(store.read_text(store.join(root, "cells", f"{cell.cell}.json")))
        pooled = vocabulary.treatment(cell._asdict(), pooled=True)
        rows += [(cell.split, cell.cell, cell.source, pooled, cell.n, i, name, value, cell.params_hash)
                 for i, (name, value) in enumerate(metrics.get("cka", {}).items(), 1)]
    path = study / "cka.csv"
    earlier = pd.read_csv(path, keep_default_na=False) if path.exists() else None
    bases = df[(df.kind == "base") & (df.images_per_class == 0)].set_index("cell").params_hash
    halves = None
    for split in sorted(df.split.unique()):
        a, b = f"{split}-baseA", f"{split}-baseB"
        if not params.cka_images or params.dataset in sources.STREAMED or a not in bases or b not in bases:
            continue
        pair_hash = f"{bases[a]}/{bases[b]}/{params.cka_images}"
        if earlier is not None and (earlier.params_hash == pair_hash).any():
            rows += list(earlier[earlier.params_hash == pair_hash].itertuples(index=False, name=None))
            continue
        halves = halves or json.loads((study / layout.HALVES).read_text())
        ha, hb = halves[split]["A"], halves[split]["B"]
        model_a, model_b = (load_model(store.join(root, "models", f"{x}.keras")) for x in (a, b))
        cka = layer_similarity(model_a, ha, model_b, hb, classes=ha + hb, count=params.cka_images,
                               dataset=params.dataset, image_size=params.image_size,
                               batch_size=params.batch_size, data_dir=params.data_dir)
        rows += [(split, b, a, "base", 0, i, name, cka[name], pair_hash)
                 for i, name in enumerate(WEIGHT_LAYERS, 1)]
    out = pd.DataFrame(rows, columns=CKA_COLUMNS)
    write_text_atomic(path, out.to_csv(index=False))
    return out
