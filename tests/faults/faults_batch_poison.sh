#!/usr/bin/env bash
# Fault: poisoned webhooks in a group commit. Signed webhooks for three bots
# (WhatsApp, Telegram, Mattermost) arrive together through the gateway; some
# carry what no PostgreSQL text can hold — a NUL ("\u0000" in Telegram JSON,
# "%00" in a Mattermost form) or invalid UTF-8 (a Latin-1 byte in a WhatsApp
# body, "%FF" in a form). Round 1 holds the inbox with a table lock until the
# rest are queued behind the first, so that they are committed in one batch
# with the poisoned ones; round 2 is a free burst.
#
# Expected (what a sender would check): every webhook is answered 200 and
# stored — innocent texts exactly, poisoned ones with U+FFFD in place of the
# bad bytes; no answer carries another delivery's text or any database text.
# Fails on any innocent refused, any leak, any INTERNAL, any hang.
set -euo pipefail
# shellcheck source=../e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"
# shellcheck source=../e2e/harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/harness.sh"
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_require_pg
e2e_require_tools jq curl python3
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUF="${GENESIS_BUF:-$ROOT/.genesis/tools/node_modules/.bin/buf}"
[ -x "$BUF" ] || e2e_skip "buf not found at $BUF (set GENESIS_BUF)"
e2e_bin BOT_BIN GENESIS_BOT_MANAGER_BIN services/bot_manager/genesis-bot-manager
e2e_bin GATEWAY_BIN GENESIS_GATEWAY_BIN gateway/genesis-gateway

e2e_init faults_batch_poison
e2e_fresh_db fbatch
sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA -d "$DB_DSN" -c "$1"; }
T0=$SECONDS

export FB_WA_SECRET="wa-$RANDOM$RANDOM" FB_TG_SECRET="tg-$RANDOM$RANDOM" FB_MM_SECRET="mm-$RANDOM$RANDOM"
OPS_PORT="$(fault_free_port)"
GATEWAY_SECRET="$E2E_GATEWAY_SECRET" # the run's (harness.sh), also in OPERATOR
# No router is needed to store webhooks: replies fail and wait, which is not under test.
e2e_start BOT bot 's/^genesis-bot-manager grpc=\([0-9.]*:[0-9]*\) .*$/\1/p' -- \
  env FB_WA_SECRET="$FB_WA_SECRET" FB_TG_SECRET="$FB_TG_SECRET" FB_MM_SECRET="$FB_MM_SECRET" \
  FB_TOKEN=unused "$BOT_BIN" --grpc_port=0 --metrics_port="$OPS_PORT" --pg_dsn="$DB_DSN" \
  --llm_router_address=127.0.0.1:1 --inbox_workers=1 --outbox_workers=1 --worker_threads=64 \
  --gateway_secret="$GATEWAY_SECRET" --log_level=warn
OPS="http://127.0.0.1:$OPS_PORT"
e2e_start GW gateway 's/^genesis-gateway http=\([0-9.]*:[0-9]*\) .*$/http:\/\/\1/p' -- \
  env GENESIS_JWT_HS256_SECRET="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')" "$GATEWAY_BIN" \
  --http_port=0 --metrics_port=-1 --backend="genesis.bot.v1.BotWebhookService=$BOT" \
  --gateway_secret="$GATEWAY_SECRET" --rate_limit=100000/s --log_level=warn

URL="http://$BOT"
for bot in "wa CHANNEL_WHATSAPP FB_WA_SECRET" "tg CHANNEL_TELEGRAM FB_TG_SECRET" \
  "mm CHANNEL_MATTERMOST FB_MM_SECRET"; do
  read -r id channel env <<<"$bot"
  "$BUF" curl --protocol grpc --http2-prior-knowledge --timeout 20s "${OPERATOR[@]}" -d "{\"bot_id\": \"$id\",
    \"bot\": {\"channel\": \"$channel\", \"webhook_secret_env\": \"$env\",
    \"access_token_env\": \"FB_TOKEN\", \"verify_token_env\": \"FB_TOKEN\",
    \"phone_number_id\": \"100\"}}" "$URL/genesis.bot.v1.BotManagerService/CreateBot" >/dev/null
