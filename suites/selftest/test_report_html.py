"""Self-tests of report.html: what it shows and in what order, escaping, and, in Debian's chromium (headless, driven
by Selenium and chromium-driver), that it reads at 1280 px: no horizontal scroll, every failure link lands, the filter
hides and shows rows.  The browser tests skip where chromium, chromedriver or selenium is missing, unless
VKMAP_SELFTEST_BROWSER=required (ci/test sets it): then a missing browser fails."""

import base64
import json
import os
import random
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from markupsafe import escape

from vkmap_cts.reports import html, model, render
from vkmap_cts.reports.gate import Expected, judged

ROOT = Path(__file__).resolve().parents[2]
VIEWPORT = (1280, 800)
ALIGNMENT_SENTENCE = (
    "The value of the returned pointer minus offset must be aligned to VkPhysicalDeviceLimits::minMemoryMapAlignment."
)
RULES = {
    "GUARANTEE-map-alignment": (ALIGNMENT_SENTENCE, "Vulkan specification, chapters/memory.adoc, vkMapMemory ppData"),
    "VUID-VkMemoryMapInfo-size-07961": (
        "If size is not equal to VK_WHOLE_SIZE, size must be less than or equal to the size of the memory minus offset",
        "Vulkan specification, VkMemoryMapInfo",
    ),
    "GUARANTEE-identical-to-vkMapMemory": (
        "This function behaves identically to vkMapMemory except that it gets its parameters via an extensible "
        "structure pointer rather than directly as function arguments.",
        "Vulkan specification, vkMapMemory2",
    ),
}
ENTRIES = ("vkMapMemory", "vkMapMemory2", "vkMapMemory2KHR")


# --- documents: a realistic failing run, and a synthetic run of any size ------------------------------------------


def _test(nodeid: str, outcome: str, rng: random.Random) -> dict:
    t = {
        "nodeid": nodeid,
        "outcome": outcome,
        "duration": round(rng.uniform(0.001, 2.0), 4),
        "covers": [],
        "violates": [],
        "vkresults": {f"{e}:VK_SUCCESS": rng.randint(1, 60) for e in ENTRIES if e in nodeid or rng.random() < 0.2},
        "details": None,
        "properties": {
            "slowest_calls": {e: round(10 ** rng.uniform(-6, -1.5), 7) for e in ENTRIES + ("vkUnmapMemory2KHR",)},
            "alignment": {str(rng.randint(0, 3)): {str(2 ** rng.randint(6, 16)): rng.randint(1, 40)}},
        },
    }
    if outcome == "NotSupported":
        t["details"] = "VK_EXT_map_memory_placed is not supported by this device"
    elif outcome == "Skip":
        t["details"] = "skipped: --skips line 3 matches"
    return t


def _failing(t: dict, rule: str | None, rerun_base: str, rng: random.Random) -> dict:
    """A failing record as results.py writes it: rule, message, sentence, reproducer, standalone and re-run."""
    t["rerun"] = f"{rerun_base} '{t['nodeid']}'"
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", t["nodeid"])
    if rule:
        sentence, source = RULES[rule]
        t.update(rule=rule, sentence=sentence, source=source)
        t["message"] = (
            f"{rule}: vkMapMemory2KHR(offset=0, size={rng.randint(1, 4096)}) -> VK_SUCCESS, "
            f"*ppData 0x55{rng.randrange(16**10):010x}: "
            "ptr - offset is not a multiple of minMemoryMapAlignment (64); misaligned by 48"
        )
        t["details"] = f"E   AssertionError: {t['message']}\n\nfixtures/judge/oracles.py:26: AssertionError"
        t["reproducer"] = {"example": f"example(entry='vkMapMemory2KHR', allocation_size={rng.randint(1, 64)})"}
        t["standalone"] = {
            "file": f"reproducers/{stem}.c",
            "command": f"cd reproducers && cc -std=gnu11 -g -o {stem} {stem}.c -ldl && ./{stem}",
            "confirmed": 3,
            "runs": 3,
        }
    elif t["outcome"] == "Crash":
        t["details"] = "the worker running it died: signal 11 (SIGSEGV)"
        t["crash_input"] = {"last_call": "vkMapMemory2KHR(memory=0x5, offset=0, size=VK_WHOLE_SIZE)"}
    else:
        t["details"] = "vkMapMemory2KHR has not returned after 10 s"
    return t


