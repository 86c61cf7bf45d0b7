// The pictures of a page (the explorer, a project's or a country's page): which views to draw, from which
// canned-query URLs, as the page's JSON configuration says. The drawing itself is views.js.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("pictures-config").textContent);
  const options = { atlas: config.atlas, base: config.base, root: config.root };
  const answers = new Map();

  function rowsOf(url) {
    if (!answers.has(url)) {
      answers.set(url, window.IloViews.fetchRows(url, config.pageSize));
    }
    return answers.get(url);
  }

  for (const view of config.views) {
    const target = document.getElementById(view.target);
    const rows = view.rows ? Promise.resolve({ variables: Object.keys(view.rows[0] || {}), rows: view.rows }) : rowsOf(view.data);
    rows.then(
      (answer) => {
        // A question's own columns (such as the Projects question's) read as the picture's, where the view says how.
        const drawn = view.columns ? window.IloViews.adapt(view.kind, view.columns, answer.variables, answer.rows, {}) : answer.rows;
        return window.IloViews.render(target, view.kind, drawn, { ...options, ...view });
      },
      (error) => {
        target.setAttribute("data-state", "failed");
        const message = document.createElement("p");
        message.className = "error";
        message.setAttribute("role", "alert");
        message.textContent = `The ${view.kind}'s data could not be read: ${error.message}`;
        target.appendChild(message);
      },
    );
  }

  // The explorer's filters apply as soon as one changes (the button stays for keyboards and for no script).
  const form = document.querySelector("form.filters");
  if (form) {
    for (const select of form.querySelectorAll("select")) {
      select.addEventListener("change", () => form.requestSubmit());
    }
  }
})();
