"""Results, reports, the CI gate and crash/hang isolation, as a pytest plugin.

Options:
  --baseline FILE         expected failures of this driver; the run fails only on new ones
  --update-baseline       write --baseline FILE from this run's failures and flakes
  --flake-reruns N        re-run a failing test up to N times: Fail then Pass is a Flake (default 2)
  --vk-test-timeout S     a test running longer is ended as a Timeout (default 300; 0: none)
  --vk-run-timeout S      the whole run ends after S seconds, results written (default: none)

A driver that crashes or hangs ends only the xdist worker running that test (use -n,
as ci/conformance does): the controller records Crash or Timeout and goes on.
"""

from __future__ import annotations

import faulthandler
import hashlib
import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from vkmap_cts.fixtures.plugins.options import check_number, number

TIMEOUT_EXIT = 70


def pytest_addoption(parser):
    g = parser.getgroup("vkmap-reports", "vkMapMemory2KHR conformance: reports and gate")
    g.addoption("--baseline", metavar="FILE", help="expected failures (test,Outcome lines); the run fails only on new failures, crashes or timeouts")
    g.addoption("--update-baseline", action="store_true", help="write --baseline FILE from this run")
    g.addoption("--flake-reruns", type=number(int), default=2, metavar="N", help="re-run a failing test up to N times to tell a Flake from a Fail (default 2)")
    g.addoption("--vk-test-timeout", type=number(float), default=300.0, metavar="S", help="end a test that runs longer than S seconds as a Timeout (default 300; 0 disables)")
    g.addoption(
        "--vk-call-timeout",
        type=number(float),
        default=10.0,
        metavar="S",
        help="a single map, unmap or allocate call that does not return within S seconds is a hang: its test ends as a Timeout (default 10; 0 disables)",
    )
    g.addoption("--vk-hang-limit", type=number(int), default=2, metavar="N", help="after N tests end in a hang, stop the run and report the rest as not run (default 2; 0: never)")
    g.addoption("--skips", metavar="FILE", help="deqp-runner skips file: tests whose ID a line's regular expression matches are not run (Skip)")
    g.addoption("--flakes", metavar="FILE", help="deqp-runner flakes file: a failing test whose ID a line's regular expression matches is a Flake, not a failure")
    g.addoption("--run-label", metavar="NAME", help="the name this run goes by in merge and diff (default: its device, driver and driver version)")
    g.addoption("--vk-run-timeout", type=number(float), default=0.0, metavar="S", help="end the whole run after S seconds, writing the results so far (default: no bound)")


def _is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def _timeouts_dir(config) -> Path:
    return Path(config.getoption("--report-dir")) / ".timeouts"


# -- hang isolation: a watchdog thread in every process that runs tests -------------------------


class Watchdog:
    """Ends this process when a test overruns --vk-test-timeout, or a single driver call (map, unmap,
    allocate) overruns --vk-call-timeout; leaves a marker naming the test and what hung.  Without
    xdist this process is the controller: ``on_hang`` writes the complete report first."""

    def __init__(self, config, limit: float, call_limit: float, on_hang=None):
        self.limit, self.call_limit, self.on_hang = limit, call_limit, on_hang
        self.dir = _timeouts_dir(config)
        self.current: tuple[str, float] | None = None
        threading.Thread(target=self._run, name="vkmap-watchdog", daemon=True).start()

    def _run(self):
        from vkmap_cts.fixtures.vk.observe import IN_FLIGHT

        while True:
            time.sleep(0.2)
            current, now = self.current, time.monotonic()
            if not current:
                continue
            for entry, started in list(IN_FLIGHT.values()):
                if self.call_limit and now - started > self.call_limit:
                    self._hang(current[0], f"{entry} did not return within --vk-call-timeout {self.call_limit:g} s: the driver hung in it")
            if self.limit and now > current[1]:
                self._hang(current[0], f"the test ran past --vk-test-timeout {self.limit:g} s")

    def _hang(self, nodeid: str, why: str):
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / hashlib.sha1(nodeid.encode()).hexdigest()).write_text(json.dumps({"nodeid": nodeid, "why": why}))
        sys.stderr.write(f"\nvkmap-cts: {nodeid}: {why}; ending this process\n")
        faulthandler.dump_traceback(all_threads=True)
        sys.stderr.flush()
        if self.on_hang is not None:
            self.on_hang(nodeid, why)
            os._exit(1)
        os._exit(TIMEOUT_EXIT)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """Before anything else (a device probe, a run per device), in the controller: a bad option of
    this plugin is one line and exit 4."""
    from vkmap_cts.fixtures.plugins.options import check_before_running

    check_before_running(config, _check_options)


