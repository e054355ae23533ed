"""Outputs built from a results document: JUnit XML, deqp-runner CSVs, Markdown, HTML.

Every string that comes from the driver or a test (names, driverInfo, failure text)
is escaped for the format it lands in: a driver named ``<script>`` renders as text.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from pathlib import Path

from vkmap_cts.fixtures.reproduce.confirm import outcome, summary
from vkmap_cts.reports import model

E = html.escape


def write_all(doc: dict, out: Path) -> list[Path]:
    """Write every output of one run (or of a merge) into ``out``."""
    files = {
        "junit.xml": junit(doc),
        "results.csv": deqp_csv(doc["tests"]),
        "failures.csv": deqp_csv([t for t in doc["tests"] if t["outcome"] in model.FAILING + ("Flake",)]),
        "summary.md": summary_md(doc),
        "report.html": report_html(doc),
    }
    written = []
    for name, text in files.items():
        path = out / name
        path.write_text(text)
        written.append(path)
    return written


def deqp_csv(tests: list[dict]) -> str:
    """deqp-runner's results.csv form: ``test,status,duration`` lines, no header."""
    return "".join(f"{t['nodeid'].replace(',', ';')},{t['outcome']},{t['duration']:.3f}\n" for t in tests)


def junit(doc: dict) -> str:
    tests = doc["tests"]
    c = model.counts(tests)
    suite = ET.Element(
        "testsuite",
        name="vkmap-cts",
        tests=str(len(tests)),
        failures=str(c.get("Fail", 0) + c.get("Timeout", 0)),
        errors=str(c.get("Crash", 0) + c.get("InternalError", 0)),
        skipped=str(c.get("NotSupported", 0) + c.get("Skip", 0)),
        time=f"{sum(t['duration'] for t in tests):.3f}",
    )
    props = ET.SubElement(suite, "properties")
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
        for key in ("covers", "violates"):
            for vuid in t.get(key, []):
                ET.SubElement(tp, "property", name=key, value=vuid)
        if t["outcome"] in ("Fail", "Timeout"):
            ET.SubElement(case, "failure", message=lead(t)).text = with_sentence(t)
        elif t["outcome"] in ("Crash", "InternalError"):
            ET.SubElement(case, "error", message=lead(t)).text = with_sentence(t)
        elif t["outcome"] in ("NotSupported", "Skip"):
            ET.SubElement(case, "skipped", message=(t.get("details") or t["outcome"])[:500])
        elif t["outcome"] == "Flake":
            ET.SubElement(tp, "property", name="flake_attempts", value=",".join(t.get("attempts", [])))
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def lead(t: dict) -> str:
    """One line for a failing test: its outcome and its check's message (the rule, expected, observed)."""
    if t.get("message"):
        return f"{t['outcome']}: {t['message']}"
    if t["outcome"] == "Timeout":
        return "Timeout: " + ((t.get("details") or "").strip().splitlines() or ["the test ran past its time"])[0][:300]
    if t["outcome"] == "Crash":
        return "Crash: " + ((t.get("details") or "").strip().splitlines() or ["the process running it died"])[0][:300]
    last = [x for x in (t.get("details") or "").splitlines() if x.startswith("E ")]
    return f"{t['outcome']}: {last[0][1:].strip()[:300]}" if last else t["outcome"]


def with_sentence(t: dict) -> str:
    """The failure's text, led by the sentence of the specification its check enforces and its standalone reproducer."""
    head = f'{t["rule"]}: "{t["sentence"]}" ({t["source"]})\n\n' if t.get("sentence") else ""
    line = standalone(t)
    return head + (f"{line}\n\n" if line else "") + (t.get("details") or "")


def standalone(t: dict) -> str | None:
    """One line on a failing test's standalone C reproducer: how often it reproduced, its file, the command."""
    return summary(t.get("standalone"))


def _devices(doc: dict) -> list[dict]:
    return doc.get("devices") or ([doc["driver"]] if doc.get("driver") else [])


