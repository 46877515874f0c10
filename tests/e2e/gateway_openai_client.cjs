// Drives genesis-gateway's OpenAI-compatible front door with the official
// `openai` npm SDK, as an application would. Prints TAP-like lines
// (`ok - ...` / `not ok - ...`) and exits 1 when a check fails.
// Environment: GW (the gateway's base URL), TOKEN (a JWT with a role that may
// write llmrouter), VIEWER_TOKEN (read-only), OPENAI_MODULE (the package dir).
'use strict';
const OpenAI = require(process.env.OPENAI_MODULE);

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

// The error an SDK call throws, or null when it succeeds.
async function thrown(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return e;
  }
}

async function main() {
  let e;
  const client = new OpenAI({baseURL: process.env.GW + '/v1', apiKey: process.env.TOKEN,
                             maxRetries: 0, timeout: 30000});
  const prompt = 'hello through the openai front door';
  const want = `echo: ${prompt}`;

  // Plain completion on a named model.
  const plain = await client.chat.completions.create({
    model: 'sim-local',
    messages: [{role: 'system', content: 'Be brief.'}, {role: 'user', content: prompt}],
    max_tokens: 64,
    temperature: 0.2,
    user: 'e2e-user',
  });
  check('plain: object is chat.completion', plain.object === 'chat.completion', plain);
  check('plain: id starts with chatcmpl-', /^chatcmpl-/.test(plain.id), plain.id);
  check('plain: model is the one asked for', plain.model === 'sim-local', plain.model);
  check('plain: created is a recent unix time',
        Math.abs(plain.created - Date.now() / 1000) < 120, plain.created);
  check('plain: one choice, assistant message with the answer',
        plain.choices.length === 1 && plain.choices[0].index === 0 &&
            plain.choices[0].message.role === 'assistant' &&
            plain.choices[0].message.content === want,
        plain.choices);
  check('plain: finish_reason stop', plain.choices[0].finish_reason === 'stop', plain.choices[0]);
  const u = plain.usage;
  check('plain: usage adds up', u.prompt_tokens > 0 && u.completion_tokens > 0 &&
            u.total_tokens === u.prompt_tokens + u.completion_tokens, u);

  // Content as an array of text parts, model chosen by the router, P0 via a header.
  const auto = await client.chat.completions.create(
      {model: 'auto', messages: [{role: 'user', content: [{type: 'text', text: prompt}]}]},
      {headers: {'X-Genesis-Sensitive': 'true'}});
  check('auto + X-Genesis-Sensitive: a local model answered (P0)',
        auto.model === 'sim-local' && auto.genesis && auto.genesis.sensitive === true, auto);

  // Streaming.
  const stream = await client.chat.completions.create({
    model: 'sim-local',
    messages: [{role: 'user', content: prompt}],
    stream: true,
    stream_options: {include_usage: true},
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const text = chunks.map((c) => (c.choices[0] && c.choices[0].delta.content) || '').join('');
  check('stream: several chunks', chunks.length >= 3, chunks.length);
  check('stream: every chunk is chat.completion.chunk with the same id',
        chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === chunks[0].id), chunks);
  check('stream: deltas concatenate to the answer', text === want, text);
  check('stream: the first delta has the assistant role',
        chunks[0].choices[0].delta.role === 'assistant', chunks[0]);
  const last = chunks.filter((c) => c.choices.length > 0).pop();
  check('stream: the last choice finishes with stop', last.choices[0].finish_reason === 'stop',
        last);
  const usage = chunks[chunks.length - 1];
  check('stream: include_usage adds a usage chunk without choices',
        usage.choices.length === 0 && usage.usage.total_tokens > 0, usage);

  // Function calling: the simulator calls the first declared tool with
  // arguments from its schema's required properties, then answers from the
  // tool's result.
  const tools = [{
    type: 'function',
    function: {
      name: 'get_order',
      description: 'Looks up an order by its number.',
      parameters: {type: 'object', properties: {order_id: {type: 'string'}},
                   required: ['order_id']},
    },
  }, {type: 'function', function: {name: 'ping', parameters: {type: 'object', properties: {}}}}];
  const ask = [{role: 'user', content: 'where is my order?'}];
  const called = await client.chat.completions.create({model: 'sim-gpt-4o', messages: ask, tools});
  const calls = called.choices[0].message.tool_calls || [];
  check('tools: finish_reason tool_calls', called.choices[0].finish_reason === 'tool_calls',
        called.choices[0]);
  check('tools: one call of get_order with JSON arguments from its schema',
        calls.length === 1 && calls[0].type === 'function' && calls[0].function.name === 'get_order' &&
            JSON.parse(calls[0].function.arguments).order_id === 'sample' && calls[0].id.length > 0,
        calls);
  check('tools: content is null when the model only called tools',
        called.choices[0].message.content === null, called.choices[0].message);
  const answered = await client.chat.completions.create({
    model: 'sim-gpt-4o',
    tools,
    messages: [...ask, called.choices[0].message,
               {role: 'tool', tool_call_id: calls[0] && calls[0].id, content: '{"status":"shipped"}'}],
  });
  check('tools: after the tool result the model answers text',
        answered.choices[0].finish_reason === 'stop' &&
            /shipped/.test(answered.choices[0].message.content || ''),
        answered.choices[0]);
  const named = await client.chat.completions.create({
    model: 'sim-claude-sonnet', messages: ask, tools,
    tool_choice: {type: 'function', function: {name: 'ping'}},
  });
  check('tools: a named tool_choice is honoured (Anthropic protocol behind)',
        (named.choices[0].message.tool_calls || []).map((c) => c.function.name).join() === 'ping',
        named.choices[0]);

  // A streamed tool call, accumulated by index as the SDK documents.
  const toolStream = await client.chat.completions.create(
      {model: 'sim-gemini-flash', messages: ask, tools, stream: true});
  const streamedCalls = [];
  let streamFinish = null;
  let streamText = '';
  for await (const chunk of toolStream) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    streamText += choice.delta.content || '';
    for (const d of choice.delta.tool_calls || []) {
      if (!streamedCalls[d.index]) streamedCalls[d.index] = {id: '', name: '', arguments: ''};
      const c = streamedCalls[d.index];
      if (d.id) c.id = d.id;
      if (d.function && d.function.name) c.name += d.function.name;
      if (d.function && d.function.arguments) c.arguments += d.function.arguments;
    }
    if (choice.finish_reason) streamFinish = choice.finish_reason;
  }
  check('tools stream: one call of get_order rebuilt from the deltas (Gemini protocol behind)',
        streamedCalls.length === 1 && streamedCalls[0].name === 'get_order' &&
            streamedCalls[0].id.length > 0 &&
            JSON.parse(streamedCalls[0].arguments).order_id === 'sample',
        streamedCalls);
  check('tools stream: finish_reason tool_calls and no text',
        streamFinish === 'tool_calls' && streamText === '', {streamFinish, streamText});
  // The SDK's own stream helper assembles the same call.
  const runner = client.beta && client.beta.chat && client.beta.chat.completions &&
      client.beta.chat.completions.stream ?
      client.beta.chat.completions.stream({model: 'sim-gpt-4o', messages: ask, tools}) :
      (client.chat.completions.stream ?
           client.chat.completions.stream({model: 'sim-gpt-4o', messages: ask, tools}) : null);
  if (runner) {
    const final = await runner.finalChatCompletion();
    const fc = final.choices[0].message.tool_calls || [];
    check('tools stream: the SDK stream helper assembles the call',
          fc.length === 1 && fc[0].function.name === 'get_order' &&
              JSON.parse(fc[0].function.arguments).order_id === 'sample',
          final.choices[0]);
  }
  e = await thrown(client.chat.completions.create({
    model: 'sim-local', messages: ask,
    tools: [{type: 'function', function: {name: 'get order'}}],
  }));
  check('tools: a bad tool name is a BadRequestError naming tools[0].name',
        e instanceof OpenAI.BadRequestError && e.param === 'tools[0].name',
        e && {status: e.status, error: e.error});

  // Models.
  const models = [];
  for await (const m of client.models.list()) models.push(m);
  check('models.list: sim-local is listed as a model',
        models.some((m) => m.id === 'sim-local' && m.object === 'model'), models.map((m) => m.id));

  // Errors in OpenAI's shape, raised as the SDK's typed errors.
  e = await thrown(client.chat.completions.create({model: 'sim-local', messages: []}));
  check('empty messages: BadRequestError 400 naming the param',
        e instanceof OpenAI.BadRequestError && e.status === 400 && e.param === 'messages' &&
            e.type === 'invalid_request_error',
        e && {status: e.status, error: e.error});
  e = await thrown(client.chat.completions.create(
      {model: 'no-such-model', messages: [{role: 'user', content: 'x'}]}));
  check('unknown model: BadRequestError 400 with param model (the router\'s INVALID_ARGUMENT)',
        e instanceof OpenAI.BadRequestError && e.param === 'model' && /no-such-model/.test(e.message),
        e && {status: e.status, error: e.error});
  e = await thrown(client.chat.completions.create(
      {model: 'sim-local', messages: [{role: 'user', content: 'x'}], stream: true}, {
        headers: {'X-Genesis-Task': 'dancing'},
      }));
  check('bad X-Genesis-Task on a stream: 400 before any chunk',
        e instanceof OpenAI.BadRequestError && e.param === 'X-Genesis-Task',
        e && {status: e.status, error: e.error});
  const stranger = new OpenAI({baseURL: process.env.GW + '/v1', apiKey: 'not-a-token',
                               maxRetries: 0});
  e = await thrown(stranger.models.list());
  check('bad key: AuthenticationError 401',
        e instanceof OpenAI.AuthenticationError && e.status === 401,
        e && {status: e.status, error: e.error});
  const viewer = new OpenAI({baseURL: process.env.GW + '/v1',
                             apiKey: process.env.VIEWER_TOKEN, maxRetries: 0});
  e = await thrown(
      viewer.chat.completions.create({model: 'sim-local', messages: [{role: 'user', content: 'x'}]}));
  check('viewer role: PermissionDeniedError 403 (llmrouter write needed)',
        e instanceof OpenAI.PermissionDeniedError && e.status === 403,
        e && {status: e.status, error: e.error});
  const listed = await thrown(viewer.models.list());
  check('viewer role: may list models (read)', listed === null, listed && listed.message);
}

main()
    .catch((e) => {
      failed++;
      console.log(`not ok - unexpected exception: ${e && e.stack ? e.stack : e}`);
    })
    .finally(() => process.exit(failed === 0 ? 0 : 1));
