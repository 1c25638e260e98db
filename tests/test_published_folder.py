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


def test_first_layer_filters_of_bases_without_their_network_are_named_not_drawn(tmp_path, capsys):
    df = a_published_folder(tmp_path, [])
    assert list(study_folder.conv1_figures(df, tmp_path)) == []
    assert "r0-baseB: its saved network" in capsys.readouterr().out
    assert not list(tmp_path.glob("conv1-*.png"))


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
