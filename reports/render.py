"""Outputs built from a results document: JUnit XML, deqp-runner CSVs, Markdown (the HTML page: reports/html.py).

Every string that comes from the driver or a test (names, driverInfo, failure text)
is escaped for the format it lands in: a driver named ``<script>`` renders as text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from vkmap_cts.fixtures.reproduce.confirm import outcome, summary
from vkmap_cts.reports import bug_reports, gate, html, model, scope


def write_all(doc: dict, out: Path) -> list[Path]:
    """Write every output of one run (or of a merge) into ``out``."""
    files = {
        "junit.xml": junit(doc),
        "results.csv": deqp_csv(gate.csv_tests(doc)),
        "failures.csv": deqp_csv(gate.csv_tests(doc, failures=True)),
        "summary.md": summary_md(doc),
        "report.html": html.report(doc),
    }
    written = []
    for name, text in files.items():
        path = out / name
        path.write_text(text)
        written.append(path)
    return written + bug_reports.write(doc, out)  # bug-reports/<test>.md


def deqp_csv(tests: list[dict]) -> str:
    """deqp-runner's results.csv form: ``test,status,duration`` lines, no header; the status is the gate's
    (reports/gate.py: ExpectedFail, UnexpectedImprovement(Pass), Missing...) where a baseline judged the run."""
    return "".join(f"{t['nodeid'].replace(',', ';')},{gate.status_of(t)},{t['duration']:.3f}\n" for t in tests)


def junit(doc: dict) -> str:
    """JUnit XML: a testcase a test; under a gate, a result that fails it is a failure or an error whose message names
    the change ("Crash: expected Fail by fails.txt:7, got Crash"), and a failure it expects is skipped, saying so."""
    tests = doc["tests"]
    suite = ET.Element("testsuite", name="vkmap-cts", tests=str(len(tests)))
    props = ET.SubElement(suite, "properties")
    for k, v in run_properties(doc):
        ET.SubElement(props, "property", name=k, value=v)
    for k, v in (doc.get("driver") or {}).items():
        ET.SubElement(props, "property", name=f"driver.{k}", value=str(v))
    for t in tests:
        module, _, name = t["nodeid"].rpartition("::")
        case = ET.SubElement(
            suite,
            "testcase",
            classname=module.replace("/", ".").removesuffix(".py"),
            name=name,
            time=f"{t['duration']:.3f}",
        )
        tp = ET.SubElement(case, "properties")
        ET.SubElement(tp, "property", name="outcome", value=t["outcome"])
        judged = t.get("gate") or {}
        for key in ("status", "expected", "line"):
            if judged.get(key):
                ET.SubElement(tp, "property", name=f"gate.{key}", value=judged[key])
        for key in ("covers", "violates"):
            for vuid in t.get(key, []):
                ET.SubElement(tp, "property", name=key, value=vuid)
        _junit_verdict(case, tp, t, doc.get("gate"))
    kinds = [child.tag for case in suite.iter("testcase") for child in case if child.tag != "properties"]
    for attr, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        suite.set(attr, str(kinds.count(tag)))
    suite.set("time", f"{sum(t['duration'] for t in tests):.3f}")
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _junit_verdict(case, tp, t: dict, g: dict | None) -> None:
    """A testcase's failure, error or skipped element: by the gate's status where a baseline judged the run."""
    status, said = gate.status_of(t), gate.note(t, g)
    message = f"{said} -- {model.lead(t)}" if said and t["outcome"] != "Pass" else said or model.lead(t)
    allowed = gate.kind(status) == "UnexpectedImprovement" and not gate.fails_gate(
        status, bool((g or {}).get("allowImprovements"))
    )
    if status in ("ExpectedFail", "KnownFlake") or allowed:
        ET.SubElement(case, "skipped", message=message[:1000])  # expected by the baseline, or an allowed improvement
    elif status in ("Fail", "Timeout") or gate.kind(status) == "UnexpectedImprovement":
        ET.SubElement(case, "failure", message=message).text = with_sentence(t)
    elif status in ("Crash", "InternalError", "Missing"):
        ET.SubElement(case, "error", message=message).text = with_sentence(t)
    elif t["outcome"] in ("NotSupported", "Skip"):
        ET.SubElement(case, "skipped", message=(t.get("details") or t["outcome"])[:500])
    if t["outcome"] == "Flake":
        ET.SubElement(tp, "property", name="flake_attempts", value=",".join(t.get("attempts", [])))


def run_properties(doc: dict) -> list[tuple[str, str]]:
    """The run's verdict story as JUnit testsuite properties: the verdict, the exit status, the scope (full, or
    partial with what selected it and how many tests were not run), the gate's verdict where a baseline was given,
    and for a run that judged nothing the devices it found."""
    run = doc.get("run", {})
    s = run.get("scope") or {}
    out = [("verdict", doc["verdict"]), ("exitStatus", str(run.get("exitStatus", "")))]
    out += [
        ("scope", "partial" if s.get("partial") else "full"),
        ("scope.description", scope.describe(s)),
        *(
            (f"scope.{k}", str(s[k]))
            for k in ("partial", "ran", "collected", "notRun", "selected", "ending", "stoppedBy")
            if s.get(k) is not None
        ),
    ]
    g = doc.get("gate")
    if g:
        out += [
            ("gate.baseline", g["baseline"]),
            ("gate.verdict", g["verdict"]),
            ("gate.exitStatus", str(g["exitStatus"])),
        ]
        out += [("gate.convention", g.get("convention", gate.CONVENTION))]
        out += [
            (f"gate.{k}", str(len(g.get(k) or [])))
            for k in ("failures", "newFailures", "expected", "improvements", "missing", "flakes")
        ]
        out += [(f"gate.status.{s}", str(n)) for s, n in (g.get("statuses") or {}).items()]
    if doc["verdict"] == "NotApplicable":
        out.append(("notApplicable", run.get("notApplicable") or ""))
        for i, d in enumerate(doc.get("devices") or []):
            out.append(
                (
                    f"device.{i}",
                    f"{d.get('deviceName')} ({d.get('driverName')} {d.get('driverInfo')}), "
                    f"VK_KHR_map_memory2 {'yes' if d.get('VK_KHR_map_memory2') else 'no'}",
                )
            )
    return out


def with_sentence(t: dict) -> str:
    """The failure's text, led by the sentence of the specification its check enforces and its standalone reproducer."""
    head = f'{t["rule"]}: "{t["sentence"]}" ({t["source"]})\n\n' if t.get("sentence") else ""
    line = standalone(t)
    return head + (f"{line}\n\n" if line else "") + (t.get("details") or "")


