"""report.html: the run's page, one file with no external assets (it is read from a CI artifact)."""

from __future__ import annotations

from html import escape as E

from vkmap_cts.fixtures.reproduce.confirm import outcome
from vkmap_cts.reports import model, render

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


def badge(outcome: str) -> str:
    return f'<span class="b" style="background:{COLOURS.get(outcome, "#57606a")}">{E(outcome)}</span>'


def report(doc: dict) -> str:
    """The run's report.html."""
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
    for d in render._devices(doc):
        parts.append(
            f"<tr><td>{E(str(d.get('deviceName')))}</td><td>{E(str(d.get('driverName')))} "
            f"{E(str(d.get('driverInfo')))}<br>"
            f"<span class=muted>{E(str(d.get('driverIDName', d.get('driverID'))))}</span></td>"
            f"<td>{E(str(d.get('apiVersion')))}</td><td>vendor {E(str(d.get('vendorID')))} device "
            f"{E(str(d.get('deviceID')))}</td>"
            f"<td><code>{E(str(d.get('deviceUUID')))}</code></td></tr>"
        )
    parts.append("</table>")
    for d in render._devices(doc):
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
        parts.append(f"<h3>{badge(t['outcome'])} <code>{E(t['nodeid'])}</code></h3>")
        parts.append(f"<p><b>{E(render.lead(t))}</b></p>")
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
            else (render.lead(t) if t["outcome"] != "Pass" else "")
        )
        parts.append(
            f"<tr><td><code>{E(t['nodeid'])}</code></td><td>{badge(t['outcome'])}</td>"
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
            f"<td>{badge(row[s]['outcome'])} <span class=muted>{row[s]['tests']} tests</span></td>"
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
    limit = min((int(d.get("minMemoryMapAlignment", 64)) for d in render._devices(doc)), default=64)
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
