"""Many runs, one picture.

    python -m vkmap_cts.reports merge RUN[=LABEL]... [-o DIR] [--gate [--baseline FILE]]
        runs (devices, hosts, driver builds, shards) into one report
    python -m vkmap_cts.reports diff OLD NEW [--allow KIND]
        what regressed and what got fixed; exit 1 on a regression
    python -m vkmap_cts.reports ids [--write]
        the test ID list against the tests collected now; exit 1 on a difference (--write rewrites it)

An installed copy has the first two as ``vkmap-cts merge`` and ``vkmap-cts diff``.  RUN, OLD and NEW
are results.json files or the report directories that hold them.  A merged folder holds every file
its pages link to: each run's standalone reproducers are copied from its folder (into
reproducers/LABEL/ where the merge keeps runs apart), and one a run's folder lacks is not linked.

A run goes by its label: LABEL where given, else the run's --run-label, else its device
(with the deviceUUID's first digits), driver and driver version.  Runs of one label whose
tests do not overlap are shards of one run (--shard I/N) and merge into one column; a run
whose tests overlap another of its label is a run of its own ("LABEL #2").

merge and diff read a test's old ID, in a run made before the test was renamed, as its new ID
(reports/test-id-aliases.txt), with a warning once per old ID.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

from vkmap_cts.reports import gate, model, render, scope, test_ids
from vkmap_cts.reports.model import FAILING

# What diff calls a regression, by kind; each can be allowed with --allow KIND.
REGRESSIONS = {
    "fail": "a test that did not fail now fails, crashes or times out",
    "fail-changed": "a test that failed now fails another way (Fail -> Crash or Timeout): deqp-runner's status is the "
    "new failure, not ExpectedFail",
    "new-fail": "a test the old run did not have fails, crashes or times out",
    "not-supported": "a test that passed is now NotSupported (the driver stopped exposing what it needs)",
}


class InputError(Exception):
    """A run that cannot be read: one line, exit 4."""


def load(path: str, notes: test_ids.Notes | None = None) -> dict:
    """A results.json (or the report directory that holds it), its renamed tests under their new IDs."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    if not p.is_file():
        raise InputError(f"{path}: no results.json there")
    try:
        doc = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{p}: not a results.json ({e})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tests"), list) or not isinstance(doc.get("run"), dict):
        raise InputError(f"{p}: not a results.json (no run and tests)")
    return test_ids.rename_tests(doc, str(p), notes)


def label(doc: dict) -> str:
    """A run's own name: its --run-label, else its device, deviceUUID's first digits, driver and version."""
    if doc.get("run", {}).get("label"):
        return doc["run"]["label"]
    d = doc.get("driver") or {}
    version = d.get("driverVersionText") or d.get("driverVersion") or ""
    return (
        f"{d.get('deviceName', '?')} [{str(d.get('deviceUUID', '?'))[:8]}] / {d.get('driverName', '?')} "
        f"{d.get('driverInfo', '')} {version}"
    ).strip()


def group(runs: list[tuple[str, dict]]) -> list[tuple[str, list[dict]]]:
    """(label, docs) in order: shards of one run together, runs that overlap apart."""
    out: dict[str, list[dict]] = {}
    for name, doc in runs:
        ids = {t["nodeid"] for t in doc["tests"]}
        base, k = name, 1
        while name in out and ids & {t["nodeid"] for d in out[name] for t in d["tests"]}:
            k += 1
            name = f"{base} #{k}"
        out.setdefault(name, []).append(doc)
    return list(out.items())


