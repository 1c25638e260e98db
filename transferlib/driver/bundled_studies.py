"""The studies that ship with transferlib (``transferlib/studies/*.yaml``), found by name."""

from pathlib import Path

from .params import ParamsError

BUNDLED = Path(__file__).resolve().parents[1] / "studies"


def find(name_or_path):
    """The params file ``name_or_path`` names: an existing path, else a bundled study's name."""
    path = Path(name_or_path)
    if path.exists() or path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        return path
    bundled = BUNDLED / f"{name_or_path}.yaml"
    if bundled.is_file():
        return bundled
    raise ParamsError(name_or_path, [f"no such params file, and no bundled study of that name; "
                                     f"bundled: {', '.join(sorted(p.stem for p in BUNDLED.glob('*.yaml')))}"])


def header(path):
    """A params file's opening comment block, as lines without the '# '."""
    lines = []
    for line in Path(path).read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return lines


def describe():
    """One entry per bundled study: its name, its first header line and its measured time."""
    out = []
    for path in sorted(BUNDLED.glob("*.yaml")):
        lines = header(path)
        measured = next((l for l in lines if l.startswith(("Measured", "Estimated"))), "")
        out.append(f"{path.stem:<14} {lines[0] if lines else ''}"
                   + (f"\n{'':<14} {measured}" if measured else ""))
    return "\n".join(out)
