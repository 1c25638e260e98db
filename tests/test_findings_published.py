"""The published runs (docs/findings/, on a CPU, docs/findings-gpu/, docs/block-shuffle/ and
docs/surgical/) are reproducible from their own tables: the summary redrawn from the published
results.csv, with no training, no data and no saved networks, gives the published verdicts and
Table 1 (and the block-shuffle gains, the surgical verdicts) exactly."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest

from transferlib.summary import surgical

ROOT = Path(__file__).resolve().parents[1]
STOPPED = "The bases had stopped learning before the last drop"
RUNS = {"findings": STOPPED,  # what each report says of its bases
        "findings-gpu": STOPPED,
        "block-shuffle": STOPPED,
        "surgical": STOPPED}
REDRAWN = {"block-shuffle": ("block_shuffle.csv", "block_shuffle_verdicts.csv"),  # beyond verdicts.csv, table1.csv
           "surgical": ("surgical_verdicts.csv",)}
JUDGED = {"surgical": ("surgical_verdicts.csv", "shift")}  # the study's verdicts: those of its own claim
FIGURES = {"surgical": ("surgical.png",)}  # where not figures 2 and 3 (a study of its bases and shifted targets)
REDRAWN_FROM = ("results.csv", "params.yaml", "halves.json")  # what the summary reads


def redrawn(published, names, folder):
    """Redraw into ``folder`` the report of the ``published`` study folder from its files
    ``names``, as ``transferlib summary`` does with no data, training or saved networks."""
    for name in names:
        shutil.copy(published / name, folder / name)
    done = subprocess.run([sys.executable, "-m", "transferlib", "summary", str(folder)], cwd=folder,
                          env={**{k: v for k, v in os.environ.items() if not k.startswith("TRANSFER_")},
                               "TRANSFER_CACHE_DIR": str(folder / "no-data")},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("study", RUNS)
def test_the_published_report_redraws_from_the_published_table(tmp_path, study):
    published = ROOT / "docs" / study
    redrawn(published, REDRAWN_FROM, tmp_path)
    for name in ("verdicts.csv", "table1.csv", *REDRAWN.get(study, ())):
        assert (tmp_path / name).read_text() == (published / name).read_text(), f"{name} differs"
    report = (tmp_path / "summary.html").read_text()
    opens = [report.index(f'id="{h}') for h in (f"{study}:-study-summary", "What-this-summary-holds",
                                                "Did-the-bases-converge", "The-contrasts", "Verdicts-on", "Table-1")]
    assert opens == sorted(opens), "the report opens with what the study is, convergence, contrasts, verdicts"
    assert RUNS[study] in report


@pytest.mark.parametrize("study", RUNS)
def test_the_published_folder_holds_what_the_docs_link_and_no_networks(study):
    published = ROOT / "docs" / study
    files = {p.name for p in published.iterdir()}
    assert {"summary.html", *FIGURES.get(study, ("figure2.png", "figure3.png")), "learning_curves.png",
            "results.csv", "table1.csv", "verdicts.csv", *REDRAWN.get(study, ())} <= files
    assert not [p for p in published.rglob("*") if p.suffix in (".keras", ".h5", ".npy")]
    assert sum(p.stat().st_size for p in published.rglob("*") if p.is_file()) < 10 * 2**20
    page = (ROOT / "docs" / f"{study}.md").read_text()
    table, key = JUDGED.get(study, ("verdicts.csv", "finding"))
    verdicts = pd.read_csv(published / table, keep_default_na=False)
    for row in verdicts.itertuples():  # the page's verdict table says what the run said
        assert f"| {getattr(row, key)} | {row.verdict} |" in page, getattr(row, key)


# The pages' prose against the published tables (issue 36): every check a page's verdict table
# quotes, with its mean, interval, verdict and splits needed, is the run's, and every interval the
# page (or the README) quotes anywhere, "M (L to H)" or "M, 95% interval L to H", is one the run's
# tables hold, to the shown rounding: a number changed on either side fails.
PAGES = ("findings", "surgical", "block-shuffle", "findings-gpu")
METRIC_HEADERS = {"best-10": "best10_top1", "last-k": "lastk_top1", "final top-1": "top1"}
NUMBER = r"[+-]\d+\.\d+"
PIECE = re.compile(rf"^(?P<f>.+?) (?P<m>{NUMBER})(?: \((?P<l>{NUMBER}) to (?P<h>{NUMBER})\))?(?P<rest>.*)$")
TRIPLE = re.compile(rf"(?P<m>{NUMBER})(?: points)?(?:,? \(| \(95% interval |, 95% interval )(?P<l>{NUMBER}) to (?P<h>{NUMBER})")


def _points(x):
    return f"{100 * x:+.1f}"


def _study(study):
    """(the run's labelled table with its metrics, its completed params, the metric its report chose)."""
    import yaml

    from transferlib import parameters
    from transferlib.records import table
    from transferlib.summary import metrics

    folder = ROOT / "docs" / study
    params = parameters.completed(yaml.safe_load((folder / "params.yaml").read_text()))[0]
    halves = json.loads((folder / "halves.json").read_text())
    df = metrics.with_metrics(table.read(folder), params.get("lr_drops", ()), params.get("val_every"),
                              params.get("momentum", 0.9))
    return df, params, metrics.choose(surgical.split_off(df)[0], params.get("metric"),
                                      metrics.validation_images(params, halves)).column


class Fact(NamedTuple):
    mean: str
    low: str | None
    high: str | None
    verdict: str
    text: str  # where it was read, for "needs about N splits"


def _facts(study):
    """({metric: {(claim key, formula): Fact}} of the run's verdict files, the chosen metric)."""
    from transferlib.summary import metrics

    df, params, chosen = _study(study)
    folder = ROOT / "docs" / study
    facts = {m: {} for m in METRIC_HEADERS.values()}
    column = {m: "" if m == chosen else f", {metrics.NAMES[m]}" for m in facts}
    if study == "surgical":
        names = surgical.unit_order(params)
        for row in pd.read_csv(folder / "surgical_verdicts.csv").to_dict("records"):
            formulas = {c.part: c.formula for c in surgical.contrasts(row["shift"], names)}
            for m in facts:
                for clause in row["checks" + column[m]].split("); "):
                    hit = re.match(rf"(?P<part>.+?): (?P<v>\w+) \((?P<m>{NUMBER}) points, 95% interval "
                                   rf"(?P<l>{NUMBER}) to (?P<h>{NUMBER})", clause)
                    facts[m][row["shift"], formulas[hit["part"]]] = Fact(hit["m"], hit["l"], hit["h"], hit["v"], clause)
        return facts, chosen
    if study == "block-shuffle":
        from transferlib import data
        from transferlib.summary import block_shuffle

        side = data.stored_size(params["image_size"])
        said = {c.formula: block_shuffle._clause(c)  # the splits an undecided check needs, as the report says
                for c in block_shuffle.checks(block_shuffle.gains(df, chosen, side), side)}
        for row in pd.read_csv(folder / "block_shuffle_verdicts.csv").to_dict("records"):
            for m in facts:
                facts[m]["block shuffle", row["contrast"]] = Fact(
                    _points(row["mean" + column[m]]), _points(row["low" + column[m]]),
                    _points(row["high" + column[m]]), row["verdict" + column[m]],
                    said[row["contrast"]] if m == chosen else "")
    for row in pd.read_csv(folder / "verdicts.csv", keep_default_na=False).to_dict("records"):
        for clause in _clauses(row["evidence"]):  # the chosen metric's only: the file holds no other's numbers
            hit = re.match(rf"(?P<f>.+?)(?: \([^)]*measured\))? (?P<m>{NUMBER})(?:, 95% interval \[(?P<l>{NUMBER}), "
                           rf"(?P<h>{NUMBER})\]| from).*?: (?P<v>supported|contradicted|inconclusive)", clause)
            if hit:
                facts[chosen][str(row["finding"]), hit["f"]] = Fact(hit["m"], hit["l"], hit["h"], hit["v"], clause)
    return facts, chosen


def _clauses(text):
    """``text`` split at each "; " outside parentheses and brackets."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += (ch in "([") - (ch in ")]")
        if depth == 0 and text.startswith("; ", i):
            out.append(text[start:i])
            start = i + 2
    return out + [text[start:]]


def _verdicts(study):
    """{claim key: {metric column or "verdict": verdict}} of the run's files."""
    from transferlib.summary import inference

    folder = ROOT / "docs" / study
    if study == "surgical":
        return {r["shift"]: r for r in pd.read_csv(folder / "surgical_verdicts.csv").to_dict("records")}
    out = {str(r["finding"]): r for r in pd.read_csv(folder / "verdicts.csv", keep_default_na=False).to_dict("records")}
    if study == "block-shuffle":
        checks = pd.read_csv(folder / "block_shuffle_verdicts.csv")
        out["block shuffle"] = {c: inference.combined(list(checks[c])) for c in checks if c.startswith("verdict")}
    return out


def _table_rows(page, keys):
    """{key: (header cells, row cells)} of the page's Markdown table rows opening with a claim's key."""
    rows, header = {}, None
    for line in page.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else None
        if cells is None or set(line) <= set("|- "):
            continue
        if cells[0] in keys:
            rows[cells[0]] = (header, cells)
        else:
            header = cells
    return rows


@pytest.mark.parametrize("study", PAGES)
def test_the_pages_verdict_table_quotes_the_runs_checks_under_every_metric(study):
    from transferlib.summary import metrics

    facts, chosen = _facts(study)
    verdicts = _verdicts(study)
    page = (ROOT / "docs" / f"{study}.md").read_text()
    rows = _table_rows(page, verdicts)
    assert set(rows) == set(verdicts), f"the page's verdict table lacks {set(verdicts) - set(rows)}"
    for key, (header, cells) in rows.items():
        assert cells[1] == verdicts[key]["verdict"], key
        shown = [h for h in header if h in METRIC_HEADERS]
        assert sorted(shown + [next(h for h, m in METRIC_HEADERS.items() if m == chosen)]) == sorted(METRIC_HEADERS)
        for h in shown:  # the verdict under each other metric, as the file has it
            assert cells[header.index(h)] == verdicts[key][f"verdict, {metrics.NAMES[METRIC_HEADERS[h]]}"], (key, h)
        quoted = set()
        for piece in cells[-1].split("; "):
            hit = PIECE.match(piece)
            if not hit or "not measured" in piece:
                continue
            fact = facts[chosen].get((key, hit["f"]))
            assert fact, f"{study}, {key}: {hit['f']!r} is no check of the run"
            assert (hit["m"], hit["l"], hit["h"]) == (fact.mean, hit["l"] and fact.low, hit["h"] and fact.high), piece
            verdict = re.match(r": (\w+)", hit["rest"])
            assert not verdict or verdict[1] == fact.verdict, piece
            needs = re.search(r"needs about (\d+) splits", hit["rest"])
            assert not needs or f"about {needs[1]} splits" in fact.text, piece
            quoted.add(hit["f"])
        if not study.startswith("findings"):  # the run's own claims: every check quoted (the paper's: those the page chose)
            own = {f for (k, f) in facts[chosen] if k == key}
            assert own <= quoted or key.isdigit(), f"{study}, {key}: {own - quoted} not quoted"


def _descriptive(study):
    """Intervals a page may quote beyond its checks, each as the run's tables give it:
    surgical, every difference of two treatments of a shift and each unit minus the mean of the
    others; block-shuffle, the gain per b; under every metric."""
    from transferlib import data
    from transferlib.summary import block_shuffle, inference

    df, params, _ = _study(study)
    out = set()
    for m in METRIC_HEADERS.values():
        if study == "surgical":
            names = surgical.unit_order(params)
            labelled = surgical.label(surgical.split_off(df)[1])
            for shift in set(labelled["shift"]):
                values = surgical.replicate_values(labelled[labelled["shift"] == shift], m)
                keys = list(values)
                units = [k for k in keys if k[0] == "unit"]
                pairs = [((a,), (b,)) for a in keys for b in keys if a != b]
                pairs += [((u,), tuple(o for o in units if o != u)) for u in units]
                for plus, minus in pairs:
                    x = surgical._value(values, surgical.Contrast(shift, "", "", ("above", 0.0), plus, minus))
                    t = inference.one_sample(x, ("above", 0.0))
                    out.add((_points(t.mean), _points(t.low), _points(t.high)))
        if study == "block-shuffle":
            gained = block_shuffle.gains(df, m, data.stored_size(params["image_size"]))
            for r in block_shuffle.summary_table(gained).itertuples():
                out.add((_points(r.gain), _points(r.low), _points(r.high)))
    return out


def _known(study):
    facts, _ = _facts(study)
    return {(f.mean, f.low, f.high) for by in facts.values() for f in by.values() if f.low} | _descriptive(study)


@pytest.mark.parametrize("page", [*PAGES, "README"])
def test_every_interval_a_page_quotes_is_one_its_run_holds(page):
    known = set().union(*map(_known, PAGES)) if page == "README" else _known(page)
    text = " ".join((ROOT / ("README.md" if page == "README" else f"docs/{page}.md")).read_text().split())
    if page == "README":  # its paragraph on the pretrained run: tests/test_pretrained_published.py
        start = text.index("**How deep to freeze")
        text = text[:start] + text[text.index("- **", start):]
    quoted = [(h["m"], h["l"], h["h"]) for h in TRIPLE.finditer(text)]
    assert quoted or page == "findings-gpu"
    assert not [q for q in quoted if q not in known], [q for q in quoted if q not in known]


def test_the_block_shuffle_pages_gains_and_the_surgical_pages_accuracies_are_the_runs():
    from transferlib import data
    from transferlib.summary import block_shuffle

    df, params, chosen = _study("block-shuffle")
    table = block_shuffle.summary_table(block_shuffle.gains(df, chosen, data.stored_size(params["image_size"])))
    page = (ROOT / "docs" / "block-shuffle.md").read_text()
    for b, r in table.iterrows():
        label = str(b) if b < table.index.max() else f"whole ({b})"
        assert (f"| {label} | {100 * r.base:.1f} | {100 * r['AnB+']:.1f} | {_points(r.gain)} | "
                f"{_points(r.low)} to {_points(r.high)} |") in page, b
    df, params, chosen = _study("surgical")
    names = surgical.unit_order(params)
    means = surgical.accuracy_table(surgical.label(surgical.split_off(df)[1]), chosen, names)["mean (%)"]
    page = (ROOT / "docs" / "surgical.md").read_text()
    rows = {"from scratch": "from scratch", "linear probe": "linear probe (classifier fresh)",
            "full fine-tuning": "full fine-tuning", **{f"{u} alone": f"{k}: {u} alone" for k, u in enumerate(names, 1)}}
    for shown, network in rows.items():
        values = " | ".join(f"{means[shift, network]:.1f}" for shift in ("noise", "grey", "labels"))
        assert f"| {shown} | {values} |" in page, shown
