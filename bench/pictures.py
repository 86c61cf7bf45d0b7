"""First render of the explorer's pictures in headless Chromium: today's data and 10,000 generated projects.

For each data set, a server on its own store; then paired rounds, each a fresh browser page: the explorer
(/explore: its counts, then the map, timeline and network, each drawn from its canned query's JSON) and, as the
peer in the same round, the same questions' own HTML table pages (what a user had before the pictures). Each
picture records when it was drawn (performance.now(), from the start of the navigation), so the times are the
browser's own, without the driver's overhead. The first round runs on a cold answer cache and is reported apart.

    python -m bench.pictures --rounds 7 --write bench/RESULTS.md
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import httpx
import pycountry
from playwright.sync_api import Browser, expect, sync_playwright

from bench.generate import generate, projects_for
from bench.report import publish
from bench.run import _start, _stop, host, ours_server
from server.settings import get_settings
from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS

HERE = Path(__file__).resolve().parent
ID = "https://w3id.org/ilo-partnerships/id/"
ILOP = "https://w3id.org/ilo-partnerships/ontology#"
XSD = "http://www.w3.org/2001/XMLSchema#"
VIEWS = ("map", "timeline", "network")
TABLES = ("explore-countries", "explore-timeline", "explore-network")


def synthetic(projects: int, folder: Path) -> Path:
    """A data folder with `projects` generated projects (bench.generate), the countries they name described as the
    bundled data describes countries (type, name, ISO and M49 codes), and a period for each project: a start year
    and, for two in three, an end year."""
    triples = projects * 17 + 2000
    assert projects_for(triples) == projects
    data = folder / "data"
    if not (data / "synthetic.ttl").exists():
        generate(triples, data / "synthetic.ttl")
    rng = random.Random(projects)
    with (data / "pictures.ttl").open("w", encoding="utf-8") as file:
        for country in pycountry.countries:
            iri = f"<{ID}country/{country.alpha_2}>"
            name = country.name.replace('"', "'")
            file.write(f"{iri} a <{ILOP}Country> ; <http://www.w3.org/2000/01/rdf-schema#label> \"{name}\"@en ; "
                       f"<{ILOP}iso3166Alpha2> \"{country.alpha_2}\" ; <{ILOP}m49Code> \"{country.numeric}\" .\n")
        for n in range(projects):
            start = rng.randrange(2000, 2024)
            period = f"<{ID}period/synthetic-{n}>"
            file.write(f"<{ID}project/synthetic-{n}> <http://purl.org/dc/terms/temporal> {period} .\n"
                       f"{period} <http://www.w3.org/ns/dcat#startDate> \"{start}\"^^<{XSD}gYear> .\n")
            if rng.random() < 2 / 3:
                file.write(f"{period} <http://www.w3.org/ns/dcat#endDate> "
                           f"\"{start + rng.randrange(1, 6)}\"^^<{XSD}gYear> .\n")
    return data


def explorer_round(browser: Browser, base: str) -> dict[str, float]:
    """One fresh page of /explore: when each picture was drawn, in ms from the start of the navigation."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(base + "/explore")
        expect(page.locator(".picture-holder")).to_have_count(len(VIEWS))
        unfinished = page.locator(".picture-holder:not([data-state=drawn]):not([data-state=failed])")
        expect(unfinished).to_have_count(0, timeout=120_000)
        times = {}
        for kind in VIEWS:
            holder = page.locator(f"#view-{kind}")
            assert holder.get_attribute("data-state") == "drawn", holder.inner_text()[:300]
            times[kind] = float(holder.get_attribute("data-drawn-ms") or "nan")
        times["all"] = max(times[k] for k in VIEWS)
        return times
    finally:
        context.close()


def _warm(browser: Browser, base: str) -> None:
    context = browser.new_context()
    try:
        context.new_page().goto(base + "/queries", wait_until="load")
    finally:
        context.close()


def table_round(browser: Browser, base: str) -> float:
    """The peer: the three questions' HTML table pages (all rows, up to the page limit), one after the other;
    the sum of their times to the load event, in ms."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        total = 0.0
        for name in TABLES:
            page.goto(f"{base}/queries/{name}?limit=10000", wait_until="load")
            total += page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
        return total
    finally:
        context.close()


def measure(name: str, data_dir: Path, store_dir: Path, port: int, rounds: int, browser: Browser) -> list[str]:
    server = ours_server(name, port, store_dir, data_dir)
    server.env["ILOKG_EXPLORER_WARMUP"] = "true"  # the default, which ours_server turns off for the other benches
    _start(server, 900)
    base = f"http://127.0.0.1:{port}"
    try:
        # The explorer's answers are computed in the background after the start (ILOKG_EXPLORER_WARMUP): how long
        # that takes, and the first visit after it.
        started = time.monotonic()
        while True:
            health = httpx.get(base + "/health", timeout=60).json()
            if health["explorer"] == health["dataVersion"]:
                break
            time.sleep(0.1)
        warmup = time.monotonic() - started
        # The browser's own first-page costs (fonts, its caches) are not the explorer's: one other page first.
        _warm(browser, base)
        cold = explorer_round(browser, base)
        pictures: list[dict[str, float]] = []
        tables: list[float] = []
        for _ in range(rounds):
            pictures.append(explorer_round(browser, base))
            tables.append(table_round(browser, base))
    finally:
        _stop(server)
    median = {k: statistics.median(r[k] for r in pictures) for k in (*VIEWS, "all")}
    ratio = median["all"] / statistics.median(tables)
    tables_ms = statistics.median(tables)
    print(f"{name}: warm-up {warmup:.1f} s; first {cold['all']:.0f} ms; median {median['all']:.0f} ms; "
          f"tables {tables_ms:.0f} ms", flush=True)
    return [f"| {name} | {warmup:.1f} | {cold['all']:,.0f} | {median['map']:,.0f} | {median['timeline']:,.0f} | "
            f"{median['network']:,.0f} | {median['all']:,.0f} | {tables_ms:,.0f} | {ratio:.2f}× |"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--projects", type=int, default=10_000)
    parser.add_argument("--write", type=Path, default=None, help="append the results to this Markdown file")
    args = parser.parse_args()
    work = HERE / "work" / "pictures"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        try:
            lines = _heading(browser, args.rounds)
            lines += measure("today's data", get_settings().data_dir, work / "today-store", 18031, args.rounds, browser)
            data = synthetic(args.projects, work / f"{args.projects}")
            lines += measure(f"{args.projects:,} generated projects", data, work / f"{args.projects}-store", 18032,
                             args.rounds, browser)
        finally:
            browser.close()
    publish(lines, args.write, append=True)


def _heading(browser: Browser, rounds: int) -> list[str]:
    return [
        "", f"### Pictures: first render in Chromium {browser.version} ({host()}; {rounds} paired rounds, medians, "
        "in ms from the start of navigation)", "",
        "The explorer's three pictures drawn from their questions' JSON, against the same questions' HTML table "
        "pages in the same rounds (the sum of their three loads). `warm-up`: from the server's start (it answers /health) "
        "to the explorer's answers computed in the background; `first`: the first visit after that, in a browser that "
        "has opened one other page.",
        "", "| data | warm-up (s) | first: all drawn | map | timeline | network | all drawn | tables (peer) | "
        "pictures / tables |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]


if __name__ == "__main__":
    sys.exit(main())
