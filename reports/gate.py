"""The CI gate: a run judged against a per-driver baseline of expected failures, as deqp-runner judges it.

A baseline is deqp-runner's fails.txt: one ``test,Outcome`` line per expected failure (Fail, Crash,
Timeout; Flake names a known flake, Skip expects nothing); ``#`` starts a comment.  A run's own failures.csv
(``test,Outcome,duration`` lines) is a baseline as it is, as in deqp-runner: its lines of the suite's own error
(InternalError) and of tests with no result (Missing) expect nothing.

Every result gets deqp-runner's status (its RunnerStatus) against the baseline's line for its test (``status``),
in this one place that the gate, ``merge --gate``, ``diff`` and every report use:

    the same failure as the line              ExpectedFail
    Pass where Fail, Crash or Timeout was     UnexpectedImprovement(Pass) (and of NotSupported)
    Fail where Crash or Timeout was           UnexpectedImprovement(Fail)
    any other failure (Crash where Fail was)  itself: Fail, Crash, Timeout
    a failure or Flake --flakes or a Flake
      line names                              KnownFlake
    failed, then passed when re-run           Flake
    a test the line names that the run
      selected and never reached              Missing
    the suite's own error                     InternalError, whatever the baseline says (never expectable)

Fail, Crash, Timeout, Missing, InternalError and UnexpectedImprovement fail the gate (improvements are warnings with
--allow-improvements); Pass, Skip, NotSupported, ExpectedFail, Flake and KnownFlake do not.  deqp-runner's Warn is
never given: the suite has no such outcome.

deqp-runner's skips.txt and flakes.txt are read too (``--skips``, ``--flakes``): one
regular expression per line, searched in the test ID; ``#`` starts a comment.  A test a
skip matches is not run (Skip); a failing test a flake matches is a KnownFlake, not a failure.

All three read a renamed test's old ID as its new one (reports/test_ids.py, test-id-aliases.txt).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vkmap_cts.reports import test_ids
from vkmap_cts.reports.model import DRIVER_FAILING, FAILING

EXPECTABLE = DRIVER_FAILING + ("Flake", "Skip")  # never InternalError: the suite's own error is fixed, not expected
# Statuses a run's own results.csv or failures.csv holds that expect nothing of a test when read as a baseline.
EXPECT_NOTHING = ("Pass", "NotSupported", "Missing", "InternalError")
CONVENTION = "deqp-runner"
# deqp-runner's statuses (RunnerStatus), most urgent first: the order every report lists them in.  InternalError, the
# suite's own, comes first: no baseline expects it.
STATUSES = (
    "InternalError",
    "Crash",
    "Timeout",
    "Fail",
    "Missing",
    "UnexpectedImprovement",
    "Flake",
    "KnownFlake",
    "ExpectedFail",
    "Warn",
    "Skip",
    "NotSupported",
    "Pass",
)
FAILS_THE_GATE = ("InternalError", "Crash", "Timeout", "Fail", "Missing")  # and UnexpectedImprovement, unless allowed
PATTERNS = pytest.StashKey[dict[str, list[tuple[int, re.Pattern]]]]()  # option -> its patterns, read once a process


def load_patterns(
    path: Path, option: str = "--skips", notes: test_ids.Notes | None = None
) -> list[tuple[int, re.Pattern]]:
    """(line number, regex) of a deqp-runner skips or flakes file, a line naming a renamed test's old ID read as
    its new ID (test_ids.py; ``notes`` gets the warnings); a ValueError names a bad line."""
    out = []
    for n, line in enumerate(_text(path).splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            out.append((n, test_ids.current_pattern(line, option, f"{path}:{n}", notes)))
        except re.error as e:
            raise ValueError(f"{path}:{n}: not a regular expression ({e}): {line!r}") from None
    return out


def _text(path) -> str:
    """A baseline, skips or flakes file's text; a ValueError that names the file where it is not UTF-8."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text (byte {e.start}: {e.reason}); save it as UTF-8") from None


