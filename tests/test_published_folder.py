"""The summary's steps on a study folder that keeps only its tables (a published study: no
cells/, no models/): what was measured is reused, what cannot be redrawn is named, nothing fails."""

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from transferlib.records import table
from transferlib.summary import study_folder


def a_published_folder(tmp_path, cka_rows):
    rows = [dict(cell="r0-baseB", split="r0", kind="base", source="", target="B", n=0, unit="",
                 fine_tuned=False, images_per_class=0, block_size=0, top1=0.5, top5=0.9, best10_top1=0.5,
                 validations=4, train_seconds=1.0, wall_seconds=2.0, params_hash="b" * 16,
                 history=json.dumps([0.4, 0.5])),
            dict(cell="r0-A3B+", split="r0", kind="transfer", source="r0-baseA", target="B", n=3,
                 unit="conv3", fine_tuned=True, images_per_class=0, block_size=0, top1=0.6, top5=0.9,
                 best10_top1=0.6, validations=4, train_seconds=1.0, wall_seconds=2.0,
                 params_hash="c" * 16, history=json.dumps([0.5, 0.6]))]
    pd.DataFrame(rows, columns=table.COLUMNS).to_csv(tmp_path / "results.csv", index=False)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"dataset": "tiny_imagenet", "cka_images": 20,
                                                          "image_size": 32, "width": 0.375, "batch_size": 8}))
    if cka_rows:
        pd.DataFrame(cka_rows, columns=study_folder.CKA_COLUMNS).to_csv(tmp_path / "cka.csv", index=False)
    return table.read(tmp_path)


def test_layer_similarity_of_cells_whose_metrics_are_gone_comes_from_cka_csv(tmp_path, capsys):
    published = [("r0", "r0-A3B+", "r0-baseA", "AnB+", 3, 1, "conv1", 0.91, "c" * 16),
                 ("r0", "r0-A3B+", "r0-baseA", "AnB+", 3, 2, "conv2", 0.82, "c" * 16),
                 ("r0", "r0-A3B+", "r0-baseA", "AnB+", 3, 1, "conv1", 0.11, "old hash")]
    a_published_folder(tmp_path, published)
    cka = study_folder.similarity_table(tmp_path, yaml.safe_load((tmp_path / "params.yaml").read_text()))
    assert cka.cka.tolist() == [0.91, 0.82]  # this cell's rows, not those of an older run of it
    assert "left out" not in capsys.readouterr().out


def test_layer_similarity_not_kept_anywhere_is_named_and_left_out(tmp_path, capsys):
    a_published_folder(tmp_path, [])
    assert study_folder.similarity_table(tmp_path, yaml.safe_load((tmp_path / "params.yaml").read_text())).empty
    assert "r0-A3B+: its metrics" in capsys.readouterr().out
    assert not (tmp_path / "cka.csv").exists()  # no file for what was not measured


def test_first_layer_filters_of_bases_without_their_network_are_named_not_drawn(tmp_path, capsys):
    df = a_published_folder(tmp_path, [])
    assert list(study_folder.conv1_figures(df, tmp_path)) == []
    assert "r0-baseB: saved network not in models" in capsys.readouterr().out
    assert not list(tmp_path.glob("conv1-*.png"))


def test_first_layer_figures_already_in_the_folder_are_said_kept_in_one_line(tmp_path, capsys):
    df = a_published_folder(tmp_path, [])
    (tmp_path / "conv1-r0-baseB.png").write_bytes(b"drawn when the study ran")
    assert list(study_folder.conv1_figures(df, tmp_path)) == []
    said = capsys.readouterr().out
    assert said.splitlines() == ["the first-layer filters of 1 base are the conv1-*.png figures already in this "
                                 "folder, kept: their saved networks (models) are not here"]
    assert (tmp_path / "conv1-r0-baseB.png").read_bytes() == b"drawn when the study ran"


def test_the_summary_before_any_study_says_where_it_looked_and_what_to_do(tmp_path, monkeypatch):
    """As JupyterLab started at a checkout runs it: the kernel in notebooks/, $PWD the checkout;
    one line naming the folders relative to the checkout, never a folder of the machine."""
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    monkeypatch.setenv("PWD", str(tmp_path))
    with pytest.raises(study_folder.NoStudy) as raised:
        study_folder.find_study()
    said, = raised.value._render_traceback_()
    assert said.startswith("no finished study in notebooks/results/ or results/ (relative to the folder "
                           "JupyterLab started in). Run one") and "transferlib run quick" in said
    assert "study_dir" in said and "docs/findings" not in said and str(tmp_path) not in said
    (tmp_path / "docs" / "findings").mkdir(parents=True)
    (tmp_path / "docs" / "findings" / "results.csv").write_text("")
    with pytest.raises(study_folder.NoStudy, match=r"cp -r docs/findings results/findings"):
        study_folder.find_study()
    with pytest.raises(study_folder.NoStudy, match=r"^no results.csv in notebooks/results/quick/ or results/quick/"):
        study_folder.find_study("results/quick")


@pytest.mark.slow
def test_a_folder_made_by_hand_with_three_keys_is_summarised_saying_what_it_assumed(tmp_path):
    """params.yaml with only study, dataset and image_size beside another study's table: the
    summary fills the other keys with their defaults and names them."""
    import shutil
    import subprocess
    import sys
    published = Path(__file__).resolve().parents[1] / "docs" / "findings"
    for name in ("results.csv", "halves.json"):
        shutil.copy(published / name, tmp_path)
    (tmp_path / "params.yaml").write_text("study: by-hand\ndataset: tiny_imagenet\nimage_size: 32\n")
    done = subprocess.run([sys.executable, "-m", "transferlib", "summary", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "lacks" in done.stdout and "cka_images: 500" in done.stdout and "lr_drops:" in done.stdout
    assert (tmp_path / "summary.html").is_file()
