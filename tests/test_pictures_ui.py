"""The pictures in real headless Chromium: the explorer's map, timeline and network, the editor's result views and
the resource pages' pictures draw exactly what the canned queries answer, with no script error, no CSP violation
and no request leaving 127.0.0.1; filters change the URL and the picture; the keyboard reaches every item; a
phone's width is enough. Screenshots go to test-artifacts/ (a few of them are in the README)."""

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from playwright.sync_api import Browser, Page, expect

from server.settings import Settings
from tests.support.browser import GuardedPage, wait_for_pictures
from tests.support.servers import RunningServer, project_served_with

ONT = "https://w3id.org/ilo-partnerships/ontology#"
ID = "https://w3id.org/ilo-partnerships/id/"
ROLE = "https://w3id.org/ilo-partnerships/codelist/organisation-role/"


def rows(server: RunningServer, name: str, **params: str) -> list[dict]:
    response = httpx.get(f"{server.url}/queries/{name}", params={**params, "format": "json", "limit": "10000"}, timeout=30)
    assert response.status_code == 200, response.text
    assert "next" not in response.headers.get("link", "")
    return response.json()["results"]["bindings"]


def attributes(page: Page, selector: str, name: str) -> list[str]:
    return [page.locator(selector).nth(i).get_attribute(name) or "" for i in range(page.locator(selector).count())]


def projects_by_country(answer: list[dict]) -> dict[str, int]:
    reached: dict[str, set[str]] = {}
    for row in answer:
        reached.setdefault(row["country"]["value"], set()).add(row["project"]["value"])
    return {country: len(projects) for country, projects in reached.items()}


def open_explorer(guarded: GuardedPage, server: RunningServer, query: str = "") -> Page:
    page = guarded.page
    page.goto(server.url + "/explore" + query)
    wait_for_pictures(page, 3)
    return page


def test_the_explorer_draws_its_three_pictures_from_local_assets_only(sparql_server: RunningServer, guarded: GuardedPage) -> None:
    page = open_explorer(guarded, sparql_server)
    guarded.screenshot("explore.png")
    assert guarded.outside == []
    assert guarded.errors == []
    paths = [urlsplit(url).path for url in guarded.requests]
    for asset in ("/assets/vendor/d3/d3.min.js", "/assets/vendor/topojson-client/topojson-client.min.js",
                  "/assets/vendor/world-atlas/countries-50m.json", "/assets/views.js"):
        assert asset in paths
    # Each picture's data is the canned query its links name: one request each, whatever the picture does with it.
    assert sorted(p for p in paths if p.startswith("/queries/")) == [
        "/queries/explore-countries", "/queries/explore-network", "/queries/explore-timeline"]
    summary = {row["measure"]["value"]: int(row["count"]["value"]) for row in rows(sparql_server, "explore-summary")}
    shown = {m: page.locator(f"dd[data-measure={m}]").inner_text() for m in ("projects", "partners", "countries", "sources")}
    assert shown == {m: str(summary[m]) for m in shown} == {"projects": "9", "partners": "8", "countries": "26", "sources": "2"}
    assert page.locator("dd[data-measure=funding]").inner_text().startswith("1,000,000 USD")


def test_the_map_colours_exactly_the_countries_the_query_names_with_their_number_of_projects(
    sparql_server: RunningServer, guarded: GuardedPage
) -> None:
    page = open_explorer(guarded, sparql_server)
    answer = rows(sparql_server, "explore-countries")
    expected = projects_by_country(answer)
    assert len(expected) == 26
    drawn = dict(zip(attributes(page, "svg.map a.country", "data-country"),
                     map(int, attributes(page, "svg.map a.country", "data-projects")), strict=True))
    assert drawn == expected
    assert page.locator(".picture-note", has_text="Not on the map").count() == 0
    # Each reached country is filled by its number of projects on one scale (more projects, darker).
    fills = {c: page.locator(f'svg.map a.country[data-country="{c}"] path').get_attribute("fill") for c in drawn}
    assert fills[ID + "country/LA"] == fills[ID + "country/ID"] != fills[ID + "country/DZ"]
    # ASEAN is drawn as a group: one outline around the members the projects reach through it.
    assert attributes(page, "svg.map .group-outline", "data-group") == [ID + "organisation/asean"]
    assert page.locator("svg.map .group-label").text_content() == "ASEAN"
    # Pointing at a country (or tabbing to it) names its projects.
    page.locator(f'svg.map a.country[data-country="{ID}country/MW"]').hover()
    expect(page.locator(".picture-info").first).to_have_text(
        "Malawi: 1 project — Strengthening Public Employment Services in English Speaking Africa")
    # The table says the same as the picture (built when opened).
    page.locator("#view-map details.picture-table summary").click()
    table = page.locator("#view-map details.picture-table tbody tr")
    expect(table).to_have_count(26)  # the toggle event that builds it comes after the click
    assert sorted(table.nth(i).locator("td a").first.get_attribute("href") or "" for i in range(26)) == sorted(
        "/" + c.removeprefix("https://w3id.org/ilo-partnerships/") for c in expected)


