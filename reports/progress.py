"""Progress of a long run, in the controller: every ``EVERY`` seconds once a run has lasted that
long, one line with the tests done, the time spent and an estimate of the time left (the mean
time per test so far, times the tests to go), so a ``thorough`` run that takes an hour says
where it stands.  Registered by fixtures/plugins/results.py; silent in runs shorter than ``EVERY``."""

from __future__ import annotations

import time

import pytest

EVERY = 20.0


def _duration(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}h{s // 60 % 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def line(done: int, total: int, elapsed: float) -> str:
    """'vkmap-cts: progress 120/497 tests in 1m30s, about 4m43s left'."""
    left = elapsed / done * (total - done) if done else 0.0
    return f"vkmap-cts: progress {done}/{total} tests in {_duration(elapsed)}, about {_duration(left)} left"


class Progress:
    def __init__(self, config, every: float = EVERY):
        self.config, self.every = config, every
        self.started = self.last = time.monotonic()
        self.total = 0
        self.done: set[str] = set()

    def pytest_collection_finish(self, session):
        self.total = max(self.total, len(session.items))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        self.total = max(self.total, len(ids))

    def pytest_runtest_logreport(self, report):
        if report.when != "teardown" and not (report.failed and report.when == "call"):
            return
        self.done.add(report.nodeid)
        now = time.monotonic()
        if self.total and now - self.last >= self.every and now - self.started >= self.every:
            self.last = now
            tr = self.config.pluginmanager.get_plugin("terminalreporter")
            if tr is not None:
                if not getattr(tr, "currentfspath", None):
                    tr.write("\n")  # under xdist the progress dots leave the line open
                tr.write_line(line(len(self.done), self.total, now - self.started))
