// A bot's first calls with the packed @genesis/gateway-client, compiled with
// tsc --strict: create a type and an item, search, then the errors a client
// handles (404, 400 with field violations, 429 with Retry-After).
// Environment: GW and GW_LIMITED (a gateway with a low --rate_limit), TOKEN.
// Prints `ok - ...` / `not ok - ...`; exits 1 when a check fails.
import {
  createGenesisClient,
  fieldViolations,
  retryAfterSeconds,
  type components,
} from "@genesis/gateway-client";

declare const process: { env: Record<string, string | undefined>; exitCode?: number };

type Item = components["schemas"]["genesis.catalog.v1.Item"];

let failed = 0;
function check(desc: string, ok: boolean, diag?: unknown): void {
  console.log(`${ok ? "ok" : "not ok"} - ${desc}`);
  if (!ok) {
    failed++;
    if (diag !== undefined) console.log(`#   ${JSON.stringify(diag)}`);
  }
}

const client = createGenesisClient({ baseUrl: process.env.GW!, token: process.env.TOKEN! });

const type = await client.POST("/v1/types", {
  params: { query: { itemTypeId: "lead" } },
  body: {
    displayName: "Lead",
    attributes: [{ name: "city", kind: "ATTRIBUTE_KIND_STRING", required: true }],
  },
});
check("POST /v1/types creates types/lead", type.data?.name === "types/lead", type.error);

const created = await client.POST("/v1/items", {
  body: { type: "lead", title: "Apartamento na praia", attributes: { city: "Recife" } },
});
const item: Item | undefined = created.data;
check("POST /v1/items creates an item", item?.name?.startsWith("items/") === true, created.error);
const id = item?.name?.slice("items/".length) ?? "";

const read = await client.GET("/v1/items/{item}", { params: { path: { item: id } } });
check("GET /v1/items/{item} reads it back", read.data?.title === "Apartamento na praia", read.error);

const found = await client.GET("/v1/items:search", { params: { query: { query: "praia" } } });
check(
  "GET /v1/items:search finds it",
  (found.data?.results ?? []).some((r) => r.item?.name === item?.name),
  found.data ?? found.error,
);

const missing = await client.GET("/v1/items/{item}", { params: { path: { item: "no-such-item" } } });
check(
  "a missing item is a 404 with a google.rpc.Status (NOT_FOUND)",
  missing.response.status === 404 && missing.error?.code === 5,
  missing.error,
);

// The title is required (the type says so); an empty one is refused by the service.
const invalid = await client.POST("/v1/items", {
  body: { type: "lead", title: "", attributes: { city: "Recife" } },
});
const violations = fieldViolations(invalid.error);
check(
  "an item with an empty title is a 400 naming item.title in its field violations",
  invalid.response.status === 400 && violations.some((v) => v.field === "item.title"),
  invalid.error,
);

// The limited gateway allows one call a minute per caller.
const limited = createGenesisClient({ baseUrl: process.env.GW_LIMITED!, token: process.env.TOKEN! });
let refused: { error?: { code?: number }; response: Response } | undefined;
for (let i = 0; i < 5 && refused === undefined; i++) {
  const r = await limited.GET("/v1/types", {});
  if (r.response.status === 429) refused = r;
}
check(
  "over the rate limit: 429 RESOURCE_EXHAUSTED with Retry-After",
  refused !== undefined && refused.error?.code === 8 && (retryAfterSeconds(refused.response) ?? 0) >= 1,
  refused?.error,
);
check(
  "... and RateLimit-Remaining 0",
  refused?.response.headers.get("RateLimit-Remaining") === "0",
  refused ? Object.fromEntries(refused.response.headers.entries()) : undefined,
);

process.exitCode = failed === 0 ? 0 : 1;