done
pass "bot manager $BOT, gateway $GW, bots wa/tg/mm"

# The sender: deliveries over HTTP in parallel threads, the inbox lock of round 1, the checks.
export GW DB_DSN PSQL OPS
python3 - >"$WORK/summary.json" <<'PY' || true
import concurrent.futures, hashlib, hmac, json, os, subprocess, sys, time, urllib.error, urllib.parse, urllib.request

gw, ops = os.environ["GW"], os.environ["OPS"]
def psql(sql, background=False):
    args = [os.environ["PSQL"], "-X", "-q", "-v", "ON_ERROR_STOP=1", "-tA", "-d", os.environ["DB_DSN"], "-c", sql]
    if background:
        return subprocess.Popen(args, env=dict(os.environ, PGAPPNAME="faults_batch_lock"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()
def poll(what, done, seconds=20):
    until = time.time() + seconds
    while time.time() < until:
        if done():
            return
        time.sleep(0.02)
    print(json.dumps({"error": "timed out waiting for " + what}))
    sys.exit(1)
def waiting():
    for line in urllib.request.urlopen(ops + "/metrics", timeout=5).read().decode().splitlines():
        if line.startswith("genesis_bot_webhooks_waiting"):
            return float(line.split()[-1])
    return -1

FFFD = "\ufffd"
def delivery(bot, n, poison, rnd):
    """(method args, external id, the text that must be stored, poisoned?)"""
    tag = f"r{rnd}-{bot}-{n}"
    text = f"cliente {tag}: meu CPF é 123.456.789-{n:02d}"
    if bot == "tg":
        uid = rnd * 1000 + n
        raw = "antes\\u0000depois " + tag if poison else text
        want = f"antes{FFFD}depois {tag}" if poison else text
        body = ('{"update_id": %d, "message": {"from": {"id": %d}, "chat": {"id": %d}, "text": "%s"}}'
                % (uid, uid, uid, raw)).encode()
        headers = {"Content-Type": "application/json",
                   "X-Telegram-Bot-Api-Secret-Token": os.environ["FB_TG_SECRET"]}
        return ("/v1/webhooks/telegram/tg", body, headers), str(uid), want, poison
    if bot == "mm":
        post = f"p{tag}"
        form_text = "oi%00x%FF" + urllib.parse.quote(" " + tag) if poison else urllib.parse.quote_plus(text)
        want = f"oi{FFFD}x{FFFD} {tag}" if poison else text
        body = (f"token={os.environ['FB_MM_SECRET']}&channel_id=c{tag}&user_id=u{tag}&post_id={post}"
                f"&text={form_text}").encode()
        return ("/v1/webhooks/mattermost/mm", body,
                {"Content-Type": "application/x-www-form-urlencoded"}), post, want, poison
    wamid = f"wamid.{tag}"
    raw = ("ol\xe1 mundo " + tag).encode("latin-1") if poison else text.encode()
    want = f"ol{FFFD} mundo {tag}" if poison else text
    body = (b'{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"messages":[{"id":"'
            + wamid.encode() + b'","from":"5511' + str(rnd * 100 + n).encode()
            + b'","type":"text","text":{"body":"' + raw + b'"}}]}}]}]}')
    sig = "sha256=" + hmac.new(os.environ["FB_WA_SECRET"].encode(), body, hashlib.sha256).hexdigest()
    return ("/v1/webhooks/whatsapp/wa", body,
            {"Content-Type": "application/json", "X-Hub-Signature-256": sig}), wamid, want, poison

def send(args):
    path, body, headers = args
    req = urllib.request.Request(gw + path, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")

def round_of(rnd, per_bot, poisoned):
    out = []
    for n in range(1, per_bot + 1):
        for bot in ("tg", "mm", "wa"):
            out.append(delivery(bot, n, n in poisoned, rnd))
    return out

results = []  # (delivery, status, body)
pool = concurrent.futures.ThreadPoolExecutor(max_workers=64)
# Round 1: the first delivery holds the inbox (locked) while the others queue behind it.
r1 = round_of(1, 6, {3, 5})
locker = psql("BEGIN; LOCK TABLE bot_manager.inbox IN SHARE ROW EXCLUSIVE MODE; "
              "SELECT pg_sleep(30); COMMIT;", background=True)
poll("the inbox lock", lambda: psql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                                    "WHERE c.relname = 'inbox' AND l.mode = 'ShareRowExclusiveLock' "
                                    "AND l.granted") == "1")
first = pool.submit(send, r1[0][0])
poll("the first insert to wait", lambda: psql(
    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
    "AND query LIKE '%INSERT INTO bot_manager.inbox%'") == "1")
rest = [pool.submit(send, d[0]) for d in r1[1:]]
poll("the others to queue", lambda: waiting() == len(r1) - 1)
psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'faults_batch_lock'")
locker.wait(timeout=10)
for d, f in zip(r1, [first] + rest):
    results.append((d, *f.result(timeout=40)))
# Round 2: a free burst, batches as they come.
r2 = round_of(2, 10, {2, 7})
for d, f in zip(r2, [pool.submit(send, d[0]) for d in r2]):
    results.append((d, *f.result(timeout=40)))

stored = {}
for line in psql("SELECT external_id || chr(9) || encode(convert_to(text, 'UTF8'), 'hex') "
                 "FROM bot_manager.inbox").splitlines():
    ext, hexed = line.split("\t")
    stored[ext] = bytes.fromhex(hexed).decode("utf-8")
leak_words = ["CPF", "malformed", "literal", "ERROR", "SQLSTATE", "invalid byte", "unnest", "bot_manager."]
summary = {"acknowledged": 0, "innocent_refused": 0, "poisoned_refused": 0, "leaked": 0, "lost": 0,
           "wrong_text": 0, "codes": {}, "problems": []}
for (args, ext, want, poison), status, body in results:
    summary["codes"][str(status)] = summary["codes"].get(str(status), 0) + 1
    accepted = status == 200 and json.loads(body or "{}").get("accepted") == 1
    summary["acknowledged"] += accepted
    if not accepted:
        summary["poisoned_refused" if poison else "innocent_refused"] += 1
        summary["problems"].append(f"{ext}: {status} {body[:200]}")
    if any(w in body for w in leak_words):
        summary["leaked"] += 1
        summary["problems"].append(f"{ext}: leaked in {body[:200]}")
    if accepted and ext not in stored:
        summary["lost"] += 1
        summary["problems"].append(f"{ext}: acknowledged, not stored")
    elif accepted and stored[ext] != want:
        summary["wrong_text"] += 1
        summary["problems"].append(f"{ext}: stored {stored[ext]!r}, sent {want!r}")
summary["deliveries"] = len(results)
summary["poisoned"] = sum(1 for d, _, _ in results if d[3])
print(json.dumps(summary))
PY
S="$(cat "$WORK/summary.json")"
check_jq "every delivery answered (round 1 batched behind a lock, round 2 a burst)" "$S" \
  '.deliveries == 48 and .poisoned == 12 and (.error | not)'
check_jq "no innocent webhook refused" "$S" '.innocent_refused == 0'
check_jq "poisoned webhooks accepted too (their bad bytes replaced, not refused)" "$S" '.poisoned_refused == 0'
check_jq "no answer carries another delivery's text or database text" "$S" '.leaked == 0'
check_jq "every acknowledged webhook stored, with exactly its text" "$S" '.lost == 0 and .wrong_text == 0'
check_jq "no INTERNAL (500)" "$S" '(.codes["500"] // 0) == 0'
jq -r '.problems[]? // empty' <<<"$S" | head -20 | sed 's/^/#   /'
fault_report faults_batch_poison "acknowledged=$(jq .acknowledged <<<"$S")" \
  "innocent_refused=$(jq .innocent_refused <<<"$S")" "leaked=$(jq .leaked <<<"$S")" \
  "lost=$(jq .lost <<<"$S")" duplicated=0 "codes=$(jq -c .codes <<<"$S")" "seconds=$((SECONDS - T0))"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
