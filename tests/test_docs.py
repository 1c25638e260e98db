"""The README and the pages under docs/ stay true to the code: the README is a manual of at most
200 lines whose test command is the one CI runs; every relative link and anchor leads somewhere;
every `transferlib` command names a subcommand, options, overrides and bundled studies that
exist; every params key shown is a key of ``Params``; every file and test named exists. Fast:
reads text and argparse's help, trains nothing."""

import contextlib
import io
import re
from dataclasses import fields
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from transferlib import parameters
from transferlib.__main__ import main
from transferlib.driver import bundled_studies
from transferlib.driver.params import Params, ParamsError, parse_overrides

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

def text(page):
    return page.read_text()


def prose(page):
    """The page without its fenced code blocks (links there are not links)."""
    return re.sub(r"^```.*?^```", "", text(page), flags=re.S | re.M)


def fenced(page, language=None):
    """The fenced code blocks of ``page`` (of one ``language``, if given)."""
    return [body for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", text(page), flags=re.S | re.M)
            if language is None or lang == language]


def name(page):
    return str(page.relative_to(ROOT))


def slug(heading):
    """GitHub's anchor for a heading."""
    heading = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return heading.replace(" ", "-")


def anchors(page):
    return {slug(h) for h in re.findall(r"^#+ (.+)$", prose(page), flags=re.M)}


def known_keys():
    return {f.name for f in fields(Params)} - {"file"}


def help_of(*argv):
    """argparse's help text for ``python -m transferlib *argv --help``."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        main([*argv, "--help"])
    assert done.value.code == 0
    return out.getvalue()


def test_the_readme_is_a_manual_of_at_most_200_lines():
    assert len(text(README).splitlines()) <= 200


def test_the_readme_test_command_is_the_one_ci_runs():
    command = re.search(r"Run the tests.*?\n\n    (.+?)\n", text(README), re.S)[1]
    assert command.endswith(".venv/bin/python -m pytest"), command
    assert command in (ROOT / ".ci" / "run").read_text()


def test_the_readme_links_every_page_under_docs():
    linked = set(re.findall(r"\]\((docs/[\w-]+\.md)[#)]", text(README)))
    assert linked == {name(p) for p in PAGES[1:]}


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", prose(page)):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if ROOT not in file.parents and file != ROOT:
            continue  # ../shared/PAPER.md: beside the repository, not in it
        if not file.exists():
            broken.append(target)
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{name(page)}: {broken}"


def commands(page):
    """The code of ``page``, one command a line: its fenced and indented blocks' lines, and its
    inline code spans (a command continued with \\ is one line)."""
    fenced = False
    for line in re.sub(r"\\\n\s*", "", text(page)).splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced or line.startswith("    "):
            yield line.strip()
        else:
            yield from re.findall(r"`([^`]+)`", line)


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_transferlib_command_exists_in_the_cli(page):
    subcommands = set(re.search(r"\{([\w,]+)\}", help_of())[1].split(","))
    bundled = {p.stem for p in bundled_studies.BUNDLED.glob("*.yaml")}
    problems = []
    for line in commands(page):
        for match in re.finditer(r"(?:^|[\s/])(?<!from )(?<!import )transferlib ([\w-]+)((?: [^`&|;]*)?)", line):  # to `, && or ;
            sub, rest = match[1], match[2]
            if sub not in subcommands:
                problems.append(f"no subcommand {sub!r}: {line.strip()}")
                continue
            options = help_of(sub)
            problems += [f"{sub} has no option {o}: {line.strip()}"
                         for o in re.findall(r"(?<!\S)\[?(--[a-z][\w-]*)", rest)
                         if not re.search(rf"(?<![\w-]){o}(?![\w-])", options)]
            study = re.match(r" ([a-z][\w-]*)(?=\s|$)", rest)
            if sub == "run" and study and study[1] not in bundled:
                problems.append(f"no bundled study {study[1]!r}: {line.strip()}")
            if sub == "run":
                overrides = re.findall(r"(?<!\S)(\w+=\S+)", rest)
                try:
                    parse_overrides(overrides)
                except ParamsError as e:
                    problems.append(f"{e}: {line.strip()}")
                problems += [f"no params key {o.partition('=')[0]!r}: {line.strip()}" for o in overrides
                             if o.partition("=")[0] not in known_keys()]
    assert not problems, f"{name(page)}: {problems}"


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_params_key_shown_is_a_key(page):
    known, shown = known_keys(), []
    for block in fenced(page, "yaml"):
        shown += list(yaml.safe_load(block) or {})
    shown += re.findall(r"`([a-z_]+): [^`]+`", prose(page))
    unknown = sorted({k for k in shown if k not in known})
    assert not unknown, f"{name(page)}: params keys that are not keys of Params: {unknown}"


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_file_and_test_named_exists(page):
    missing = []
    for ref in re.findall(r"`((?:tests/)?test_\w+\.py)(?:::(\w+))?`", text(page)):
        file = ROOT / "tests" / Path(ref[0]).name
        if not file.is_file():
            missing.append(ref[0])
        elif ref[1] and not re.search(rf"^def {ref[1]}\(", file.read_text(), flags=re.M):
            missing.append(f"{ref[0]}::{ref[1]}")
    for path in re.findall(r"`((?:transferlib|tests|benchmarks|scripts|docs|\.ci)/[\w./-]*)`", text(page)):
        if not (ROOT / path).exists():
            missing.append(path)
    for path in re.findall(r"`((?:driver|cell|summary)/[\w./-]+)`", text(page)):  # in transferlib/
        if not (ROOT / "transferlib" / path).exists():
            missing.append(path)
    for module in re.findall(r"python -m (benchmarks(?:\.\w+)+)", text(page)):
        if not (ROOT / (module.replace(".", "/") + ".py")).is_file():
            missing.append(module)
    assert not missing, f"{name(page)}: named but absent: {missing}"


def test_the_params_page_lists_every_key_once_with_its_declared_default():
    """docs/params.md's tables hold each key of ``parameters.STUDY`` once, and a default written
    as a plain value (a number, true/false, null, a word or a list of those) is the declared one."""
    rows = re.findall(r"^\| `(\w+)` \| ([^|]*) \|", text(ROOT / "docs" / "params.md"), flags=re.M)
    listed = [key for key, _ in rows]
    assert sorted(listed) == sorted(p.name for p in parameters.STUDY), "keys missing or listed twice"
    declared = {p.name: p.default for p in parameters.STUDY}
    for key, shown in rows:
        try:
            value = yaml.safe_load(shown.strip())
        except yaml.YAMLError:
            continue  # "the file's name", "[2/9, 4/9, 6/9, 8/9]": said in words
        if isinstance(value, str) and re.fullmatch(r"[\d.]+e-?\d+", value):
            value = float(value)  # 5e-4, which YAML 1.1 reads as a word
        if isinstance(value, list):  # fractions such as 2/9 as numbers
            value = [float(Fraction(v)) if isinstance(v, str) and re.fullmatch(r"\d+/\d+", v) else v
                     for v in value]
        if isinstance(value, (list, int, float, str, bool)) or value is None:
            want = declared[key]
            want = list(want) if isinstance(want, tuple) else want
            if not isinstance(want, parameters.Required) and not (isinstance(value, str) and " " in value):
                assert value == pytest.approx(want) if isinstance(want, list) and want and isinstance(want[0], float) else value == want, f"{key}: docs/params.md says {shown.strip()}, parameters.py {want!r}"
