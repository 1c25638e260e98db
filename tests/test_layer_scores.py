"""transferlib.summary.layer_scores: a study's bases scored per layer on the other half, and the
rank correlations with the transfers measured, on a study folder written by the test (a
folder dataset of colour classes and two untrained CaffeNets saved as its bases)."""

import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from transferlib import parameters
from transferlib.cell import architectures
from transferlib.records import table
from transferlib.summary import inference, layer_scores, plots

CLASSES = [f"class{k}" for k in range(8)]
HALVES = {"r0": {"A": CLASSES[:5], "B": CLASSES[5:]}}  # of different sizes: which half was scored shows
COLOURS = np.array([[230, 30, 30], [30, 230, 30], [30, 30, 230], [230, 230, 30],
                    [230, 30, 230], [30, 230, 230], [230, 230, 230], [120, 60, 20]])


def row(cell, kind, n=0, fine_tuned=False, source="", target="B", top1=0.5):
    return dict(cell=cell, split="r0", kind=kind, source=source, target=target, n=n,
                unit=architectures.WEIGHT_LAYERS[n - 1] if n else "", fine_tuned=fine_tuned, images_per_class=0, block_size=0,
                top1=top1, top5=0.9, best10_top1=top1, validations=1, train_seconds=1.0, wall_seconds=1.0,
                params_hash=f"hash-{cell}", history="[]")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A study folder: a folder dataset of 8 classes, each a colour (so that even random conv1
    features, averaged over positions, tell them apart), 30 training and 10 validation images
    each, its bases saved untrained, and AnB networks from baseA on half B (3 classes) at n = 1,
    2 (one fine-tuned) and 7."""
    root = tmp_path_factory.mktemp("scores")
    rng = np.random.default_rng(0)
    for k, name in enumerate(CLASSES):
        for side, count in (("train", 30), ("val", 10)):
            folder = root / "images" / side / name
            folder.mkdir(parents=True)
            for i in range(count):
                pixels = np.clip(COLOURS[k] + rng.normal(0, 12, (36, 36, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
    folder = root / "study"
    (folder / "models").mkdir(parents=True)
    for seed, base in enumerate(("r0-baseA", "r0-baseB")):
        architectures.caffenet(len(HALVES["r0"][base[-1]]), image_size=32, width=0.125, seed=seed).save(
            folder / "models" / f"{base}.keras")
    rows = [row("r0-baseA", "base", target="A"), row("r0-baseB", "base"),
            row("r0-A1B", "transfer", 1, source="r0-baseA"), row("r0-A2B+", "transfer", 2, True, "r0-baseA"),
            row("r0-A7B", "transfer", 7, source="r0-baseA")]
    pd.DataFrame(rows, columns=table.COLUMNS).to_csv(folder / "results.csv", index=False)
    (folder / "halves.json").write_text(json.dumps(HALVES))
    given = {"dataset": "folder", "data_dir": str(root / "images"), "image_size": 32, "width": 0.125,
             "batch_size": 16, "transfer_scores": True}
    (folder / "params.yaml").write_text(yaml.safe_dump(given))
    return folder


def params_of(study, **changes):
    return {**parameters.completed(yaml.safe_load((study / "params.yaml").read_text()))[0], **changes}


@pytest.fixture(scope="module")
def scores(study, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TRANSFER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        return layer_scores.score_table(study, params_of(study))


def test_each_transfer_layer_of_the_source_base_is_scored_on_the_target_half(scores):
    assert scores[["split", "source", "target", "n", "layer"]].values.tolist() == [
        ["r0", "r0-baseA", "B", 1, "conv1"], ["r0", "r0-baseA", "B", 2, "conv2"], ["r0", "r0-baseA", "B", 7, "fc7"]]
    # conv maps averaged over positions: one value per channel (96 and 256 filters, fc7's 1024 units, x 0.125)
    assert scores.dimensions.tolist() == [architectures.scaled(96, 0.125), architectures.scaled(256, 0.125), architectures.scaled(1024, 0.125)]
    assert scores.fit_images.tolist() == [90] * 3 and scores.val_images.tolist() == [30] * 3  # half B's
    assert scores.probe_top1.iloc[0] == 1.0  # half B's three colours, told apart with their own labels
    assert np.isfinite(scores[["logme", "h_score"]].to_numpy()).all()


def test_scores_are_kept_in_the_study_folder_and_reused_where_the_bases_are_gone(study, scores, capsys, tmp_path):
    saved = pd.read_csv(study / layer_scores.SCORES)
    pd.testing.assert_frame_equal(saved, scores, check_dtype=False)
    published = tmp_path / "published"
    published.mkdir()
    for name in ("results.csv", "halves.json", "params.yaml", layer_scores.SCORES):
        (published / name).write_text((study / name).read_text())
    again = layer_scores.score_table(published, params_of(study))  # no models/: the rows are reused
    pd.testing.assert_frame_equal(again, scores, check_dtype=False)
    assert "left out" not in capsys.readouterr().out


@pytest.mark.parametrize("earlier", [False, True], ids=["no rows", "rows of another run of the base"])
def test_a_base_neither_saved_nor_scored_before_is_named_and_left_out(study, scores, tmp_path, capsys, earlier):
    for name in ("results.csv", "halves.json", "params.yaml"):
        (tmp_path / name).write_text((study / name).read_text())
    if earlier:
        scores.assign(params_hash="an older baseA/5000").to_csv(tmp_path / layer_scores.SCORES, index=False)
    assert layer_scores.score_table(tmp_path, params_of(study)).empty
    assert "r0-baseA: its saved network (models/r0-baseA.keras) is not here" in capsys.readouterr().out


def test_the_images_fitted_are_a_seeded_sample_of_fit_images(study, scores, monkeypatch, tmp_path):
    monkeypatch.setenv("TRANSFER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(layer_scores, "FIT_IMAGES", 50)
    copy = shutil.copytree(study, tmp_path / "study")
    first = layer_scores.score_table(copy, params_of(study))  # another sample size: scored again
    assert first.fit_images.tolist() == [50] * 3 and first.params_hash.str.endswith("/50").all()
    (copy / layer_scores.SCORES).unlink()
    pd.testing.assert_frame_equal(layer_scores.score_table(copy, params_of(study)), first)
    assert not first[["logme", "h_score"]].equals(scores[["logme", "h_score"]])


def test_no_scores_unless_the_params_ask_and_none_of_streamed_data(study, capsys):
    before = (study / layer_scores.SCORES).stat().st_mtime_ns if (study / layer_scores.SCORES).exists() else None
    assert layer_scores.score_table(study, params_of(study, transfer_scores=False)).empty
    assert layer_scores.score_table(study, params_of(study, dataset="imagenet2012")).empty
    assert "imagenet2012 is read as records" in capsys.readouterr().out
    after = (study / layer_scores.SCORES).stat().st_mtime_ns if (study / layer_scores.SCORES).exists() else None
    assert before == after  # nothing written


def measured_and_scored(predicted):
    """A table of AnB and AnB+ over n = 1..7 and scores whose mean per n is ``predicted``."""
    anb = [0.60, 0.58, 0.55, 0.50, 0.47, 0.45, 0.40]
    plus = [0.62, 0.625, 0.63, 0.64, 0.635, 0.645, 0.65]
    rows = [row("r0-baseB", "base", top1=0.61)]
    rows += [row(f"r0-A{n}B", "transfer", n, source="r0-baseA", top1=anb[n - 1]) for n in range(1, 8)]
    rows += [row(f"r0-A{n}B+", "transfer", n, True, "r0-baseA", top1=plus[n - 1]) for n in range(1, 8)]
    df = pd.DataFrame(rows, columns=table.COLUMNS)
    scores = pd.DataFrame({"split": "r0", "source": "r0-baseA", "target": "B", "n": range(1, 8),
                           "probe_top1": predicted, "logme": predicted, "h_score": predicted})
    return scores, df


def test_a_score_that_falls_with_anb_correlates_fully_at_the_smallest_p_seven_layers_allow():
    scores, df = measured_and_scored([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3])
    out = layer_scores.rank_correlations(scores, df, "top1").set_index(["prediction", "measured"])
    anb, plus = out.loc[("LogME", "AnB")], out.loc[("LogME", "AnB+")]
    assert anb.rho == 1 and anb.p == pytest.approx(2 / 5040)  # one ordering of 7! each way
    assert plus.rho == pytest.approx(-(1 - 6 * 2 / (7 * 48)))  # AnB+ rises: one swap from the reverse
    assert plus.reading.startswith("disagrees beyond chance")
    # Sum of squared rank differences 12: rho = 1 - 6 * 12 / (7 * 48) = 0.786, the exact 5% critical value.
    assert anb.needed_rho == pytest.approx(1 - 6 * 12 / (7 * 48))
    assert anb.p_holm == pytest.approx(6 * 2 / 5040)  # the smallest of six
    assert anb.reading.startswith("agrees beyond chance")
    assert out.layers.tolist() == [7] * 6


def test_a_weak_rank_correlation_over_seven_layers_is_read_as_undecided():
    scores, df = measured_and_scored([0.9, 0.5, 0.8, 0.7, 0.3, 0.6, 0.4])  # rho 0.64 with AnB
    anb = layer_scores.rank_correlations(scores, df, "top1").set_index(["prediction", "measured"]).loc[
        ("H-score", "AnB")]
    assert anb.rho == pytest.approx(1 - 6 * 20 / (7 * 48)) and 0.05 < anb.p < 0.2
    assert anb.reading == "cannot decide: 7 layers would need |rho| >= 0.79 for p <= 0.05 alone"


def test_under_three_layers_or_a_constant_score_is_not_measured():
    scores, df = measured_and_scored([0.5] * 7)
    out = layer_scores.rank_correlations(scores, df, "top1")
    assert out.rho.isna().all() and out.p_holm.isna().all()
    assert set(out.reading) == {"not measured: fewer than 3 layers, or a score or curve that does not vary"}
    assert math.isnan(inference.spearman(np.array([1.0, 2.0]), np.array([2.0, 1.0]))[0])


def test_the_figure_sets_each_score_beside_the_measured_curves(scores, study):
    df = table.read(study)
    correlations = layer_scores.rank_correlations(scores, df, "top1")
    fig = plots.transfer_scores(scores, correlations, df, "top1")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("measured") and [t.split("\n")[0] for t in titles[1:]] == [
        "linear probe top-1", "LogME", "H-score"]
    assert plots.transfer_scores(scores[:0], correlations, df, "top1") is None