def merge(runs: list[tuple[str, dict]]) -> dict:
    """One document: with one label, the union of its shards' tests as one run has them; with
    several, every test named by its run ("[label] test"), and the outcomes side by side."""
    groups = group(runs)
    docs = [d for _, docs in groups for d in docs]
    tests, alignment, devices = [], {}, []
    for name, members in groups:
        dev = members[0].get("driver") or {
            "deviceName": "?",
            "deviceUUID": "?",
            "driverName": "?",
            "driverInfo": "?",
            "apiVersion": "?",
        }
        devices.append(dev)
        for doc in members:
            for t in doc["tests"]:
                tests.append(t if len(groups) == 1 else dict(t, run=name, nodeid=f"[{name}] {t['nodeid']}"))
            for mtype, hist in doc.get("alignment", {}).items():
                key = mtype if len(groups) == 1 else f"{name} / {mtype}"
                merged = alignment.setdefault(key, {})
                for a, n in hist.items():
                    merged[a] = merged.get(a, 0) + n
    stopped = merged_ending(docs)
    summary = model.summarise(tests, stopped is None)
    summary["alignment"] = alignment
    return {
        "schemaVersion": 1,
        "run": {
            "suite": "vkmap-cts",
            "suiteVersion": docs[0]["run"]["suiteVersion"],
            "start": min(d["run"]["start"] for d in docs),
            "end": max(d["run"]["end"] for d in docs),
            "host": ", ".join(sorted({d["run"]["host"] for d in docs})),
            "label": groups[0][0] if len(groups) == 1 else None,
            "merged": len(docs),
            **({"scope": stopped} if stopped else {}),
        },
        **({"driver": devices[0]} if len(groups) == 1 else {}),
        "devices": devices,
        "runs": [{"label": name, "shards": len(members)} for name, members in groups],
        **summary,
        "sideBySide": side_by_side(groups) if len(groups) > 1 else [],
    }


def merged_ending(docs: list[dict]) -> dict | None:
    """The scope of a merge where a run in it did not reach every test it selected (None where each did): the counts
    summed, the ending of those runs, and which runs they were."""
    scopes = [(d["run"].get("scope") or {}) for d in docs]
    stopped = [(label(d), s) for d, s in zip(docs, scopes, strict=True) if not scope.complete(s)]
    if not stopped:
        return None
    kinds = {s["ending"] for _, s in stopped}
    total = {k: sum(s.get(k, s.get("ran", 0)) for s in scopes) for k in ("ran", "collected", "selected")}
    return {
        "partial": None,
        **total,
        "notRun": total["collected"] - total["ran"],
        "ending": kinds.pop() if len(kinds) == 1 else "stopped",
        "stoppedBy": "; ".join(f"{s.get('stoppedBy')} (the run {name})" for name, s in stopped),
    }


def side_by_side(groups: list[tuple[str, list[dict]]]) -> list[dict]:
    """Per test: its outcome in each run, in run order; tests whose outcomes differ first."""
    rows: dict[str, dict] = {}
    for name, docs in groups:
        for doc in docs:
            for t in doc["tests"]:
                rows.setdefault(t["nodeid"], {"nodeid": t["nodeid"], "outcomes": {}})["outcomes"][name] = t["outcome"]
    n = len(groups)
    return sorted(
        rows.values(), key=lambda r: (len(r["outcomes"]) == n and len(set(r["outcomes"].values())) == 1, r["nodeid"])
    )


def diff(old: dict, new: dict) -> dict[str, list]:
    """Every test that changed, by what changed; the regression kinds (REGRESSIONS) among them.  A test skipped in
    one run and not the other ("host": the test host lacked something, such as a validation layer, or the run an
    option, or it was never reached) is no change of the driver's."""
    before = {t["nodeid"]: t["outcome"] for t in old["tests"]}
    after = {t["nodeid"]: t["outcome"] for t in new["tests"]}
    out = {
        k: []
        for k in ("fail", "fail-changed", "new-fail", "not-supported", "fixed", "host", "changed", "added", "removed")
    }
    for nodeid in sorted(set(before) | set(after)):
        a, b = before.get(nodeid), after.get(nodeid)
        if a is None:
            out["new-fail" if b in FAILING else "added"].append((nodeid, f"new: {b}"))
        elif b is None:
            out["removed"].append((nodeid, a))
        elif a not in FAILING and b in FAILING:
            out["fail"].append((nodeid, f"{a} -> {b}"))
        elif a != b and gate.status(b, a if a in model.DRIVER_FAILING else None) in FAILING:
            # The old run read as the new one's baseline (deqp-runner's last failures.csv): Fail -> Crash is a Crash.
            out["fail-changed"].append((nodeid, f"{a} -> {b}"))
        elif a == "Pass" and b == "NotSupported":
            out["not-supported"].append((nodeid, f"{a} -> {b}"))
        elif a in FAILING and b not in FAILING:
            out["fixed"].append((nodeid, f"{a} -> {b}"))
        elif gate.kind(gate.status(b, a if a in model.DRIVER_FAILING else None)) == "UnexpectedImprovement":
            out["fixed"].append((nodeid, f"{a} -> {b}"))  # Crash -> Fail: better, though not yet a pass
        elif a != b and "Skip" in (a, b):  # the test host, the run's options or its end: no change of the driver's
            out["host"].append((nodeid, f"{a} -> {b}"))
        elif a != b:
            out["changed"].append((nodeid, f"{a} -> {b}"))
    return out


