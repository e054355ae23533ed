"""report.html: the run's page, one file with no external assets (it is read from a CI artifact).

``page(doc)`` turns a results document into what the page shows (the failures by rule, the per-test table by
outcome, the charts' coordinates); ``templates/report.html.j2`` lays it out.  Jinja2 escapes every string that
comes from the document: a driver or test named ``<script>`` renders as text.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from vkmap_cts.fixtures.reproduce.confirm import outcome as standalone_outcome
from vkmap_cts.reports import bug_reports, gate, model
from vkmap_cts.reports import scope as scopes

COLOURS = {
    "Pass": "#1a7f37",
    "Fail": "#cf222e",
    "Crash": "#8250df",
    "InternalError": "#6e7781",
    "Timeout": "#bc4c00",
    "Flake": "#9a6700",
    "NotSupported": "#57606a",
    "Skip": "#8c959f",
    "NotRun": "#afb8c1",
    "NoSide": "#eaeef2",
    "NotApplicable": "#57606a",
    "NoTests": "#57606a",
    # The gate's statuses (reports/gate.py), by kind: UnexpectedImprovement(Pass) is an UnexpectedImprovement.
    "ExpectedFail": "#6e7781",
    "KnownFlake": "#9a6700",
    "Missing": "#bc4c00",
    "UnexpectedImprovement": "#0969da",
    "Incomplete": "#9a6700",
}
# The per-test table's order: what needs reading first; the failing outcomes start unfolded.
TABLE_ORDER = ("InternalError", "Crash", "Timeout", "Fail", "Flake", "NotSupported", "Skip", "Pass")
UNFOLDED = ("InternalError", "Crash", "Timeout", "Fail", "Flake")
# A rule's failures shown whole before the rest of its tests fold away.
SHOWN_PER_RULE = 3


def report(doc: dict) -> str:
    """The run's report.html."""
    return _template().render(**page(doc))