def _is_duration(text: str) -> bool:
    """The duration a failures.csv line ends with (deqp-runner's ``test,status,duration``)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


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


class Expected(str):
    """The outcome a baseline expects of a test (Fail, Crash, Timeout, Flake or Skip), with ``where`` its file and line
    say it ("fails.txt:7"): what a message about the test names as the line to delete or change."""

    where: str

    def __new__(cls, outcome: str, where: str = ""):
        self = super().__new__(cls, outcome)
        self.where = where
        return self


def load(path: Path, notes: test_ids.Notes | None = None) -> dict[str, Expected]:
    """test ID -> expected outcome of a baseline, a renamed test's old ID read as its new ID (test_ids.py;
    ``notes`` gets the warnings, and the lines that name no test); a ValueError names a bad line."""
    expected = {}
    for n, line in enumerate(_text(path).splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        test, sep, outcome = line.rpartition(",")
        if sep and _is_duration(outcome) and "," in test:  # failures.csv: test,Outcome,duration
            test, sep, outcome = test.rpartition(",")
            if test.replace(";", ",") in test_ids.repository().ids:  # its test IDs' commas are written as ';'
                test = test.replace(";", ",")
        outcome = "Flake" if outcome == "KnownFlake" else outcome  # a results.csv's known flake is one still
        if sep and outcome in EXPECT_NOTHING:
            continue
        if not sep or outcome not in EXPECTABLE:
            raise ValueError(
                f"{path}:{n}: expected 'test,Outcome' (or failures.csv's 'test,Outcome,duration') with Outcome one of "
                f"{', '.join(EXPECTABLE)}: {line!r}"
            )
        expected[test_ids.current(test, "--baseline", f"{path}:{n}", notes)] = Expected(outcome, f"{path}:{n}")
    return expected


def status(outcome: str, expected: str | None, known_flake: bool = False, reached: bool = True) -> str:
    """deqp-runner's status of one result (its ``outcome``) against the outcome the baseline's line for its test
    ``expected`` (None: no line names it); ``known_flake``: --flakes names it; ``reached``: the run ran it (a test it
    selected and never reached is listed as not run)."""
    if outcome == "InternalError":
        return "InternalError"  # the suite's own error: never expectable
    if not reached:
        return "Missing" if expected is not None else outcome
    if known_flake or expected == "Flake":
        return "KnownFlake" if outcome in DRIVER_FAILING + ("Flake",) else outcome
    if outcome == "Flake" or expected not in DRIVER_FAILING:
        return outcome
    if outcome == expected:
        return "ExpectedFail"
    if outcome in ("Pass", "NotSupported") or (outcome == "Fail" and expected in ("Crash", "Timeout")):
        return f"UnexpectedImprovement({outcome})"
    return outcome  # a failure other than the one expected (Crash where Fail was), or a Skip (not run: --skips)


def kind(status_: str) -> str:
    """A status without its argument: UnexpectedImprovement(Pass) is an UnexpectedImprovement."""
    return status_.split("(", 1)[0]


def fails_gate(status_: str, allow_improvements: bool = False) -> bool:
    """Whether a result of this status fails the gate (an UnexpectedImprovement does unless allowed)."""
    return status_ in FAILS_THE_GATE or (kind(status_) == "UnexpectedImprovement" and not allow_improvements)


def status_of(t: dict) -> str:
    """A judged test's status (its outcome where no gate judged it, or the gate found nothing to add)."""
    return (t.get("gate") or {}).get("status") or t["outcome"]


