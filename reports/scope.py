"""What a run covers: the whole conformance suite, part of it, or only the suite's self-tests.

A partial run (-k, -m, --vuid, --shard, --lf, --deselect, a file or test ID narrower than the
conformance suites) still judges the tests it ran, and says so: "Pass on 5 of 135 tests".  A run
of the self-tests alone judges no driver: it prints no verdict and writes no conformance report.
"""

from __future__ import annotations

from pathlib import Path

CONFORMANCE = ("validation", "operation", "return_codes")


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
    for opt in ("--vuid", "--shard"):
        if config.getoption(opt):
            return f"{opt} {config.getoption(opt)}"
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


def counted(partial_reason: str | None, ran: int, collected: int) -> dict:
    """results.json's run.scope: what selected a partial run (None: the whole suite), how many tests ran of how many
    collected, and how many were not run."""
    collected = max(collected, ran)
    return {"partial": partial_reason, "ran": ran, "collected": collected, "notRun": collected - ran}


def describe(s: dict | None) -> str:
    """A run's scope in words, for every report: "full run: 528 tests", or the partial run, what selected it and how
    many tests it did not run."""
    s = s or {}
    ran, total = s.get("ran", 0), s.get("collected", 0)
    if not s.get("partial"):
        return f"full run: {ran} tests"
    head = f"partial run ({s['partial']}): "
    if total > ran:
        return head + f"{ran} of {total} tests; nothing is claimed about the {total - ran} not run"
    return head + f"the {ran} tests selected; nothing is claimed about the rest of the suite"