def test_the_timeline_shows_each_dated_item_once_at_the_precision_its_source_gives(
    sparql_server: RunningServer, guarded: GuardedPage
) -> None:
    page = open_explorer(guarded, sparql_server)
    answer = rows(sparql_server, "explore-timeline")
    dated = {r["item"]["value"] for r in answer if "start" in r or "end" in r}
    undated = {r["item"]["value"] for r in answer} - dated
    assert (len(dated), len(undated)) == (11, 12)
    items = attributes(page, "svg.timeline a.item", "data-item")
    assert sorted(items) == sorted(dated)  # each once
    assert sorted(attributes(page, ".undated a.undated-item", "data-item")) == sorted(undated)
    # "2019" is a year: drawn as the whole year, hatched, not as a point on 1 January.
    policy = page.locator(f'svg.timeline a.item[data-item="{ID}project/sse-policy-asia"]')
    assert (policy.get_attribute("data-start"), policy.get_attribute("data-start-precision")) == ("2019", "year")
    assert policy.locator("rect.fuzzy.year").count() == 1 and policy.locator("path.point").count() == 0
    assert policy.locator("line.open-end").count() == 1  # no end in the sources
    year = float(policy.locator("rect.fuzzy.year").get_attribute("width") or 0)
    month = float(page.locator(f'svg.timeline a.item[data-item="{ID}project/sted-maghreb"] rect.fuzzy.month')
                  .get_attribute("width") or 0)
    assert month > 0 and 11 < year / month < 13  # "2019-11": the month of November, drawn as a twelfth of a year
    # A signing date is a day: a point.
    mou = page.locator(f'svg.timeline a.item[data-item="{ID}agreement/ilo-moel-mou-2021"]')
    assert (mou.get_attribute("data-kind"), mou.get_attribute("data-start-precision")) == (ONT + "Agreement", "day")
    assert mou.locator("path.point").count() == 1
    # 2014 to 2017: hatched start year, solid middle, hatched end year.
    phase = page.locator(f'svg.timeline a.item[data-item="{ID}phase/portworker-development-1"]')
    assert [phase.locator(s).count() for s in ("rect.fuzzy.year", "rect.solid")] == [2, 1]
    assert phase.get_attribute("aria-label") == "Phase: Portworker Development Program, phase I, from 2014 to 2017"


def test_the_network_s_edges_are_the_roles_and_places_in_the_data(sparql_server: RunningServer, guarded: GuardedPage) -> None:
    page = open_explorer(guarded, sparql_server)
    answer = rows(sparql_server, "explore-network")
    expected = sorted((r["source"]["value"], r["relation"]["value"], r["target"]["value"]) for r in answer)
    drawn = sorted(zip(attributes(page, "svg.network path.edge", "data-source"),
                       attributes(page, "svg.network path.edge", "data-relation"),
                       attributes(page, "svg.network path.edge", "data-target"), strict=True))
    assert drawn == expected
    by_role = {role: sum(1 for _, r, _ in drawn if r == ROLE + role) for role in ("funding", "implementing", "partner")}
    assert by_role == {"funding": 6, "implementing": 4, "partner": 3}
    assert len(drawn) - sum(by_role.values()) == 49  # projects to the countries they run in
    # Roles are labelled on their edges, and told apart by dash pattern as well as colour.
    labels = sorted(attributes(page, "svg.network .edge-labels text", "data-label"))
    assert labels == sorted(["funding"] * 6 + ["implementing"] * 4 + ["partner"] * 3)
    dashes = {r: page.locator(f'svg.network path.edge[data-relation="{ROLE}{r}"]').first.get_attribute("stroke-dasharray")
              for r in ("funding", "implementing", "partner")}
    assert len(set(dashes.values())) == 3
    nodes = set(attributes(page, "svg.network a.node", "data-node"))
    assert nodes == {s for s, _, _ in drawn} | {t for _, _, t in drawn}


