"""The CI gate: a run compared with a per-driver baseline of expected failures.

A baseline is deqp-runner's fails.txt: one ``test,Outcome`` line per expected non-pass
(Fail, Crash, Timeout, Flake, Skip); ``#`` starts a comment.  The gate fails only on new
failures (a failing outcome the baseline does not expect); tests the baseline expects to
fail that now pass are listed so the baseline can shrink.

deqp-runner's skips.txt and flakes.txt are read too (``--skips``, ``--flakes``): one
regular expression per line, searched in the test ID; ``#`` starts a comment.  A test a
skip matches is not run (Skip); a failing test a flake matches is a Flake, not a failure.

All three read a renamed test's old ID as its new one (reports/test_ids.py, test-id-aliases.txt).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vkmap_cts.reports import test_ids
from vkmap_cts.reports.model import DRIVER_FAILING, FAILING

EXPECTABLE = DRIVER_FAILING + ("Flake", "Skip")  # never InternalError: the suite's own error is fixed, not expected
PATTERNS = pytest.StashKey[dict[str, list[tuple[int, re.Pattern]]]]()  # option -> its patterns, read once a process


def load_patterns(
    path: Path, option: str = "--skips", notes: test_ids.Notes | None = None
) -> list[tuple[int, re.Pattern]]:
    """(line number, regex) of a deqp-runner skips or flakes file, a line naming a renamed test's old ID read as
    its new ID (test_ids.py; ``notes`` gets the warnings); a ValueError names a bad line."""
    out = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            out.append((n, test_ids.current_pattern(line, option, f"{path}:{n}", notes)))
        except re.error as e:
            raise ValueError(f"{path}:{n}: not a regular expression ({e}): {line!r}") from None
    return out


def first_match(patterns: list[tuple[int, re.Pattern]], nodeid: str) -> int | None:
    """The line of the first pattern found in ``nodeid``, or None."""
    return next((n for n, p in patterns if p.search(nodeid)), None)


def patterns_of(config, option: str) -> list[tuple[int, re.Pattern]]:
    """The regular expressions of ``--skips`` or ``--flakes`` in this run (read once per process), or []."""
    read = config.stash.setdefault(PATTERNS, {})
    if option not in read:
        path = config.getoption(option)
        read[option] = load_patterns(Path(path), option) if path else []
    return read[option]


def load(path: Path, notes: test_ids.Notes | None = None) -> dict[str, str]:
    """test ID -> expected outcome of a baseline, a renamed test's old ID read as its new ID (test_ids.py;
    ``notes`` gets the warnings, and the lines that name no test); a ValueError names a bad line."""
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
        expected[test_ids.current(test, "--baseline", f"{path}:{n}", notes)] = outcome
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


def judged(tests: list[dict], expected: dict[str, str], baseline: str) -> dict:
    """The gate's verdict on a run against ``baseline`` (its expected failures): what results.json stores under
    "gate", with the exit status the gate gives (1 on a new failure, else 0)."""
    result = compare(tests, expected)
    new = [t for t, _ in result["new_failures"]]
    return {
        "baseline": str(baseline),
        "newFailures": new,
        "expected": [t for t, _ in result["expected_failures"]],
        "flakes": [t for t, _ in result["flakes"]],
        "unexpectedPasses": [t for t, _ in result["unexpected_passes"]],
        "exitStatus": 1 if new else 0,
        "verdict": "Fail" if new else "Pass",
    }


def summary_line(g: dict) -> str:
    """The gate's verdict in one line (ci/matrix reads its counts)."""
    return (
        f"gate against {g['baseline']}: {len(g['newFailures'])} new failures, {len(g['expected'])} expected, "
        f"{len(g['flakes'])} flakes, {len(g['unexpectedPasses'])} unexpected passes: {g['verdict']}, "
        f"exit {g['exitStatus']}"
    )


def lines(g: dict, tests: list[dict]) -> list[str]:
    """The tests behind the gate's verdict, one line each (new failures with their outcome), then its summary line."""
    outcome = {t["nodeid"]: t["outcome"] for t in tests}
    attempts = {t["nodeid"]: ",".join(t.get("attempts", [])) for t in tests}
    out = [f"  NEW {outcome.get(t, 'Fail')}: {t}" for t in g["newFailures"]]
    out += [f"  FLAKE ({attempts.get(t, '')}): {t}" for t in g["flakes"]]
    out += [f"  UNEXPECTED PASS (the baseline expects a failure; remove it): {t}" for t in g["unexpectedPasses"]]
    return out + [f"vkmap-cts: {summary_line(g)}"]


def baseline_text(tests: list[dict], identity: dict | None) -> str:
    head = "# vkmap-cts baseline"
    if identity:
        head += f" for {identity.get('deviceName')} / {identity.get('driverName')} {identity.get('driverInfo')}"
    lines = [head] + [f"{t['nodeid']},{t['outcome']}" for t in tests if t["outcome"] in DRIVER_FAILING + ("Flake",)]
    return "\n".join(lines) + "\n"
