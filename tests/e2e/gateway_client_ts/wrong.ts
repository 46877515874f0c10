// Must NOT compile: the client's types come from the document, so a path
// parameter left out, a field of the wrong type and a required field left out
// (google.api.field_behavior REQUIRED) are errors.
import { createGenesisClient } from "@genesis/gateway-client";

const client = createGenesisClient({ baseUrl: "http://127.0.0.1:1" });
await client.GET("/v1/items/{item}", {});
await client.POST("/v1/items", { body: { type: "lead", title: 42 } });
await client.POST("/v1/items", { body: { type: "lead" } });