def test_a_filter_changes_the_url_the_counts_and_every_picture(sparql_server: RunningServer, guarded: GuardedPage) -> None:
    page = open_explorer(guarded, sparql_server)
    page.select_option("#p-partner", "organisation:moel")  # applies at once (the page submits the form)
    page.wait_for_url("**/explore?*partner=organisation%3Amoel*")
    wait_for_pictures(page, 3)
    assert parse_qs(urlsplit(page.url).query)["partner"] == ["organisation:moel"]
    assert page.locator("dd[data-measure=projects]").inner_text() == "3"
    countries = projects_by_country(rows(sparql_server, "explore-countries", partner="organisation:moel"))
    assert set(attributes(page, "svg.map a.country", "data-country")) == set(countries)
    assert len(countries) == 15
    network = rows(sparql_server, "explore-network", partner="organisation:moel")
    assert page.locator("svg.network path.edge").count() == len(network)
    # Each picture's data link carries the filter: the picture has a URL that answers the same data.
    links = page.locator(".picture-view .downloads a[type='application/sparql-results+json']")
    assert all("partner=organisation%3Amoel" in (links.nth(i).get_attribute("href") or "") for i in range(3))
    page.fill("#p-from", "2021")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url("**from=2021**")
    wait_for_pictures(page, 3)
    assert page.locator("dd[data-measure=projects]").inner_text() == "1"
    timeline = rows(sparql_server, "explore-timeline", partner="organisation:moel", **{"from": "2021"})
    assert attributes(page, "svg.timeline a.item", "data-item") == [r["item"]["value"] for r in timeline] == [
        ID + "project/sse-policy-asia"]
    guarded.screenshot("explore-filtered.png")
    assert guarded.errors == []


def test_the_keyboard_alone_reaches_every_item_and_enter_opens_it(sparql_server: RunningServer, guarded: GuardedPage) -> None:
    page = open_explorer(guarded, sparql_server)
    wanted = {
        "country": set(attributes(page, "svg.map a.country", "data-country")),
        "item": set(attributes(page, "svg.timeline a.item", "data-item")),
        "node": set(attributes(page, "svg.network a.node", "data-node")),
    }
    reached: dict[str, set[str]] = {kind: set() for kind in wanted}
    page.locator("form.filters button[type=submit]").focus()
    total = sum(len(v) for v in wanted.values())
    for _ in range(total + 200):
        page.keyboard.press("Tab")
        focused = page.locator(":focus")
        for kind in wanted:
            value = focused.get_attribute(f"data-{kind}") if focused.count() else None
            if value:
                reached[kind].add(value)
        if all(wanted[kind] <= reached[kind] for kind in wanted):
            break
    assert {kind: wanted[kind] - reached[kind] for kind in wanted} == {kind: set() for kind in wanted}
    # Focus is visible: a focused country gets a dark outline, and the panel names its projects.
    country = page.locator(f'svg.map a.country[data-country="{ID}country/NA"]')
    country.focus()
    assert country.locator("path").evaluate("p => getComputedStyle(p).strokeWidth") == "3px"
    expect(page.locator(".picture-info").first).to_have_text(re.compile(r"^Namibia: 1 project — "))
    page.keyboard.press("Enter")
    page.wait_for_url("**/id/country/NA")
    expect(page.locator("h1")).to_have_text("Namibia")


def test_the_explorer_fits_a_phone(sparql_server: RunningServer, browser: Browser) -> None:
    phone = GuardedPage(browser, width=390, height=844)
    try:
        page = phone.page
        page.goto(sparql_server.url + "/explore")
        wait_for_pictures(page, 3)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        for kind in ("map", "timeline", "network"):
            box = page.locator(f"svg.{kind}").bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        phone.screenshot("explore-phone.png")
        assert phone.outside == [] and phone.errors == [] and phone.csp_violations == []
    finally:
        phone.close()


def test_a_project_page_shows_its_countries_and_its_dates(sparql_server: RunningServer, guarded: GuardedPage) -> None:
    page = guarded.page
    page.goto(sparql_server.url + "/id/project/sse-knowledge-base")
    wait_for_pictures(page, 2)
    answer = rows(sparql_server, "explore-countries", project=ID + "project/sse-knowledge-base")
    assert set(attributes(page, "svg.map a.country", "data-country")) == set(projects_by_country(answer))
    assert page.locator("svg.map a.country").count() == 11
    timeline = rows(sparql_server, "explore-timeline", project=ID + "project/sse-knowledge-base")
    dated = sorted(r["item"]["value"] for r in timeline if "start" in r)
    assert sorted(attributes(page, "svg.timeline a.item", "data-item")) == dated == sorted([
        ID + "agreement/ilo-moel-mou-2021", ID + "event/icls-21", ID + "programme-cycle/ilo-korea-2021-2023",
        ID + "project/sse-knowledge-base"])
    guarded.screenshot("project-pictures.png")
    assert guarded.outside == [] and guarded.errors == []


