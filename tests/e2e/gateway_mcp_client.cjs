// Drives genesis-gateway's /mcp endpoint with the official MCP TypeScript SDK
// (@modelcontextprotocol/sdk, Streamable HTTP client), as an agent would:
// initialize, tools/list page by page, tools/call on the catalog and the LLM
// router, a tool error, an unknown tool, an unauthenticated client, and the
// end of the session. Prints TAP-like lines (`ok - ...` / `not ok - ...`) and
// exits 1 when a check fails.
// Environment: GW (the gateway's base URL), TOKEN (a JWT that may write the
// catalog and the router), MCP_SDK_MODULE (the package dir).
'use strict';
const sdk = process.env.MCP_SDK_MODULE;
const {Client} = require(`${sdk}/dist/cjs/client/index.js`);
const {StreamableHTTPClientTransport} = require(`${sdk}/dist/cjs/client/streamableHttp.js`);
const {AjvJsonSchemaValidator} = require(`${sdk}/dist/cjs/validation/ajv-provider.js`);

let failed = 0;
function check(desc, ok, diag) {
  if (ok) {
    console.log(`ok - ${desc}`);
  } else {
    failed++;
    console.log(`not ok - ${desc}`);
    if (diag !== undefined) console.log(`#   ${JSON.stringify(diag).slice(0, 1500)}`);
  }
}

async function thrown(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return e;
  }
}

function connect(token) {
  const url = new URL(`${process.env.GW}/mcp`);
  const headers = token ? {Authorization: `Bearer ${token}`} : {};
  const transport = new StreamableHTTPClientTransport(url, {requestInit: {headers}});
  const client = new Client({name: 'genesis-e2e', version: '1.0.0'});
  return {client, transport};
}