def synthetic_doc(n: int, seed: int = 25, *, gate: bool = True, partial: str | None = None) -> dict:
    """A results document of ``n`` tests in the shape of a real run's (long parametrised test IDs, failures of three
    rules, one much larger than the others, crashes, timeouts, flakes, a suite error), built with reports.model."""
    rng = random.Random(seed)
    rerun_base = "ci/conformance --vk-device=llvmpipe --hypothesis-profile=ci"
    tests, fails = [], 0
    files = ("operation/test_alignment.py", "validation/test_VkMemoryMapInfo.py", "operation/test_cts_mapping.py")
    for i in range(n):
        entry = ENTRIES[i % 3]
        nodeid = (
            f"suites/{files[i % 3]}::test_boundary_row[size-07961:valid:size = allocationSize - offset - {i}"
            f"-memory_type_{i % 7}-{entry}]"
        )
        roll = rng.random()
        outcome = (
            "Fail"
            if roll < 0.05
            else "NotSupported"
            if roll < 0.15
            else "Skip"
            if roll < 0.16
            else "Flake"
            if roll < 0.165
            else "Pass"
        )
        t = _test(nodeid, outcome, rng)
        if outcome == "Fail":
            fails += 1
            rule = (
                "VUID-VkMemoryMapInfo-size-07961"
                if fails % 5 == 2
                else "GUARANTEE-identical-to-vkMapMemory"
                if fails % 7 == 4
                else "GUARANTEE-map-alignment"
            )
            _failing(t, rule, rerun_base, rng)
        elif outcome == "Flake":
            t["attempts"] = ["Fail", "Pass"]
            t["details"] = "E   AssertionError: GUARANTEE-map-alignment: misaligned by 16"
        tests.append(t)
    for k, outcome in enumerate(("Crash", "Timeout")):
        t = _test(f"suites/operation/test_concurrency.py::test_threads_race[{outcome.lower()}-{k}]", outcome, rng)
        tests.append(_failing(t, None, rerun_base, rng))
    suite_error = _test("suites/operation/test_contents.py::test_pattern_roundtrip[vkMapMemory2]", "InternalError", rng)
    suite_error.update(details="the suite's own exception: KeyError 'memory'", suiteError=True)
    tests.append(suite_error)
    failing = [t["nodeid"] for t in tests if t["outcome"] in model.DRIVER_FAILING]
    doc = {
        "schemaVersion": 1,
        "run": {
            "suite": "vkmap-cts",
            "start": "2026-12-02T09:00:00+00:00",
            "exitStatus": 1,
            "scope": {
                "partial": partial,
                "ran": len(tests),
                "collected": len(tests) + (40 if partial else 0),
                "notRun": 40 if partial else 0,
            },
            "rerunBase": rerun_base.split(),
        },
        "driver": {
            "deviceName": "llvmpipe (LLVM 15.0.6, 256 bits)",
            "driverName": "llvmpipe",
            "driverInfo": "Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6)",
            "driverIDName": "VK_DRIVER_ID_MESA_LLVMPIPE",
            "apiVersion": "1.4.305",
            "deviceType": "CPU",
            "deviceUUID": "6d657361-3235-2e30-2e37-000000000000",
            "minMemoryMapAlignment": 64,
        },
        **model.summarise(tests),
        "slowestCalls": {"vkMapMemory2KHR": {"seconds": 0.041, "test": tests[0]["nodeid"]}},
    }
    if gate:  # the first two failures are new, the rest expected by their lines, as reports/gate.py judges them
        known = [t for t in tests if t["nodeid"] in failing[2:]]
        lines = {t["nodeid"]: Expected(t["outcome"], f"ci/lavapipe-fails.txt:{i}") for i, t in enumerate(known, 1)}
        doc["gate"] = judged(tests, lines, "ci/lavapipe-fails.txt")
    return doc


