#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (corpus/<target>/seed-*).

Run from anywhere; rewrites only the seed-* files (crash reproducers,
named crash-* / regress-*, and inputs merged by bench/fuzz/run.sh are kept).
The JWT seeds are signed with throw-away keys whose public halves are in
gateway_jwt_fuzz.cc; they need python3-cryptography and are kept as they are
when it is missing.
"""
import base64, hashlib, hmac, json, os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, seeds):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        if name.startswith("seed-"):
            os.remove(os.path.join(d, name))
    for i, s in enumerate(seeds):
        if isinstance(s, str):
            s = s.encode()
        with open(os.path.join(d, "seed-%03d" % i), "wb") as f:
            f.write(s)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


# --- gateway: request targets --------------------------------------------------
write("gateway_url", [
    "/v1/items/42",
    "/v1/items?filter=labels.stage%3D%22prod%22&page_size=10",
    "/v1/items/a%2Fb?x=1&x=2&y",
    "/v1/bots/b1/conversations?pageToken=abc%3D%3D&q=caf%C3%A9+com+leite",
    "/v1/items?bad=%zz",
    "/v1/items?nul=%00",
    "/v1/%E2%82%AC?v=%F0%9F%98%80",
    "/v1/items?v=%C0%AF",            # overlong
    "/v1/items?v=%ED%A0%80",         # surrogate
    "/v1/items?v=%F4%90%80%80",      # above U+10FFFF
    "/v1/items?a=1&&b=&=c&d=%2",
    "/v1/items?t=a%09b%0D%0A",
    b"/v1/\xc3\xa9t\xc3\xa9?q=\xff",
    "/v1/items#frag?x",
    "",
    "?",
])

# --- gateway: JSON bodies ---------------------------------------------------------
write("gateway_strict_json", [
    '{"item": {"name": "items/1", "title": "Casa", "labels": {"stage": "prod"}}}',
    '{"a": 1, "a": 2}',
    '{"tags": [{"name": "x"}, {"name": "y", "name": "z"}]}',
    '[1, 2, 3,]',
    '{"a": 1,}',
    '{"a": NaN}',
    '// comment\n{}',
    '{"s": "caf\\u00e9 \\ud83d\\ude00 \\u0000"}',
    '{"s": "\\ud800"}',
    b'{"s": "\xff"}',
    '[' * 70 + ']' * 70,
    '[' * 64 + ']' * 64,
    '{"n": -0.5e-10, "m": 1E+400, "t": true, "f": false, "z": null}',
    '"just a string"',
    '  123  ',
    '{"a":{"b":{"c":[{"d":1},{"d":1,"d":2}]}}}',
    '{"\\u0061": 1, "a": 2}',
    '',
    '{"a" 1}',
])

# --- gateway: OpenAI-compatible chat requests ----------------------------------------
# A flags byte (1: an X-Genesis-Task line, 2: an X-Genesis-Sensitive line), the
# header lines, then the body.
def oa(body, task=None, sensitive=None):
    flags = (1 if task is not None else 0) | (2 if sensitive is not None else 0)
    out = bytes([0x40 | flags])
    for h in (task, sensitive):
        if h is not None:
            out += (h.encode() if isinstance(h, str) else h) + b"\n"
    return out + (body.encode() if isinstance(body, str) else body)


write("gateway_openai", [
    oa('{"model": "auto", "messages": [{"role": "user", "content": "Olá"}]}'),
    oa('{"model": "models/sim-local", "messages": [{"role": "system", "content": "Be brief."},'
       ' {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}],'
       ' "max_completion_tokens": 64, "temperature": 0.2, "stream": true,'
       ' "stream_options": {"include_usage": true}, "user": "u1"}'),
    oa('{"messages": [{"role": "developer", "content": "x"}, {"role": "assistant", "content": "y"}],'
       ' "max_tokens": 10, "n": 1, "tools": [], "response_format": {"type": "json_object"},'
       ' "genesis_task": "reasoning", "genesis_sensitive": true}'),
    oa('{"messages": [{"role": "user", "content": "x"}]}', task="summarization", sensitive="yes"),
    oa('{"messages": [{"role": "user", "content": "x"}]}', task=b"\xff\xfe", sensitive="maybe"),
    oa('{"messages": [{"role": "tool", "content": ""}, 5, {"role": "user", "content": [{"type": "image_url"}]}]}'),
    oa('{"messages": [], "model": 5, "max_tokens": 0, "temperature": 3, "stream": "yes", "n": 2,'
       ' "functions": [{}], "response_format": {"type": "xml"}, "user": 7, "genesis_task": 1,'
       ' "genesis_sensitive": "x"}'),
    oa('{"messages": [{"role": "user", "content": "x"}], "max_tokens": 18446744073709551615,'
       ' "temperature": -0.0, "user": ""}'),
    oa('{"messages": [{"role": "user", "content": "a"}], "messages": []}'),
    oa('{"messages": [{"role": "user", "content": "\\u0000\\ud83d\\ude00"}]}'),
    oa('[1]'),
    oa('{"messages": [{"role": "user", "content": "x"}],}'),
])

# --- gateway: path templates ------------------------------------------------------
write("gateway_path_template", [
    "/v1/{name=items/*}\n/v1/items/42",
    "/v1/items:search\n/v1/items:search",
    "/v1/{parent=bots/*}/conversations\n/v1/bots/b1/conversations",
    "/v1/{name=files/**}\n/v1/files/a/b%2Fc/d",
    "/v1/{item.name=items/*}:publish\n/v1/items/7:publish",
    "/v1/*/x/**/y\n/v1/a/x/b/c/y",
    "/v1/{a}/{b=**}:verb\n/v1/1/2/3:verb",
    "/v1/{a=**}/{b=**}\n/v1/x",
    "/v1/{a=*}}\n/v1/x",
    "v1/{a}\n/v1/x",
    "/v1/{}\n/v1/",
    "/v1/{a=/}\n//",
    "/v1/items/{id}\n/v1/items/%E2%82%AC",
    "/v1/items/{id}\n/v1/items/%zz",
    "/:\n/:",
])

# --- gateway: JWT -----------------------------------------------------------------
SECRET = b"fuzz-secret-0123456789abcdef0123456789"
JWKS = open(os.path.join(HERE, "gateway_jwt_fuzz.cc")).read()
claims = {"sub": "user-1", "roles": ["admin"], "iss": "genesis",
          "iat": 1780000000, "exp": 1790000000}


def hs(header, payload, key=SECRET):
    si = b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(payload).encode())
    return si + "." + b64u(hmac.new(key, si.encode(), hashlib.sha256).digest())


jwt = [
    "t" + hs({"alg": "HS256", "typ": "JWT"}, claims),
    "t" + hs({"alg": "HS256", "kid": "k1"}, dict(claims, aud=["a", "b"], nbf=1780000000)),
    "t" + hs({"alg": "HS256"}, dict(claims, exp=1700000000)),            # expired
    "t" + hs({"alg": "HS256"}, dict(claims, iss="other")),               # wrong issuer
    "t" + hs({"alg": "HS256"}, claims, key=b"wrong"),                    # wrong key
    "t" + hs({"alg": "none"}, claims).rsplit(".", 1)[0] + ".",
    "t" + hs({"alg": "RS256", "kid": "rsa1"}, claims),                  # confusion
    "t" + b64u(b'{"alg":"HS256"}') + "." + b64u(b"not json") + ".AAAA",
    "t" + hs({"alg": "HS256"}, dict(claims, roles="admin", exp="soon")),
    "ta.b.c.d",
    "t...",
    "k" + '{"keys": [{"kty": "RSA", "kid": "a", "n": "AQAB", "e": "AQAB"}]}',
    "k" + '{"keys": [{"kty": "EC", "kid": "b", "crv": "P-256", "x": "AA", "y": "AA"}]}',
    "k" + '{"keys": [{"kty": "oct", "kid": "c", "k": "c2VjcmV0"}, {"kty": "RSA", "use": "enc"}]}',
    "k" + JWKS[JWKS.index('{"keys"'):JWKS.index(']})";') + 2],
    "b" + "aGVsbG8gd29ybGQ",
    "b" + "aGVsbG8=",
    "b" + "a-_b==",
]
try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
    keys = os.environ.get("GENESIS_FUZZ_KEYS")  # a directory with rsa.pem and ec.pem
    if keys:
        rsa_key = serialization.load_pem_private_key(open(os.path.join(keys, "rsa.pem"), "rb").read(), None)
        ec_key = serialization.load_pem_private_key(open(os.path.join(keys, "ec.pem"), "rb").read(), None)
        for alg, kid, sign in (
                ("RS256", "rsa1", lambda si: rsa_key.sign(si, padding.PKCS1v15(), hashes.SHA256())),
                ("ES256", "ec1", lambda si: b"".join(
                    v.to_bytes(32, "big") for v in utils.decode_dss_signature(
                        ec_key.sign(si, ec.ECDSA(hashes.SHA256())))))):
            si = (b64u(json.dumps({"alg": alg, "kid": kid}).encode()) + "." +
                  b64u(json.dumps(claims).encode())).encode()
            jwt.append("t" + si.decode() + "." + b64u(sign(si)))
except ImportError:
    pass
if os.environ.get("GENESIS_FUZZ_KEYS") or not os.path.isdir(os.path.join(CORPUS, "gateway_jwt")):
    write("gateway_jwt", jwt)
else:
    print("gateway_jwt: kept (set GENESIS_FUZZ_KEYS to re-sign the RS256/ES256 seeds)", file=sys.stderr)

# --- bot manager: webhooks ----------------------------------------------------------
wa = {"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [{
    "field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": "1234"},
        "contacts": [{"wa_id": "5511999990000", "profile": {"name": "Sim"}}],
        "messages": [{"from": "5511999990000", "id": "wamid.A1", "timestamp": "1780000000",
                      "type": "text", "text": {"body": "olá"}}]}}]}]}
wa_button = json.loads(json.dumps(wa))
wa_button["entry"][0]["changes"][0]["value"]["messages"] = [
    {"from": "55", "id": "wamid.B", "type": "button", "button": {"text": "Sim", "payload": "yes"}},
    {"from": "55", "id": "wamid.I", "type": "interactive",
     "interactive": {"type": "button_reply", "button_reply": {"id": "b1", "title": "Ok"}}},
    {"from": "55", "id": "wamid.C", "type": "image", "image": {"id": "m1"}}]
wa_status = {"entry": [{"changes": [{"value": {"statuses": [
    {"id": "wamid.S", "status": "read"},
    {"id": "wamid.F", "status": "failed", "errors": [{"code": 131047, "title": "Re-engagement message"}]}]}}]}]}
tg = {"update_id": 42, "message": {"message_id": 42, "date": 1780000000,
      "from": {"id": 7, "is_bot": False, "first_name": "Sim"},
      "chat": {"id": -100, "type": "group"}, "text": "oi"}}
tg_edit = {"update_id": 43, "edited_message": {"from": {"id": 7}, "chat": {"id": "@canal"}, "text": "editado"}}
mm = {"token": "mm-token", "team_id": "t", "channel_id": "c1", "user_id": "u1", "user_name": "sim",
      "post_id": "p1", "text": "@genesis qual o status?", "trigger_word": "@genesis"}
body = json.dumps(wa)
write("bot_webhooks", [
    "w" + body,
    "w" + json.dumps(wa_button),
    "w" + json.dumps(wa_status),
    "w" + '{"object":"whatsapp_business_account","entry":[]}',
    "w" + '{"entry":[{"changes":[{"value":{"messages":[{"from":"1"}]}}]}]}',
    "w" + '{"entry": 3}',
    "w" + body.replace("olá", "a\\u0000b\\udc00"),
    b"w" + body.encode().replace("olá".encode(), b"\xff\xfe"),
    "t" + json.dumps(tg),
    "t" + json.dumps(tg_edit),
    "t" + '{"update_id": 43, "message": {"chat": {"id": 1}}}',
    "t" + '{"message": {}}',
    "t" + '{"update_id": 9, "message": {"from": {"id": "7\\u0000"}, "chat": {"id": 7}, "text": "a"}}',
    "t" + '{"update_id": 1e400, "message": {"from": {"id": 1.5}, "chat": {"id": [1]}, "text": 3}}',
    "m" + json.dumps(mm),
    "m" + '{"token":"t","channel_id":"c","user_id":"u","text":"x"}',
    "f" + "token=mm-token&team_id=t&channel_id=c1&user_id=u1&trigger_id=tr1&command=%2Fgenesis"
          "&text=%40genesis+qual+o+status+da+sprint%3F",
    "f" + "token=tok&channel_id=c1&user_id=u1&post_id=p&text=%00%ff%zz&text=dup",
    "s" + "sha256=" + hmac.new(b"fuzz-app-secret", body.encode(), hashlib.sha256).hexdigest() + "\n" + body,
    "s" + "sha256=" + "0" * 64 + "\n" + body,
    "s" + "SHA256=abc\n{}",
    "x" + "a=1&b=%20&c&=d&e=%",
])

# --- bot manager: what a channel answers to a send --------------------------------------
# Byte 0: channel (0 WhatsApp, 1 Telegram, 2 Mattermost); byte 1: HTTP status
# index (0: 200, 3: 400, 8: 429, 9: 500); then the body.
def send(channel, status, body):
    return bytes([channel, status]) + (body.encode() if isinstance(body, str) else body)


write("bot_channel_send", [
    send(0, 0, '{"messaging_product": "whatsapp", "contacts": [{"input": "5511", "wa_id": "5511"}],'
               ' "messages": [{"id": "wamid.HBgM"}]}'),
    send(1, 0, '{"ok": true, "result": {"message_id": 42, "chat": {"id": 7}, "text": "Olá"}}'),
    send(2, 1, '{"id": "p1x", "channel_id": "c1", "message": "Olá"}'),
    send(0, 0, '{"messages": []}'),
    send(1, 0, '{"ok": true, "result": {"message_id": "42"}}'),
    send(2, 0, 'not json'),
    send(0, 3, '{"error": {"message": "(#100) Invalid parameter", "code": 100}}'),
    send(1, 8, '{"ok": false, "error_code": 429, "parameters": {"retry_after": 3}}'),
    send(2, 9, b"<html>\xff bad gateway</html>"),
    send(0, 4, ""),
])

# --- llm router: SSE streams of each provider -------------------------------------
openai_stream = "".join(
    "data: " + json.dumps({"id": "c1", "object": "chat.completion.chunk", "choices": [
        {"index": 0, "delta": {"content": w}, "finish_reason": None}]}) + "\n\n"
    for w in ("Olá", " mundo")) + "data: " + json.dumps(
        {"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2}}) + "\n\ndata: [DONE]\n\n"
anthropic_stream = (
    "event: message_start\ndata: " + json.dumps({"type": "message_start", "message": {
        "usage": {"input_tokens": 5, "output_tokens": 1}}}) + "\n\n"
    "event: content_block_delta\ndata: " + json.dumps({"type": "content_block_delta", "index": 0,
        "delta": {"type": "text_delta", "text": "Olá"}}) + "\n\n"
    ": ping\n\n"
    "event: message_delta\ndata: " + json.dumps({"type": "message_delta",
        "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}) + "\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
gemini_stream = "".join(
    "data: " + json.dumps({"candidates": [{"content": {"role": "model", "parts": [{"text": w}]},
                                           "index": 0}]}) + "\r\n\r\n" for w in ("Olá", " mundo"))
write("llm_sse", [
    "\x07" + openai_stream,
    "\x01" + anthropic_stream,
    "\x10" + gemini_stream,
    "\x03" + "data: a\ndata: b\n\ndata:c\r\ndata:  d\r\n\r\nevent: x\n\n",
    "\x05" + "data: no blank line at the end",
    "\x02" + "id: 1\nretry: 10\n:comment\nevent:e\ndata\n\n",
    "\x09" + "data: a\r\rdata: b\r\n\n",
    "\x00" + "\n\n\n\r\n",
])

# --- catalog: filters and search queries ----------------------------------------------
write("catalog_query", [
    'flabels.stage = "prod"',
    'fattributes.price >= 100.5 AND attributes.active = true AND labels.tier != "free"',
    'fattributes.tags:"vip"',
    'flabels.stage:*',
    'fattributes.rooms < 3 AND attributes.area > -1e3',
    'fattributes.name = bare_word',
    'fattributes.x = "unterminated',
    'fattributes.x = "esc \\" \\\\ \\u00e9"',
    'fcolor = "red"',
    'flabels. = "x"',
    'fattributes.a = 1 AND',
    'fattributes.a == 1',
    'flabels.k = "a\x00b"',
    'fattributes.n = 1e999',
    'qcasa praia',
    'q"razão social"',
    'qcontrat*',
    'q-alugado',
    'qcasa OR apartamento',
    "q'; DROP TABLE x; -- & | ! <-> :* \\",
    'q"unterminated phrase',
    'q- * OR OR "" **',
    'qa\x00b',
    'q',
])

# --- reasoning: a model's answers to the LLM assist prompts ------------------------------
# First byte: 'r' ratings, a digit the hypotheses' max, anything else hypotheses (max 5).
hyps = json.dumps({"hypotheses": [
    {"statement": "A competitor's campaign", "prior": 0.5, "explanation": "same week"},
    {"statement": "Tracking broke"}]})
write("reasoning_answers", [
    "h" + hyps,
    "2Here are my suggestions:\n```json\n" + hyps + "\n```\nI hope this helps {really}.",
    "hSure { here it is: {\"hypotheses\":[{\"statement\":\"A bug in {signup} form\"}]} -- done",
    'h[{"statement":"Bare array"},"not an object",7,null]',
    '1{"hypotheses":[{"statement":"  seasonality "},{"statement":"x","prior":-1},'
    '{"statement":"y","prior":"high"},{"statement":42},{"prior":1},{"statement":"z","prior":1e999}]}',
    'h{"hypotheses":[{"statement":"a\\u0000b"},{"statement":"ok","explanation":"x\\u0000y"}]}',
    'h{"hypotheses":[{"statement":"\\ud83d\\ude00 \\u00e9","prior":1.7976931348623157e308,'
    '"explanation":null}]}',
    'h{"hypotheses":"none"}',
    'h{"hypotheses":[[[[{"statement":[{"a":{}}]}]]]]}',
    "h```json\n{\"hypotheses\": [\n```",
    "hI cannot help with that.",
    "r```\n" + json.dumps({"ratings": [
        {"hypothesis": "h1", "likelihood": 0.9, "explanation": "same day"},
        {"hypothesis": "cases/c1/hypotheses/h2", "rating": "inconsistent_weak"},
        {"hypothesis": "H3", "rating": "ACH_RATING_NEUTRAL"}]}) + "\n```",
    'rThe ratings: {"ratings":[{"hypothesis":"h1","likelihood":1.5},'
    '{"hypothesis":"h1","likelihood":-0.1},{"hypothesis":"h1","likelihood":"0.5"},'
    '{"hypothesis":"h9","likelihood":0.5},{"hypothesis":"cases/other/hypotheses/h1","likelihood":0.5},'
    '{"hypothesis":"h1","likelihood":0.5,"rating":"NEUTRAL"},{"hypothesis":"h1"},'
    '{"hypothesis":"h1","rating":"MAYBE"},{"likelihood":0.5},{"hypothesis":"h2","likelihood":0},'
    '{"hypothesis":"h2","likelihood":1}]} Thanks.',
    'r{"ratings":[{"hypothesis":"h1","likelihood":1e-320},{"hypothesis":" h2 ","likelihood":'
    '18446744073709551616},{"hypothesis":"h3","rating":" consistent_strong "}]}',
    'r{"ratings":[{"hypothesis":"h1","likelihood":NaN},{"hypothesis":"h2","likelihood":Infinity}]}',
    'r[{"hypothesis":"h1","likelihood":0.5,"explanation":"' + "\u00e9" * 2100 + '"}]',
    'r{"ratings":[]}',
    'r{"ratings":{"h1":0.5}} {"ratings":[{"hypothesis":"h1","rating":"NEUTRAL"}]}',
    b'r{"ratings":[{"hypothesis":"h1\xff","likelihood":0.5}]}',
    'r',
])

# --- voice: audio ---------------------------------------------------------------------


def wav(rate=16000, channels=1, bits=16, fmt=1, frames=8, data_size=None, extra=b"", order="fd"):
    samples = b"".join(struct.pack("<h", (i * 997) % 65536 - 32768) for i in range(frames * channels))
    fmt_chunk = b"fmt " + struct.pack("<IHHIIHH", 16, fmt, channels, rate,
                                      rate * channels * bits // 8, channels * bits // 8, bits)
    data_chunk = b"data" + struct.pack("<I", len(samples) if data_size is None else data_size) + samples
    chunks = {"f": fmt_chunk, "d": data_chunk, "x": extra}
    body = b"WAVE" + b"".join(chunks[c] for c in order)
    return b"RIFF" + struct.pack("<I", len(body)) + body


list_chunk = b"LIST" + struct.pack("<I", 5) + b"INFOx" + b"\x00"
write("voice_audio", [
    b"w" + wav(),
    b"w" + wav(rate=8000, channels=2),
    b"w" + wav(rate=48000, frames=3, order="fxd", extra=list_chunk),
    b"w" + wav(data_size=0),
    b"w" + wav(data_size=0xFFFFFFFF),
    b"w" + wav(data_size=1000),
    b"w" + wav(bits=8),
    b"w" + wav(fmt=3),
    b"w" + wav(rate=96000),
    b"w" + wav(rate=8000, frames=20000),          # longer than the fuzz limit (2 s)
    b"w" + wav(order="df"),
    b"w" + wav()[:30],
    b"w" + b"RIFF\x00\x00\x00\x00WAVE",
    b"w" + wav(fmt=0xFFFE),
    b"p" + bytes(range(64)),
    b"p" + b"\x01",
    b"h" + b"audio/wav\n" + wav(),
    b"h" + b"audio/L16; rate=16000; channels=1\n" + bytes(32),
    b"h" + b"audio/L16;channels=2;rate=8000\n" + bytes(32),
    b"h" + b"audio/L16\n" + bytes(4),
    b"h" + b"text/plain\nhello",
    b"g" + wav(),
    b"g" + b"not audio",
])

# --- llm router: provider answers (llm_wire) ---------------------------------------------
# byte 0: protocol (0 OpenAI, 1 Anthropic, 2 Gemini) + 4 for a stream; byte 1: status index
# (0 = 200, 5 = 400, 6 = 401, 12 = 429, 13 = 500, 15 = 529) + 16 * (read size - 1).
openai_reply = {"id": "c1", "object": "chat.completion", "choices": [{"index": 0, "message": {
    "role": "assistant", "content": "Olá!"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}
anthropic_reply = {"id": "m1", "type": "message", "role": "assistant", "content": [
    {"type": "text", "text": "Olá"}, {"type": "text", "text": "!"}], "stop_reason": "end_turn",
    "usage": {"input_tokens": 5, "output_tokens": 2}}
gemini_reply = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Olá!"}]},
    "finishReason": "STOP", "index": 0}], "usageMetadata": {"promptTokenCount": 5,
    "candidatesTokenCount": 2, "totalTokenCount": 7}}
wire = [
    b"\x00\x00" + json.dumps(openai_reply).encode(),
    b"\x01\x00" + json.dumps(anthropic_reply).encode(),
    b"\x02\x00" + json.dumps(gemini_reply).encode(),
    b"\x04\x30" + openai_stream.encode(),
    b"\x05\x10" + anthropic_stream.encode(),
    b"\x06\x70" + gemini_stream.encode(),
    b"\x04\x00" + b"data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n",  # no [DONE]
    b"\x05\x00" + b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
    b"\x04\x00" + b"data: {\"error\":{\"message\":\"boom\"}}\n\n",
    b"\x00\x05" + b'{"error": {"message": "bad request", "type": "invalid_request_error"}}',
    b"\x01\x0c" + b'{"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}',
    b"\x02\x0f" + b'{"error": {"code": 529, "message": "overloaded", "status": "UNAVAILABLE"}}',
    b"\x00\x06" + b'{"error": "a plain string"}',
    b"\x00\x0d" + b"<html>502 Bad Gateway</html>",
    b"\x00\x00" + b'{"choices": []}',
    b"\x01\x00" + b'{"content": "not a list"}',
    b"\x02\x00" + b'{"candidates": [{"content": {"parts": [{"inlineData": {}}]}}]}',
    b"\x00\x00" + b"not json",
]
write("llm_wire", wire)

# --- voice: Wyoming frames (what a Wyoming server sends) -------------------------------------


def wy(type_, data=None, payload=b"", inline=True):
    header = {"type": type_, "version": "1.5.2"}
    extra = b""
    if data is not None:
        if inline:
            header["data"] = data
        else:
            extra = json.dumps(data).encode()
            header["data_length"] = len(extra)
    if payload:
        header["payload_length"] = len(payload)
    return json.dumps(header).encode() + b"\n" + extra + payload


info = {"asr": [{"name": "faster-whisper", "installed": True, "models": [
    {"name": "tiny", "languages": ["pt", "en", "pt-BR"]}]}],
    "tts": [{"name": "piper", "voices": [{"name": "pt_BR-faber-medium", "languages": ["pt_BR"]},
                                          {"name": "en_US-lessac", "languages": ["en_US"]}]}]}
chunk = {"rate": 16000, "width": 2, "channels": 1}
write("voice_wyoming", [
    wy("info", info, inline=False),
    wy("info", info),
    wy("transcript", {"text": "olá mundo"}),
    wy("audio-start", chunk) + wy("audio-chunk", chunk, bytes(64), inline=False) + wy("audio-stop", {}),
    wy("audio-chunk", chunk, bytes(3)),
    wy("error", {"text": "model not loaded", "code": "x"}),
    b'{"type": "audio-chunk", "payload_length": 100}\n' + bytes(10),          # cut short
    b'{"type": "x", "data_length": 5}\n[1,2]',                                # data not an object
    b'{"type": "x", "data_length": -1}\n',
    b'{"type": "x", "payload_length": 99999999}\n',
    b'{"type": 5}\n',
    b'{"type": "x"' + b" " * 5000 + b"}\n",                                  # header over the limit
    b"not json\n",
    b'{"type": "info", "data": {"asr": [{"name": 5, "models": [5, {"languages": [1, "pt"]}]}], '
    b'"tts": [{"name": "p", "voices": [{"name": "v", "languages": "pt"}, 3]}]}}\n',
    b"",
])

# --- gateway: raw HTTP/1.1 requests on one connection (gateway_http) --------------------------
H = "Host: gw\r\n"
write("gateway_http", [
    "GET /v1/items/42 HTTP/1.1\r\n" + H + "\r\n",
    "POST /v1/items HTTP/1.1\r\n" + H + "Content-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"title\":\"x\"}",
    "POST /v1/items HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\n\r\n",
    "POST /v1/items HTTP/1.1\r\n" + H + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n" + H + "\r\n",
    "POST /v1/items HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "POST /v1/items HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    "POST /v1/items HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "POST /v1/items HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "POST /v1/items HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n",
    "GET / HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "GET / HTTP/1.1\r\n" + H + "\r\nGET /2 HTTP/1.1\r\n" + H + "Connection: close\r\n\r\nGET /3 HTTP/1.1\r\n" + H + "\r\n",
    "POST / HTTP/1.1\r\n" + H + "Content-Length: 5000\r\n\r\n" + "x" * 100,
    "POST / HTTP/1.1\r\n" + H + "Content-Length: -1\r\n\r\n",
    "POST / HTTP/1.1\r\n" + H + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
    "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n" + "1\r\na\r\n" * 40 + "0\r\n\r\n",
    "POST / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n1;" + "e" * 100 + "\r\na\r\n0\r\n\r\n",
    "GET / HTTP/1.1\r\n" + H + "X-Big: " + "a" * 3000 + "\r\n\r\n",
    "GET / HTTP/1.1\n" + "Host: gw\n\n",
    "GET / HTTP/1.1\r\n" + H + "X-Folded: a\r\n b\r\n\r\n",
    "GET /\x00 HTTP/1.1\r\n" + H + "\r\n",
    "GET / HTTP/2.0\r\n" + H + "\r\n",
    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "GET / HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n",
    "GARBAGE\r\n\r\n",
    "",
])

# --- gateway: transcoding requests on the real routes (gateway_transcoder) ---------------------
write("gateway_transcoder", [
    'POST /v1/items?request_id=r1\n{"item": {"type": "types/listing", "title": "Casa", '
    '"attributes": {"price": 100, "tags": ["vip"]}, "labels": {"stage": "prod"}}}',
    'POST /v1/items\n{"type": "types/listing", "title": "Casa"}',
    'GET /v1/items/42\n',
    'GET /v1/items?filter=labels.stage%3D%22prod%22&page_size=10&pageToken=abc&show_deleted=true\n',
    'GET /v1/items?page_size=-1&page_size=2\n',
    'GET /v1/items?unknown=1\n',
    'GET /v1/items?page_size=1e99\n',
    'PATCH /v1/items/42?update_mask=title,labels\n{"title": "x", "etag": "\\"3\\""}',
    'POST /v1/items:search\n{"query": "casa praia", "filter": "attributes.price < 5", "pageSize": 5}',
    'POST /v1/items:search\n{"query": "a", "query": "b"}',
    'POST /v1/items:search\n{"query": 5}',
    'POST /v1/items/42:undelete\n{}',
    'POST /v1/cases/c1/hypotheses\n{"statement": "h", "prior": 0.5}',
    'POST /v1/cases/c1:decide\n{"hypothesis": "cases/c1/hypotheses/h1", "rationale": "r"}',
    'GET /v1/cases/c1/events?page_size=3\n',
    'POST /v1/voice:synthesize\n{"text": "olá", "voice": "pt_BR", "audioEncoding": "AUDIO_ENCODING_WAV"}',
    'POST /v1/voice:transcribe\n{"audio": {"content": "UklGRg==", "encoding": 1}, "languageCode": "pt-BR"}',
    'POST /v1/voice:transcribeWav?language_code=pt-BR\nRIFF\x00\x00\x00\x00WAVE',
    'POST /v1/bots/b1/conversations/c1:reply\n{"text": "oi", "requestId": "r"}',
    'GET /v1/bots/b1/conversations/c1\n',
    'POST /v1/webhooks/telegram/b1\n{"update_id": 1, "message": {"text": "oi"}}',
    'GET /v1/webhooks/whatsapp/b1?hub.mode=subscribe&hub.challenge=123&hub.verify_token=t\n',
    'POST /v1/llm:complete\n{"messages": [{"role": "ROLE_USER", "content": "oi"}], "maxTokens": 10, '
    '"constraints": {"maxCostUsd": 0.01}, "temperature": 1.5}',
    'PATCH /v1/llm/models/m1?updateMask=enabled\n{"enabled": false, "quality": "high"}',
    'POST /v1/budgets:set\n{"subject": "u1", "monthlyUsd": -5}',
    'GET /v1/subjects/u1/settings\n',
    'POST /v1/executions/7:recordFeedback\n{"rating": 5, "comment": "\\u0000"}',
    'POST /v1/experiments\n{"name": "e", "arms": [{"model": "m", "weight": 1}, {"model": "n", "weight": 1e308}]}',
    'GET /v1/items/%E2%82%AC%2Fx\n',
    'GET /v1/items/%00\n',
    'POST /v1/items\n{"item": {"title": "x",}}',
    'POST /v1/items\n[1,2]',
    'POST /v1/items\n',
    '!GET /v1/items/42\n\x0a\x08items/42\x12\x05title',
    '!GET /v1/items\n\x0a\x03\x0a\x01x\x12\x01t',
    '!POST /v1/voice:synthesizeAudio\n\x0a\x09audio/wav\x12\x04RIFF',
    '!GET /v1/items/42\n\xff\xff\xff',
])

# --- bot manager: Alexa (bot_alexa) --------------------------------------------------------
SRC = open(os.path.join(HERE, "bot_alexa_fuzz.cc")).read()
ROOT_PEM = SRC.split('kRootPem[] = R"(')[1].split(')"')[0].strip() + "\n"
LEAF_PEM = SRC.split('kLeafPem[] = R"(')[1].split(')"')[0].strip() + "\n"
alexa_body = json.dumps({
    "version": "1.0",
    "session": {"new": True, "sessionId": "amzn1.echo-api.session.1",
                "application": {"applicationId": "amzn1.ask.skill.fuzz"}, "user": {"userId": "amzn1.ask.account.U"}},
    "context": {"System": {"application": {"applicationId": "amzn1.ask.skill.fuzz"},
                           "user": {"userId": "amzn1.ask.account.U"}}},
    "request": {"type": "IntentRequest", "requestId": "amzn1.echo-api.request.1",
                "timestamp": "2026-06-01T00:00:30Z", "locale": "pt-BR",
                "intent": {"name": "AskIntent", "confirmationStatus": "NONE",
                           "slots": {"query": {"name": "query", "value": "qual o horário"},
                                     "other": {"name": "other"}}}}})
alexa = [
    "u" + "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
    "u" + "HTTPS://S3.AMAZONAWS.COM:443/echo.api/../echo.api/echo-api-cert.pem",
    "u" + "https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem",
    "u" + "https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem",
    "u" + "https://s3.amazonaws.com/invalid.path/echo-api-cert.pem",
    "u" + "http://s3.amazonaws.com/echo.api/echo-api-cert.pem",
    "u" + "https://s3.amazonaws.com.evil.com/echo.api/x.pem",
    "u" + "https://user@s3.amazonaws.com/echo.api/x.pem",
    "u" + "https://s3.amazonaws.com/echo.api/%2e%2e/x.pem",
    "u" + "https://s3.amazonaws.com/echo.api/./a/../../b",
    "u" + "https://s3.amazonaws.com",
    "r" + alexa_body,
    "r" + alexa_body.replace("IntentRequest", "LaunchRequest"),
    "r" + alexa_body.replace("IntentRequest", "SessionEndedRequest").replace('"locale"', '"reason": "USER_INITIATED", "locale"'),
    "r" + alexa_body.replace('"2026-06-01T00:00:30Z"', "1780272030000"),
    "r" + alexa_body.replace('"2026-06-01T00:00:30Z"', '"yesterday"'),
    "r" + '{"request": "x", "context": 5}',
    "r" + '{"request": {"type": 1, "timestamp": true, "intent": {"slots": []}}}',
    "r" + "[]",
]
keys = os.environ.get("GENESIS_FUZZ_KEYS")
if keys and os.path.exists(os.path.join(keys, "alexa.key")):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    key = serialization.load_pem_private_key(open(os.path.join(keys, "alexa.key"), "rb").read(), None)
    sig = base64.b64encode(key.sign(alexa_body.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    alexa += [
        "c" + sig + "\n" + alexa_body + "\n" + LEAF_PEM + ROOT_PEM,
        "c" + sig + "\n" + alexa_body + "\n" + LEAF_PEM,
        "c" + sig + "\n" + alexa_body.replace("qual", "quai") + "\n" + LEAF_PEM,  # body changed
        "c" + sig + "\n" + alexa_body + "\n" + ROOT_PEM,                           # root as leaf
        "c" + "AAAA\n" + alexa_body + "\n" + LEAF_PEM,
        "c" + "not base64!\n{}\n" + LEAF_PEM,
        "c" + sig + "\n" + alexa_body + "\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "c" + sig + "\n" + alexa_body + "\n",
    ]
    write("bot_alexa", alexa)
elif not os.path.isdir(os.path.join(CORPUS, "bot_alexa")):
    write("bot_alexa", alexa)
else:
    print("bot_alexa: kept (set GENESIS_FUZZ_KEYS to re-sign the signature seeds)", file=sys.stderr)