def _run_arg(arg: str) -> tuple[str | None, str]:
    """RUN or RUN=LABEL."""
    path, sep, name = arg.partition("=")
    return (name or None) if sep else None, path


def main(argv: list[str], prog: str = "python -m vkmap_cts.reports") -> int:
    """``prog``: the command as the user typed it (``vkmap-cts`` runs merge and diff for an installed copy)."""
    ap = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    m = sub.add_parser("merge", help="merge runs into one report")
    m.add_argument("runs", nargs="+", metavar="RUN[=LABEL]")
    m.add_argument("-o", "--out", default="reports/merged", help="output directory (default reports/merged)")
    m.add_argument(
        "--gate",
        action="store_true",
        help="exit 1 when the merged run fails (a failure the --baseline does not expect)",
    )
    m.add_argument(
        "--baseline", metavar="FILE", help="with --gate: the driver's expected failures (deqp-runner's fails.txt)"
    )
    m.add_argument(
        "--allow-improvements",
        action="store_true",
        help="with --gate: an expected failure that now passes or fails less (UnexpectedImprovement) is a warning",
    )
    m.add_argument(
        "--flakes", metavar="FILE", help="with --gate: deqp-runner's flakes.txt, whose failures are KnownFlake"
    )
    d = sub.add_parser("diff", help="regressions and fixes between two runs; exit 1 on a regression")
    d.add_argument("old")
    d.add_argument("new")
    d.add_argument(
        "--allow",
        action="append",
        default=[],
        choices=sorted(REGRESSIONS),
        help="do not fail on this kind of regression: " + "; ".join(f"{k}: {v}" for k, v in REGRESSIONS.items()),
    )
    i = sub.add_parser("ids", help="the conformance suites' test IDs against the list; exit 1 on a difference")
    i.add_argument("--write", action="store_true", help="rewrite the list from the tests collected now")
    args = ap.parse_args(argv)
    notes = test_ids.Notes()
    try:
        if args.command == "ids":
            return _ids(args)
        return _merge(args, notes) if args.command == "merge" else _diff(args, notes)
    except InputError as e:
        sys.stderr.write(f"vkmap-cts: error: {e}\n")
        return 4


def carry_reproducers(runs: list[tuple[str, dict]], folders: list[Path]) -> list[tuple[Path, str]]:
    """The reproducers a merge of ``runs`` (read from ``folders``) links to: each failing test's ``standalone`` file,
    under reproducers/LABEL/ where the runs are kept apart (their test IDs, and so file names, can meet), its build
    command with it; a file its run's folder lacks is unlinked, with the reason.  Returns (source, path in the merged
    folder) of each file to copy."""
    groups = group(runs)
    folder_of = {id(doc): folder for (_, doc), folder in zip(runs, folders, strict=True)}
    copies = []
    for name, doc in ((name, doc) for name, docs in groups for doc in docs):
        folder = folder_of[id(doc)]
        place = f"reproducers/{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}" if len(groups) > 1 else "reproducers"
        for t in doc["tests"]:
            sa = t.get("standalone") or {}
            if not sa.get("file"):
                continue
            source = folder / sa["file"]
            if not source.is_file():
                shown = f", which showed the bug {sa['reproduced']} times of {sa['runs']}" if sa.get("runs") else ""
                t["standalone"] = {"reason": f"the merged run's folder {folder} lacks its {sa['file']}{shown}"}
                continue
            moved = f"{place}/{Path(sa['file']).name}"
            command = (sa.get("command") or "").replace("cd reproducers ", f"cd {place} ", 1)
            t["standalone"] = {**sa, "file": moved, **({"command": command} if sa.get("command") else {})}
            copies.append((source, moved))
    return copies