def _check_options(config) -> None:
    from vkmap_cts.fixtures.vk.errors import BadOption

    for name in ("--vk-test-timeout", "--vk-call-timeout", "--vk-hang-limit", "--vk-run-timeout", "--flake-reruns"):
        check_number(config, name)
    label = config.getoption("--run-label")
    if label is not None and not label.strip():
        raise BadOption("--run-label '': give the run a name, or leave the option out")
    from vkmap_cts.reports import gate

    baseline = config.getoption("--baseline")
    if config.getoption("--update-baseline") and not baseline:
        raise BadOption("--update-baseline needs --baseline FILE")
    if baseline and not config.getoption("--update-baseline"):
        if not Path(baseline).is_file():
            raise BadOption(f"--baseline {baseline}: no such file (write one with --update-baseline)")
        try:
            gate.load(Path(baseline))
        except (ValueError, OSError, UnicodeDecodeError) as e:
            raise BadOption(f"--baseline {e}") from None
    for name in ("--skips", "--flakes"):
        path = config.getoption(name)
        if path:
            if not Path(path).is_file():
                raise BadOption(f"{name} {path}: no such file")
            try:
                gate.patterns_of(config, name)
            except (ValueError, OSError, UnicodeDecodeError) as e:
                raise BadOption(f"{name} {e}") from None
    if config.option.collectonly:
        return
    report_dir = Path(config.getoption("--report-dir"))
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        probe = report_dir / ".writable"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise BadOption(f"--report-dir {report_dir}: cannot write there ({e.strerror or e})") from None


def pytest_configure(config):
    if not _is_worker(config) and not config.option.help and not config.option.collectonly:
        from vkmap_cts.reports.results import ResultsWriter

        config._vk_results = ResultsWriter(config)
        config.pluginmanager.register(config._vk_results, "vkmap-results")
        from vkmap_cts.reports.progress import Progress

        config.pluginmanager.register(Progress(config), "vkmap-progress")
        config.pluginmanager.register(HangLimit(config), "vkmap-hang-limit")  # acts only under xdist
    limit, call_limit = config.getoption("--vk-test-timeout"), config.getoption("--vk-call-timeout")
    controller_runs_tests = not config.pluginmanager.hasplugin("dsession") and not _is_worker(config)
    if (limit or call_limit) and (_is_worker(config) or controller_runs_tests) and not config.option.collectonly:
        on_hang = (lambda nodeid, why: _report_the_hang(config, nodeid, why)) if controller_runs_tests else None
        config._vk_watchdog = Watchdog(config, limit, call_limit, on_hang)


def _report_the_hang(config, nodeid: str, why: str) -> None:
    """Without xdist, from the watchdog thread: the hung test is a Timeout, the tests after it were not
    run, and the report, written now, says so; the verdict line is printed before the process ends."""
    writer = getattr(config, "_vk_results", None)
    if writer is None:
        return
    writer.record_timeout(nodeid, why)
    writer.not_run(getattr(config, "_vk_collected_ids", []), f"not run: the run ended when {nodeid} hung ({why})")
    writer.write(1)
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=True)  # the test's output capture would swallow the verdict line
    sys.stdout.write(f"\n{writer.summary}\n")
    sys.stdout.flush()


def pytest_collection_finish(session):
    if not _is_worker(session.config):
        session.config._vk_collected_ids = [i.nodeid for i in session.items]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    node.config._vk_collected_ids = list(ids)


class HangLimit:
    """In an xdist controller: a worker that hung (a Timeout marker names its test) counts toward
    --vk-hang-limit; at the limit the run stops, and the tests not run are reported as such, so one
    hung driver does not cost the whole per-test budget test after test."""

    def __init__(self, config):
        self.config, self.hangs = config, 0

    def pytest_runtest_logreport(self, report):
        if not report.failed or "crashed while running" not in str(report.longrepr or ""):
            return
        if not (_timeouts_dir(self.config) / hashlib.sha1(report.nodeid.encode()).hexdigest()).exists():
            return
        self.hangs += 1
        limit = self.config.getoption("--vk-hang-limit")
        dsession = self.config.pluginmanager.getplugin("dsession")
        if limit and self.hangs >= limit and dsession is not None and not dsession.shouldstop:
            dsession.shouldstop = f"the driver hung in {self.hangs} tests (--vk-hang-limit {limit})"
            self.config._vk_stopped = dsession.shouldstop


