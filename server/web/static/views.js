// The pictures: a world map, a timeline and a network, drawn with d3 from SPARQL JSON result rows.
// One module for every place that draws them: the explorer, the resource pages and the query editor's
// result views. Each view is an SVG whose items are links (in the tab order, opened with Enter, named
// for screen readers), followed by a table built from the same rows; colours come from the Okabe–Ito
// palette and are never the only cue (shapes, dash patterns and labels say the same).
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const ONT = "https://w3id.org/ilo-partnerships/ontology#";
  const ROLE = "https://w3id.org/ilo-partnerships/codelist/organisation-role/";
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  // Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
  const OKABE_ITO = {
    orange: "#E69F00", sky: "#56B4E9", green: "#009E73", yellow: "#F0E442",
    blue: "#0072B2", vermillion: "#D55E00", purple: "#CC79A7", grey: "#6b6b6b",
  };
  const KINDS = {
    [ONT + "ProgrammeCycle"]: { name: "Programme cycle", colour: OKABE_ITO.orange, order: 0 },
    [ONT + "Agreement"]: { name: "Agreement (signed)", colour: OKABE_ITO.vermillion, order: 1 },
    [ONT + "Project"]: { name: "Project", colour: OKABE_ITO.blue, order: 2 },
    [ONT + "ProjectPhase"]: { name: "Phase", colour: OKABE_ITO.green, order: 3 },
    [ONT + "ProjectComponent"]: { name: "Component", colour: OKABE_ITO.sky, order: 3 },
    [ONT + "Event"]: { name: "Event", colour: OKABE_ITO.purple, order: 4 },
  };
  const RELATIONS = {
    [ROLE + "funding"]: { colour: OKABE_ITO.orange, dash: null },
    [ROLE + "implementing"]: { colour: OKABE_ITO.blue, dash: "8 4" },
    [ROLE + "partner"]: { colour: OKABE_ITO.green, dash: "2 3" },
    "http://purl.org/dc/terms/spatial": { colour: OKABE_ITO.grey, dash: "1 5" },
  };
  const OTHER_RELATION = { colour: OKABE_ITO.purple, dash: "10 3 2 3" };
  // Above this many projects, the network folds each project into the edges from its partners to its countries.
  const FOLD_ABOVE = 150;
  // A timeline taller than this many lanes is no longer read as one picture: the rest are in its table.
  const LANES_AT_MOST = 400;
  let counter = 0;

  // ---- Data ----------------------------------------------------------------------------------------

  /** Every row of a SPARQL JSON answer, in pages of pageSize rows, following the server's Link: rel="next". */
  async function fetchRows(url, pageSize) {
    const rows = [];
    let variables = null;
    let next = url + (url.includes("?") ? "&" : "?") + `format=json&limit=${pageSize || 1000}`;
    while (next) {
      const response = await fetch(next, { headers: { Accept: "application/sparql-results+json" } });
      if (!response.ok) {
        throw new Error(`${response.status} ${response.statusText} for ${next}`);
      }
      const document = await response.json();
      variables = variables || document.head.vars;
      rows.push(...document.results.bindings);
      const link = response.headers.get("Link") || "";
      const found = /<([^>]+)>\s*;\s*rel="next"/.exec(link);
      next = found ? found[1] : null;
    }
    return { variables: variables || [], rows };
  }

  function value(row, name) {
    return row[name] ? row[name].value : null;
  }

  /** The page on this server of one of our IRIs; other web IRIs are left as they are, and any other IRI is no link
   * (null: the element gets no href), so that a javascript: or data: IRI never becomes a script on the page. */
  function href(options, iri) {
    const base = options.base || "https://w3id.org/ilo-partnerships/";
    if (iri && iri.startsWith(base)) {
      return (options.root || "/") + iri.slice(base.length);
    }
    return iri && /^https?:/i.test(iri) ? iri : null;
  }

  /** A new element (SVG or HTML) appended to parent, with the attributes that have a value, and a text. */
  function create(namespace, parent, name, attributes, text) {
    const node = namespace ? document.createElementNS(namespace, name) : document.createElement(name);
    for (const [key, val] of Object.entries(attributes || {})) {
      if (val !== null && val !== undefined) {
        node.setAttribute(key, String(val));
      }
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    parent.appendChild(node);
    return node;
  }

  const element = (parent, name, attributes, text) => create(SVG, parent, name, attributes, text);
  const html = (parent, name, attributes, text) => create(null, parent, name, attributes, text);

  function svgRoot(container, width, height, label, kind) {
    const svg = element(container, "svg", {
      viewBox: `0 0 ${width} ${height}`, class: `picture ${kind}`, role: "group", "aria-label": label,
      preserveAspectRatio: "xMidYMid meet",
    });
    return svg;
  }

  /**
   * The equivalent table, in a <details> under the picture: what a screen reader or a copy-paste needs. Its rows
   * are built when it is first opened (body is a function), so that a large answer costs nothing until asked for.
   */
  function table(container, caption, headers, body) {
    const details = html(container, "details", { class: "picture-table" });
    html(details, "summary", {}, `${caption} as a table`);
    details.addEventListener("toggle", () => {
      if (!details.open || details.querySelector("table")) {
        return;
      }
      const wrap = html(details, "div", { class: "table-wrap" });
      const tableEl = html(wrap, "table");
      html(tableEl, "caption", {}, caption);
      const headRow = html(html(tableEl, "thead"), "tr");
      for (const header of headers) {
        html(headRow, "th", { scope: "col" }, header);
      }
      const tbody = html(tableEl, "tbody");
      for (const cells of body()) {
        const tr = html(tbody, "tr");
        for (const cell of cells) {
          const td = html(tr, "td");
          if (cell && typeof cell === "object") {
            html(td, "a", { href: cell.href }, cell.text);
          } else {
            td.textContent = cell === null || cell === undefined ? "" : String(cell);
          }
        }
      }
    });
    return details;
  }

  function note(container, text) {
    return html(container, "p", { class: "picture-note" }, text);
  }

  // ---- Dates as the sources give them ---------------------------------------------------------------

  /** A date literal as the span it stands for: a year, a month or a day (or an instant). */
  function span(binding) {
    if (!binding || binding.type !== "literal") {
      return null;
    }
    const text = binding.value.trim();
    const datatype = binding.datatype || "";
    let found = /^(-?\d{4})$/.exec(text);
    if (found && (datatype === XSD + "gYear" || !datatype || datatype === XSD + "string")) {
      const year = Number(found[1]);
      return { from: new Date(Date.UTC(year, 0, 1)), to: new Date(Date.UTC(year + 1, 0, 1)), precision: "year", text };
    }
    found = /^(-?\d{4})-(\d{2})$/.exec(text);
    if (found) {
      const year = Number(found[1]);
      const month = Number(found[2]) - 1;
      return { from: new Date(Date.UTC(year, month, 1)), to: new Date(Date.UTC(year, month + 1, 1)), precision: "month", text };
    }
    found = /^(-?\d{4})-(\d{2})-(\d{2})/.exec(text);
    if (found) {
      const day = new Date(Date.UTC(Number(found[1]), Number(found[2]) - 1, Number(found[3])));
      if (!Number.isNaN(day.getTime())) {
        return { from: day, to: new Date(day.getTime() + 86400000), precision: "day", text };
      }
    }
    return null;
  }

  function isDate(binding) {
    if (!binding || binding.type !== "literal") {
      return false;
    }
    const datatype = binding.datatype || "";
    return [XSD + "date", XSD + "dateTime", XSD + "gYear", XSD + "gYearMonth"].includes(datatype);
  }

  // ---- The map --------------------------------------------------------------------------------------

  const atlases = new Map();

  /** A TopoJSON file of world-atlas, read once per page. */
  function atlas(url) {
    if (!atlases.has(url)) {
      atlases.set(url, fetch(url).then((response) => {
        if (!response.ok) {
          throw new Error(`${response.status} for the map's geometry`);
        }
        return response.json();
      }));
    }
    return atlases.get(url);
  }

  /**
   * Countries coloured by the number of projects reaching them. rows: country, label, m49, and optionally
   * project, projectLabel, group, groupLabel (the explore-countries query). options.highlight: one m49 code
   * drawn as the page's own country; options.fit: "reached" zooms to the countries drawn.
   */
  async function drawMap(container, rows, options) {
    // Countries reached at 1:50m (the 1:110m file has no Singapore); on a world map the background (land and
    // borders) at 1:110m, which draws in a fifth of the time and looks the same at that scale.
    const zoomed = options.fit === "reached" || !options.background;
    const [topology, backdrop] = await Promise.all([atlas(options.atlas), zoomed ? null : atlas(options.background)]);
    const ground = backdrop || topology;
    const countries = new Map();
    for (const row of rows) {
      const iri = value(row, "country");
      if (!iri) {
        continue;
      }
      let country = countries.get(iri);
      if (!country) {
        country = { iri, label: value(row, "label") || iri, m49: value(row, "m49"), projects: new Map(), groups: new Map() };
        countries.set(iri, country);
      }
      // A number for the country (the editor's view of a SELECT with a count column) colours it instead.
      const measured = Number(value(row, "measure"));
      if (row.measure && Number.isFinite(measured)) {
        country.measure = Math.max(country.measure ?? measured, measured);
      }
      const project = value(row, "project");
      if (project) {
        country.projects.set(project, value(row, "projectLabel") || project);
      }
      const group = value(row, "group");
      if (group) {
        country.groups.set(group, value(row, "groupLabel") || group);
      }
    }
    const features = topojson.feature(topology, topology.objects.countries).features;
    const byCode = new Map(features.map((feature) => [String(feature.id), feature]));
    const reached = [...countries.values()].filter((c) => c.m49 && byCode.has(c.m49));
    const missing = [...countries.values()].filter((c) => !(c.m49 && byCode.has(c.m49)));
    const width = 960;
    const height = options.small ? 420 : 500;
    const counted = (c) => c.measure ?? (c.projects.size || 1);
    const most = Math.max(1, ...reached.map(counted));
    const colour = d3.scaleSequential([0, most], (t) => d3.interpolateBlues(0.25 + 0.75 * t));
    const projection = d3.geoEqualEarth();
    const fitted = options.fit === "reached" && reached.length
      ? { type: "FeatureCollection", features: reached.map((c) => byCode.get(c.m49)) }
      : { type: "Sphere" };
    projection.fitExtent([[8, 8], [width - 8, height - 8]], fitted);
    if (options.fit === "reached" && projection.scale() > 1400) {
      projection.scale(1400);  // a small country alone would fill the frame: keep its neighbours in sight
      const [x, y] = d3.geoPath(projection).centroid(fitted);
      const [tx, ty] = projection.translate();
      projection.translate([tx + width / 2 - x, ty + height / 2 - y]);
    }
    // Resampling to 2 px instead of d3's 0.7 px: no visible difference at this size, a third of the projection work.
    projection.precision(2);
    const path = d3.geoPath(projection);
    const label = `Map: ${reached.length} countr${reached.length === 1 ? "y" : "ies"}` +
      (options.highlight ? "" : ` reached, coloured by number of projects (most: ${most})`);
    const figure = html(container, "figure", { class: "picture-frame map-frame" });
    const svg = svgRoot(figure, width, height, label, "map");
    element(svg, "path", { d: path({ type: "Sphere" }), class: "sphere", "aria-hidden": "true" });
    // The countries no project reaches: one path for the land and one for the borders between countries, not
    // 241 paths (the background is most of the map's drawing time).
    const land = element(svg, "g", { class: "land", "aria-hidden": "true" });
    element(land, "path", { d: path(topojson.feature(ground, ground.objects.land)), class: "landmass" });
    element(land, "path", {
      d: path(topojson.mesh(ground, ground.objects.countries, (a, b) => a !== b)), class: "borders",
    });
    const info = html(figure, "p", { class: "picture-info", "aria-live": "polite" },
      options.highlight ? "" : "Point at or tab to a country to see its projects.");
    const layer = element(svg, "g", { class: "reached" });
    const sorted = reached.slice().sort((a, b) => a.label.localeCompare(b.label));
    for (const country of sorted) {
      const projects = [...country.projects.values()].sort();
      const groups = [...country.groups.values()];
      const described = options.highlight
        ? country.label
        : country.measure !== undefined ? `${country.label}: ${options.measureName || "value"} ${country.measure}`
        : `${country.label}: ${projects.length} project${projects.length === 1 ? "" : "s"}` +
          (groups.length ? ` (through ${groups.join(", ")})` : "");
      const link = element(layer, "a", {
        href: href(options, country.iri), class: "country", "aria-label": described,
        "data-country": country.iri, "data-m49": country.m49, "data-projects": country.projects.size,
      });
      const fill = options.highlight ? (country.m49 === options.highlight ? OKABE_ITO.vermillion : colour(1)) : colour(counted(country));
      element(link, "path", { d: path(byCode.get(country.m49)), fill });
      element(link, "title", {}, projects.length ? `${described}: ${projects.join("; ")}` : described);
      const show = () => {
        info.textContent = projects.length ? `${described} — ${projects.join("; ")}` : described;
      };
      link.addEventListener("mouseenter", show);
      link.addEventListener("focus", show);
    }
    // A country group (ASEAN) through which projects reach their members: its members' outline, dashed, named.
    const groups = new Map();
    for (const country of reached) {
      for (const [iri, name] of country.groups) {
        const group = groups.get(iri) || { name, codes: new Set() };
        group.codes.add(country.m49);
        groups.set(iri, group);
      }
    }
    const outlines = element(svg, "g", { class: "groups", "aria-hidden": "true" });
    for (const [iri, group] of groups) {
      const geometries = topology.objects.countries.geometries.filter((g) => group.codes.has(String(g.id)));
      const merged = topojson.merge(topology, geometries);
      element(outlines, "path", { d: path(merged), class: "group-outline", "data-group": iri });
      const [x, y] = path.bounds(merged)[0];
      element(outlines, "text", { x: x, y: Math.max(14, y - 4), class: "group-label" }, group.name);
    }
    if (!options.highlight) {
      legendScale(figure, most, colour, groups.size > 0, options.measureName || "Projects");
    }
    if (missing.length) {
      note(container, `Not on the map (no geometry for their code): ${missing.map((c) => c.label).join(", ")}.`);
    }
    table(container, options.highlight ? "Countries" : "Countries and their projects",
      ["Country", "Projects", "Through", "Project names"],
      () => [...countries.values()].sort((a, b) => a.label.localeCompare(b.label)).map((c) => [
        { href: href(options, c.iri), text: c.label }, c.projects.size, [...c.groups.values()].join(", "),
        [...c.projects.values()].sort().join("; "),
      ]));
    return svg;
  }

  function legendScale(container, most, colour, withGroups, name) {
    const legend = html(container, "div", { class: "legend", "aria-label": "Legend" });
    html(legend, "span", {}, `${name}:`);
    const steps = most <= 6 ? d3.range(1, most + 1) : d3.ticks(1, most, 5).filter((n) => n >= 1);
    for (const step of steps) {
      const key = html(legend, "span", { class: "key" });
      html(key, "span", { class: "swatch", style: `background:${colour(step)}` });
      key.appendChild(document.createTextNode(String(step)));
    }
    if (withGroups) {
      const key = html(legend, "span", { class: "key" });
      html(key, "span", { class: "swatch group" });
      key.appendChild(document.createTextNode("country group (reached as a whole)"));
    }
  }

  // ---- The timeline ---------------------------------------------------------------------------------

  /**
   * Items on one time axis. rows: item, kind (a class IRI), label, start, end, within (the explore-timeline
   * query). A start or end known to the year or month is drawn as that whole year or month, hatched (the
   * item began some time in it), never as a point on its first day; a day is a point.
   */
  function drawTimeline(container, rows, options) {
    const items = new Map();
    for (const row of rows) {
      const iri = value(row, "item");
      if (!iri || items.has(iri)) {
        continue;
      }
      items.set(iri, {
        iri, kind: value(row, "kind") || ONT + "Project", label: value(row, "label") || iri,
        start: span(row.start), end: span(row.end), within: value(row, "within"),
      });
    }
    const all = [...items.values()];
    const dated = all.filter((item) => item.start || item.end);
    const undated = all.filter((item) => !(item.start || item.end));
    // Lanes: cycles and agreements first, then each project followed by its parts, in time order.
    const startOf = (item) => (item.start || item.end).from.getTime();
    const order = (item) => (KINDS[item.kind] || { order: 5 }).order;
    const projects = dated.filter((item) => item.kind === ONT + "Project").sort((a, b) => startOf(a) - startOf(b));
    const lanes = dated.filter((item) => order(item) < 2).sort((a, b) => order(a) - order(b) || startOf(a) - startOf(b));
    const placed = new Set(lanes);
    for (const project of projects) {
      lanes.push(project);
      placed.add(project);
      for (const part of dated.filter((item) => item.within === project.iri).sort((a, b) => startOf(a) - startOf(b))) {
        part.indent = true;
        lanes.push(part);
        placed.add(part);
      }
    }
    lanes.push(...dated.filter((item) => !placed.has(item)).sort((a, b) => startOf(a) - startOf(b)));
    const ordered = lanes.concat(undated);
    if (lanes.length > LANES_AT_MOST) {
      lanes.length = LANES_AT_MOST;
    }
    const figure = html(container, "figure", { class: "picture-frame timeline-frame" });
    if (!lanes.length) {
      note(figure, "None of these items has a date in the sources.");
    } else {
      const lane = options.small ? 26 : 30;
      const labelWidth = options.small ? 190 : 360;
      const width = options.small ? 560 : 960;
      const longest = options.small ? 30 : 52;
      const top = 28;
      const height = top + lanes.length * lane + 10;
      const low = d3.min(lanes, (item) => (item.start || item.end).from);
      const high = d3.max(lanes, (item) => (item.end || item.start).to);
      const x = d3.scaleUtc([d3.utcYear.floor(low), d3.utcYear.ceil(high)], [labelWidth, width - 28]);
      const svg = svgRoot(figure, width, height,
        `Timeline: ${lanes.length} dated item${lanes.length === 1 ? "" : "s"}`, "timeline");
      const id = `t${++counter}`;
      const defs = element(svg, "defs");
      for (const [kind, style] of Object.entries(KINDS)) {
        const pattern = element(defs, "pattern", {
          id: `${id}-${kind.slice(ONT.length)}`, width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)",
        });
        element(pattern, "rect", { width: 6, height: 6, fill: "#fff" });
        element(pattern, "line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: style.colour, "stroke-width": 3 });
      }
      const years = x.ticks(d3.utcYear.every(Math.max(1, Math.ceil((x.domain()[1].getUTCFullYear() - x.domain()[0].getUTCFullYear()) / 12))));
      const axis = element(svg, "g", { class: "axis", "aria-hidden": "true" });
      for (const year of years) {
        element(axis, "line", { x1: x(year), x2: x(year), y1: top - 6, y2: height, class: "tick" });
        const last = x(year) > width - 40;  // the last year's label ends at its line, inside the picture
        element(axis, "text", { x: x(year) + (last ? -3 : 3), y: top - 10, "text-anchor": last ? "end" : "start" },
          String(year.getUTCFullYear()));
      }
      lanes.forEach((item, index) => {
        const style = KINDS[item.kind] || { name: "Item", colour: OKABE_ITO.grey };
        const y = top + index * lane;
        const spoken = `${style.name}: ${item.label}, ${describeDates(item)}`;
        const link = element(svg, "a", {
          href: href(options, item.iri), class: "item", "aria-label": spoken, "data-item": item.iri,
          "data-kind": item.kind, "data-start": item.start ? item.start.text : null, "data-end": item.end ? item.end.text : null,
          "data-start-precision": item.start ? item.start.precision : null,
          "data-end-precision": item.end ? item.end.precision : null,
        });
        element(link, "title", {}, spoken);
        element(link, "rect", { x: 0, y: y + 1, width, height: lane - 2, class: "lane" });
        const text = item.label.length > longest ? item.label.slice(0, longest - 2) + "…" : item.label;
        element(link, "text", { x: item.indent ? 18 : 4, y: y + lane / 2 + 4, class: "item-label" }, text);
        const hatch = `url(#${id}-${item.kind.startsWith(ONT) ? item.kind.slice(ONT.length) : "Project"})`;
        const mid = y + lane / 2;
        const barHeight = lane * 0.5;
        const point = (date) => element(link, "path", {
          d: d3.symbol(d3.symbolDiamond, 90)(), transform: `translate(${x(date)},${mid})`, fill: style.colour, class: "point",
        });
        const fuzzy = (when) => element(link, "rect", {
          x: x(when.from), y: mid - barHeight / 2, width: Math.max(2, x(when.to) - x(when.from)), height: barHeight,
          fill: hatch, stroke: style.colour, class: `fuzzy ${when.precision}`,
        });
        const start = item.start;
        const end = item.end;
        if (start && end) {
          const solidFrom = start.precision === "day" ? start.from : start.to;
          const solidTo = end.precision === "day" ? end.to : end.from;
          if (solidTo > solidFrom) {
            element(link, "rect", {
              x: x(solidFrom), y: mid - barHeight / 2, width: x(solidTo) - x(solidFrom), height: barHeight,
              fill: style.colour, class: "solid",
            });
          }
          for (const when of [start, end]) {
            if (when.precision === "day") {
              point(when.from);
            } else {
              fuzzy(when);
            }
          }
        } else {
          const when = start || end;
          if (when.precision === "day") {
            point(when.from);
          } else {
            fuzzy(when);
          }
          if (!end) {
            // The sources give no end: a short dotted tail, not a bar that would claim one.
            element(link, "line", {
              x1: x(when.to), x2: x(when.to) + 24, y1: mid, y2: mid, stroke: style.colour, "stroke-dasharray": "2 3",
              class: "open-end",
            });
          }
        }
      });
      const legend = html(figure, "div", { class: "legend", "aria-label": "Legend" });
      const kinds = new Set(lanes.map((item) => item.kind));
      for (const [kind, style] of Object.entries(KINDS)) {
        if (kinds.has(kind)) {
          const key = html(legend, "span", { class: "key" });
          html(key, "span", { class: "swatch", style: `background:${style.colour}` });
          key.appendChild(document.createTextNode(style.name));
        }
      }
      const key = html(legend, "span", { class: "key" });
      html(key, "span", { class: "swatch hatched" });
      key.appendChild(document.createTextNode("known to the year or month only; ◆ a day; ┈ no end given"));
    }
    if (ordered.length - undated.length > lanes.length) {
      note(container, `The first ${lanes.length} of ${ordered.length - undated.length} dated items are drawn; narrow the ` +
        "filters (partner, theme, programme cycle, years) to see the others. The table lists them all.");
    }
    if (undated.length) {
      const list = html(container, "div", { class: "undated" });
      html(list, "p", {}, `Without a date in the sources (${undated.length}):`);
      const ul = html(list, "ul", { class: "compact" });
      for (const item of undated.sort((a, b) => order(a) - order(b) || a.label.localeCompare(b.label)).slice(0, LANES_AT_MOST)) {
        const li = html(ul, "li");
        html(li, "a", { href: href(options, item.iri), "data-item": item.iri, class: "undated-item" }, item.label);
        li.appendChild(document.createTextNode(` (${(KINDS[item.kind] || { name: "item" }).name.toLowerCase()})`));
      }
    }
    table(container, "Timeline", ["Item", "Kind", "Start", "End"],
      () => ordered.map((item) => [
        { href: href(options, item.iri), text: item.label }, (KINDS[item.kind] || { name: item.kind }).name,
        item.start ? item.start.text : "", item.end ? item.end.text : "",
      ]));
  }

  function describeDates(item) {
    const what = (when) => (when.precision === "day" ? `on ${when.text}` : `in ${when.text}`);
    if (item.start && item.end) {
      return `from ${item.start.text} to ${item.end.text}`;
    }
    if (item.start) {
      return item.kind === ONT + "Agreement" ? `signed ${what(item.start)}` : `starts ${what(item.start)}, end not given`;
    }
    return `ends ${what(item.end)}, start not given`;
  }

  // ---- The network ----------------------------------------------------------------------------------

  /**
   * Partners, projects and countries in three columns, edges labelled with their role. rows: source,
   * sourceLabel, relation, relationLabel, target, targetLabel (the explore-network query). Above FOLD_ABOVE
   * projects, each project is folded into edges from its partners to its countries, weighted by the number
   * of projects (filters bring the projects back).
   */
  function drawNetwork(container, rows, options) {
    const spatial = "http://purl.org/dc/terms/spatial";
    let edges = rows.map((row) => ({
      source: value(row, "source"), sourceLabel: value(row, "sourceLabel"), relation: value(row, "relation"),
      relationLabel: value(row, "relationLabel") || value(row, "relation"), target: value(row, "target"),
      targetLabel: value(row, "targetLabel"), weight: 1,
    })).filter((edge) => edge.source && edge.target);
    const projectIris = new Set(edges.map((e) => (e.relation === spatial ? e.source : e.target)));
    const folded = !options.generic && projectIris.size > FOLD_ABOVE;
    if (folded) {
      const countriesOf = new Map();
      for (const edge of edges.filter((e) => e.relation === spatial)) {
        const list = countriesOf.get(edge.source) || [];
        list.push(edge);
        countriesOf.set(edge.source, list);
      }
      const merged = new Map();
      for (const edge of edges.filter((e) => e.relation !== spatial)) {
        for (const place of countriesOf.get(edge.target) || []) {
          const key = `${edge.source} ${edge.relation} ${place.target}`;
          const found = merged.get(key) || { ...edge, target: place.target, targetLabel: place.targetLabel, weight: 0 };
          found.weight += 1;
          merged.set(key, found);
        }
      }
      edges = [...merged.values()];
    }
    const nodes = new Map();
    const column = (iri, label, side) => {
      if (!nodes.has(iri)) {
        nodes.set(iri, { id: iri, label: label || iri, column: side, degree: 0 });
      }
      const node = nodes.get(iri);
      node.degree += 1;
      return node;
    };
    for (const edge of edges) {
      const isPlace = edge.relation === spatial;
      edge.from = column(edge.source, edge.sourceLabel, isPlace ? 1 : 0);
      edge.to = column(edge.target, edge.targetLabel, isPlace || folded ? 2 : 1);
    }
    const columns = [0, 1, 2].map((c) => [...nodes.values()].filter((n) => n.column === c));
    const width = 960;
    const spacing = options.small ? 22 : 26;
    const tallest = Math.max(1, ...columns.map((c) => c.length));
    const height = Math.max(160, 30 + tallest * spacing);
    const xs = folded ? [300, 0, 700] : [300, 530, 770];
    // A layered layout: partners, projects and countries in three columns, each column ordered by the mean
    // position of its neighbours (the barycentre heuristic, a few sweeps), so that few edges cross. No
    // randomness and no animation: the same rows always give the same picture.
    const neighbours = new Map([...nodes.values()].map((n) => [n, []]));
    for (const edge of edges) {
      neighbours.get(edge.from).push(edge.to);
      neighbours.get(edge.to).push(edge.from);
    }
    const place = () => columns.forEach((members) => {
      const step = (height - 30) / Math.max(1, members.length);
      members.forEach((node, index) => {
        node.x = xs[node.column];
        node.y = 15 + (index + 0.5) * step;
      });
    });
    columns.forEach((members) => members.sort((a, b) => a.label.localeCompare(b.label)));
    place();
    const sweep = folded ? [0, 2] : [1, 2, 0, 1];
    for (let round = 0; round < 4; round += 1) {
      for (const index of sweep) {
        const mean = (node) => d3.mean(neighbours.get(node), (other) => other.y) ?? node.y;
        const keys = new Map(columns[index].map((node) => [node, mean(node)]));
        columns[index].sort((a, b) => keys.get(a) - keys.get(b) || a.label.localeCompare(b.label));
        place();
      }
    }
    const figure = html(container, "figure", { class: "picture-frame network-frame" });
    const svg = svgRoot(figure, width, height,
      `Network: ${columns[0].length} partners, ${folded ? 0 : columns[1].length} projects, ` +
      `${columns[2].length} countries, ${edges.length} links`, "network");
    const id = `n${++counter}`;
    const edgeLayer = element(svg, "g", { class: "edges" });
    for (const edge of edges) {
      const style = RELATIONS[edge.relation] || OTHER_RELATION;
      const line = element(edgeLayer, "path", {
        d: `M${edge.from.x},${edge.from.y} C${(edge.from.x + edge.to.x) / 2},${edge.from.y} ` +
          `${(edge.from.x + edge.to.x) / 2},${edge.to.y} ${edge.to.x},${edge.to.y}`,
        class: "edge", stroke: style.colour, "stroke-dasharray": style.dash, "stroke-width": Math.min(8, 1.2 + Math.log2(edge.weight)),
        "data-source": edge.source, "data-target": edge.target, "data-relation": edge.relation, "data-weight": edge.weight,
        id: `${id}-e${edges.indexOf(edge)}`,
      });
      element(line, "title", {}, `${edge.from.label} — ${edge.relationLabel}${folded ? ` (${edge.weight} projects)` : ""} — ${edge.to.label}`);
    }
    if (edges.length <= 80) {
      // Labels on the role edges (country edges say "runs in" in the legend), at the middle of each curve.
      const labels = element(svg, "g", { class: "edge-labels", "aria-hidden": "true" });
      for (const edge of edges.filter((e) => e.relation !== spatial || folded)) {
        const text = folded ? `${edge.relationLabel} ×${edge.weight}` : edge.relationLabel;
        const label = element(labels, "text", { dy: -2, "data-label": text });
        element(label, "textPath", { href: `#${id}-e${edges.indexOf(edge)}`, startOffset: "50%", "text-anchor": "middle" }, text);
      }
    }
    const shapes = [d3.symbolSquare, d3.symbolCircle, d3.symbolTriangle];
    const kinds = ["Partner", "Project", "Country"];
    const nodeLayer = element(svg, "g", { class: "nodes" });
    for (const members of columns) {
      for (const node of members) {
        const kind = node.column === 2 || (folded && node.column === 1) ? 2 : node.column;
        const spoken = `${kinds[kind]}: ${node.label}, ${node.degree} link${node.degree === 1 ? "" : "s"}`;
        const link = element(nodeLayer, "a", {
          href: href(options, node.id), class: `node ${kinds[kind].toLowerCase()}`, "aria-label": spoken, "data-node": node.id,
          transform: `translate(${node.x},${node.y})`,
        });
        element(link, "title", {}, spoken);
        element(link, "path", { d: d3.symbol(shapes[kind], 90)(), class: "mark" });
        const short = node.label.length > 40 ? node.label.slice(0, 38) + "…" : node.label;
        const anchor = kind === 0 ? "end" : kind === 2 ? "start" : "middle";
        element(link, "text", { x: kind === 0 ? -10 : kind === 2 ? 10 : 0, y: kind === 1 ? -9 : 4, "text-anchor": anchor }, short);
      }
    }
    const legend = html(figure, "div", { class: "legend", "aria-label": "Legend" });
    for (const [iri, style] of Object.entries(RELATIONS)) {
      const key = html(legend, "span", { class: "key" });
      const line = document.createElementNS(SVG, "svg");
      line.setAttribute("width", "34");
      line.setAttribute("height", "10");
      line.setAttribute("aria-hidden", "true");
      const stroke = document.createElementNS(SVG, "line");
      for (const [k, v] of Object.entries({ x1: 0, x2: 34, y1: 5, y2: 5, stroke: style.colour, "stroke-width": 3 })) {
        stroke.setAttribute(k, String(v));
      }
      if (style.dash) {
        stroke.setAttribute("stroke-dasharray", style.dash);
      }
      line.appendChild(stroke);
      key.appendChild(line);
      key.appendChild(document.createTextNode(iri === spatial ? "runs in" : iri.slice(ROLE.length)));
    }
    html(legend, "span", { class: "key" }, "■ partner  ● project  ▲ country");
    if (folded) {
      note(container, `${projectIris.size} projects: each is folded into the links from its partners to its countries ` +
        "(line width and label: number of projects). Narrow the filters to see the projects themselves.");
    }
    table(container, folded ? "Partners and countries (projects folded)" : "Network links", ["From", "Link", "To"].concat(folded ? ["Projects"] : []),
      () => edges.map((edge) => [
        { href: href(options, edge.source), text: edge.from.label }, edge.relationLabel,
        { href: href(options, edge.target), text: edge.to.label },
      ].concat(folded ? [edge.weight] : [])));
  }

  // ---- Columns of any SELECT (the editor's result views) --------------------------------------------

  function labelFor(variables, row, name) {
    for (const candidate of [`${name}Label`, `${name}_label`, "label"]) {
      if (variables.includes(candidate) && row[candidate] && candidate !== name) {
        return row[candidate].value;
      }
    }
    const iri = value(row, name) || "";
    return iri.replace(/^.*[/#]/, "") || iri;
  }

  /** How a SELECT's columns fit each picture: { map, timeline, network } with the columns to use, or null. */
  function fit(variables, rows, countries) {
    const iriColumns = variables.filter((v) => rows.length && rows.every((r) => !r[v] || r[v].type === "uri") && rows.some((r) => r[v]));
    const dateColumns = variables.filter((v) => rows.some((r) => isDate(r[v])));
    const countryColumn = iriColumns.find((v) => rows.some((r) => r[v] && countries[r[v].value]));
    const numeric = [XSD + "integer", XSD + "decimal", XSD + "double", XSD + "float", XSD + "int", XSD + "long"];
    const numericColumn = variables.find((v) => rows.some((r) => r[v] && numeric.includes(r[v].datatype)));
    const m49Column = variables.find((v) => /m49/i.test(v) && rows.some((r) => r[v] && /^\d{3}$/.test(r[v].value)));
    return {
      map: countryColumn || m49Column ? { country: countryColumn, m49: m49Column, measure: numericColumn || null } : null,
      timeline: dateColumns.length ? { start: dateColumns[0], end: dateColumns[1] || null, item: iriColumns[0] || null } : null,
      // The first and the last IRI column are the ends of each edge; one between them, if any, names the link.
      network: iriColumns.length >= 2
        ? { source: iriColumns[0], target: iriColumns[iriColumns.length - 1], relation: iriColumns.length > 2 ? iriColumns[1] : null }
        : null,
    };
  }

  /** A SELECT's rows as the rows each picture reads. */
  function adapt(kind, columns, variables, rows, countries) {
    const literal = (text) => ({ type: "literal", value: text });
    const uri = (iri) => ({ type: "uri", value: iri });
    if (kind === "map") {
      const byM49 = new Map(Object.entries(countries).map(([iri, c]) => [c.m49, { iri, ...c }]));
      return rows.map((row) => {
        const known = columns.country ? countries[value(row, columns.country)] : byM49.get(value(row, columns.m49));
        if (!known) {
          return {};
        }
        const iri = columns.country ? value(row, columns.country) : known.iri;
        const other = variables.find((v) => v !== columns.country && row[v] && row[v].type === "uri");
        return {
          country: uri(iri), label: literal(known.label), m49: literal(known.m49),
          ...(columns.measure && row[columns.measure] ? { measure: row[columns.measure] } : {}),
          ...(other ? { project: row[other], projectLabel: literal(labelFor(variables, row, other)) } : {}),
        };
      });
    }
    if (kind === "timeline") {
      return rows.map((row, index) => ({
        item: columns.item && row[columns.item] ? row[columns.item] : uri(`#row-${index + 1}`),
        label: literal(columns.item && row[columns.item] ? labelFor(variables, row, columns.item) : `Row ${index + 1}`),
        start: row[columns.start], end: columns.end ? row[columns.end] : undefined,
        kind: uri(ONT + "Project"),
      }));
    }
    return rows.filter((row) => row[columns.source] && row[columns.target]).map((row) => ({
      source: row[columns.source], sourceLabel: literal(labelFor(variables, row, columns.source)),
      relation: columns.relation && row[columns.relation] ? row[columns.relation] : uri(`#${columns.target}`),
      relationLabel: literal(columns.relation && row[columns.relation] ? labelFor(variables, row, columns.relation) : columns.target),
      target: row[columns.target], targetLabel: literal(labelFor(variables, row, columns.target)),
    }));
  }

  const draw = { map: drawMap, timeline: drawTimeline, network: drawNetwork };

  /** Draws one picture into container, recording when it is done (data-state: drawn, or failed with a message). */
  async function render(container, kind, rows, options) {
    container.setAttribute("data-state", "drawing");
    try {
      await draw[kind](container, rows, options);
      container.setAttribute("data-drawn-ms", String(Math.round(performance.now())));
      container.setAttribute("data-state", "drawn");
    } catch (error) {
      container.setAttribute("data-state", "failed");
      html(container, "p", { class: "error", role: "alert" }, `The ${kind} could not be drawn: ${error.message}`);
    }
  }

  window.IloViews = { fetchRows, render, fit, adapt, span };
})();
