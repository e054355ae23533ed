"""The CI gate: a run compared with a per-driver baseline of expected failures.

A baseline is deqp-runner's fails.txt: one ``test,Outcome`` line per expected non-pass
(Fail, Crash, Timeout, Flake, Skip); ``#`` starts a comment.  The gate fails only on new
failures (a failing outcome the baseline does not expect); tests the baseline expects to
fail that now pass are listed so the baseline can shrink.

deqp-runner's skips.txt and flakes.txt are read too (``--skips``, ``--flakes``): one
regular expression per line, searched in the test ID; ``#`` starts a comment.  A test a
skip matches is not run (Skip); a failing test a flake matches is a Flake, not a failure.
"""

from __future__ import annotations

import re
from pathlib import Path

from vkmap_cts.reports.model import DRIVER_FAILING, FAILING

EXPECTABLE = DRIVER_FAILING + ("Flake", "Skip")  # never InternalError: the suite's own error is fixed, not expected


def load_patterns(path: Path) -> list[tuple[int, re.Pattern]]:
    """(line number, regex) of a deqp-runner skips or flakes file; a ValueError names a bad line."""
    out = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            out.append((n, re.compile(line)))
        except re.error as e:
            raise ValueError(f"{path}:{n}: not a regular expression ({e}): {line!r}") from None
    return out


def first_match(patterns: list[tuple[int, re.Pattern]], nodeid: str) -> int | None:
    """The line of the first pattern found in ``nodeid``, or None."""
    return next((n for n, p in patterns if p.search(nodeid)), None)


def patterns_of(config, option: str) -> list[tuple[int, re.Pattern]]:
    """The regular expressions of ``--skips`` or ``--flakes`` in this run (read once per process), or []."""
    key = "_vk_patterns" + option
    if not hasattr(config, key):
        path = config.getoption(option)
        setattr(config, key, load_patterns(Path(path)) if path else [])
    return getattr(config, key)


def load(path: Path) -> dict[str, str]:
    expected = {}
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        test, sep, outcome = line.rpartition(",")
        if not sep or outcome not in EXPECTABLE:
            raise ValueError(
                f"{path}:{n}: expected 'test,Outcome' with Outcome one of {', '.join(EXPECTABLE)}: {line!r}"
            )
        expected[test] = outcome
    return expected


def compare(tests: list[dict], expected: dict[str, str]) -> dict[str, list]:
    """new failures, expected failures, unexpected passes, flakes."""
    out = {"new_failures": [], "expected_failures": [], "unexpected_passes": [], "flakes": []}
    for t in tests:
        want, got = expected.get(t["nodeid"]), t["outcome"]
        if got in FAILING:
            known = got != "InternalError" and (want in FAILING or want == "Flake")
            (out["expected_failures"] if known else out["new_failures"]).append((t["nodeid"], got))
        elif got == "Flake":
            out["flakes"].append((t["nodeid"], ",".join(t.get("attempts", []))))
        elif got == "Pass" and want in FAILING:
            out["unexpected_passes"].append((t["nodeid"], want))
    return out


def baseline_text(tests: list[dict], identity: dict | None) -> str:
    head = "# vkmap-cts baseline"
    if identity:
        head += f" for {identity.get('deviceName')} / {identity.get('driverName')} {identity.get('driverInfo')}"
    lines = [head] + [f"{t['nodeid']},{t['outcome']}" for t in tests if t["outcome"] in DRIVER_FAILING + ("Flake",)]
    return "\n".join(lines) + "\n"