def standalone(t: dict) -> str | None:
    """One line on a failing test's standalone C reproducer: how often it reproduced, its file, the command."""
    return summary(t.get("standalone"))


def reason_lines(doc: dict) -> list[str]:
    """The terminal's account of the tests that did not run, by reason: NotSupported (what the driver lacks), then
    Skip (what the test host or the run lacks, or a test the run never reached: nothing about the driver)."""
    out = []
    for o, what in model.NOT_RUN:
        groups = model.reasons(doc.get("tests") or [], o)
        if groups:
            out.append(f"vkmap-cts: {sum(g['count'] for g in groups)} {o}, by reason ({what}):")
            out += [f"  {g['count']:>4}  {_short(g['reason'], 200)}" for g in groups[:REASONS_SHOWN]]
            if len(groups) > REASONS_SHOWN:
                out.append(f"        and {len(groups) - REASONS_SHOWN} more reasons (summary.md, report.html)")
    return out


REASONS_SHOWN = 12  # reasons the terminal lists for an outcome; summary.md and report.html list every one


def failure_lines(doc: dict) -> list[str]:
    """The terminal's account of the failures: one line per rule broken (its sentence, how many tests, the smallest
    example, its reproducer and re-run command), then each failure with its one-line reason and re-run command."""
    tests = doc.get("tests") or []
    by_id = {t["nodeid"]: t for t in tests}
    groups = doc.get("failureGroups") or []
    out = [f"vkmap-cts: {len(groups)} rule(s) broken:"] if groups else []
    for g in groups:
        smallest = by_id.get(g["smallest"], {})
        sentence = f' "{_short(g["sentence"], 160)}"' if g.get("sentence") else ""
        out.append(f"  {g['rule']}{sentence}: {g['count']} test(s); smallest {g['smallest']}")
        if g.get("reproducer"):
            out.append(f"    reproducer: {g['reproducer']}")
        if smallest.get("rerun"):
            out.append(f"    re-run: {smallest['rerun']}")
    failing = [t for t in tests if t["outcome"] in model.FAILING]
    if failing:
        out.append(f"vkmap-cts: {len(failing)} failure(s):")
    for t in failing:
        note = expected_note(doc, t)
        out.append(f"  {t['nodeid']}: {_short(model.lead(t), 300)}" + (f" ({note})" if note else ""))
        line = standalone(t)
        if line:
            out.append(f"    {line}")
        if t.get("rerun"):
            out.append(f"    re-run: {t['rerun']}")
    return out


def expected_note(doc: dict, t: dict) -> str | None:
    """What the gate made of a test (reports/gate.py's words): "ExpectedFail: expected by fails.txt:7", "Crash:
    expected Fail, got Crash (fails.txt:7); fails the gate", "Fail: NEW, not in the baseline ...; fails the gate"."""
    return gate.note(t, doc.get("gate"))