def passing_doc() -> dict:
    rng = random.Random(1)
    tests = [_test(f"suites/operation/test_contents.py::test_roundtrip[{e}]", "Pass", rng) for e in ENTRIES]
    doc = synthetic_doc(0, gate=False)
    doc.update(model.summarise(tests))
    doc["run"].update(exitStatus=0, scope={"partial": None, "ran": 3, "collected": 3, "notRun": 0})
    return doc


def not_applicable_doc() -> dict:
    doc = synthetic_doc(0, gate=False)
    doc.pop("driver")
    doc["run"].update(exitStatus=7, notApplicable="no device exposes VK_KHR_map_memory2")
    doc.update(
        verdict="NotApplicable",
        tests=[],
        counts={},
        failureGroups=[],
        devices=[
            {
                "deviceName": "Old GPU",
                "driverName": "old",
                "driverInfo": "1.0",
                "apiVersion": "1.2.0",
                "VK_KHR_map_memory2": False,
            }
        ],
    )
    return doc


def page_of(doc: dict) -> str:
    """report.html of ``doc``, as render.write_all writes it."""
    return html.report(doc)


# --- what the page says, without a browser --------------------------------------------------------------------------


class _Ids(HTMLParser):
    """The page's element IDs and in-page links."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and (a.get("href") or "").startswith("#"):
            self.links.append(a["href"][1:])


def dangling_links(page: str) -> list[str]:
    """The in-page links (``href="#x"``) that name no element."""
    p = _Ids(page)
    return [link for link in p.links if link not in p.ids]


def test_dangling_links_are_found():
    """The link check itself: a link to an ID that no element has is reported."""
    assert dangling_links('<a href="#here">a</a><p id="here"></p><a href="#gone">b</a>') == ["gone"]


# --- a report folder holds every file its pages link to (a merged one too) -------------------------------------------


class _Hrefs(HTMLParser):
    """Every link of a page (``href`` and ``src``)."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.links += [v for k, v in attrs if k in ("href", "src") and v]


def missing_links(folder: Path) -> list[str]:
    """The links of a report folder's pages (report.html, summary.md, bug-reports/*.md) to a file of the folder that it
    lacks, as "page: link"; links within a page and to other sites are not files of the folder."""
    pages = [folder / "report.html", folder / "summary.md", *sorted((folder / "bug-reports").glob("*.md"))]
    out = []
    for page in (p for p in pages if p.is_file()):
        text = page.read_text()
        links = _Hrefs(text).links if page.suffix == ".html" else re.findall(r"\]\(([^)\s]+)\)", text)
        for link in links:
            target = unquote(link.split("#", 1)[0])
            if target and not re.match(r"[a-z][a-z0-9+.-]*:", target) and not (page.parent / target).is_file():
                out.append(f"{page.relative_to(folder)}: {link}")
    return out


def test_the_file_link_check_finds_a_page_that_links_to_a_missing_file(tmp_path):
    """The link check itself: a report page and a bug report that link to files the folder lacks are both reported,
    links that land (and in-page or web links) are not."""
    (tmp_path / "bug-reports").mkdir()
    (tmp_path / "here.c").write_text("")
    (tmp_path / "report.html").write_text(
        '<a href="here.c">a</a><a href="reproducers/gone.c">b</a><a href="#x">c</a><a href="https://x.org/">d</a>'
    )
    (tmp_path / "bug-reports" / "t.md").write_text("[report](../report.html) and [its program](../gone.c)")
    assert missing_links(tmp_path) == ["report.html: reproducers/gone.c", "bug-reports/t.md: ../gone.c"]


