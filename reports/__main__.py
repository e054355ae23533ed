"""Many runs, one picture.

    python -m vkmap_cts.reports merge RUN... [-o DIR]    several runs (devices, hosts, driver builds) into one report
    python -m vkmap_cts.reports diff OLD NEW             what regressed and what got fixed between two runs

RUN, OLD and NEW are results.json files or the report directories that hold them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vkmap_cts.reports import model, render
from vkmap_cts.reports.model import FAILING


def load(path: str) -> dict:
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    if not p.is_file():
        raise SystemExit(f"reports: error: no results.json at {path}")
    return json.loads(p.read_text())


def label(doc: dict) -> str:
    """A run's device and driver, with the deviceUUID's first digits: two GPUs of one model stay apart."""
    d = doc.get("driver") or {}
    return f"{d.get('deviceName', '?')} [{str(d.get('deviceUUID', '?'))[:8]}] / {d.get('driverName', '?')} {d.get('driverInfo', '')}".strip()


def merge(docs: list[dict]) -> dict:
    """One document whose tests carry their device; the VUID matrix and tables span all runs."""
    tests, devices = [], []
    for doc in docs:
        dev = doc.get("driver") or {"deviceName": "?", "deviceUUID": "?", "driverName": "?", "driverInfo": "?", "apiVersion": "?"}
        devices.append(dev)
        for t in doc["tests"]:
            tests.append(dict(t, device=dev.get("deviceUUID"), nodeid=f"[{dev.get('deviceName')} {str(dev.get('deviceUUID'))[:8]}] {t['nodeid']}"))
    alignment = {}
    for doc in docs:
        dev = doc.get("driver") or {}
        for mtype, hist in doc.get("alignment", {}).items():
            alignment[f"{dev.get('deviceName', '?')} [{str(dev.get('deviceUUID', '?'))[:8]}] / {mtype}"] = hist
    return {
        "schemaVersion": 1,
        "run": {
            "suite": "vkmap-cts",
            "suiteVersion": docs[0]["run"]["suiteVersion"],
            "start": min(d["run"]["start"] for d in docs),
            "end": max(d["run"]["end"] for d in docs),
            "host": ", ".join(sorted({d["run"]["host"] for d in docs})),
            "merged": len(docs),
        },
        "devices": devices,
        **model.summarise(tests),
        "alignment": alignment,
        "sideBySide": side_by_side(docs),
    }


def side_by_side(docs: list[dict]) -> list[dict]:
    """Per test: the outcome on each run (device), in run order."""
    names = [label(d) for d in docs]
    rows: dict[str, dict] = {}
    for name, doc in zip(names, docs, strict=True):
        for t in doc["tests"]:
            rows.setdefault(t["nodeid"], {"nodeid": t["nodeid"], "outcomes": {}})["outcomes"][name] = t["outcome"]
    # Tests whose outcomes differ between runs first: that is where drivers part ways.
    return sorted(rows.values(), key=lambda r: (len(set(r["outcomes"].values())) == 1, r["nodeid"]))


def diff(old: dict, new: dict) -> dict[str, list]:
    before = {t["nodeid"]: t["outcome"] for t in old["tests"]}
    after = {t["nodeid"]: t["outcome"] for t in new["tests"]}
    out = {"regressed": [], "fixed": [], "changed": [], "added": [], "removed": []}
    for nodeid in sorted(set(before) | set(after)):
        a, b = before.get(nodeid), after.get(nodeid)
        if a is None:
            out["added"].append((nodeid, b))
        elif b is None:
            out["removed"].append((nodeid, a))
        elif a not in FAILING and b in FAILING:
            out["regressed"].append((nodeid, f"{a} -> {b}"))
        elif a in FAILING and b not in FAILING:
            out["fixed"].append((nodeid, f"{a} -> {b}"))
        elif a != b:
            out["changed"].append((nodeid, f"{a} -> {b}"))
    return out


def side_by_side_html(doc: dict) -> str:
    rows = doc.get("sideBySide", [])
    names = [label({"driver": d}) for d in doc["devices"]]
    head = "".join(f"<th>{render.E(n)}</th>" for n in names)
    body = "".join(
        f"<tr><td><code>{render.E(r['nodeid'])}</code></td>" + "".join(f"<td>{render._badge(r['outcomes'].get(n, 'NotRun'))}</td>" for n in names) + "</tr>" for r in rows
    )
    return f"<h2>Side by side ({len(names)} runs)</h2><table><tr><th>test</th>{head}</tr>{body}</table>"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m reports", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    m = sub.add_parser("merge", help="merge runs into one report")
    m.add_argument("runs", nargs="+")
    m.add_argument("-o", "--out", default="reports/merged", help="output directory (default reports/merged)")
    d = sub.add_parser("diff", help="regressions and fixes between two runs")
    d.add_argument("old")
    d.add_argument("new")
    args = ap.parse_args(argv)

    if args.command == "merge":
        docs = [load(r) for r in args.runs]
        doc = merge(docs)
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(doc, indent=1))
        render.write_all(doc, out)
        page = (out / "report.html").read_text().replace("<h2>Failures", side_by_side_html(doc) + "<h2>Failures", 1)
        (out / "report.html").write_text(page)
        print(f"merged {len(docs)} runs ({'; '.join(label(d) for d in docs)}): verdict {doc['verdict']}; report in {out}")
        return 0

    old, new = load(args.old), load(args.new)
    result = diff(old, new)
    print(f"diff {label(old)} -> {label(new)}")
    for key in ("regressed", "fixed", "changed", "added", "removed"):
        print(f"{key}: {len(result[key])}")
        for nodeid, what in result[key][:200]:
            print(f"  {what:<24} {nodeid}")
    return 1 if result["regressed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
