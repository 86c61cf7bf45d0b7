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
})();