@pytest.fixture(scope="module")
def merged_reports(tmp_path_factory):
    """A real failing run with its reproducers (driver doubles), then ``merge`` of it alone (as shards are merged) and
    of it beside a copy of itself (two runs kept apart), each into a folder of its own."""
    from vkmap_cts.reports.__main__ import main
    from vkmap_cts.suites.selftest.test_reports import _run_doubles

    base = tmp_path_factory.mktemp("merged")
    _, _, doc = _run_doubles(base, "-k", "passing_neighbour or misaligned", "--flake-reruns=0")
    run = base / "out"
    assert [t for t in doc["tests"] if (t.get("standalone") or {}).get("file")], "the run wrote a reproducer"
    shutil.copytree(run, base / "again")
    folders = {"one": base / "one", "two": base / "two"}
    assert main(["merge", str(run), "-o", str(folders["one"])]) == 0
    assert main(["merge", f"{run}=first", f"{base / 'again'}=second", "-o", str(folders["two"])]) == 0
    return run, folders


@pytest.mark.parametrize("kind", ["one", "two"])
def test_a_merged_report_folder_holds_every_file_its_pages_link_to(merged_reports, kind):
    """Merged (a run alone, or two runs side by side), the folder holds every reproducer and bug report that
    report.html, summary.md and the bug reports link to; two runs' reproducers of one test keep apart."""
    _, folders = merged_reports
    folder = folders[kind]
    assert missing_links(folder) == []
    links = _Hrefs((folder / "report.html").read_text()).links
    reproducers = {link for link in links if link.startswith("reproducers/")}
    assert reproducers and any(link.startswith("bug-reports/") for link in links)
    one = {x for x in _Hrefs((folders["one"] / "report.html").read_text()).links if x.startswith("reproducers/")}
    assert len(reproducers) == len(one) * (2 if kind == "two" else 1), "each run's reproducer of a test, apart"


def test_a_merge_of_a_run_whose_reproducer_is_gone_links_no_missing_file(merged_reports, tmp_path):
    """A run's folder that lacks a reproducer its results name (an artifact cut short): the merged pages do not link
    to it, and the failure says why it has no standalone program."""
    from vkmap_cts.reports.__main__ import main

    run, _ = merged_reports
    cut = shutil.copytree(run, tmp_path / "cut")
    shutil.rmtree(cut / "reproducers")
    main(["merge", str(cut), "-o", str(tmp_path / "merged")])
    assert missing_links(tmp_path / "merged") == []
    doc = json.loads((tmp_path / "merged" / "results.json").read_text())
    lacking = [t["standalone"]["reason"] for t in doc["tests"] if "reason" in (t.get("standalone") or {})]
    assert lacking and all("lacks its reproducers/" in r for r in lacking), lacking


def test_a_passing_run_says_so_first_and_lists_no_failure():
    page = page_of(passing_doc())
    assert re.search(r'<div class="v">Pass</div>', page) and "Failures (0)" in page and "<p>None.</p>" in page
    assert "full run: 3 of 3 tests" in page and 'id="gate"' not in page
    assert page.count('<tr data-o="Pass">') == 3 and dangling_links(page) == []


