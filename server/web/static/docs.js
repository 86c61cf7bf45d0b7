// The API reference: Swagger UI from this server's own copy, reading this server's OpenAPI
// document. A file of its own (not an inline script) so that the content security policy can
// forbid inline scripts everywhere.
(function () {
  "use strict";
  const root = document.getElementById("swagger-ui");
  if (typeof SwaggerUIBundle === "undefined") {
    return;
  }
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapi,
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    layout: "BaseLayout",
  });
})();