def _short(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def summary_md(doc: dict) -> str:
    tests = doc["tests"]
    c = model.counts(tests)
    run = doc.get("run", {})
    s = run.get("scope") or {}
    judged = doc["verdict"] != "NotApplicable"
    part = f" (partial: {s['ran']} of {s['collected']} tests; {_md(s['partial'])})" if s.get("partial") else ""
    part = (f" ({_md(scope.ended(s))})" if not scope.complete(s) else part) if judged else ""
    g = doc.get("gate")
    gated = f"; gate **{g['verdict']}**" if g else ""
    status = f" — exit {run['exitStatus']}" if run.get("exitStatus") is not None else ""
    lines = [f"## vkMapMemory2KHR conformance: **{doc['verdict']}**{part}{gated}{status}", ""]
    if judged:
        lines += [f"- scope: {_md(scope.describe(s))}" if s else "- scope: merged runs"]
    if g:
        lines.append(f"- {_md(gate.summary_line(g))}; the driver's own verdict is {doc['verdict']}")
        lines += [f"  - {_md(line.strip())}" for line in gate.lines(g, tests)[:-1]]
    if doc["verdict"] == "NotApplicable":
        lines.append(f"- nothing judged: {_md(run.get('notApplicable') or 'no device to judge')}")
    for d in model.devices(doc):
        software = " — a software driver, on the CPU" if d.get("deviceType") == "CPU" else ""
        map2 = d.get("VK_KHR_map_memory2")
        has = "" if map2 is None else f", VK_KHR_map_memory2 {'yes' if map2 else 'no'}"
        lines.append(
            f"- {_md(d.get('deviceName'))} — {_md(d.get('driverName'))} {_md(d.get('driverInfo'))} (Vulkan "
            f"{_md(d.get('apiVersion'))}, UUID `{_md(d.get('deviceUUID'))}`{has}){software}"
        )
    for d in model.devices(doc):
        for f in d.get("driverLoadFailures") or []:
            lines.append(
                f"- **a driver did not load**: `{_md(f['manifest'])}` ({_md(f['library'])}): {_md(f['reason'])}"
            )
    if c:
        lines += ["", "| outcome | tests |", "| --- | --- |"] + [f"| {o} | {c[o]} |" for o in model.OUTCOMES if o in c]
    for o, what in model.NOT_RUN:
        groups = model.reasons(tests, o)
        if groups:
            lines += ["", f"### {o}, by reason ({what})", "", "| tests | reason |", "| --- | --- |"]
            lines += [f"| {g['count']} | {_md(g['reason'])} |" for g in groups]
    groups = doc.get("failureGroups") or []
    if groups:
        lines += ["", f"### Rules broken ({len(groups)})", ""]
        by_id = {t["nodeid"]: t for t in tests}
        for gr in groups:
            sentence = f": “{_md(gr['sentence'])}”" if gr.get("sentence") else ""
            repro = f"; reproducer [{_md(gr['reproducer'])}]({gr['reproducer']})" if gr.get("reproducer") else ""
            lines.append(
                f"- **{_md(gr['rule'])}**{sentence} — {gr['count']} test(s); smallest `{_md(gr['smallest'])}`{repro}"
            )
            lines += _command(by_id.get(gr["smallest"], {}).get("rerun"))
    failing = [t for t in tests if t["outcome"] in model.FAILING + ("Flake",)]
    if failing:
        lines += ["", "### Failures", ""]
        for t in failing[:50]:
            lines.append(
                f"- `{_md(t['nodeid'])}`: {_md(model.lead(t))}"
                + (f" — `{_md(t['reproducer']['reproduce'])}`" if t.get("reproducer", {}).get("reproduce") else "")
                + (f" — {_md(expected_note(doc, t))}" if expected_note(doc, t) else "")
            )
            if t.get("sentence"):
                lines.append(f"  - spec: “{_md(t['sentence'])}” ({_md(t['source'])})")
            sa = t.get("standalone") or {}
            if sa.get("file"):
                lines.append(f"  - {_md(outcome(sa))} — [{_md(sa['file'])}]({sa['file']}): `{_md(sa['command'])}`")
            elif sa.get("reason"):
                lines.append(f"  - {_md(sa['reason'])}")
            lines += _command(t.get("rerun"))
    x = doc.get("layerCrossCheck")
    if x:
        lines += [
            "",
            f"Validation layer cross-check: {len(x['agreed'])} VUIDs named alike by VK_LAYER_KHRONOS_validation and "
            "the reference validator, "
            f"{len(x['explained'])} explained differences, {len(x['disagreements'])} disagreements.",
        ]
        lines += [
            f"- disagreement in `{_md(d['test'])}`: validator {_md(d['validator'])}, layer {_md(d['layer'])} — "
            f"`{_md(d['call'][:200])}`"
            for d in x["disagreements"][:30]
        ]
    matrix = doc.get("vuidMatrix", [])
    if matrix:
        ran = ("Pass", "Fail", "Crash", "Timeout", "Flake")
        every = sum(1 for r in matrix if all(r[s]["outcome"] in ran for s in ("valid", "invalid") if s in r["sides"]))
        lines += [
            "",
            f"VUIDs: {len(matrix)} catalogued, {every} exercised on every side they have (a side counts only where a "
            "test of it ran).",
        ]
    return "\n".join(lines) + "\n"


def _command(cmd: str | None) -> list[str]:
    """A command to paste, under a list item: a fenced block, so that nothing in it is escaped."""
    return ["  - re-run:", "", "    ```sh", f"    {cmd}", "    ```", ""] if cmd else []


def _md(value) -> str:
    return str(value).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("`", "'")