@functools.cache
def _template():
    env = Environment(
        loader=FileSystemLoader(Path(__file__).with_name("templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["colour"] = lambda outcome: COLOURS.get(outcome, COLOURS.get(gate.kind(str(outcome)), "#57606a"))
    return env.get_template("report.html.j2")


def page(doc: dict) -> dict:
    """Everything the template shows, derived from one results document (a run's or a merge's)."""
    tests = doc["tests"]
    devices = model.devices(doc)
    counts = model.counts(tests)
    failing = {t["nodeid"]: t for t in tests if t["outcome"] in model.FAILING + ("Flake",)}
    views = {nodeid: _failure(t, anchor("t-", nodeid), doc.get("gate")) for nodeid, t in failing.items()}
    groups = doc["failureGroups"] if "failureGroups" in doc else model.failure_groups(tests)
    rules, grouped = [], set()
    for g in groups:
        members = [views[n] for n in g["tests"] if n in views]
        members.sort(key=lambda v: v["nodeid"] != g.get("smallest"))
        grouped.update(v["nodeid"] for v in members)
        rules.append(
            {
                "rule": g["rule"],
                "anchor": anchor("rule-", g["rule"]),
                "sentence": g.get("sentence"),
                "source": next((v["source"] for v in members if v["source"]), None),
                "count": g["count"],
                "smallest": views.get(g.get("smallest")),
                "reproducer": _reproducer_href(g.get("reproducer")),
                "shown": members[:SHOWN_PER_RULE],
                "folded": members[SHOWN_PER_RULE:],
            }
        )
    others = [v for n, v in views.items() if n not in grouped]
    scope = (doc.get("run") or {}).get("scope") or {}
    return {
        "verdict": doc["verdict"],
        "gate": _gate(doc.get("gate"), views, tests),
        "scope": scope,
        "ended": None if scopes.complete(scope) else scopes.describe(scope),
        "reasons": [(o, what, model.reasons(tests, o)) for o, what in model.NOT_RUN if o in counts],
        "not_applicable": (doc.get("run") or {}).get("notApplicable"),
        "exit_status": (doc.get("run") or {}).get("exitStatus"),
        "start": (doc.get("run") or {}).get("start"),
        "counts": [(o, counts[o]) for o in model.OUTCOMES if o in counts],
        "total": len(tests),
        "devices": [_device(d) for d in devices],
        "map2_column": any(d.get("VK_KHR_map_memory2") is False for d in devices),
        "rules": rules,
        "suite_errors": [v for v in others if v["outcome"] == "InternalError"],
        "flakes": [v for v in others if v["outcome"] == "Flake"],
        "ungrouped": [v for v in others if v["outcome"] not in ("InternalError", "Flake")],
        "failing_count": len(views),
        "sections": _sections(tests, views),
        "matrix": _matrix(doc.get("vuidMatrix") or []),
        "return_codes": doc.get("returnCodes") or [],
        "latency": latency_chart(tests, doc.get("slowestCalls") or {}),
        "alignment": alignment_chart(doc.get("alignment") or {}, _alignment_limit(devices)),
        "alignment_limit": _alignment_limit(devices),
        "layer": doc.get("layerCrossCheck"),
        "side_by_side": _side_by_side(doc, views),
    }


def anchor(prefix: str, text: str) -> str:
    """An element ID for a test ID or rule: letters, digits and ``-_.`` only, with a digest of the whole text so that
    two test IDs that differ only in punctuation or past the first 90 characters keep apart."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:90]
    return f"{prefix}{slug}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def _reproducer_href(path: str | None) -> str | None:
    """A reproducer's link: results give ``reproducers/NAME.c`` or the bare name under reproducers/."""
    if not path:
        return None
    return path if "/" in path else f"reproducers/{path}"


def _failure(t: dict, element_id: str, g: dict | None = None) -> dict:
    """What one failing test shows: its one-line reason, what the gate made of it (``g``: the run's gate, if any:
    expected or new) and the next step, the sentence it breaks, how to re-run and reproduce it."""
    sa = t.get("standalone") or {}
    r = t.get("reproducer") or {}
    said = gate.judgement(t, g)
    return {
        "nodeid": t["nodeid"],
        "anchor": element_id,
        "outcome": t["outcome"],
        "reason": one_line(t),
        "mark": _mark(t, g, said),
        "judged": gate.note(t, g),
        "next": gate.next_step(t, g),
        "rule": t.get("rule"),
        "sentence": t.get("sentence"),
        "source": t.get("source"),
        "rerun": t.get("rerun"),
        "bug_report": f"{bug_reports.FOLDER}/{bug_reports.name(t['nodeid'])}"
        if t["outcome"] in bug_reports.REPORTED
        else None,
        "example": r.get("example"),
        "reproduce": r.get("reproduce"),
        "standalone_file": _reproducer_href(sa.get("file")),
        "standalone_outcome": standalone_outcome(sa) if sa.get("file") else None,
        "standalone_command": sa.get("command"),
        "standalone_observed": sa.get("observed"),
        "standalone_reason": sa.get("reason"),
        "last_call": (t.get("crash_input") or {}).get("last_call"),
        "attempts": t.get("attempts") or [],
        "details": (t.get("details") or "")[-3000:],
    }


def _mark(t: dict, g: dict | None, said: tuple[str, str] | None) -> str | None:
    """A failure's mark beside its ID: new (it fails the gate), expected (the baseline expects it), not gated (the run
    had no baseline); none for the suite's own error, which is no verdict about the driver."""
    if t["outcome"] == "InternalError":
        return None
    if not g:
        return "not gated"
    if said and gate.fails_gate(said[0], g.get("allowImprovements", False)):
        return "new"
    return "expected" if said and said[0] in ("ExpectedFail", "KnownFlake") else None


def one_line(t: dict) -> str:
    """A failing test's one line: ``model.lead``'s (its check's message), else the first line of what it left (never the
    outcome alone)."""
    line = model.lead(t)
    if line == t["outcome"]:
        first = next((x.strip() for x in (t.get("details") or "").splitlines() if x.strip()), "")
        line = f"{t['outcome']}: {first[:300]}" if first else line
    return line


def _gate(g: dict | None, views: dict, tests: list[dict]) -> dict | None:
    """The gate beside the verdict: its counts by deqp-runner's statuses, and what it says of each result that fails
    it (or that it allows, or a flake no one named), linked to the failure below."""
    if not g:
        return None
    allowed = g.get("allowImprovements", False)
    return {
        **g,
        "failing_n": len(gate.failing_of(g)),
        "shown": [(s, n) for s, n in (g.get("statuses") or {}).items() if s not in ("Pass", "Skip", "NotSupported")],
        "told": [
            {
                "nodeid": t["nodeid"],
                "anchor": views[t["nodeid"]]["anchor"] if t["nodeid"] in views else None,
                "status": s,
                "why": why,
                "fails": gate.fails_gate(s, allowed),
            }
            for t, s, why in gate.told(g, tests)
        ],
    }


def _device(d: dict) -> dict:
    return {
        **d,
        "software": d.get("deviceType") == "CPU",
        "driver_id": d.get("driverIDName", d.get("driverID")),
    }


def _sections(tests: list[dict], views: dict) -> list[dict]:
    """The per-test table, one folded section per outcome, failing outcomes first."""
    by: dict[str, list[dict]] = {}
    for t in tests:
        o = t["outcome"]
        if o in ("NotSupported", "Skip"):
            reason = (t.get("details") or "").strip().splitlines()[:1]
            reason = reason[0] if reason else ""
        elif o == "Pass":
            reason = ""
        else:
            reason = views[t["nodeid"]]["reason"] if t["nodeid"] in views else one_line(t)
        by.setdefault(o, []).append(
            {
                "nodeid": t["nodeid"],
                "outcome": o,
                "reason": reason[:300],
                "duration": t.get("duration") or 0.0,
                "anchor": views[t["nodeid"]]["anchor"] if t["nodeid"] in views else None,
            }
        )
    order = [o for o in TABLE_ORDER if o in by] + sorted(set(by) - set(TABLE_ORDER))
    return [{"outcome": o, "rows": by[o], "open": o in UNFOLDED} for o in order]


def _matrix(rows: list[dict]) -> list[dict]:
    """The VUID matrix's rows, with the outcome of each side (a grid cell's colour)."""
    return [
        {
            "vuid": r["vuid"],
            "text": r.get("text", ""),
            "kind": r.get("kind", ""),
            "cells": [(side, r[side]["outcome"], r[side]["tests"]) for side in ("valid", "invalid") if side in r],
        }
        for r in rows
    ]


def _alignment_limit(devices: list[dict]) -> int:
    return min((int(d.get("minMemoryMapAlignment", 64)) for d in devices), default=64)


def alignment_chart(data: dict[str, dict[str, int]], limit: int) -> dict | None:
    """A bar chart's rows: per memory type, how many successful maps had each alignment of ``ptr - offset``."""
    if not data:
        return None
    top = max(n for hist in data.values() for n in hist.values())
    rows, y = [], 10
    for mtype, hist in sorted(data.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else kv[0]):
        rows.append({"y": y + 12, "heading": f"memory type {mtype}"})
        y += 20
        for a in sorted(int(k) for k in hist):
            n = hist[str(a)]
            if not n:
                continue
            w = max(2, round(560 * n / top))
            label = f"{a} B" if a < 1 << 20 else f"{a >> 20} MiB"
            rows.append({"y": y, "label": label, "w": w, "n": n, "bad": a < limit})
            y += 22
        y += 4
    return {"rows": rows, "height": y + 10}


# The latency chart's axis: 1 microsecond to 10 seconds, four bins a decade.
_LAT_LO, _LAT_HI, _LAT_BINS_PER_DECADE = -6, 1, 4


def latency_chart(tests: list[dict], slowest: dict) -> dict | None:
    """Per entry point, how the slowest call of each test is spread (a histogram on a log axis) and the slowest of all.

    The run records, for every test, its slowest call of each entry point (``properties.slowest_calls``); it does
    not record latency per memory type."""
    per: dict[str, list[float]] = {}
    for t in model.conformance(tests):
        for entry, seconds in ((t.get("properties") or {}).get("slowest_calls") or {}).items():
            if isinstance(seconds, int | float) and seconds > 0:
                per.setdefault(entry, []).append(float(seconds))
    if not per:
        return None
    bins = (_LAT_HI - _LAT_LO) * _LAT_BINS_PER_DECADE
    x0, width, row_h = 140, 520, 34

    def x(seconds: float) -> float:
        pos = (math.log10(min(max(seconds, 10**_LAT_LO), 10**_LAT_HI)) - _LAT_LO) / (_LAT_HI - _LAT_LO)
        return round(x0 + pos * width, 1)

    rows = []
    for i, entry in enumerate(sorted(per)):
        values = sorted(per[entry])
        hist = [0] * bins
        for v in values:
            b = int((math.log10(max(v, 10**_LAT_LO)) - _LAT_LO) * _LAT_BINS_PER_DECADE)
            hist[min(max(b, 0), bins - 1)] += 1
        top = max(hist)
        y = 10 + i * row_h
        step = width / bins
        bars = [
            {"x": round(x0 + b * step, 1), "w": round(step - 1, 1), "h": max(2.0, round(22 * n / top, 1))}
            for b, n in enumerate(hist)
            if n
        ]
        worst = slowest.get(entry) or {}
        rows.append(
            {
                "entry": entry,
                "y": y,
                "bars": bars,
                "median_x": x(values[len(values) // 2]),
                "median": _seconds(values[len(values) // 2]),
                "max_x": x(values[-1]),
                "max": _seconds(values[-1]),
                "tests": len(values),
                "worst_test": worst.get("test"),
            }
        )
    ticks = [{"x": x(10.0**p), "label": _seconds(10.0**p)} for p in range(_LAT_LO, _LAT_HI + 1)]
    return {"rows": rows, "ticks": ticks, "height": 10 + len(rows) * row_h + 24, "x0": x0, "x1": x0 + width}


def _seconds(s: float) -> str:
    if s >= 1:
        return f"{s:g} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} µs"


def _side_by_side(doc: dict, views: dict) -> dict | None:
    """A merge's table: each test's outcome in each run."""
    rows = doc.get("sideBySide") or []
    if not rows:
        return None
    names = [r["label"] for r in doc.get("runs", [])]
    return {
        "names": names,
        "rows": [
            {
                "nodeid": r["nodeid"],
                "anchor": views[r["nodeid"]]["anchor"] if r["nodeid"] in views else None,
                "outcomes": [r["outcomes"].get(n, "NotRun") for n in names],
            }
            for r in rows
        ],
    }