def test_failures_lead_by_rule_with_sentence_anchor_reason_reproducer_and_rerun():
    """The rules broken come first, one line each (rule, sentence, count, smallest example, reproducer); then each
    rule's failures, every one with its anchor, reason, reproducer link and re-run command."""
    doc = synthetic_doc(300)
    page = page_of(doc)
    groups = doc["failureGroups"]
    assert [g["rule"] for g in groups][:1] == ["GUARANTEE-map-alignment"] and len(groups) == 4  # three + "unnamed"
    # Verdict, scope and gate before the failures; the contents before the tables; the per-test table last.
    where = [page.index(f'id="{i}"') for i in ("verdict", "gate", "scope", "rules", "contents", "matrix", "tests")]
    assert where == sorted(where)
    for g in groups:
        assert f"{g['count']} test" in page and f'id="{html.anchor("rule-", g["rule"])}"' in page
        if g["sentence"]:
            assert escape(g["sentence"]) in page
    for t in doc["tests"]:
        if t["outcome"] in model.DRIVER_FAILING:
            anchor = html.anchor("t-", t["nodeid"])
            block = page[page.index(f'id="{anchor}"') :][:6000]
            assert escape(t["rerun"]) in block, t["nodeid"]
            assert escape(t.get("message") or t["details"].splitlines()[0][:40])[:40] in block
            if t.get("standalone"):
                assert f'href="{escape(t["standalone"]["file"])}"' in block
    assert "a software driver, on the CPU" in page
    assert dangling_links(page) == []


def test_the_gate_stands_beside_the_verdict_with_its_new_failures_linked():
    doc = synthetic_doc(200)
    page = page_of(doc)
    assert page.index("driver's verdict") < page.index("gate against the baseline") < page.index('id="failures"')
    assert "against <code>ci/lavapipe-fails.txt</code>, by deqp-runner's statuses: 3 results failing the gate" in page
    first_new = html.anchor("t-", doc["gate"]["newFailures"][0])
    assert f'<a href="#{first_new}">' in page[: page.index('id="failures"')]


def test_a_partial_run_names_what_selected_it_and_how_many_did_not_run():
    page = page_of(synthetic_doc(50, partial="--vuid 07959"))
    assert "partial (--vuid 07959): 53 of 93 tests ran; 40 not run." in page


def test_a_run_without_map_memory2_is_not_applicable_and_lists_the_devices():
    page = page_of(not_applicable_doc())
    assert '<div class="v">NotApplicable</div>' in page and "No device exposes VK_KHR_map_memory2" in page
    assert "Old GPU" in page and "<th>VK_KHR_map_memory2</th>" in page and "<td>no</td>" in page
    assert "No test ran." in page and dangling_links(page) == []


def test_old_documents_without_the_new_fields_still_render():
    """A results.json from before gate, rerun, scope.notRun and failureGroups were written."""
    doc = synthetic_doc(80, gate=False)
    doc.pop("failureGroups")
    doc["run"]["scope"].pop("notRun")
    for t in doc["tests"]:
        t.pop("rerun", None)
    page = page_of(doc)
    assert "Rules broken" in page and '<span class="k">re-run</span>' not in page and dangling_links(page) == []


def test_a_failure_without_a_message_reads_more_than_its_outcome():
    """A failure whose check left no message and no "E " line still gets a reason: the first line it left."""
    t = {"nodeid": "a", "outcome": "Fail", "details": "\n  the worker printed: misaligned by 8\nmore"}
    assert html.one_line(t) == "Fail: the worker printed: misaligned by 8"
    assert html.one_line({"nodeid": "a", "outcome": "Fail", "details": None}) == "Fail"


def test_everything_from_the_document_is_escaped():
    """A test ID, reason or driver name with markup stays text: the page's one script is its own."""
    doc = synthetic_doc(30)
    evil = "<script>alert(1)</script>"
    doc["tests"][0].update(nodeid=f"suites/a.py::t[{evil}]", outcome="Fail", rerun=f"pytest '{evil}'", message=evil)
    doc["driver"]["deviceName"] = '<img src=x onerror="alert(2)">'
    doc["failureGroups"] = model.failure_groups(doc["tests"])
    doc["gate"]["newFailures"].append(doc["tests"][0]["nodeid"])
    page = page_of(doc)
    assert page.count("<script") == 1 and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x" in page
    assert dangling_links(page) == []