def test_a_country_page_shows_the_country_and_its_projects(sparql_server: RunningServer, guarded: GuardedPage) -> None:
    page = guarded.page
    page.goto(sparql_server.url + "/id/country/LA")
    wait_for_pictures(page, 2)
    assert attributes(page, "svg.map a.country", "data-m49") == ["418"]
    projects = rows(sparql_server, "projects", country="LA")
    assert len(projects) == 4
    dated = sorted(r["project"]["value"] for r in projects if "start" in r)
    assert sorted(attributes(page, "svg.timeline a.item", "data-item")) == dated == [ID + "project/sse-knowledge-base"]
    assert sorted(attributes(page, ".undated a.undated-item", "data-item")) == sorted(
        r["project"]["value"] for r in projects if "start" not in r)
    assert guarded.outside == [] and guarded.errors == []


def run_in_editor(page: Page, server: RunningServer, example: str) -> None:
    """Open a canned query in the editor (a new tab) and run it; its table is the view first shown."""
    page.goto(f"{server.url}/editor?example={example}")
    active = page.locator(".tabPanel.active")
    active.locator(".CodeMirror").wait_for()
    active.locator(".yasqe_queryButton").click()
    active.locator(".yasr table tbody tr").first.wait_for(timeout=20_000)


def test_the_editor_offers_the_pictures_whose_columns_fit_any_select(sparql_server: RunningServer, guarded: GuardedPage) -> None:
    page = guarded.page
    active = page.locator(".tabPanel.active")

    def offered() -> dict[str, bool]:
        return {k: "disabled" not in (active.locator(f".yasr .select_{k}").get_attribute("class") or "")
                for k in ("map", "timeline", "network")}

    run_in_editor(page, sparql_server, "countries-reached")  # a column of countries
    assert offered() == {"map": True, "timeline": False, "network": False}
    active.locator(".yasr .select_map").click()
    wait_for_pictures(active, 1)
    reached = {r["country"]["value"]: r["projects"]["value"] for r in rows(sparql_server, "countries-reached")}
    assert set(attributes(page, ".yasr svg.map a.country", "data-country")) == set(reached)
    # A count column colours the countries (and names itself in the legend and in each country's name).
    laos = page.locator(f'.yasr svg.map a.country[data-country="{ID}country/LA"]')
    assert laos.get_attribute("aria-label") == f"Lao PDR: projects {reached[ID + 'country/LA']}"
    assert page.locator(".yasr .legend span").first.inner_text() == "projects:"
    guarded.screenshot("editor-map.png")
    active.locator(".yasr .select_table").click()  # the table stays one click away

    run_in_editor(page, sparql_server, "projects")  # date columns, one IRI column
    assert offered() == {"map": False, "timeline": True, "network": False}
    active.locator(".yasr .select_timeline").click()
    wait_for_pictures(active, 1)
    dated = {r["project"]["value"] for r in rows(sparql_server, "projects") if "start" in r}
    assert set(attributes(page, ".yasr svg.timeline a.item", "data-item")) == dated

    run_in_editor(page, sparql_server, "explore-network")  # IRI columns: an edge list
    assert offered()["network"] is True
    active.locator(".yasr .select_network").click()
    wait_for_pictures(active, 1)
    assert page.locator(".yasr svg.network path.edge").count() == len(rows(sparql_server, "explore-network"))
    assert guarded.outside == [] and guarded.errors == []