def judged(
    tests: list[dict],
    expected: dict[str, str],
    baseline: str,
    *,
    allow_improvements: bool = False,
    flakes: list[tuple[int, re.Pattern]] = (),
) -> dict:
    """The gate's verdict on a run against ``baseline`` (``expected``: test ID -> the outcome its line expects):
    each test gets its deqp-runner status as ``gate`` (with the baseline's line, where one names it); returns what
    results.json stores under "gate", with the exit status the gate gives (1 where a result fails it, else 0)."""
    counts: dict[str, int] = {}
    lists = {k: [] for k in ("failures", "newFailures", "expected", "improvements", "missing", "flakes")}
    for t in tests:
        t.pop("gate", None)
        want = expected.get(t["nodeid"])
        s = status(t["outcome"], want, first_match(flakes, t["nodeid"]) is not None, not t.get("notRun"))
        if want is not None or s != t["outcome"]:
            t["gate"] = {"status": s} | (
                {"expected": str(want), "line": getattr(want, "where", "") or str(baseline)} if want is not None else {}
            )
        counts[s] = counts.get(s, 0) + 1
        if fails_gate(s, allow_improvements):
            lists["failures"].append(t["nodeid"])
        key = {"ExpectedFail": "expected", "UnexpectedImprovement": "improvements", "Missing": "missing"}.get(kind(s))
        key = key or ("newFailures" if s in DRIVER_FAILING + ("InternalError",) else None)
        key = key or ("flakes" if s in ("Flake", "KnownFlake") else None)
        if key:
            lists[key].append(t["nodeid"])
    failing = bool(lists["failures"])
    return {
        "baseline": str(baseline),
        "convention": CONVENTION,
        "allowImprovements": allow_improvements,
        "statuses": dict(sorted(counts.items(), key=lambda kv: (_rank(kv[0]), kv[0]))),
        **lists,
        "exitStatus": 1 if failing else 0,
        "verdict": "Fail" if failing else "Pass",
    }


def _rank(status_: str) -> int:
    return STATUSES.index(kind(status_)) if kind(status_) in STATUSES else len(STATUSES)


def forget(tests: list[dict]) -> None:
    """Tests judged by an earlier gate (a run merged without --gate): their statuses go with that gate."""
    for t in tests:
        t.pop("gate", None)


def judgement(t: dict, g: dict | None) -> tuple[str, str] | None:
    """What the gate made of one test, the words every report uses: (its status, why), e.g. ("Crash", "expected
    Fail, got Crash (fails.txt:7)"); None where there is no gate or nothing to say (Pass, Skip, NotSupported)."""
    if not g:
        return None
    j = t.get("gate") or {}
    s, want, where = status_of(t), j.get("expected"), j.get("line")
    if not j and t["nodeid"] in (g.get("expected") or []):  # a document from before the statuses were stored
        s, where = "ExpectedFail", g["baseline"]
    if s == "ExpectedFail":
        return s, f"expected by {where}"
    if s == "InternalError":
        return s, "the suite's own error, which no baseline can expect"
    if s == "Missing":
        return s, f"{where} names it; the run selected it and never reached it"
    if s == "KnownFlake":
        return s, f"a known flake, named by {where}" if where else "a known flake, named by --flakes"
    if s == "Flake":
        tries = ",".join(t.get("attempts") or [])
        return s, f"failed, then passed when re-run ({tries}): name it in --flakes, or fix it"
    if kind(s) == "UnexpectedImprovement":
        got = s[len("UnexpectedImprovement(") : -1]
        todo = f"change that line to {got}" if got == "Fail" else "delete that line"
        allowed = " (allowed)" if g.get("allowImprovements") else ""
        return s, f"expected {want}, got {got} ({where}): {todo}{allowed}"
    if s in DRIVER_FAILING:
        return s, f"expected {want}, got {s} ({where})" if want else f"NEW, not in the baseline {g['baseline']}"
    return None


def note(t: dict, g: dict | None) -> str | None:
    """``judgement`` in one phrase, saying whether the test fails the gate: "Crash: expected Fail, got Crash
    (fails.txt:7); fails the gate"."""
    said = judgement(t, g)
    if said is None:
        return None
    s, why = said
    return f"{s}: {why}" + ("; fails the gate" if fails_gate(s, g.get("allowImprovements", False)) else "")