def summary_md(doc: dict) -> str:
    tests = doc["tests"]
    c = model.counts(tests)
    scope = doc.get("run", {}).get("scope") or {}
    part = (
        f" (partial: {scope['ran']} of {scope['collected']} tests; {_md(scope['partial'])})"
        if scope.get("partial")
        else ""
    )
    lines = [f"## vkMapMemory2KHR conformance: **{doc['verdict']}**{part}", ""]
    for d in _devices(doc):
        software = " — a software driver, on the CPU" if d.get("deviceType") == "CPU" else ""
        lines.append(
            f"- {_md(d.get('deviceName'))} — {_md(d.get('driverName'))} {_md(d.get('driverInfo'))} (Vulkan "
            f"{_md(d.get('apiVersion'))}, UUID `{_md(d.get('deviceUUID'))}`){software}"
        )
    for d in _devices(doc):
        for f in d.get("driverLoadFailures") or []:
            lines.append(
                f"- **a driver did not load**: `{_md(f['manifest'])}` ({_md(f['library'])}): {_md(f['reason'])}"
            )
    lines += ["", "| outcome | tests |", "| --- | --- |"] + [f"| {o} | {c[o]} |" for o in model.OUTCOMES if o in c]
    failing = [t for t in tests if t["outcome"] in model.FAILING + ("Flake",)]
    if failing:
        lines += ["", "### Failures", ""]
        for t in failing[:50]:
            lines.append(
                f"- `{_md(t['nodeid'])}`: {_md(lead(t))}"
                + (f" — `{_md(t['reproducer']['reproduce'])}`" if t.get("reproducer", {}).get("reproduce") else "")
            )
            if t.get("sentence"):
                lines.append(f"  - spec: “{_md(t['sentence'])}” ({_md(t['source'])})")
            sa = t.get("standalone") or {}
            if sa.get("file"):
                lines.append(f"  - {_md(outcome(sa))} — [{_md(sa['file'])}]({sa['file']}): `{_md(sa['command'])}`")
            elif sa.get("reason"):
                lines.append(f"  - {_md(sa['reason'])}")
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


def _md(value) -> str:
    return str(value).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("`", "'")


COLOURS = {
    "Pass": "#1a7f37",
    "Fail": "#cf222e",
    "Crash": "#8250df",
    "InternalError": "#6e7781",
    "Timeout": "#bc4c00",
    "Flake": "#9a6700",
    "NotSupported": "#57606a",
    "Skip": "#57606a",
    "NotRun": "#afb8c1",
    "NoSide": "#d0d7de",
}


def _badge(outcome: str) -> str:
    return f'<span class="b" style="background:{COLOURS.get(outcome, "#57606a")}">{E(outcome)}</span>'


