"""/explore: the explorer — counts at a glance, and a map, a timeline and a network of the projects in view.

The page is drawn from the explore-* canned queries: the counts here, on the server (they read without
script), the pictures in the browser (server/web/static/views.js) from the same queries' JSON answers, so
every picture has a URL that answers its data. The filters are those queries' parameters, kept in the URL.
"""

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from server.canned.explorer import SUMMARY, VIEWS
from server.canned.parameters import ParameterError
from server.canned.service import CannedQueryService, Page
from server.http.deps import CannedDep, SettingsDep
from server.http.forms import field
from server.http.pages import render, site_root
from server.linked_data.page_model import EntityView
from server.namespaces import ILOP, RDFS
from server.rdf.display import is_web_iri
from server.settings import Settings
from server.sparql.service import SparqlService

router = APIRouter(include_in_schema=False)

# One project is chosen by following a link from its page, not from a list of every project.
_NOT_IN_THE_FORM = {"project"}
# The counts the explorer shows first, in this order.
_COUNTED = ("projects", "partners", "countries", "sources")


@router.get("/explore")
async def explore(request: Request, canned: CannedDep, settings: SettingsDep) -> HTMLResponse:
    """The explorer: filters (partner, theme, programme cycle, years), counts, map, timeline and network."""
    summary_query = canned.get(SUMMARY)
    params = {key: request.query_params.getlist(key) for key in request.query_params.keys()}
    error: ParameterError | None = None
    page: Page | None = None
    try:
        terms = await canned.resolve(summary_query, params)
        page = await canned.run(summary_query, terms, canned.max_page_size, 0)
    except ParameterError as refused:
        error = refused
    fields = [await field(canned, p, params, error) for p in summary_query.parameters if p.name not in _NOT_IN_THE_FORM]
    shown = {f["name"] for f in fields}
    general_error = error.message if error is not None and error.parameter not in shown else None
    # The filters the pictures' questions take (not paging or format, which each picture sets itself).
    filters = urlencode([(name, values[0]) for name, values in params.items()
                         if summary_query.parameter(name) is not None and values and values[0].strip()])
    root = site_root(request)
    views = [
        {"kind": kind, "target": f"view-{kind}", "data": f"{root}queries/{name}" + (f"?{filters}" if filters else "")}
        for kind, name in VIEWS
    ] if error is None else []
    config = {**drawing(root, settings, canned.max_page_size), "views": views}
    return render(
        request, "explore.html", status_code=422 if error is not None else 200, fields=fields, error=general_error,
        summary=_summary(page) if page is not None else None, views=views, config=config, filters=filters,
        project=await _chosen_project(canned, params, request.app.state.entities.local_path),
    )


def drawing(root: str, settings: Settings, page_size: int) -> dict[str, Any]:
    """What views.js needs on every page that draws: the map's geometry (countries at 1:50m, a world map's
    background at 1:110m), our IRIs' base and the site's root (to link items to their pages here), and the most rows
    a page of a question may hold (it reads the questions' answers in pages of that size)."""
    atlas = f"{root}assets/vendor/world-atlas/"
    return {"atlas": atlas + "countries-50m.json", "background": atlas + "countries-110m.json",
            "base": settings.data_base, "root": root, "pageSize": page_size}


def _summary(page: Page) -> dict[str, Any]:
    """The counts and the funding sums (one per currency) of the explore-summary answer."""
    counts = dict.fromkeys(_COUNTED, 0)
    funding = []
    for row in page.bindings:
        measure = row["measure"]["value"]
        if measure == "funding":
            # No sum when one of the currency's amounts is no number the engine reads (an operator's own file may
            # hold one): the engine leaves the sum unbound.
            total = row.get("amount", {}).get("value")
            funding.append({
                "currency": row["currency"]["value"],
                "amount": _amount(Decimal(total)) if total is not None else None,
                "records": int(row["count"]["value"]), "lower_bound": row.get("lower_bound", {}).get("value") == "true",
            })
        else:
            counts[measure] = int(row["count"]["value"])
    return {"counts": counts, "funding": funding}


def _amount(amount: Decimal) -> str:
    """A sum as people read it: thousands separated, cents only when there are any."""
    return f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"


async def _chosen_project(
    canned: CannedQueryService, params: dict[str, list[str]], local: Callable[[str], str | None],
) -> dict[str, str] | None:
    """The project the explorer is narrowed to, with its label, if the URL names one that exists."""
    given = (params.get("project") or [""])[0].strip()
    parameter = canned.get(SUMMARY).parameter("project")
    if not given or parameter is None:
        return None
    try:
        term = (await canned.resolve(canned.get(SUMMARY), {"project": [given]}))["project"]
    except ParameterError:
        return None
    label = next((c.label for c in await canned.choices(parameter) if c.iri == term.value), term.value)
    href = local(term.value) or (term.value if is_web_iri(term.value) else None)
    return {"iri": term.value, "label": label, "href": href}


# Every country the graph codes, for the editor's map view (a column of country IRIs is drawn by their codes).
_COUNTRY_CODES = f"""
SELECT ?country (SAMPLE(?name) AS ?label) (SAMPLE(?code) AS ?m49)
WHERE {{ ?country a <{ILOP}Country> ; <{ILOP}m49Code> ?code . OPTIONAL {{ ?country <{RDFS}label> ?name }} }}
GROUP BY ?country
"""


async def country_codes(service: SparqlService) -> dict[str, dict[str, str]]:
    """The graph's countries with their UN M49 (ISO 3166 numeric) code and label, by IRI."""
    answer = await service.select(_COUNTRY_CODES)
    return {
        row["country"]["value"]: {"m49": row["m49"]["value"], "label": row.get("label", row["country"])["value"]}
        for row in answer["results"]["bindings"]
    }


def entity_pictures(view: EntityView, root: str, settings: Settings, page_size: int) -> dict[str, Any] | None:
    """The pictures of a resource page, if its kind has any: a project's countries on a small map and its dates
    on a small timeline (the explore queries narrowed to it); a country on the map and its projects in time."""
    types = {t.iri for t in view.types}
    if str(ILOP.Project) in types:
        narrowed = urlencode({"project": view.iri})
        return {**drawing(root, settings, page_size), "views": [
            {"kind": "map", "target": "view-map", "data": f"{root}queries/explore-countries?{narrowed}", "small": True,
             "fit": "reached", "title": "Where it runs"},
            {"kind": "timeline", "target": "view-timeline", "data": f"{root}queries/explore-timeline?{narrowed}",
             "small": True, "title": "In time"},
        ]}
    if str(ILOP.Country) in types:
        m49 = _fact(view, str(ILOP.m49Code))
        code = _fact(view, str(ILOP.iso3166Alpha2))
        views: list[dict[str, Any]] = []
        if m49:
            row = {"country": {"type": "uri", "value": view.iri}, "label": {"type": "literal", "value": view.label},
                   "m49": {"type": "literal", "value": m49}}
            views.append({"kind": "map", "target": "view-map", "rows": [row], "small": True, "fit": "reached",
                          "highlight": m49, "title": "On the map"})
        if code:
            views.append({"kind": "timeline", "target": "view-timeline",
                          "data": f"{root}queries/projects?{urlencode({'country': code})}", "small": True,
                          "columns": {"item": "project", "start": "start", "end": "end"}, "title": "Its projects in time"})
        return {**drawing(root, settings, page_size), "views": views} if views else None
    return None


def _fact(view: EntityView, predicate: str) -> str | None:
    return next((f.value.text for f in view.facts if f.predicate.iri == predicate), None)