def test_five_thousand_rows_render_folded_by_outcome():
    doc = synthetic_doc(5000)
    started = time.perf_counter()
    page = page_of(doc)
    took = time.perf_counter() - started
    print(f"report.html of {len(doc['tests'])} tests: rendered in {took:.2f} s, {len(page.encode()) / 1e6:.2f} MB")
    assert page.count("<tr data-o=") == len(doc["tests"])
    assert re.search(r'<details class="outcome" data-o="Fail" id="tests-Fail" open>', page)
    assert re.search(r'<details class="outcome" data-o="Pass" id="tests-Pass">', page), "passing rows start folded"
    assert dangling_links(page) == []


def test_the_alignment_chart_marks_maps_below_the_limit_red():
    chart = html.alignment_chart({"0": {"32": 2, "64": 5}, "1": {"4096": 1}}, limit=64)
    bars = [r for r in chart["rows"] if "label" in r]
    assert [(r["label"], r["n"], r["bad"]) for r in bars] == [
        ("32 B", 2, True),
        ("64 B", 5, False),
        ("4096 B", 1, False),
    ]
    assert html.alignment_chart({}, 64) is None


def test_the_latency_chart_places_each_entry_points_calls_on_a_log_axis():
    """Per entry point: the median and the slowest of the tests' slowest calls, on an axis of 1 us to 10 s."""
    tests = [
        {"nodeid": f"suites/operation/t.py::t[{i}]", "properties": {"slowest_calls": {"vkMapMemory2KHR": s}}}
        for i, s in enumerate((1e-5, 2e-5, 3e-5, 0.04))
    ]
    tests.append({"nodeid": "suites/selftest/t.py::t", "properties": {"slowest_calls": {"vkMapMemory": 1.0}}})
    chart = html.latency_chart(tests, {"vkMapMemory2KHR": {"seconds": 0.04, "test": "suites/operation/t.py::t[3]"}})
    (row,) = chart["rows"]  # the self-tests' calls are not the driver's
    assert (row["entry"], row["tests"], row["median"], row["max"]) == ("vkMapMemory2KHR", 4, "30 µs", "40 ms")
    assert chart["x0"] < row["median_x"] < row["max_x"] < chart["x1"] and row["worst_test"].endswith("t[3]")
    assert html.latency_chart([], {}) is None


# --- in a real browser: Debian's chromium, headless, at 1280x800 ----------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through its chromedriver (packages chromium, chromium-driver; pip selenium)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        webdriver = None
    missing = [
        name for name, ok in (("chromium", chromium), ("chromedriver", chromedriver), ("selenium", webdriver)) if not ok
    ]
    if missing:
        why = (
            f"no browser for the report's layout test: {', '.join(missing)} missing "
            "(Debian: apt-get install chromium chromium-driver; pip install selenium)"
        )
        if os.environ.get("VKMAP_SELFTEST_BROWSER") == "required":
            pytest.fail(why)
        pytest.skip(why)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    width, height = VIEWPORT
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    yield driver
    driver.quit()


LAYOUT = """
const vw = window.innerWidth;
const links = [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href').slice(1));
const top = id => { const e = document.getElementById(id); return e ? e.getBoundingClientRect().top + scrollY : null; };
return {
  viewport: vw,
  scrollWidth: document.documentElement.scrollWidth,
  links: links.length,
  dangling: links.filter(id => !document.getElementById(decodeURIComponent(id))),
  verdict: top('verdict'), scope: top('scope'), gate: top('gate'), failures: top('failures'), tests: top('tests'),
  filter: !!document.getElementById('filter') && !document.getElementById('filter').hidden,
};
"""
SHOWN = """
const rows = [...document.querySelectorAll('table.tests tbody tr')];
const shown = rows.filter(r => !r.hidden && !r.closest('details[hidden]'));
const on = r => r.checkVisibility();
return {rows: rows.length, shown: shown.length, visible: rows.filter(on).length,
        pass: shown.filter(r => r.dataset.o === 'Pass').length, text: shown.map(r => r.textContent)};
"""


