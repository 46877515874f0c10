// Calls every Genesis service once over mutual TLS with the @genesis/clients package:
//   node dist/main.js --ca CA.pem --cert ME.crt --key ME.key --catalog HOST:PORT \
//     --llm-router HOST:PORT --reasoning HOST:PORT --bot HOST:PORT --voice HOST:PORT
// (with scripts/run.sh: the addresses it prints, and .genesis/run/tls/{ca,admin}.*).
// Exits 1 when a call that should work fails, or the invalid one is not refused with its
// BadRequest.
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import {
  bot,
  callOptions,
  catalog,
  Code,
  createClient,
  createGenesisTransport,
  errorDetails,
  health,
  llmrouter,
  reasoning,
  voice,
} from "@genesis/clients";

const { values: args } = parseArgs({
  options: {
    ca: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    catalog: { type: "string" },
    "llm-router": { type: "string" },
    reasoning: { type: "string" },
    bot: { type: "string" },
    voice: { type: "string" },
    type: { type: "string", default: "lead" },
  },
});

function transport(address: string | undefined) {
  if (address === undefined) throw new Error("every service address is required");
  return createGenesisTransport({
    address,
    caFile: args.ca,
    certFile: args.cert,
    keyFile: args.key,
  });
}

const TIMEOUT_MS = 5000; // the deadline of every call
let failures = 0;

function failed(what: string, error: unknown): void {
  const d = errorDetails(error);
  console.log(`${what} failed: ${Code[d.code]}: ${d.message}`);
  failures++;
}

// Catalog: a type, an item of it (idempotent with requestId), the item read back.
const catalogClient = createClient(catalog.CatalogService, transport(args.catalog));
try {
  const type = await catalogClient.createItemType(
    {
      itemTypeId: args.type,
      itemType: {
        displayName: "Lead",
        attributes: [{ name: "city", kind: catalog.AttributeKind.STRING }],
      },
    },
    callOptions({ timeoutMs: TIMEOUT_MS, requestId: "example-create-type" }),
  );
  console.log(`catalog CreateItemType: ${type.name}`);
  let requestId = "";
  const createItem = {
    requestId: "example-item-1",
    item: { type: type.name, title: "Ana from Recife", attributes: { city: "Recife" } },
  };
  const item = await catalogClient.createItem(
    createItem,
    callOptions({ timeoutMs: TIMEOUT_MS, onRequestId: (id) => (requestId = id) }),
  );
  console.log(`catalog CreateItem: ${item.name} (x-request-id ${requestId})`);
  // A retry with the same requestId (say, after a timeout) creates nothing new.
  const again = await catalogClient.createItem(createItem, { timeoutMs: TIMEOUT_MS });
  console.log(`catalog CreateItem retried: ${again.name}`);
  const got = await catalogClient.getItem({ name: item.name }, { timeoutMs: TIMEOUT_MS });
  console.log(`catalog GetItem: ${got.name} "${got.title}" (${got.type})`);
} catch (e) {
  failed("catalog", e);
}

// An invalid call: an item with neither type nor title. Its details name the fields.
try {
  await catalogClient.createItem(
    create(catalog.CreateItemRequestSchema, { item: { body: "no type, no title" } }),
    { timeoutMs: TIMEOUT_MS },
  );
  console.log("the invalid CreateItem was accepted");
  failures++;
} catch (e) {
  const d = errorDetails(e);
  const violations = d.fieldViolations.map((v) => v.field).join(", ");
  const reason = d.errorInfo !== undefined ? `; reason ${d.errorInfo.reason}` : "";
  console.log(`catalog CreateItem (invalid): ${Code[d.code]}: ${d.message}`);
  console.log(`  BadRequest violations: ${violations}${reason}`);
  if (d.code !== Code.InvalidArgument || d.fieldViolations.length === 0) {
    console.log("the invalid CreateItem was not refused with a BadRequest");
    failures++;
  }
}

// One call on each other service, and the standard health check.
const opts = { timeoutMs: TIMEOUT_MS };
const calls: Array<[string, () => Promise<string>]> = [
  [
    "llmrouter ListModels",
    async () => {
      const router = createClient(llmrouter.LlmRouterService, transport(args["llm-router"]));
      const r = await router.listModels({}, opts);
      const first = r.models.length > 0 ? `, first ${r.models[0].name}` : "";
      return `${r.models.length} models${first}`;
    },
  ],
  [
    "reasoning ListCases",
    async () => {
      const client = createClient(reasoning.ReasoningService, transport(args.reasoning));
      const r = await client.listCases({}, opts);
      return `${r.cases.length} cases`;
    },
  ],
  [
    "bot ListBots",
    async () => {
      const r = await createClient(bot.BotManagerService, transport(args.bot)).listBots({}, opts);
      return `${r.bots.length} bots`;
    },
  ],
  [
    "voice ListVoices",
    async () => {
      const client = createClient(voice.VoiceService, transport(args.voice));
      const r = await client.listVoices({}, opts);
      const first = r.voices.length > 0 ? `, first ${r.voices[0].name}` : "";
      return `${r.voices.length} voices${first}`;
    },
  ],
  [
    "health Check",
    async () => {
      const r = await createClient(health.Health, transport(args.catalog)).check({}, opts);
      return health.HealthCheckResponse_ServingStatus[r.status];
    },
  ],
];
for (const [name, call] of calls) {
  try {
    console.log(`${name}: ${await call()}`);
  } catch (e) {
    failed(name, e);
  }
}
process.exit(failures === 0 ? 0 : 1);
