"""Progress of a long run, in the controller: every ``EVERY`` seconds once a run has lasted that
long, one line with the tests done, the time spent and an estimate of the time left, so a
``thorough`` run that takes an hour says where it stands.  Registered by fixtures/plugins/results.py;
silent in runs shorter than ``EVERY``.

The tests do not take alike: the heavy ones are handed out first (fixtures/plugins/schedule.py) and the
operation suites' drawn tests take far longer than a validation table's rows, so the mean time of the
tests done so far, times the tests to go, overstates the time left about 4 times early in a run.  The
estimate weighs each test by its duration in the last run (kept in pytest's cache under ``CACHE_KEY``,
the tests of this run added when it ends): the time spent, times the weight still to go over the weight
done.  Without a last run to weigh by (a fresh clone, ``-p no:cacheprovider``) the line says so and
gives the mean-time estimate only once half the tests have run."""

from __future__ import annotations

import time

import pytest

EVERY = 20.0
CACHE_KEY = "vkmap-cts/durations"  # test ID -> seconds it took in the last run that ran it


def _duration(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}h{s // 60 % 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def line(done: int, total: int, elapsed: float, left: float | None) -> str:
    """'vkmap-cts: progress 120/497 tests in 1m30s, about 4m43s left'."""
    head = f"vkmap-cts: progress {done}/{total} tests in {_duration(elapsed)}"
    if left is None:
        return head + "; the time left is estimated once half the tests have run (no last run's durations to go by)"
    return head + f", about {_duration(left)} left"


def time_left(done: set[str], ids: list[str], spent: float, last: dict[str, float]) -> float | None:
    """Seconds left of a run of the tests ``ids``, ``done`` of them after ``spent`` seconds of tests: the time spent
    times the weight of the tests to go over the weight of those done, each test weighed by its duration in the
    ``last`` run (a test it did not run, by their mean); without a last run that ran half the tests, the mean time per
    test done times the tests to go, once half have run (before that, None)."""
    to_go = [i for i in ids if i not in done]
    known = [last[i] for i in ids if i in last]
    if known and 2 * len(known) >= len(ids):
        typical = sum(known) / len(known)
        weight_done = sum(last.get(i, typical) for i in done)
        if weight_done > 0:
            return spent * sum(last.get(i, typical) for i in to_go) / weight_done
    if done and 2 * len(done) >= len(ids):
        return spent / len(done) * len(to_go)
    return None


class Progress:
    def __init__(self, config, every: float = EVERY):
        self.config, self.every = config, every
        self.started = self.last = time.monotonic()
        self.first: float | None = None  # when the first test started (the set-up before it is not a test's time)
        self.ids: list[str] = []
        self.done: set[str] = set()
        self.took: dict[str, float] = {}  # this run's time per test, every phase
        cache = getattr(config, "cache", None)  # absent with -p no:cacheprovider
        self.last_run: dict[str, float] = (cache.get(CACHE_KEY, None) if cache is not None else None) or {}

    def pytest_collection_finish(self, session):
        if len(session.items) > len(self.ids):
            self.ids = [i.nodeid for i in session.items]

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        if len(ids) > len(self.ids):
            self.ids = list(ids)

    def pytest_runtest_logreport(self, report):
        now = time.monotonic()
        if self.first is None:
            self.first = now - report.duration
        self.took[report.nodeid] = self.took.get(report.nodeid, 0.0) + report.duration
        if report.when != "teardown" and not (report.failed and report.when == "call"):
            return
        self.done.add(report.nodeid)
        if self.ids and now - self.last >= self.every and now - self.started >= self.every:
            self.last = now
            tr = self.config.pluginmanager.get_plugin("terminalreporter")
            if tr is not None:
                if not getattr(tr, "currentfspath", None):
                    tr.write("\n")  # under xdist the progress dots leave the line open
                left = time_left(self.done, self.ids, now - self.first, self.last_run)
                tr.write_line(line(len(self.done), len(self.ids), now - self.started, left))

    def pytest_sessionfinish(self, session):
        """The durations of this run's tests, for the next run's estimate (those of tests it did not run are kept)."""
        cache = getattr(self.config, "cache", None)
        if cache is not None and self.took:
            cache.set(CACHE_KEY, {**self.last_run, **{i: round(t, 4) for i, t in self.took.items()}})