def _load(browser, page: str, folder: Path, name: str) -> dict:
    path = folder / f"{name}.html"
    path.write_text(page)
    browser.get(path.as_uri())
    return browser.execute_script(LAYOUT)


def _screenshot(browser, folder: Path, name: str) -> Path:
    """The page's top 1280x1600 (verdict, scope, gate, the rules broken), as a person opening it sees it."""
    browser.execute_script("window.scrollTo(0, 0)")
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": 1280, "height": 1600, "scale": 1},
        },
    )
    path = folder / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    # Kept where a CI job's artifacts are (reports/screenshots/, ignored by git), beside the test's own folder.
    kept = ROOT / "reports" / "screenshots"
    kept.mkdir(parents=True, exist_ok=True)
    (kept / path.name).write_bytes(path.read_bytes())
    print(f"screenshot of {name}: {path}, kept as {kept / path.name}")
    return path


def _check_layout(layout: dict) -> None:
    assert layout["viewport"] == VIEWPORT[0]
    assert layout["scrollWidth"] <= VIEWPORT[0], f"horizontal scroll: the page is {layout['scrollWidth']} px wide"
    assert layout["dangling"] == [], "links that land nowhere"
    assert layout["verdict"] < layout["failures"] and layout["scope"] < layout["failures"] < layout["tests"]
    assert layout["scope"] < VIEWPORT[1] and (layout["gate"] is None or layout["gate"] < VIEWPORT[1])


def test_the_browser_checks_catch_a_page_that_scrolls_sideways_or_links_nowhere(browser, tmp_path):
    """The layout check itself: a 2000 px wide block and a link to a missing ID are both caught."""
    bad = (
        '<!doctype html><body><section id="verdict"></section><p id="scope"></p><h2 id="failures"></h2>'
        '<a href="#nowhere">x</a><div style="width:2000px">wide</div><h2 id="tests"></h2></body>'
    )
    layout = _load(browser, bad, tmp_path, "bad")
    assert layout["scrollWidth"] > VIEWPORT[0] and layout["dangling"] == ["nowhere"]
    with pytest.raises(AssertionError, match="horizontal scroll"):
        _check_layout(layout)


def test_a_failing_run_reads_at_1280_px(browser, tmp_path):
    """A failing run with failures of three rules, crashes and a timeout: no sideways scroll, the verdict, scope and
    gate on the first screen, every failure link lands, and a failure folded away opens when its link is followed."""
    doc = synthetic_doc(400)
    layout = _load(browser, page_of(doc), tmp_path, "failing-run")
    _check_layout(layout)
    assert layout["links"] >= sum(g["count"] for g in doc["failureGroups"])
    largest = [t for t in doc["tests"] if t.get("rule") == "GUARANTEE-map-alignment"]
    assert len(largest) > html.SHOWN_PER_RULE
    folded = largest[-1]
    anchor = html.anchor("t-", folded["nodeid"])
    assert not browser.execute_script(f"return document.getElementById('{anchor}').checkVisibility()")
    browser.execute_script(f"location.hash = '#{anchor}'")
    assert browser.execute_script(f"return document.getElementById('{anchor}').checkVisibility()")
    _screenshot(browser, tmp_path, "failing-run")