def report_html(doc: dict) -> str:
    tests = doc["tests"]
    c = model.counts(tests)
    v = doc["verdict"]
    parts = [
        "<!doctype html><html lang=en><meta charset=utf-8><title>vkMapMemory2KHR conformance</title>",
        "<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#1f2328}"
        "h1{font-size:22px}table{border-collapse:collapse;width:100%;margin:8px 0 24px}"
        "td,th{border-bottom:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}"
        "th{background:#f6f8fa}.b{color:#fff;border-radius:10px;padding:1px 8px;font-size:12px;white-space:nowrap}"
        ".verdict{font-size:28px;font-weight:700;padding:12px 18px;border-radius:8px;color:#fff;display:inline-block}"
        "code,pre{font:12px ui-monospace,monospace}"
        "pre{background:#f6f8fa;padding:8px;overflow:auto;max-height:320px}.muted{color:#57606a}</style>",
        '<h1>vkMapMemory2KHR conformance</h1><div class="verdict" '
        f'style="background:{COLOURS.get(v, "#57606a")}">{E(v)}</div>',
        '<p class="muted">'
        + " · ".join(f"{E(o)}: {c[o]}" for o in model.OUTCOMES if o in c)
        + f" · run {E(str(doc.get('run', {}).get('start', '')))}</p>",
        "<h2>Driver</h2><table><tr><th>device</th><th>driver</th><th>Vulkan</th><th>IDs</th><th>deviceUUID</th></tr>",
    ]
    for d in _devices(doc):
        parts.append(
            f"<tr><td>{E(str(d.get('deviceName')))}</td><td>{E(str(d.get('driverName')))} "
            f"{E(str(d.get('driverInfo')))}<br>"
            f"<span class=muted>{E(str(d.get('driverIDName', d.get('driverID'))))}</span></td>"
            f"<td>{E(str(d.get('apiVersion')))}</td><td>vendor {E(str(d.get('vendorID')))} device "
            f"{E(str(d.get('deviceID')))}</td>"
            f"<td><code>{E(str(d.get('deviceUUID')))}</code></td></tr>"
        )
    parts.append("</table>")
    for d in _devices(doc):
        for f in d.get("driverLoadFailures") or []:
            parts.append(
                f"<p><b>A driver did not load</b> (the loader went on without it): <code>{E(f['manifest'])}</code> "
                f"({E(str(f['library']))}): {E(f['reason'])}</p>"
            )

    failing = [t for t in tests if t["outcome"] in model.FAILING + ("Flake",)]
    parts.append(f"<h2>Failures ({len(failing)})</h2>")
    if not failing:
        parts.append("<p>None.</p>")
    for t in failing:
        r = t.get("reproducer", {})
        parts.append(f"<h3>{_badge(t['outcome'])} <code>{E(t['nodeid'])}</code></h3>")
        parts.append(f"<p><b>{E(lead(t))}</b></p>")
        if t.get("sentence"):
            parts.append(f"<blockquote>{E(t['sentence'])}<br><span class=muted>{E(t['source'])}</span></blockquote>")
        if r.get("example"):
            parts.append(f"<p>Falsifying example:</p><pre>{E(r['example'])}</pre>")
        if r.get("reproduce"):
            parts.append(f"<p>Reproduce with <code>{E(r['reproduce'])}</code></p>")
        sa = t.get("standalone") or {}
        if sa.get("file"):
            parts.append(
                f'<p>Standalone C reproducer <a href="{E(sa["file"])}"><code>{E(sa["file"])}</code></a>: '
                f"{E(outcome(sa))}</p><pre>{E(sa['command'])}</pre>"
            )
            if sa.get("observed"):
                parts.append(f"<p>It printed:</p><pre>{E(sa['observed'])}</pre>")
        elif sa.get("reason"):
            parts.append(f"<p>{E(sa['reason'])}</p>")
        if t.get("crash_input", {}).get("last_call"):
            parts.append(
                "<p>The call that crashed (re-run alone, last call "
                f"made):</p><pre>{E(t['crash_input']['last_call'])}</pre>"
            )
        parts.append(f"<details><summary>traceback</summary><pre>{E((t.get('details') or '')[-3000:])}</pre></details>")

    parts.append(f"<h2>Every test ({len(tests)})</h2><table><tr><th>test</th><th>outcome</th><th>reason</th></tr>")
    for t in tests:
        reason = (
            t.get("details")
            if t["outcome"] in ("NotSupported", "Skip")
            else (lead(t) if t["outcome"] != "Pass" else "")
        )
        parts.append(
            f"<tr><td><code>{E(t['nodeid'])}</code></td><td>{_badge(t['outcome'])}</td>"
            f"<td>{E(str(reason or '')[:300])}</td></tr>"
        )
    parts.append("</table>")

    x = doc.get("layerCrossCheck")
    if x:
        parts.append(
            f"<h2>Validation layer cross-check</h2><p>{len(x['agreed'])} VUIDs named alike by "
            "VK_LAYER_KHRONOS_validation and the reference validator.</p>"
        )
        parts.append(
            "<h3>Disagreements "
            f"({len(x['disagreements'])})</h3><table><tr><th>test</th><th>call</th><th>validator</th><th>layer</th></tr>"
        )
        for d in x["disagreements"]:
            sides = f"<td>{E(', '.join(d['validator']))}</td><td>{E(', '.join(d['layer'] or []))}</td>"
            parts.append(
                f"<tr><td><code>{E(d['test'])}</code></td><td><code>{E(d['call'][:300])}</code></td>{sides}</tr>"
            )
        parts.append("</table><h3>Explained differences</h3><table><tr><th>VUID</th><th>calls</th><th>why</th></tr>")
        for e in x["explained"]:
            parts.append(f"<tr><td><code>{E(e['vuid'])}</code></td><td>{e['calls']}</td><td>{E(e['reason'])}</td></tr>")
        parts.append(
            "</table><p class=muted>Agreed: " + ", ".join(f"<code>{E(v)}</code>" for v in x["agreed"]) + "</p>"
        )

    matrix = doc.get("vuidMatrix", [])
    parts.append(
        f"<h2>VUID matrix ({len(matrix)} rules)</h2><table><tr><th>VUID</th><th>rule</th><th>valid "
        "side</th><th>invalid side</th></tr>"
    )
    for row in matrix:
        cells = "".join(
            f"<td>{_badge(row[s]['outcome'])} <span class=muted>{row[s]['tests']} tests</span></td>"
            for s in ("valid", "invalid")
        )
        parts.append(f"<tr><td><code>{E(row['vuid'])}</code></td><td>{E(row['text'])}</td>{cells}</tr>")
    parts.append("</table>")

    parts.append(
        "<h2>Return codes</h2><table><tr><th>code</th><th>allowed "
        "by</th><th>status</th><th>observed</th><th>evidence</th></tr>"
    )
    for row in doc.get("returnCodes", []):
        evidence = (
            ", ".join(row.get("provoked_by", []))
            or "; ".join(row.get("tried", []))
            or ", ".join(row.get("observed_in", []))
        )
        parts.append(
            f"<tr><td><code>{E(row['code'])}</code></td><td>{E(row['allowed_by'])}</td><td>{E(row['status'])}</td><td>{row['observed']}</td><td>{E(evidence)}</td></tr>"
        )
    parts.append("</table>")

    parts.append(
        "<h2>Alignment of mapped pointers</h2><p class=muted>For every successful map: the largest power of two "
        "dividing <code>ptr − offset</code>, per memory type. "
        "Green: at least minMemoryMapAlignment; a red bar would be a violation.</p>"
    )
    limit = min((int(d.get("minMemoryMapAlignment", 64)) for d in _devices(doc)), default=64)
    parts.append(alignment_svg(doc.get("alignment", {}), limit))
    parts.append("</html>\n")
    return "\n".join(parts)