def pytest_collection_modifyitems(config, items):
    """--skips FILE: a test a line matches is not run, and is reported as Skip with the line."""
    from vkmap_cts.reports import gate

    skips = gate.patterns_of(config, "--skips")
    if not skips:
        return
    for item in items:
        line = gate.first_match(skips, item.nodeid)
        if line is not None:
            item.add_marker(pytest.mark.skip(reason=f"--skips {config.getoption('--skips')}:{line}"))


# -- flakes: a failing test is re-run, and the attempts are recorded -----------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    from _pytest.runner import runtestprotocol

    dog = getattr(item.config, "_vk_watchdog", None)
    # An isolated test (fixtures/plugins/isolation.py) is not re-run: its failure is a driver left broken,
    # and a fresh child that happens to pass would hide an intermittent driver bug as a Flake.
    reruns = 0 if item.get_closest_marker("isolated") else max(0, item.config.getoption("--flake-reruns"))
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    attempts = []
    for attempt in range(reruns + 1):
        if dog:
            dog.current = (item.nodeid, time.monotonic() + dog.limit)
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
        if dog:
            dog.current = None
        failed = any(r.failed for r in reports)
        attempts.append("Fail" if failed else "Pass")
        if not failed or attempt == reruns:
            break
        item._initrequest()
    for r in reports:
        if len(attempts) > 1:
            r.user_properties.append(("attempts", attempts))
        item.ihook.pytest_runtest_logreport(report=r)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


# -- a crash while the worker's session fixtures are torn down (devices destroyed) ---------------


