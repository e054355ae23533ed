"""What a run covers: the whole conformance suite, part of it, or only the suite's self-tests.

A partial run (-k, -m, --vuid, --caselist, --fraction, --shard, --lf, --deselect, a file or test ID narrower than the
conformance suites) still judges the tests it ran, and says so: "Pass on 5 of 135 tests".  A run
of the self-tests alone judges no driver: it prints no verdict and writes no conformance report.

How the run ended is part of its scope (``ENDINGS``): completed, or stopped before it reached every test it
selected (Ctrl-C, SIGTERM, --vk-run-timeout, --vk-hang-limit, -x, workers that kept crashing).  A run that did
not reach every selected test is never given a Pass, by the driver's verdict (reports/model.py) nor by the gate's
(``withhold``), and never exits 0 (``exit_status``).
"""

from __future__ import annotations

from pathlib import Path

CONFORMANCE = ("validation", "operation", "return_codes")


def n_tests(n: int) -> str:
    """'1 test', '524 tests': a count of tests in every report's words."""
    return f"{n} test" if n == 1 else f"{n} tests"


def is_selftest(nodeid: str) -> bool:
    """A test of the suite itself (suites/selftest/test_*.py), not of the driver."""
    return nodeid.startswith("suites/selftest/test_")


def _paths(config) -> list[Path]:
    return [Path(a.split("::")[0]).resolve() for a in config.args]


def selftest_only(config) -> bool:
    """Every path the run was given lies in suites/selftest (but for its doubles: drivers judged on purpose)."""
    selftest = (config.rootpath / "suites" / "selftest").resolve()
    doubles = selftest / "doubles"
    paths = _paths(config)
    return bool(paths) and all(
        (p == selftest or selftest in p.parents) and not (p == doubles or doubles in p.parents) for p in paths
    )


def partial(config) -> str | None:
    """Why this run covers only part of the conformance suites, or None if it covers them all."""
    o = config.option
    for flag, value in (
        ("-k", o.keyword),
        ("-m", o.markexpr),
        ("--deselect", o.deselect),
        ("--lf", getattr(o, "lf", False)),
    ):
        if value:
            return f"{flag} {value}" if value is not True else flag
    for opt in ("--vuid", "--caselist", "--fraction", "--shard"):
        value = config.getoption(opt, None)
        if value and value != 1:  # --fraction 1: every test
            return f"{opt} {value}"
    if any("::" in a for a in config.args):
        return "test IDs given"
    suites = (config.rootpath / "suites").resolve()
    covered = set()
    for p in _paths(config):
        for name in CONFORMANCE:
            d = suites / name
            if p == d or p in d.parents:
                covered.add(name)
    return (
        None
        if covered == set(CONFORMANCE)
        else (
            "only "
            + ", ".join(
                str(p.relative_to(config.rootpath)) if config.rootpath in p.parents else str(p) for p in _paths(config)
            )
        )
    )


# How a run ended: the kind (results.json's run.scope.ending) and the verb its description uses.
ENDINGS = {
    "completed": "completed",
    "interrupted": "interrupted by",  # Ctrl-C (SIGINT)
    "terminated": "terminated by",  # SIGTERM: a CI runner ending the job at its time limit
    "run-timeout": "stopped by",  # --vk-run-timeout
    "hang-limit": "stopped by",  # --vk-hang-limit: the driver hung in that many tests
    "hang": "stopped by",  # a hang without xdist: the process that ran the tests was the one that hung
    "maxfail": "stopped by",  # -x, --maxfail
    "workers-crashed": "stopped by",  # xdist's --max-worker-restart
    "stopped": "stopped by",  # anything else that ended the run before its last test
}
# Endings that came of a failure (a hang, a failing test, crashed workers): exit 1, as the failures give.
ENDED_BY_FAILURES = ("hang-limit", "hang", "maxfail", "workers-crashed")
INCOMPLETE_EXIT = 2  # the exit status of a run that did not reach every selected test and found no failure


def counted(
    partial_reason: str | None,
    ran: int,
    collected: int,
    selected: int | None = None,
    ending: tuple[str, str] | None = None,
) -> dict:
    """results.json's run.scope: what selected a partial run (None: the whole suite), how many tests ran of how many
    collected and of how many selected to run, how many were not run, and how the run ended (``ending``: its kind and
    what stopped it; None: it completed)."""
    collected = max(collected, ran)
    selected = max(selected or 0, ran)
    kind, by = ending or ("completed", None)
    return {
        "partial": partial_reason,
        "ran": ran,
        "collected": collected,
        "notRun": collected - ran,
        "selected": selected,
        "ending": kind,
        "stoppedBy": by,
    }


def complete(s: dict | None) -> bool:
    """The run reached every test it selected (a document without ``ending``, older or merged, is taken as it says)."""
    return (s or {}).get("ending", "completed") == "completed"


def ended(s: dict | None) -> str:
    """How an incomplete run ended, in words: "interrupted by Ctrl-C (SIGINT) after 71 of 524 tests"."""
    s = s or {}
    ran, selected = s.get("ran", 0), s.get("selected", s.get("collected", 0))
    of = f"{ran} of {n_tests(selected)}" if selected else "0 tests (none had been collected)"
    return f"{ENDINGS.get(s.get('ending'), 'stopped by')} {s.get('stoppedBy') or 'an unknown cause'} after {of}"


def not_run_reason(s: dict) -> str:
    """The reason a test the run never reached is listed with (Skip)."""
    return f"not run: the run was {ENDINGS.get(s.get('ending'), 'stopped by')} {s.get('stoppedBy') or 'something'}"


def withhold(doc: dict) -> str | None:
    """The gate's Pass is withheld from a run that did not reach every selected test: Incomplete, exit 2 (the
    driver's verdict is withheld by reports/model.py's ``verdict``).  Returns the line that says so, where it was."""
    g, s = doc.get("gate"), (doc.get("run") or {}).get("scope")
    if not g or g.get("verdict") != "Pass" or complete(s):
        return None
    g.update(verdict="Incomplete", exitStatus=INCOMPLETE_EXIT)
    return f"vkmap-cts: gate Incomplete, exit {INCOMPLETE_EXIT}, not Pass: the run was {ended(s)}"


def exit_status(s: dict | None, status: int) -> int:
    """A run that did not reach every selected test never exits 0."""
    return INCOMPLETE_EXIT if status == 0 and not complete(s) else status


def describe(s: dict | None) -> str:
    """A run's scope in words, for every report: "full run: 528 tests", or the partial run, what selected it and how
    many tests it did not run; a run that stopped early says how ("full run interrupted by Ctrl-C (SIGINT) after 71 of
    524 tests; nothing is claimed about the 453 not run")."""
    s = s or {}
    ran, total = s.get("ran", 0), s.get("collected", 0)
    if not complete(s):
        head = f"partial run ({s['partial']})" if s.get("partial") else "full run"
        left = max(s.get("selected", total) - ran, 0)
        return f"{head} {ended(s)}; nothing is claimed about the {left} not run" + (
            f" nor the {total - max(s.get('selected', total), ran)} not selected"
            if s.get("partial") and total > s.get("selected", total)
            else ""
        )
    if not s.get("partial"):
        return f"full run: {n_tests(ran)}"
    head = f"partial run ({s['partial']}): "
    if total > ran:
        return head + f"{ran} of {n_tests(total)}; nothing is claimed about the {total - ran} not run"
    return head + f"the {n_tests(ran)} selected; nothing is claimed about the rest of the suite"