async function main() {
  const {client, transport} = connect(process.env.TOKEN);
  await client.connect(transport);
  check('initialize: the server names itself', client.getServerVersion()?.name === 'genesis-gateway',
        client.getServerVersion());
  check('initialize: tools capability', client.getServerCapabilities()?.tools !== undefined,
        client.getServerCapabilities());
  check('initialize: a session id', typeof transport.sessionId === 'string' &&
            transport.sessionId.length >= 16, transport.sessionId);
  check('initialize: 2025-11-25 negotiated', transport.protocolVersion === '2025-11-25',
        transport.protocolVersion);

  // tools/list, every page.
  const tools = [];
  let cursor;
  let pages = 0;
  do {
    const page = await client.listTools(cursor ? {cursor} : {});
    tools.push(...page.tools);
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 50);
  const byName = new Map(tools.map((t) => [t.name, t]));
  check('tools/list: more than one page', pages > 1, pages);
  check('tools/list: no name twice', byName.size === tools.length, tools.length);
  for (const name of ['catalog_CreateItemType', 'catalog_CreateItem', 'catalog_GetItem',
                      'catalog_SearchItems', 'llmrouter_Complete']) {
    check(`tools/list: ${name}`, byName.has(name), [...byName.keys()]);
  }
  check('tools/list: no streaming RPC', !byName.has('llmrouter_StreamComplete'));
  const createItem = byName.get('catalog_CreateItem');
  check('tools/list: CreateItem needs item, described from the proto comments',
        createItem?.inputSchema?.required?.includes('item') &&
            /Creates an item/.test(createItem?.description),
        createItem);
  check('tools/list: SearchItems is read-only', byName.get('catalog_SearchItems')?.annotations
            ?.readOnlyHint === true, byName.get('catalog_SearchItems')?.annotations);
  check('tools/list: DeleteItem is destructive',
        byName.get('catalog_DeleteItem')?.annotations?.destructiveHint === true);
  // The SDK checks structuredContent against the outputSchema of the last page it listed
  // only; every result below is checked against its tool's schema here.
  const ajv = new AjvJsonSchemaValidator();
  const matches = (name, result) => {
    const schema = byName.get(name)?.outputSchema;
    const verdict = schema ? ajv.getValidator(schema)(result.structuredContent) : {valid: false};
    check(`${name}: structuredContent matches the outputSchema`, verdict.valid,
          verdict.errorMessage || 'no outputSchema');
  };

  // tools/call on the catalog: the SDK checks each structuredContent against the outputSchema.
  const type = await client.callTool({name: 'catalog_CreateItemType', arguments: {
    itemTypeId: 'mcplead',
    itemType: {displayName: 'Lead', attributes: [
      {name: 'city', kind: 'ATTRIBUTE_KIND_STRING', required: true}]},
  }});
  check('CreateItemType: the new type', !type.isError && type.structuredContent?.name === 'types/mcplead',
        type);
  const created = await client.callTool({name: 'catalog_CreateItem', arguments: {
    item: {type: 'mcplead', title: 'Apartamento na praia por MCP', attributes: {city: 'Recife'}},
    requestId: 'mcp-e2e-1',
  }});
  const item = created.structuredContent;
  matches('catalog_CreateItemType', type);
  matches('catalog_CreateItem', created);
  check('CreateItem: an item named items/...', !created.isError && /^items\//.test(item?.name),
        created);
  check('CreateItem: the same JSON as a text block',
        created.content?.[0]?.type === 'text' &&
            JSON.stringify(JSON.parse(created.content[0].text)) === JSON.stringify(item),
        created.content);
  const got = await client.callTool({name: 'catalog_GetItem', arguments: {name: item?.name}});
  check('GetItem: the item', got.structuredContent?.title === 'Apartamento na praia por MCP' &&
            got.structuredContent?.attributes?.city === 'Recife', got);
  const found = await client.callTool({name: 'catalog_SearchItems',
                                       arguments: {query: 'apartamento praia', pageSize: 5}});
  const names = (found.structuredContent?.results || []).map((r) => r.item?.name);
  check('SearchItems: finds it', names.includes(item?.name), found);
  matches('catalog_GetItem', got);
  matches('catalog_SearchItems', found);

  // The LLM router, against the provider simulator.
  const answer = await client.callTool({name: 'llmrouter_Complete', arguments: {
    model: 'sim-local', messages: [{role: 'ROLE_USER', content: 'hello through mcp'}],
  }});
  check('Complete: the simulator echoes', !answer.isError &&
            answer.structuredContent?.text === 'echo: hello through mcp', answer);
  matches('llmrouter_Complete', answer);

  // Errors: the service's message and field violations as a tool error.
  const bad = await client.callTool({name: 'catalog_CreateItem',
                                     arguments: {item: {type: 'mcplead'}}});
  const badText = bad.content?.[0]?.text || '';
  check('bad input: isError with INVALID_ARGUMENT and the field',
        bad.isError === true && /INVALID_ARGUMENT/.test(badText) && /title/.test(badText), bad);
  const wrong = await client.callTool({name: 'catalog_GetItem', arguments: {nmae: 'items/x'}});
  check('unknown argument: isError naming it', wrong.isError === true &&
            /nmae/.test(wrong.content?.[0]?.text || ''), wrong);
  const missing = await client.callTool({name: 'catalog_GetItem',
                                         arguments: {name: 'items/00000000-0000-0000-0000-000000000000'}});
  check('not found: isError with NOT_FOUND', missing.isError === true &&
            /NOT_FOUND/.test(missing.content?.[0]?.text || ''), missing);
  const unknown = await thrown(client.callTool({name: 'catalog_NoSuchTool', arguments: {}}));
  check('unknown tool: a JSON-RPC error -32602', unknown && unknown.code === -32602,
        unknown && {code: unknown.code, message: unknown.message});

  // No credential: refused at HTTP as REST refuses it.
  const anonymous = connect('');
  const refused = await thrown(anonymous.client.connect(anonymous.transport));
  check('unauthenticated: refused with 401', refused && refused.code === 401,
        refused && {code: refused.code, message: refused.message});

  // The end of the session: DELETE, then the id is unknown (404).
  const session = transport.sessionId;
  await transport.terminateSession();
  const after = await fetch(`${process.env.GW}/mcp`, {method: 'POST', headers: {
    'Authorization': `Bearer ${process.env.TOKEN}`, 'Content-Type': 'application/json',
    'Accept': 'application/json, text/event-stream', 'Mcp-Session-Id': session,
    'MCP-Protocol-Version': '2025-11-25'}, body: JSON.stringify({jsonrpc: '2.0', id: 1, method: 'ping'})});
  check('terminated session: 404', after.status === 404, after.status);
  await client.close();
}

main().then(() => process.exit(failed ? 1 : 0), (e) => {
  console.log(`not ok - the client ran to the end`);
  console.log(`#   ${e && e.stack}`);
  process.exit(1);
});