def _teardown_dir(config) -> Path:
    return Path(config.getoption("--report-dir")) / ".session-teardown"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Around the last teardown of a worker (where the devices are destroyed), leave a marker: a
    crash there is the driver's at vkDestroyDevice, not the test's, and the report says so."""
    if nextitem is not None:
        return (yield)
    marker = _teardown_dir(item.config) / hashlib.sha1(item.nodeid.encode()).hexdigest()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(item.nodeid)
    try:
        return (yield)
    finally:
        marker.unlink(missing_ok=True)


# -- the end of a run: timeouts, results, gate ---------------------------------------------------


def pytest_sessionstart(session):
    config = session.config
    bound = config.getoption("--vk-run-timeout")
    if bound and not _is_worker(config):

        def expire():
            time.sleep(bound)
            sys.stderr.write(f"\nvkmap-cts: the run passed --vk-run-timeout {bound:g} s: writing results and stopping\n")
            writer = getattr(config, "_vk_results", None)
            if writer is not None:
                _classify_timeouts(config, writer)
                writer.run_timed_out = True
                writer.write(1)
            sys.stderr.flush()
            os._exit(1)

        threading.Thread(target=expire, name="vkmap-run-timeout", daemon=True).start()


def _classify_teardown_crashes(config, writer) -> None:
    d = _teardown_dir(config)
    if not d.is_dir():
        return
    for marker in d.iterdir():
        rec = writer.tests.get(marker.read_text())
        # The marker outlives its worker only if the worker died in that teardown; xdist may or
        # may not have blamed the test, whose own phases had passed.
        if rec is not None and rec["outcome"] in ("Crash", "Pass"):
            rec["outcome"] = "Crash"
            rec["phase"] = "session teardown"
            earlier = writer.earlier_failures(rec)
            rec["details"] = (rec.get("details") or "") + (
                "\nThe worker crashed after this test, while its session fixtures were torn down (memory freed, devices destroyed): the crash is the driver's, at teardown."
                + (f" Earlier in the same process: {'; '.join(earlier)} -- a failure that can leave the driver broken." if earlier else "")
            )
        marker.unlink()
    d.rmdir()


def _classify_timeouts(config, writer) -> None:
    d = _timeouts_dir(config)
    if not d.is_dir():
        return
    for marker in d.iterdir():
        text = marker.read_text()
        try:
            found = json.loads(text)
            nodeid, why = found["nodeid"], found["why"]
        except (ValueError, KeyError, TypeError):
            nodeid, why = text, "the test ran past its time"
        rec = writer.tests.get(nodeid)
        if rec is not None and rec["outcome"] in ("Crash", "Fail"):
            writer.record_timeout(nodeid, why)
        marker.unlink()
    d.rmdir()


def _crash_inputs(config, writer) -> None:
    """Re-run each crashed or hung test alone in a child, writing every driver call to a breadcrumb
    file and the journal first: the last call before the crash is the input that caused it, and the
    journal's last example is what its standalone reproducer replays."""
    import subprocess
    import tempfile

    from vkmap_cts.fixtures.plugins import child
    from vkmap_cts.fixtures.plugins.reproducers import reproduce_for
    from vkmap_cts.fixtures.vk import journal

    dead = [t for t in writer.tests.values() if t["outcome"] in ("Crash", "Timeout")][:10]
    for n, rec in enumerate(dead, 1):
        sys.stderr.write(f"vkmap-cts: re-running {rec['nodeid']} alone for its crash input and reproducer ({n} of {len(dead)})\n")
        with tempfile.TemporaryDirectory() as tmp:
            crumbs = Path(tmp) / "calls.txt"
            env = dict(os.environ, VKMAP_CTS_BREADCRUMBS=str(crumbs), **{journal.ENV_FILE: str(Path(tmp) / "journal.jsonl")})
            cmd = child.alone(config, rec["nodeid"], f"{tmp}/out") + [f"--vk-test-timeout={min(60.0, config.getoption('--vk-test-timeout') or 60.0):g}"]
            try:
                proc = subprocess.run(cmd, cwd=config.rootpath, env=env, capture_output=True, text=True, timeout=120)
                code = proc.returncode
            except subprocess.TimeoutExpired:
                code = "timeout"
            lines = crumbs.read_text().splitlines() if crumbs.exists() else []
            rec["crash_input"] = {"rerun_exit": code, "last_call": lines[-1] if lines else None, "calls_before": len(lines)}
            if "standalone" not in rec:
                snapshot = journal.load(Path(tmp) / "journal.jsonl")
                rec["standalone"] = reproduce_for(config, snapshot, rec["nodeid"], rec["outcome"], rec.get("message"))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    config = session.config
    writer = getattr(config, "_vk_results", None)
    if writer is None:
        return
    # Each step adds to the results; a bug in one must not cost the run the results it has.
    steps = [_classify_timeouts, _classify_teardown_crashes] + ([] if os.environ.get("VKMAP_CTS_BREADCRUMBS") else [_crash_inputs])
    for step in steps:
        try:
            step(config, writer)
        except Exception as e:  # a bug of the suite: said, and the results written without this step
            sys.stderr.write(f"vkmap-cts: a bug of the suite in {step.__name__.strip('_')} ({type(e).__name__}: {e}); the results are written without it\n")
    stopped = getattr(config, "_vk_stopped", None)
    if stopped:
        writer.not_run(getattr(config, "_vk_collected_ids", []), f"not run: the run stopped because {stopped}")
        exitstatus = session.exitstatus = 1
    writer.write(exitstatus)
    if writer.selftest_only:
        return
    baseline = config.getoption("--baseline")
    if not baseline:
        if exitstatus in (0, 1):
            # The verdict decides: a Crash or Timeout the worker-level status did not count fails the
            # run, and a failure --flakes names as a known flake does not; so does a failing self-test.
            session.exitstatus = 1 if writer.doc["verdict"] in ("Fail", "InternalError") or writer.selftests_failed() else 0
        return
    from vkmap_cts.reports import gate

    if config.getoption("--update-baseline"):
        Path(baseline).write_text(gate.baseline_text(writer.doc["tests"], writer.identity))
        writer.gate_lines = [f"vkmap-cts: baseline written to {baseline}"]
        return
    result = gate.compare(writer.doc["tests"], gate.load(Path(baseline)))
    lines = [
        f"vkmap-cts: gate against {baseline}: {len(result['new_failures'])} new failures, {len(result['expected_failures'])} expected, "
        f"{len(result['flakes'])} flakes, {len(result['unexpected_passes'])} unexpected passes"
    ]
    lines += [f"  NEW {outcome}: {t}" for t, outcome in result["new_failures"]]
    lines += [f"  FLAKE ({attempts}): {t}" for t, attempts in result["flakes"]]
    lines += [f"  UNEXPECTED PASS (baseline says {want}; remove it): {t}" for t, want in result["unexpected_passes"]]
    writer.gate_lines = lines
    if exitstatus in (0, 1):
        session.exitstatus = 1 if result["new_failures"] else 0


def pytest_itemcollected(item):
    """Count the conformance tests collected, before any deselection, for "N of M tests": in the
    process that collects them (a worker hands its count to the controller at its end)."""
    from vkmap_cts.reports import scope

    if scope.is_selftest(item.nodeid):
        return
    config = item.config
    if _is_worker(config):
        config.workeroutput["vkmap_collected"] = config.workeroutput.get("vkmap_collected", 0) + 1
    elif getattr(config, "_vk_results", None) is not None:
        config._vk_results.collected += 1


def pytest_terminal_summary(terminalreporter, config):
    for line in getattr(getattr(config, "_vk_results", None), "gate_lines", []):
        terminalreporter.write_line(line)
