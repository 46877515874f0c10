// A typed client of the Genesis REST gateway.
//
// `schema.ts` is generated from the gateway's /openapi.json by openapi-typescript
// (build.sh); every path, parameter, body and response of the API is a type, so a
// wrong field or a missing path parameter fails to compile. Requests go through
// openapi-fetch: `client.GET("/v1/items/{item}", { params: { path: { item } } })`
// resolves to `{ data }` on 2xx and `{ error, response }` otherwise, where `error`
// is the documented google.rpc.Status.
import createClient, { type Client, type ClientOptions } from "openapi-fetch";

import type { components, paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";

/** A google.rpc.Status: every error body of the gateway. */
export type Status = components["schemas"]["google.rpc.Status"];
/** One field at fault in a 400 (google.rpc.BadRequest.FieldViolation). */
export interface FieldViolation {
  field: string;
  description: string;
}

export interface GenesisClientOptions extends ClientOptions {
  /** The gateway, e.g. "https://api.example.com" or "http://127.0.0.1:8080". */
  baseUrl: string;
  /** A JWT or an API key (gk_<id>_<secret>), sent as `Authorization: Bearer`. */
  token?: string;
}

export type GenesisClient = Client<paths>;

/** A client of every route of the gateway, typed by its OpenAPI document. */
export function createGenesisClient(options: GenesisClientOptions): GenesisClient {
  const { token, headers, ...rest } = options;
  const merged = new Headers(headers as HeadersInit | undefined);
  if (token !== undefined) merged.set("Authorization", `Bearer ${token}`);
  return createClient<paths>({ ...rest, headers: Object.fromEntries(merged.entries()) });
}

/** The field violations of a 400's google.rpc.BadRequest detail (empty for other errors). */
export function fieldViolations(error: unknown): FieldViolation[] {
  const details = (error as { details?: unknown } | null | undefined)?.details;
  if (!Array.isArray(details)) return [];
  const out: FieldViolation[] = [];
  for (const d of details) {
    const detail = d as { "@type"?: string; fieldViolations?: unknown };
    if (!detail["@type"]?.endsWith("/google.rpc.BadRequest")) continue;
    if (!Array.isArray(detail.fieldViolations)) continue;
    for (const v of detail.fieldViolations) {
      const violation = v as { field?: unknown; description?: unknown };
      out.push({ field: String(violation.field ?? ""), description: String(violation.description ?? "") });
    }
  }
  return out;
}

/** Seconds to wait after a 429 or 503 (its Retry-After header), when the gateway said. */
export function retryAfterSeconds(response: Response): number | undefined {
  const value = response.headers.get("Retry-After");
  if (value === null) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}
