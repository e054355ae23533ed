"""One bug report a failure, ready to paste into a driver's bug tracker: ``bug-reports/<test>.md``.

For each test that ended Fail, Crash or Timeout (never InternalError: that is the suite's own error,
not the driver's), written from the results document: the driver and device with their versions,
the rule broken and the sentence of the specification it enforces, what was expected and what was
observed, the standalone C reproducer (its file, how to build and run it, how often it showed the
bug here) and the command that re-runs the test with the suite.  The file is named like the test's
reproducer (``reproducers/<test>.c``).
"""

from __future__ import annotations

from pathlib import Path

from vkmap_cts.fixtures.reproduce.confirm import file_name

FOLDER = "bug-reports"
REPORTED = ("Fail", "Crash", "Timeout")  # the driver's failures; InternalError is the suite's


def name(nodeid: str) -> str:
    """The bug report's file name: the reproducer's, ending in .md."""
    return file_name(nodeid).removesuffix(".c") + ".md"


def write(doc: dict, out: Path) -> list[Path]:
    """Write ``bug-reports/<test>.md`` into ``out`` for every failing test of ``doc``; returns the files written."""
    written = []
    for test in doc["tests"]:
        if test["outcome"] not in REPORTED:
            continue
        path = out / FOLDER / name(test["nodeid"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(doc, test))
        written.append(path)
    return written


def render(doc: dict, test: dict) -> str:
    """The Markdown bug report of one failing ``test`` of ``doc``."""
    driver = _driver(doc, test)
    rule = test.get("rule") or "a rule the failure did not name"
    who = _join(driver.get("driverName") or driver.get("deviceName") or "Vulkan driver", driver.get("driverInfo"))
    lines = [
        f"# {who}: {_api(test)} breaks {rule}" + ("" if test["outcome"] == "Fail" else f" ({test['outcome']})"),
        "",
        *_identity(doc, driver, test),
        "",
        "## The rule",
        "",
        f"`{rule}`" + (f" ({test['source']})" if test.get("source") else "") + ":",
        "",
        f"> {test['sentence']}" if test.get("sentence") else "> (no sentence of the specification was named)",
        "",
        "## Expected and observed",
        "",
        *_expected_observed(test),
        "",
        "## Standalone reproducer",
        "",
        *_reproducer(test),
        "",
        "## Re-run with the suite",
        "",
        *_rerun(test),
        "",
        "## Report",
        "",
        "The run's full report: [report.html](../report.html) (and [results.json](../results.json)), in the folder "
        "this file came with; the test there is `" + test["nodeid"] + "`.",
        "",
    ]
    return "\n".join(lines)


def _driver(doc: dict, test: dict) -> dict:
    """The driver the test ran on: the run's, or in a run over several devices the one its ID names."""
    if doc.get("driver"):
        return doc["driver"]
    devices = doc.get("devices") or []
    return next((d for d in devices if d.get("deviceName") and d["deviceName"] in test["nodeid"]), None) or (
        devices[0] if devices else {}
    )


def _api(test: dict) -> str:
    """The entry point the test names in its ID, or the one the suite is about."""
    for entry in ("vkMapMemory2KHR", "vkMapMemory2", "vkUnmapMemory2KHR", "vkUnmapMemory2", "vkMapMemory"):
        if entry in test["nodeid"] or entry in (test.get("message") or ""):
            return entry
    return "vkMapMemory2KHR"


def _identity(doc: dict, driver: dict, test: dict) -> list[str]:
    run = doc.get("run") or {}
    rows = [
        ("Driver", _join(driver.get("driverName"), driver.get("driverInfo"), driver.get("driverIDName"))),
        ("Driver version", driver.get("driverVersionText") or driver.get("driverVersion")),
        (
            "Device",
            _join(
                driver.get("deviceName"),
                driver.get("deviceType"),
                driver.get("vendorID") and f"vendorID {driver['vendorID']}",
                driver.get("deviceID") and f"deviceID {driver['deviceID']}",
            ),
        ),
        (
            "Vulkan",
            _join(
                driver.get("apiVersion") and f"device {driver['apiVersion']}",
                driver.get("instanceApiVersion") and f"instance {driver['instanceApiVersion']}",
                driver.get("loaderVersion") and f"loader {driver['loaderVersion']}",
            ),
        ),
        ("Platform", run.get("platform")),
        ("Test", f"`{test['nodeid']}`: {test['outcome']}"),
        (
            "Found by",
            _join(run.get("suite") and f"{run['suite']} {run.get('suiteVersion', '')}".strip(), run.get("end")),
        ),
    ]
    return ["| | |", "| --- | --- |", *(f"| {k} | {_cell(v)} |" for k, v in rows if v not in (None, ""))]


def _expected_observed(test: dict) -> list[str]:
    """Expected and observed from the failure's message ("...: expected X; observed Y" where the check says so);
    else the rule's sentence is what was expected, and the message is what was observed."""
    message = test.get("message") or _last_line(test.get("details"))
    body = message.split(": ", 1)[1] if test.get("rule") and message.startswith(test["rule"] + ": ") else message
    if "expected " in body and "; observed " in body:
        head, _, observed = body.partition("; observed ")
        context, _, expected = head.rpartition("expected ")
        context = context.rstrip(": ")
        out = [f"- Where: {context}"] if context else []
        out += [f"- Expected: {expected}", f"- Observed: {observed}"]
    else:
        out = [
            "- Expected: what the sentence above says"
            + (" (the call returns, within the call timeout)" if test["outcome"] in ("Crash", "Timeout") else ""),
            f"- Observed: {body or test['outcome']}",
        ]
    said = (test.get("standalone") or {}).get("observed")
    if said:
        out.append(f"- The reproducer's own words: `{said}`")
    return out


def _last_line(text: str | None) -> str:
    lines = [x for x in (text or "").strip().splitlines() if x.strip()]
    return lines[-1].strip() if lines else ""


def _reproducer(test: dict) -> list[str]:
    info = test.get("standalone") or {}
    if not info.get("file"):
        reason = info.get("reason") or "no standalone reproducer was made for this failure"
        return [
            f"No standalone C program for this failure: {reason}.",
            "",
            "Run the test alone with the suite instead: the command under *Re-run with the suite* (it needs this suite "
            "installed, as its README says, and this driver).",
        ]
    out = [
        f"`{info['file']}` (in the report folder; attach it).  It needs a C compiler and the Vulkan loader "
        "(libvulkan.so.1) with this driver installed, nothing else: no Vulkan headers, no SDK.  Build and run it "
        "from the report folder:",
        "",
        "```sh",
        info["command"],
        "```",
        "",
        "Exit status 1: the bug shows (its last line says what was expected and what was observed); 0: it does not; "
        "2: the program could not set the scene up (another device or driver): not a verdict.",
        "",
    ]
    if info.get("reproduced") is None:
        out.append(f"It was not confirmed here: {info.get('reason', 'not run')}.")
    else:
        exits = ", ".join(str(x) for x in info.get("exits", []))
        out.append(f"Here it showed the bug {info['reproduced']} times of {info['runs']} (exit statuses {exits}).")
    return out


def _rerun(test: dict) -> list[str]:
    if test.get("rerun"):
        return ["```sh", test["rerun"], "```"]
    reason = (test.get("standalone") or {}).get("reason")
    return [reason + "." if reason else "The run recorded no re-run command for this test."]


def _join(*parts) -> str:
    return ", ".join(str(p) for p in parts if p not in (None, ""))


def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")
