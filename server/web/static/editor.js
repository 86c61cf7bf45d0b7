// The query editor: YASGUI pointed at this server's endpoint, with the project's prefixes and
// every canned query as an example. Served by us with YASGUI's own files: nothing is fetched
// from elsewhere (the autocompleters that call the Linked Open Vocabularies API are left out).
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("editor-config").textContent);
  const root = document.getElementById("yasgui");
  if (typeof Yasgui === "undefined") {
    return;
  }
  registerPictureViews(config.pictures);
  const prefixBlock = Object.entries(config.prefixes)
    .map(([prefix, iri]) => `PREFIX ${prefix}: <${iri}>`)
    .join("\n");
  Yasgui.Yasqe.defaults.value = `${prefixBlock}\n\nSELECT ?project ?label WHERE {\n  ?project a ilop:Project ; rdfs:label ?label .\n}\nORDER BY ?label\n`;
  const yasgui = new Yasgui(root, {
    requestConfig: { endpoint: config.endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: () => [{ endpoint: config.endpoint }] },
    persistenceId: "ilo-partnerships-kg-editor",
    yasqe: { autocompleters: ["prefixes", "variables"] },
  });
  const byName = new Map(config.queries.map((query) => [query.name, query]));

  function open(name) {
    const query = byName.get(name);
    if (!query) {
      return;
    }
    const tab = yasgui.addTab(true, { name: query.title, requestConfig: { endpoint: config.endpoint, method: "POST" } });
    tab.setQuery(query.text);
    tab.show();
  }

  for (const button of document.querySelectorAll("button.example")) {
    button.addEventListener("click", () => open(button.dataset.query));
  }
  const wanted = new URLSearchParams(window.location.search).get("example");
  if (wanted) {
    open(wanted);
  }
  window.iloEditor = { yasgui, open };

  // The explorer's pictures as result views of any SELECT whose columns fit (views.js decides): a column of
  // countries -> map; date columns -> timeline; two IRI columns -> network. The table stays the default view.
  function registerPictureViews(pictures) {
    if (typeof window.IloViews === "undefined") {
      return;
    }
    const views = { map: ["Map", "⊕"], timeline: ["Timeline", "═"], network: ["Network", "⋈"] };
    for (const [kind, [label, icon]] of Object.entries(views)) {
      Yasgui.Yasr.registerPlugin(kind, class {
        constructor(yasr) {
          this.yasr = yasr;
          this.label = label;
          this.priority = 1;
        }

        columns() {
          const results = this.yasr.results;
          if (!results || results.getType() !== "json") {
            return null;
          }
          const variables = results.getVariables() || [];
          const rows = results.getBindings() || [];
          const fit = rows.length ? window.IloViews.fit(variables, rows, pictures.countries)[kind] : null;
          return fit ? { variables, rows, fit } : null;
        }

        canHandleResults() {
          return this.columns() !== null;
        }

        async draw() {
          const { variables, rows, fit } = this.columns();
          const holder = document.createElement("div");
          holder.className = `picture-holder editor-${kind}`;
          this.yasr.resultsEl.appendChild(holder);
          const adapted = window.IloViews.adapt(kind, fit, variables, rows, pictures.countries);
          await window.IloViews.render(holder, kind, adapted, { ...pictures, generic: true, measureName: fit.measure });
        }

        getIcon() {
          const icon = document.createElement("span");
          icon.setAttribute("aria-hidden", "true");
          icon.textContent = views[kind][1];
          return icon;
        }
      });
    }
  }
})();