def alignment_svg(data: dict[str, dict[str, int]], limit: int) -> str:
    """A bar chart (inline SVG): per memory type, maps per observed alignment."""
    if not data:
        return "<p>No maps observed.</p>"
    buckets = sorted({int(a) for hist in data.values() for a in hist})
    width, bar_h, gap = 900, 16, 6
    rows = sum(len(h) for h in data.values())
    height = rows * (bar_h + gap) + len(data) * 24 + 20
    top = max(n for hist in data.values() for n in hist.values())
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-size="12" '
        'font-family="system-ui,sans-serif">'
    ]
    y = 10
    for mtype, hist in sorted(data.items()):
        out.append(f'<text x="0" y="{y + 12}" font-weight="600">memory type {E(str(mtype))}</text>')
        y += 20
        for a in buckets:
            n = hist.get(str(a))
            if not n:
                continue
            w = max(2, int(600 * n / top))
            colour = "#cf222e" if a < limit else "#1a7f37"
            label = f"{a} B" if a < 1 << 20 else f"{a >> 20} MiB"
            out.append(
                f'<text x="0" y="{y + 12}">{E(label)}</text><rect x="110" y="{y}" width="{w}" height="{bar_h}" '
                f'fill="{colour}"/><text x="{115 + w}" y="{y + 12}">{n}</text>'
            )
            y += bar_h + gap
        y += 4
    out.append("</svg>")
    return "".join(out)