def next_step(t: dict, g: dict | None) -> str | None:
    """What to do about a failing test: open its bug report, gate a known failure, fix the baseline's line."""
    s, outcome = status_of(t), t["outcome"]
    line = f"{t['nodeid']},{outcome}"
    j = t.get("gate") or {}
    if outcome == "InternalError":
        return "a bug of vkmap-cts, not of the driver: report it to the suite with the traceback below"
    if s == "ExpectedFail":
        return f"known and gated by {j.get('line')}: nothing to do until the driver is fixed; then delete that line"
    if s == "KnownFlake":
        return "a known flake: nothing to do until the driver is fixed"
    if outcome not in DRIVER_FAILING + ("Flake",):
        return None
    if not g:
        return (
            f"not gated: open the bug report; or, where the driver's team knows it, gate it as a known failure with "
            f"the baseline line '{line}' (--baseline=FILE --update-baseline writes one)"
        )
    if j.get("expected"):
        return (
            f"open the bug report: the baseline's {j['expected']} ({j['line']}) is now a {outcome}; where that is the "
            f"known bug, change the line to '{line}'"
        )
    if s == "Flake":
        return "flaky: open the bug report, or name the test in --flakes"
    return f"new: open the bug report; where the driver's team knows it, gate it with '{line}' in {g['baseline']}"


def failing_of(g: dict) -> list[str]:
    """The results that fail the gate (a document from before the statuses were stored: its new failures)."""
    return g.get("failures", g.get("newFailures") or [])


def summary_line(g: dict) -> str:
    """The gate's verdict in one line: how many results fail it, every status but Pass, Skip and NotSupported."""
    shown = [
        f"{n} {s}" + (" (allowed)" if kind(s) == "UnexpectedImprovement" and g.get("allowImprovements") else "")
        for s, n in (g.get("statuses") or {}).items()
        if s not in ("Pass", "Skip", "NotSupported")
    ]
    return (
        f"gate against {g['baseline']} ({g.get('convention', CONVENTION)}'s statuses): {len(failing_of(g))} failing "
        f"the gate; {', '.join(shown) or 'nothing but Pass, Skip and NotSupported'}: {g['verdict']}, "
        f"exit {g['exitStatus']}"
    )


def told(g: dict, tests: list[dict]) -> list[tuple[dict, str, str]]:
    """The results behind the gate's verdict, most urgent first, as (test, status, why): what fails it, the
    improvements it allows, the flakes no one named (never the failures it expects: the known is quiet)."""
    out = [(t, *j) for t in tests if (j := judgement(t, g)) and j[0] not in ("ExpectedFail", "KnownFlake")]
    return sorted(out, key=lambda x: (_rank(x[1]), x[0]["nodeid"]))


def lines(g: dict, tests: list[dict]) -> list[str]:
    """``told``, one line each, then the gate's summary line."""
    return [f"  {s}: {t['nodeid']} ({why})" for t, s, why in told(g, tests)] + [f"vkmap-cts: {summary_line(g)}"]


def csv_tests(doc: dict, failures: bool = False) -> list[dict]:
    """The results results.csv lists (every test, by its status), or failures.csv's: under a gate what failed it (a
    test it names Missing among them), without one every failing result: a baseline as it is."""
    tests = doc.get("tests") or []
    if not failures:
        return tests
    g = doc.get("gate")
    if g:
        failing = set(failing_of(g))
        return [t for t in tests if t["nodeid"] in failing]
    return [t for t in tests if t["outcome"] in FAILING]


def baseline_text(tests: list[dict], identity: dict | None) -> str:
    head = "# vkmap-cts baseline"
    if identity:
        head += f" for {identity.get('deviceName')} / {identity.get('driverName')} {identity.get('driverInfo')}"
    lines = [head] + [f"{t['nodeid']},{t['outcome']}" for t in tests if t["outcome"] in DRIVER_FAILING + ("Flake",)]
    return "\n".join(lines) + "\n"
