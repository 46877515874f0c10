// The gateway's /docs page: Swagger UI on the /openapi.json beside it. No
// inline script (the page's Content-Security-Policy allows only these files).
// "Authorize" takes a JWT or an API key as the bearer token (or an API key as
// X-Api-Key); "Try it out" then calls the gateway that served the page.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    displayOperationId: false,
    displayRequestDuration: true,
    filter: true,
    validatorUrl: null,
    persistAuthorization: false,
    tryItOutEnabled: false,
  });
});
