"""Per layer, how well a base's frozen features predict the other half's labels before any
network is trained on them (params key ``transfer_scores``), beside the transfers measured.

The features are those an AnB network copies frozen: the output of unit n of its source base
(baseA for target half B), on the target half's images as that network sees them (centre crops
standardised with the half's training statistics). A convolutional unit's output is averaged
over its positions (global average pooling, one value per channel): flattened, conv1 and conv2
give thousands of values per image at 32 px and hundreds of thousands at 227 px, more than the
images scored, where a probe memorises and a covariance cannot be estimated; pooled, each layer
has at most a few thousand (its channels; fc6 and fc7 their units), and the scores weigh what
each channel detects, not where. The AnB network's upper layers see the map itself, so the
scores rate features, not what retraining on top of them achieves.

Each layer is scored (``transferability``) by a linear probe's top-1 on the target half's
validation images and by LogME and the H-score, the three fitted to ``FIT_IMAGES`` of its
training images (a sample seeded by the study's seed, all of them where it has fewer).
``rank_correlations`` sets each score's mean per n against Figure 2's mean AnB and AnB+ per n:
Spearman's rho and its exact permutation p-value. With 7 layers that is weak evidence: only
|rho| >= 0.79 is beyond chance at 5% two-sided for one check alone, and a rank correlation says
nothing of the size of a drop.

``source_scores`` scores a pretrained source's units the same way, through ``fit_sample``,
``feature_scores`` and ``pooled_features``.
"""

import json
import math
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from .. import data as datasets
from ..cell import data, similarity
from ..cell.networks import representations_of
from ..cell.files import load_model
from ..data.paths import resolve
from ..records import layout, store, table, vocabulary
from ..atomic import write_text_atomic
from . import stats as statistics
from . import transferability
from .inference import holm, spearman
from .study_folder import shown_path

SCORES = "transfer_scores.csv"
FIT_IMAGES = 5000  # training images of the target half the three are fitted to, at most
MEASURED = ("AnB", "AnB+")
SCORE_COLUMNS = ("split", "source", "target", "n", "layer", "dimensions", "fit_images", "val_images",
                 *transferability.NAMES, "params_hash")
_CHUNK = 500  # images cropped and passed through a base at once


def score_table(study_dir, params, root=None):
    """The study's layer scores, one row per similar-task split, source base, target half and n
    of its AnB networks (SCORE_COLUMNS), also written to ``study_dir/transfer_scores.csv``;
    empty where ``params`` (a mapping: ``parameters.completed``) has ``transfer_scores`` off.
    ``root`` (default ``study_dir``) holds the saved bases, models/<base>.keras. Rows of an
    earlier transfer_scores.csv are reused while the base (its params_hash) and FIT_IMAGES are
    unchanged, also where the base's network is not there (a published study's folder); a base
    with neither is named and left out."""
    study = Path(study_dir)
    root = root or study
    params = SimpleNamespace(**params)
    if not params.transfer_scores:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    if params.dataset in datasets.STREAMED:
        print(f"no transfer scores: {params.dataset} is read as records, and the scores need its images decoded")
        return pd.DataFrame(columns=SCORE_COLUMNS)
    df = table.read(study)
    path = study / SCORES
    earlier = pd.read_csv(path, keep_default_na=False) if path.exists() else pd.DataFrame(columns=SCORE_COLUMNS)
    grid = vocabulary.paper_grid(df)
    bases = grid[grid.kind == "base"].set_index("cell").params_hash
    transfers = grid[(grid.kind == "transfer") & (vocabulary.tasks(grid.split) == "similar")]
    halves = decoded = None
    rows = []
    for (split, source, target), cells in transfers.groupby(["split", "source", "target"]):
        ns = sorted(int(n) for n in cells.n.unique())
        key = f"{bases.get(source, '')}/{FIT_IMAGES}"
        kept = earlier[(earlier.source == source) & (earlier.target == target) & (earlier.params_hash == key)]
        if source in bases and set(kept.n) >= set(ns):
            rows += list(kept[kept.n.isin(ns)].itertuples(index=False, name=None))
            continue
        saved = store.join(root, "models", f"{source}.keras")
        if source not in bases or not store.exists(saved):
            missing = "its row in results.csv" if source not in bases else f"its saved network ({shown_path(saved, study)})"
            print(f"{source}: {missing} is not here, nor its rows in {SCORES}; its layers' scores on half "
                  f"{target} are left out")
            continue
        if decoded is None:
            halves = json.loads((study / layout.HALVES).read_text())
            decoded = study_data(vars(params))
        started = time.perf_counter()
        half = data.select(decoded, halves[split][target], holdout=params.val_holdout, data_seed=params.seed)
        scored = base_scores(load_model(saved), half, ns, params)
        rows += [(split, source, target, *row, key) for row in scored]
        print(f"{source}'s layers on half {target}: {len(ns)} scored in {time.perf_counter() - started:.0f} s")
    out = pd.DataFrame(rows, columns=SCORE_COLUMNS)
    write_text_atomic(path, out.to_csv(index=False))
    return out


