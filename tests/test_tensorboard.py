"""A study's TensorBoard logs as TensorBoard reads them: a cell's run (its hyperparameters, one
point per validation, a resumed run's steps once) and the study's HParams experiment. Fast:
the writer needs no framework; the smoke study's logs are checked against its table in
test_study.py."""

import pytest

pytest.importorskip("tensorboard")

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.plugins.hparams import plugin_data_pb2  # noqa: E402

from transferlib.records import tensorboard  # noqa: E402

A3B_PLUS = dict(cell="r0-A3B+", split="r0", kind="transfer", source="r0-baseA", n=3, unit="conv3", fine_tuned=True,
                target="B", images_per_class=0, block_size=0, shift="",
                network="caffenet")  # a cell's values (a base notebook's, lacking cut and tuned_unit)
BASE_A = dict(A3B_PLUS, cell="r0-baseA", kind="base", source="", n=0, unit="", fine_tuned=False, target="A",
              block_size=4)
CODE = "0.1.0+g0c92742"


def read(folder):
    """({scalar: [(step, value)]}, HParamsPluginData) of the run in ``folder``."""
    acc = EventAccumulator(str(folder))
    acc.Reload()
    scalars = {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
    [content] = acc.PluginTagToContent("hparams").values()
    return scalars, plugin_data_pb2.HParamsPluginData.FromString(content)


def values(info):
    return {name: getattr(v, v.WhichOneof("kind")) for name, v in info.hparams.items()}


def test_a_cells_run_holds_its_hparams_and_each_validation_once_when_resumed(tmp_path):
    hparams = tensorboard.hparams(A3B_PLUS, CODE)
    assert hparams == {"split": "r0", "treatment": "AnB+", "n": 3, "unit": "conv3", "fine_tuned": True,
                       "target": "B", "images_per_class": 0, "block_size": 0, "shift": "none",
                       "network": "caffenet", "code_version": "0.1.0+g0c92742"}
    run = tmp_path / "r0-A3B+"
    log = tensorboard.CellLog(run, hparams)
    log.open()
    log.validation(10, {"loss": 2.0, "val_top1": 0.25, "learning_rate": 0.01, "not_a_scalar": 1})
    log.close()  # killed after its first validation, then resumed from its backup
    log.open(resume=True)
    log.validation(20, {"loss": 1.5, "val_top1": 0.5, "learning_rate": 0.001})
    log.finish(20, best10_top1=0.375, lastk_top1=0.5)
    scalars, data = read(run)
    assert scalars["val_top1"] == [(10, 0.25), (20, 0.5)]
    assert scalars["learning_rate"] == [(10, pytest.approx(0.01)), (20, pytest.approx(0.001))]
    assert scalars["best10_top1"] == [(20, 0.375)] and scalars["lastk_top1"] == [(20, 0.5)]
    assert "not_a_scalar" not in scalars
    assert data.session_start_info.group_name == "r0-A3B+"
    assert values(data.session_start_info) == {**hparams, "n": 3.0, "images_per_class": 0.0, "block_size": 0.0}

    log.open()  # the cell run again from the start: its earlier points are gone
    log.validation(10, {"val_top1": 0.125})
    log.close()
    assert read(run)[0] == {"val_top1": [(10, 0.125)]}


def test_the_experiment_lists_each_axis_values_and_the_studys_metric(tmp_path):
    cells = [tensorboard.hparams(A3B_PLUS, CODE), tensorboard.hparams(BASE_A, "")]
    tensorboard.write_experiment(tmp_path, cells, metric="last_k")
    tensorboard.write_experiment(tmp_path, cells, metric="last_k")  # a second run replaces it
    assert len(list(tmp_path.glob("events.out.tfevents.*"))) == 1
    experiment = read(tmp_path)[1].experiment
    axes = {h.name: [getattr(v, v.WhichOneof("kind")) for v in h.domain_discrete.values]
            for h in experiment.hparam_infos}
    assert axes == {"split": ["r0"], "treatment": ["AnB+", "base"], "n": [0.0, 3.0], "unit": ["", "conv3"],
                    "fine_tuned": [False, True], "target": ["A", "B"], "images_per_class": [0.0],
                    "block_size": [0.0, 4.0], "shift": ["none"], "network": ["caffenet"],
                    "code_version": ["", "0.1.0+g0c92742"]}
    metrics = {m.name.tag: m.display_name for m in experiment.metric_infos}
    assert metrics == {"val_top1": "final top-1", "best10_top1": "best-10 top-1",
                       "lastk_top1": "last-k top-1 (the study's metric)"}


def test_a_run_copied_to_a_url_replaces_the_one_there(tmp_path):
    """A study at a URL gets each cell's run when the cell ends (``Launcher``); a rerun cell's
    run replaces the earlier one there, whose steps would otherwise show twice."""
    from transferlib.records import store
    url = (tmp_path / "study").as_uri() + "/tensorboard/r0-A3B+"
    for value in (0.25, 0.5):
        run = tmp_path / f"local-{value}"
        log = tensorboard.CellLog(run, tensorboard.hparams(A3B_PLUS, CODE))
        log.open()
        log.validation(10, {"val_top1": value})
        log.close()
        store.put_folder(run, url)
    assert read(tmp_path / "study" / "tensorboard" / "r0-A3B+")[0] == {"val_top1": [(10, 0.5)]}


def test_a_rewritten_experiment_published_to_a_url_replaces_the_one_there(tmp_path):
    """The runner writes the experiment at every run of a study and copies it to a URL root;
    an earlier copy left beside the new one would show the study's grid twice."""
    from transferlib.records import store
    url = (tmp_path / "study").as_uri() + "/tensorboard"
    for metric in ("best10", "last_k"):
        path = tensorboard.write_experiment(tmp_path / "local", [tensorboard.hparams(A3B_PLUS, CODE)], metric)
        store.put(path, f"{url}/{path.name}")
    assert len(list((tmp_path / "study" / "tensorboard").iterdir())) == 1
    metrics = {m.name.tag: m.display_name for m in read(tmp_path / "study" / "tensorboard")[1].experiment.metric_infos}
    assert metrics["lastk_top1"] == "last-k top-1 (the study's metric)"


def test_without_the_tensorboard_package_a_cell_says_its_logs_are_off(monkeypatch, capsys):
    import sys

    import transferlib.records
    from transferlib.cell import logs
    from transferlib.driver import runner
    for name in [m for m in sys.modules if m == "tensorboard" or m.startswith("tensorboard.")]:
        monkeypatch.setitem(sys.modules, name, None)  # any import of it fails, as where it is absent
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    monkeypatch.delitem(sys.modules, "transferlib.records.tensorboard")
    monkeypatch.delattr(transferlib.records, "tensorboard")
    given = {k: v for k, v in A3B_PLUS.items() if k != "unit"}  # the cell's notebook's values
    assert logs.tensorboard_log(None, None, given) is None
    assert capsys.readouterr().out.startswith("TensorBoard logs are off: ")
    said = []
    runner.write_experiment(None, said.append)  # the runner's experiment: the same line, nothing written
    assert len(said) == 1 and said[0].startswith("TensorBoard logs are off: ")
