// The submission page: check the file with /validate and show the report in the page, then
// submit it with the token. Without script the form still posts to /validate, which answers
// the same report as a page of its own.
"use strict";

(function () {
  const form = document.getElementById("submission-form");
  const status = document.getElementById("s-status");
  const result = document.getElementById("s-result");
  const submitButton = document.getElementById("s-submit");
  const token = document.getElementById("s-token");
  const replaces = document.getElementById("s-replaces");
  token.value = sessionStorage.getItem("ilokg-token") || "";

  function showReportPage(html) {
    // The answer is one of this server's own pages: take its report section.
    const page = new DOMParser().parseFromString(html, "text/html");
    const report = page.getElementById("report");
    result.replaceChildren(report ? document.importNode(report, true) : document.createTextNode("(no report)"));
    return report;
  }

  function say(text) {
    status.textContent = text;
  }

  async function check(event) {
    event.preventDefault();
    submitButton.hidden = true;
    say("Checking…");
    try {
      const id = replaces.value.trim();
      const url = form.action + (id ? "?replaces=" + encodeURIComponent(id) : "");
      const response = await fetch(url, { method: "POST", body: new FormData(form), headers: { Accept: "text/html" } });
      const report = showReportPage(await response.text());
      const conforms = response.ok && report && report.querySelector(".verdict.good");
      say(conforms ? "The file conforms: it can be submitted." : "The file needs changes before it can be submitted.");
      submitButton.hidden = !conforms;
    } catch (error) {
      say("The server could not be reached: " + error.message);
    }
  }

  async function submit() {
    if (!token.value.trim()) {
      say("Enter your token to submit.");
      token.focus();
      return;
    }
    sessionStorage.setItem("ilokg-token", token.value.trim());
    say("Submitting…");
    const id = replaces.value.trim();
    const response = await fetch(form.dataset.submissions + (id ? "/" + encodeURIComponent(id) : ""), {
      method: id ? "PUT" : "POST",
      body: new FormData(form),
      headers: { Accept: "text/html, application/json;q=0.9", Authorization: "Bearer " + token.value.trim() },
    });
    if (response.status === 201 || response.status === 200) {
      const record = await response.json();
      if (id) {
        const link = document.createElement("a");
        link.href = form.dataset.submissions + "/" + record.id;
        link.textContent = record.id;
        result.replaceChildren(document.createTextNode("Replaced the content of submission "), link);
        say("Replaced.");
        submitButton.hidden = true;
        return;
      }
      const link = document.createElement("a");
      link.href = form.dataset.submissions + "/" + record.id;
      link.textContent = record.id;
      result.replaceChildren(document.createTextNode(response.status === 201 ? "Stored as submission " : "Submitted already, as "), link);
      say(response.status === 201 ? "Submitted." : "This file was submitted already.");
      submitButton.hidden = true;
      return;
    }
    showReportPage(await response.text());
    say("Not submitted (" + response.status + ").");
  }

  form.addEventListener("submit", check);
  submitButton.addEventListener("click", () => submit().catch((error) => say("The server could not be reached: " + error.message)));
})();