def study_data(params):
    """The study's dataset decoded at its stored size, as its cells read it; ``params`` a
    mapping with every key (``parameters.completed``)."""
    return datasets.load(params["dataset"], datasets.stored_size(params["image_size"]),
                         data_dir=resolve(params["data_dir"]) if params["data_dir"] else None,
                         skip_bad_images=params["skip_bad_images"], val_fraction=params["val_fraction"])


def base_scores(model, half, ns, params):
    """[(n, unit name, dimensions, fit images, validation images, probe top-1, LogME, H-score)]
    of the saved base ``model``'s units ``ns`` on the ``data.Subset`` ``half``; ``params`` the
    study's (network, image size, width, seed, batch size)."""
    units = representations_of(model, params.network, params.network_units, params.image_size, params.width)
    names = list(units)
    layers = tuple(units[names[n - 1]] for n in ns)
    mean, scale = data.normalisation(half.train_images, params.image_size)
    fit = fit_sample(len(half.train_labels), params.seed)
    crops = dict(image_size=params.image_size, mean=mean, scale=scale, batch_size=params.batch_size)
    train = pooled_features(model, half.train_images[fit], layers, **crops)
    val = pooled_features(model, half.val_images, layers, **crops)
    labels, val_labels = half.train_labels[fit], half.val_labels
    rows = []
    for n, layer in zip(ns, layers):
        dimensions, *scores = feature_scores(train[layer], labels, val[layer], val_labels)
        rows.append((n, names[n - 1], dimensions, len(fit), len(val_labels), *scores))
    return rows


def fit_sample(count, seed):
    """The positions, sorted, of the training images the scores are fitted to: ``FIT_IMAGES`` of
    ``count`` drawn from ``seed``, all of them where there are fewer."""
    return np.sort(np.random.default_rng(seed).choice(count, min(FIT_IMAGES, count), replace=False))


def feature_scores(train, labels, val, val_labels):
    """(dimensions, linear probe top-1, LogME, H-score) of one layer's features: the probe fitted
    to ``train`` and scored on ``val``, LogME and the H-score of ``train``."""
    return (train.shape[1], transferability.linear_probe(train, labels, val, val_labels),
            transferability.logme(train, labels), transferability.h_score(train, labels))


def pooled_features(model, images, layers, *, image_size, mean=0.0, scale=1.0, batch_size=256, bar=None):
    """{layer: features [images, channels]} of ``model`` on uint8 ``images``, centre-cropped to
    ``image_size`` and normalised by (mean, scale) (by default float 0..255, as they are),
    ``_CHUNK`` images at a time (crops at 227 px are large); ``bar``, a tqdm bar, counts them."""
    parts = []
    for i in range(0, len(images), _CHUNK):
        chunk = images[i:i + _CHUNK]
        parts.append(similarity.layer_activations(model, data.centre_crops(chunk, image_size, mean, scale), layers,
                                                  batch_size=batch_size, pooled=True))
        if bar is not None:
            bar.update(len(chunk))
    return {layer: np.concatenate([p[layer] for p in parts]) for layer in layers}


CORRELATION_COLUMNS = ("prediction", "measured", "layers", "rho", "p", "p_holm", "needed_rho", "reading")


def rank_correlations(scores, df, metric):
    """Spearman's rho between each score's mean per n (over splits and target halves) and each
    of Figure 2's mean AnB and AnB+ per n on the similar tasks (``metric``), over the n both
    have: its exact two-sided permutation p-value (every ordering of the layers, up to 7 of
    them; 9,999 seeded orderings beyond), the same Holm-adjusted across the table's rows, the
    smallest |rho| that would reach p <= 0.05 at that many layers, and what it reads."""
    labelled = vocabulary.label(df)
    measured = statistics.summary_stats(labelled[labelled.tasks == "similar"], metric)
    predicted = scores.groupby("n")[list(transferability.NAMES)].mean()
    rows = []
    for column, name in transferability.NAMES.items():
        for treatment in MEASURED:
            curve = measured[measured.treatment == treatment].set_index("n")["mean"]
            common = sorted(set(curve.index) & set(predicted.index))
            rho, p, needed = spearman(predicted.loc[common, column].to_numpy(), curve[common].to_numpy())
            rows.append([name, treatment, len(common), rho, p, math.nan, needed])
    out = pd.DataFrame(rows, columns=CORRELATION_COLUMNS[:-1])
    measured_p = out.p.notna()
    out.loc[measured_p, "p_holm"] = holm(out.p[measured_p])
    out["reading"] = [_reading(r) for r in out.itertuples()]
    return out


def _reading(row):
    if math.isnan(row.p):
        return "not measured: fewer than 3 layers, or a score or curve that does not vary"
    if row.p_holm <= 0.05:
        return f"{'agrees' if row.rho > 0 else 'disagrees'} beyond chance (Holm-adjusted p <= 0.05)"
    if math.isnan(row.needed_rho):
        return f"cannot decide: no rank correlation over {row.layers} layers reaches p <= 0.05"
    return (f"cannot decide: {row.layers} layers would need |rho| >= {row.needed_rho:.2f} for p <= 0.05 alone"
            + (", and more after Holm" if row.p <= 0.05 else ""))