def _merge(args, notes: test_ids.Notes) -> int:
    runs, folders = [], []
    for arg in args.runs:
        name, path = _run_arg(arg)
        doc = load(path, notes)
        runs.append((name or label(doc), doc))
        folders.append(Path(path) if Path(path).is_dir() else Path(path).parent)
    copies = carry_reproducers(runs, folders)
    doc = merge(runs)
    # The gate judges before anything is written, so that the merged report holds its verdict and exit status.
    status, withheld = 0, None
    if args.gate:
        try:
            expected = gate.load(Path(args.baseline), notes) if args.baseline else {}
        except (OSError, ValueError) as e:
            raise InputError(f"--baseline {e}") from None
        try:
            flakes = gate.load_patterns(Path(args.flakes), "--flakes", notes) if args.flakes else []
        except (OSError, ValueError) as e:
            raise InputError(f"--flakes {e}") from None
        doc["gate"] = gate.judged(
            doc["tests"],
            expected,
            args.baseline or "(no baseline: every failure is new)",
            allow_improvements=args.allow_improvements,
            flakes=flakes,
        )
        withheld = scope.withhold(doc)
        status = doc["gate"]["exitStatus"]
    else:
        gate.forget(doc["tests"])  # the statuses of a gate the merged runs had are not this report's
    _warn(notes)
    doc["run"]["exitStatus"] = status
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for source, moved in copies:
        (out / moved).parent.mkdir(parents=True, exist_ok=True)
        if source.resolve() != (out / moved).resolve():
            shutil.copyfile(source, out / moved)
    (out / "results.json").write_text(json.dumps(doc, indent=1))
    render.write_all(doc, out)
    for line in [*(gate.lines(doc["gate"], doc["tests"]) if args.gate else []), *([withheld] if withheld else [])]:
        print(line)
    print(
        f"merged {len(runs)} results into {len(doc['runs'])} runs ({'; '.join(r['label'] for r in doc['runs'])}): "
        f"verdict {doc['verdict']}"
        + (f"; gate {doc['gate']['verdict']}" if args.gate else "")
        + f"; exit {status}; report in {out}"
    )
    return status


def _diff(args, notes: test_ids.Notes) -> int:
    old, new = load(args.old, notes), load(args.new, notes)
    _warn(notes)
    result = diff(old, new)
    print(f"diff {label(old)} -> {label(new)}")
    for key in result:
        host = " (a Skip in one run: the test host or the run, not the driver)" if key == "host" and result[key] else ""
        print(f"{key}: {len(result[key])}" + (" (allowed)" if key in args.allow else "") + host)
        for nodeid, what in result[key][:200]:
            print(f"  {what:<24} {nodeid}")
    failing = [k for k in REGRESSIONS if result[k] and k not in args.allow]
    if failing:
        print(f"regressions: {', '.join(f'{len(result[k])} {k}' for k in failing)}")
    return 1 if failing else 0


def _warn(notes: test_ids.Notes) -> None:
    for line in notes.lines():
        sys.stderr.write(line + "\n")


def _ids(args) -> int:
    """The list against the tests collected now (in a checkout): exit 1 on a difference, or --write it."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "pyproject.toml").is_file() or not (root / "suites").is_dir():
        raise InputError("ids: needs a checkout of the suite (the list is the repository's)")
    try:
        collected = test_ids.collect(root)
    except RuntimeError as e:
        raise InputError(f"ids: {e}") from None
    listed = test_ids.read_list()
    changes = test_ids.difference(listed, collected)
    if not args.write:
        problems = changes + test_ids.repository().problems()
        print("\n".join(problems) or f"reports/test-ids.txt lists the {len(collected)} test IDs collected now")
        return 1 if problems else 0
    test_ids.LIST.write_text(test_ids.list_text(collected))
    renamed = test_ids.read_aliases()
    gone = listed - set(collected) - set(renamed)
    print("\n".join([f"{len(collected)} test IDs written to reports/test-ids.txt", *changes[1:]]))
    if gone:
        print(f"{len(gone)} IDs gone, no alias: a test renamed needs 'old ID -> new ID' in {test_ids.ALIASES_NAME}")
    problems = test_ids.KnownIds(frozenset(collected), renamed).problems()
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
