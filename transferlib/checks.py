"""Checks of params-file values: each takes a YAML value and returns it as stored (lists as
tuples, numbers as floats where real) or raises ``Invalid`` with a message that follows
``key: `` and says what was expected. ``want`` on each check is that expectation in words."""

import difflib
import math
import re


class Invalid(Exception):
    """One value's problem, phrased to follow ``key: ``; ``hint`` is a did-you-mean, if any."""

    def __init__(self, message, hint=""):
        super().__init__(message)
        self.hint = hint


def unknown(name, known, what="key"):
    """The problem of a ``name`` not among ``known``, phrased as the other checks' problems:
    "name: unknown key; did you mean 'x'?" (difflib's closest), else the known names."""
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known {what}s: {', '.join(known)}"
    return f"{name}: unknown {what}; {hint}"


def checker(want, test, convert=lambda v: v, hint=lambda v: ""):
    """A check that returns ``convert(v)`` when ``test(v)``, else raises naming ``want``."""
    def check(v):
        if not test(v):
            raise Invalid(f"got {v!r}; expected {want}{hint(v)}", hint(v))
        return convert(v)
    check.want = want
    return check


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def integer(ok, want):
    return checker(want, lambda v: is_int(v) and ok(v))


def real(ok, want):
    """A finite number (inf and nan are refused) that ``ok`` accepts, as a float."""
    return checker(want, lambda v: (is_int(v) or isinstance(v, float)) and math.isfinite(v) and ok(v), float)


def text(want, pattern=r".+"):
    return checker(want, lambda v: isinstance(v, str) and re.fullmatch(pattern, v))


BOOLEAN = checker("true or false", lambda v: isinstance(v, bool))
NULL = checker("null", lambda v: v is None)


def one_of(allowed):
    def hint(v):
        close = difflib.get_close_matches(str(v), [str(a) for a in allowed], n=1)
        return f" (did you mean {close[0]!r}?)" if close and isinstance(v, str) else ""
    want = (f"one of {', '.join(map(repr, allowed))}" if len(allowed) > 1
            else repr(allowed[0]))
    return checker(want, lambda v: not isinstance(v, bool) and v in allowed, hint=hint)


def either(*checks):
    """The first of ``checks`` that accepts the value."""
    want = " or ".join(c.want for c in checks)

    def check(v):
        hints = []
        for c in checks:
            try:
                return c(v)
            except Invalid as e:
                if isinstance(v, list) and getattr(c, "takes_list", False):
                    raise  # the list's own problem says more
                hints.append(e.hint)
        raise Invalid(f"got {v!r}; expected {want}{''.join(hints)}", "".join(hints))
    check.want = want
    return check


def listed(item, empty_ok=False, increasing=False):
    """A list of values that ``item`` accepts, each once (increasing if asked), as a tuple."""
    want = ("a list" if empty_ok else "a non-empty list") + f", each {item.want}"

    def check(v):
        if not isinstance(v, list) or not (v or empty_ok):
            raise Invalid(f"got {v!r}; expected {want}")
        out, bad = [], []
        for x in v:
            try:
                out.append(item(x))
            except Invalid as e:
                bad.append(f"{x!r}{e.hint}")
        if bad:
            raise Invalid(f"{', '.join(bad)} not allowed; expected {want}")
        repeated = sorted({repr(x) for x in out if out.count(x) > 1})
        if repeated:
            raise Invalid(f"{', '.join(repeated)} repeated; list each value once")
        if increasing and out != sorted(out):
            raise Invalid(f"got {v!r}; expected increasing values")
        return tuple(out)
    check.want, check.takes_list = want, True
    return check


def by_split(item):
    """{split: value that ``item`` accepts}, stored as a tuple of (split, value) pairs."""
    want = f"a mapping from each split to {item.want}"

    def check(v):
        if not isinstance(v, dict) or not v:
            raise Invalid(f"got {v!r}; expected {want}")
        return tuple((split, item(value)) for split, value in v.items())
    check.want = want
    return check


def keyed(keys, item):
    """{key: value that ``item`` accepts}, each key one of ``keys``, stored as a tuple of (key,
    value) pairs."""
    want = f"a mapping from some of {', '.join(keys)} to {item.want}"

    def check(v):
        if not isinstance(v, dict) or not v:
            raise Invalid(f"got {v!r}; expected {want}")
        unknown = [k for k in v if k not in keys]
        if unknown:
            raise Invalid(f"{', '.join(map(repr, unknown))} not allowed; expected {want}")
        return tuple((key, item(value)) for key, value in v.items())
    check.want = want
    return check


def halves(v):
    """{"A": class ids, "B": class ids}: two non-empty disjoint lists (or null: splits)."""
    want = "{A: [class ids], B: [class ids]}, two non-empty lists with no class in both"
    if v is None:
        return None
    if not isinstance(v, dict) or sorted(map(str, v)) != ["A", "B"]:
        raise Invalid(f"got {v!r}; expected {want}")
    out = {}
    for half in ("A", "B"):
        ids = v[half]
        if not isinstance(ids, list) or not ids or not all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in ids):
            raise Invalid(f"{half}: got {ids!r}; expected {want}")
        out[half] = tuple(str(c) for c in ids)
    both = sorted(set(out["A"]) & set(out["B"]))
    if both:
        raise Invalid(f"{', '.join(both)} in both halves; expected {want}")
    return out


halves.want = "{A: [class ids], B: [class ids]}"