def test_five_thousand_rows_read_at_1280_px_and_filter_by_outcome_and_text(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    doc = synthetic_doc(5000)
    layout = _load(browser, page_of(doc), tmp_path, "5000-tests")
    _check_layout(layout)
    assert layout["filter"], "the filter shows once its script runs"
    every = browser.execute_script(SHOWN)
    assert every["rows"] == every["shown"] == len(doc["tests"]) and every["pass"] > 4000
    assert every["visible"] < every["rows"], "passing rows start folded"

    passing = browser.find_element(By.CSS_SELECTOR, '#filter input[value="Pass"]')
    passing.click()
    no_pass = browser.execute_script(SHOWN)
    assert no_pass["pass"] == 0 and no_pass["shown"] == every["shown"] - every["pass"]
    passing.click()
    assert browser.execute_script(SHOWN)["shown"] == every["shown"]

    target = next(t for t in doc["tests"] if t["outcome"] == "Pass")["nodeid"]
    box = browser.find_element(By.ID, "q")
    box.send_keys(target)
    one = browser.execute_script(SHOWN)
    assert one["shown"] == one["visible"] == 1 and target in one["text"][0], "the match shows, its section opened"
    assert f"1 of {len(doc['tests'])} tests shown" in browser.find_element(By.ID, "shown").text
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.BACKSPACE)
    assert browser.execute_script(SHOWN)["shown"] == every["shown"]
    assert browser.execute_script("return document.documentElement.scrollWidth") <= VIEWPORT[0]
    _screenshot(browser, tmp_path, "5000-tests")
    print(f"report of the 5000-row run: {tmp_path / '5000-tests.html'}")


@pytest.mark.parametrize("make", [passing_doc, not_applicable_doc], ids=["passing", "not-applicable"])
def test_a_passing_or_not_applicable_run_reads_at_1280_px(browser, tmp_path, make):
    _check_layout(_load(browser, page_of(make()), tmp_path, make.__name__))


def test_a_real_failing_run_reads_at_1280_px(browser, tmp_path):
    """report.html as a real run writes it: driver doubles that break two rules, crash and hang (a partial run)."""
    from vkmap_cts.suites.selftest.test_reports import _run_doubles

    picked = "passing_neighbour or misaligned or test_failing_driver or call_that_crashes or call_that_hangs"
    _, _, doc = _run_doubles(tmp_path, "-k", picked, "--flake-reruns=0")
    assert {g["rule"] for g in doc["failureGroups"]} == {"GUARANTEE-map-alignment", "GUARANTEE-map-success", "unnamed"}
    browser.get((tmp_path / "out" / "report.html").as_uri())
    layout = browser.execute_script(LAYOUT)
    _check_layout(layout)
    assert layout["links"] >= 2 * 4, "each failure is linked from the rules and from the per-test table"
    files = browser.execute_script(
        "return [...document.querySelectorAll('a[href]:not([href^=\"#\"])')].map(a => a.getAttribute('href'))"
    )
    assert any(f.startswith("bug-reports/") for f in files) and any(f.startswith("reproducers/") for f in files)
    assert [f for f in files if not (tmp_path / "out" / f).is_file()] == [], "links to files the report folder lacks"
    _screenshot(browser, tmp_path, "real-failing-run")


def test_a_real_report_folder_loads(browser, tmp_path):
    """The page as write_all writes it beside results.json, with the links to its reproducers relative to it."""
    doc = synthetic_doc(40)
    render.write_all(json.loads(json.dumps(doc)), tmp_path)
    browser.get((tmp_path / "report.html").as_uri())
    _check_layout(browser.execute_script(LAYOUT))
    hrefs = browser.execute_script(
        "return [...document.querySelectorAll('a[href^=\"reproducers/\"]')].map(a => a.getAttribute('href'))"
    )
    assert hrefs and all(h.endswith(".c") for h in hrefs)


def test_a_merged_report_loads_and_every_link_lands(browser, merged_reports):
    """report.html of a merged folder (two runs side by side), in the browser: it reads at 1280 px, and every link it
    has, in the page or to a file of the folder, lands."""
    _, folders = merged_reports
    browser.get((folders["two"] / "report.html").as_uri())
    _check_layout(browser.execute_script(LAYOUT))
    files = browser.execute_script(
        "return [...document.querySelectorAll('a[href]:not([href^=\"#\"])')].map(a => a.getAttribute('href'))"
    )
    assert any(f.startswith("reproducers/") for f in files)
    assert [f for f in files if not (folders["two"] / unquote(f)).is_file()] == [], "links to files the folder lacks"