def test_a_network_of_many_projects_folds_them_into_partner_to_country_links(
    sparql_server: RunningServer, guarded: GuardedPage
) -> None:
    page = open_explorer(guarded, sparql_server)  # for views.js and its libraries
    projects, partners, countries = 200, 5, 10
    edges = page.evaluate("""([projects, partners, countries]) => {
        const uri = (value) => ({ type: "uri", value }), text = (value) => ({ type: "literal", value });
        const base = "https://w3id.org/ilo-partnerships/id/", rows = [];
        for (let n = 0; n < projects; n += 1) {
            rows.push({ source: uri(`${base}organisation/p${n % partners}`), sourceLabel: text(`Partner ${n % partners}`),
                        relation: uri("https://w3id.org/ilo-partnerships/codelist/organisation-role/funding"),
                        relationLabel: text("funding"), target: uri(`${base}project/x${n}`), targetLabel: text(`Project ${n}`) });
            rows.push({ source: uri(`${base}project/x${n}`), sourceLabel: text(`Project ${n}`),
                        relation: uri("http://purl.org/dc/terms/spatial"), relationLabel: text("runs in"),
                        target: uri(`${base}country/C${n % countries}`), targetLabel: text(`Country ${n % countries}`) });
        }
        const holder = document.createElement("div");
        holder.id = "folded";
        holder.className = "picture-holder";
        document.querySelector("main").appendChild(holder);
        window.IloViews.render(holder, "network", rows, { base, root: "/" });
        return rows.length;
    }""", [projects, partners, countries])
    assert edges == 2 * projects
    folded = page.locator("#folded")
    expect(folded).to_have_attribute("data-state", "drawn")
    # n % 5 and n % 10: each partner reaches two countries, 20 projects each; no project is a node.
    weights = attributes(page, "#folded path.edge", "data-weight")
    assert sorted(map(int, weights)) == [20] * 10
    assert folded.locator("a.node.project").count() == 0
    assert (folded.locator("a.node.partner").count(), folded.locator("a.node.country").count()) == (partners, countries)
    assert folded.locator(".picture-note").inner_text().startswith("200 projects: each is folded into the links")


def test_the_pictures_read_every_page_of_their_questions(tmp_path: Path, browser: Browser) -> None:
    # Pages of 7 rows: the 49 rows of explore-countries come in 7 pages, the 62 edges of explore-network in 9.
    # A generous deadline: this is about paging, and in CI a 44 ms question once ran past the 10 s default while the
    # two cores were busy with Chromium and the other workers' engines.
    server = RunningServer(tmp_path / "store", {"ILOKG_PAGE_SIZE": "7", "ILOKG_MAX_PAGE_SIZE": "7",
                                                "ILOKG_QUERY_TIMEOUT_SECONDS": "120"}).start()
    guarded = GuardedPage(browser)
    try:
        page = guarded.page
        page.goto(server.url + "/explore")
        wait_for_pictures(page, 3)
        assert page.locator("svg.map a.country").count() == 26
        assert page.locator("svg.network path.edge").count() == 62
        asked = [urlsplit(url) for url in guarded.requests if urlsplit(url).path.startswith("/queries/explore-")]
        by_query = {path: sorted(int(parse_qs(u.query).get("offset", ["0"])[0]) for u in asked if u.path == path)
                    for path in {u.path for u in asked}}
        assert by_query["/queries/explore-countries"] == list(range(0, 49, 7))
        assert by_query["/queries/explore-network"] == list(range(0, 63, 7))
        assert all(parse_qs(u.query)["limit"] == ["7"] for u in asked)
        assert guarded.errors == [] and guarded.outside == [] and guarded.csp_violations == []
    finally:
        guarded.close()
        server.stop()


def test_a_partner_whose_iri_a_browser_would_run_is_drawn_without_a_link(
    tmp_path: Path, browser: Browser, settings: Settings,
) -> None:
    # Submissions refuse such IRIs; an operator's own file is loaded as it is. The network draws the partner, but as
    # no link: a javascript: href would be a script on the page (the page's policy would also refuse to run it).
    extra = (
        "<https://w3id.org/ilo-partnerships/id/project/sted-maghreb> <http://www.w3.org/ns/prov#qualifiedAssociation>\n"
        "  [ a <http://www.w3.org/ns/prov#Association> ; <http://www.w3.org/ns/prov#agent> <javascript:alert(1)> ;\n"
        "    <http://www.w3.org/ns/prov#hadRole> <https://w3id.org/ilo-partnerships/codelist/organisation-role/partner> ] .\n"
        '<javascript:alert(1)> <http://www.w3.org/2000/01/rdf-schema#label> "A partner"@en .\n'
    )
    with project_served_with(settings, tmp_path, {"extra.ttl": extra}) as server:
        guarded = GuardedPage(browser)
        try:
            page = guarded.page
            page.goto(server.url + "/explore")
            wait_for_pictures(page, 3)
            node = page.locator('svg.network a.node[data-node="javascript:alert(1)"]')
            expect(node).to_have_count(1)
            assert node.get_attribute("href") is None
            hrefs = attributes(page, "svg.network a.node", "href")
            assert len(hrefs) > 10 and hrefs.count("") == 1
            assert [h for h in hrefs if h and not h.startswith(("/", "https://", "http://"))] == []
            page.locator("#view-network details.picture-table summary").click()
            cell = page.locator("#view-network details.picture-table tbody a", has_text="A partner").first
            expect(cell).to_have_count(1)
            assert cell.get_attribute("href") is None
            assert guarded.errors == [] and guarded.outside == [] and guarded.csp_violations == []
        finally:
            guarded.close()
