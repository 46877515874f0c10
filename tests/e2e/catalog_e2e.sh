#!/usr/bin/env bash
# End-to-end test of genesis-catalog: starts the built binary against a fresh
# PostgreSQL database and the test Redis, and drives it as an operator would,
# with `buf curl` over gRPC server reflection, curl on the ops port and psql.
#
# Needs (scripts/test.sh exports them; ctest passes GENESIS_CATALOG_BIN):
#   GENESIS_TEST_PG_DSN     DSN of the `postgres` maintenance database
#   GENESIS_TEST_REDIS_URL  redis://127.0.0.1:PORT
#   GENESIS_BUF             the buf CLI (else `buf` on PATH)
#   GENESIS_CATALOG_BIN     the binary (else $GENESIS_BUILD_DIR/services/catalog/genesis-catalog)
#   GENESIS_PSQL            optional: psql (else on PATH, else the newest /usr/lib/postgresql/*/bin/psql)
# Exits 77 (skipped) when the servers or tools are missing, 1 when a check fails.
# Prints `ok - ...` / `not ok - ...` per check and `N passed, M failed` at the end.

# jq filters are single-quoted on purpose: their $names are jq variables.
# shellcheck disable=SC2016
set -euo pipefail

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=harness.sh
source "$(dirname "${BASH_SOURCE[0]}")/harness.sh"

e2e_require_pg
[ -n "${GENESIS_TEST_REDIS_URL:-}" ] || e2e_skip "GENESIS_TEST_REDIS_URL not set (run scripts/test.sh)"
BUF="${GENESIS_BUF:-$(command -v buf || true)}"
if [ -z "$BUF" ] || [ ! -x "$BUF" ]; then e2e_skip "buf CLI not found (set GENESIS_BUF)"; fi
e2e_require_tools jq curl
e2e_bin BIN GENESIS_CATALOG_BIN services/catalog/genesis-catalog

e2e_init catalog-e2e
e2e_fresh_db e2e
db_sql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -tA -d "$DB_DSN" -c "$1"; }
SERVER_PID=""

# stop_server: SIGTERM, then waits up to 15 s. Sets STOP_STATUS (exit status,
# or "timeout" after which the server is killed) and STOP_SECONDS.
stop_server() {
  e2e_stop "$SERVER_PID"
  STOP_STATUS="$E2E_STOP_STATUS" STOP_SECONDS="$E2E_STOP_SECONDS" SERVER_PID=""
}

# The server's stderr, of every start, for diagnostics.
SERVER_LOG="$WORK/server.err"
show_server_log() {
  [ -s "$SERVER_LOG" ] || return 0
  echo "# last lines of the server's stderr:"
  tail -n 40 "$SERVER_LOG" | sed 's/^/#   /'
}

# The server is started and stopped here (its exit status and restarts are checked).
e2e_before_cleanup() {
  if [ -n "$SERVER_PID" ]; then
    stop_server
    [ "$STOP_STATUS" = 0 ] || echo "# server stop in cleanup: status $STOP_STATUS" >&2
  fi
  [ "$1" -eq 0 ] || show_server_log
}

# start_server REDIS_URL [FLAG...]: starts the binary on the fresh database with ports
# picked by the kernel and waits (up to 30 s: migrations run first) for the
# line with them. Sets SERVER_PID, URL (gRPC) and OPS (metrics); false if it
# did not start.
start_server() {
  local started="" deadline=$((SECONDS + 30))
  : >"$WORK/server.out"
  env "${ENV_UNSET[@]}" "${E2E_ENV[@]}" "$BIN" --grpc_port=0 --metrics_port=0 --pg_dsn="$DB_DSN" \
    --redis_url="$1" --log_format=text --log_level=info "${@:2}" \
    >"$WORK/server.out" 2>>"$SERVER_LOG" &
  SERVER_PID=$!
  while [ "$SECONDS" -lt "$deadline" ]; do
    started="$(sed -n 's/^genesis-catalog grpc=\([0-9.]*:[0-9]*\) metrics=\([0-9.]*:[0-9]*\)$/\1 \2/p' \
      "$WORK/server.out")"
    [ -z "$started" ] || break
    e2e_alive "$SERVER_PID" || break
    sleep 0.05
  done
  [ -n "$started" ] || return 1
  read -r GRPC_ADDR METRICS_ADDR <<<"$started"
  URL="http://$GRPC_ADDR"
  OPS="http://$METRICS_ADDR"
}

# --------------------------------------------------------------------------
# A replica that does not migrate, on a schema older than its code (none yet):
# unready with one clear line, until another process applies the migrations.

readyz() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$OPS/readyz"; }
if start_server "$GENESIS_TEST_REDIS_URL" --migrate=false; then
  check_eq "--migrate=false on an empty schema: /readyz is 503" 503 "$(readyz)"
  # The build needs the highest version among its migration files.
  needed="$(find "$(dirname "${BASH_SOURCE[0]}")/../../services/catalog/migrations" -name '*.sql' \
    -printf '%f\n' | sed -n 's/^0*\([0-9][0-9]*\)_.*/\1/p' | sort -n | tail -1)"
  want_line="schema catalog is at version 0, this build needs $needed: not ready until migrations are applied (run with --migrate or --migrate_only)"
  deadline=$((SECONDS + 10))
  until grep -qF "$want_line" "$SERVER_LOG" || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.05; done
  check_eq "--migrate=false on an empty schema: the log says why, once" 1 \
    "$(grep -cF "$want_line" "$SERVER_LOG")"
  if env "${ENV_UNSET[@]}" "${E2E_ENV[@]}" "$BIN" --pg_dsn="$DB_DSN" --migrate_only \
    --log_level=warn >/dev/null 2>>"$SERVER_LOG"; then
    pass "--migrate_only applies the migrations and exits 0"
  else
    fail "--migrate_only applies the migrations and exits 0"
  fi
  deadline=$((SECONDS + 20))
  while [ "$(readyz)" != 200 ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
  check_eq "then the unready replica turns ready by itself (checked every 5 s)" 200 "$(readyz)"
  stop_server
else
  fail "server starts with --migrate=false" "stdout: $(cat "$WORK/server.out")"
fi

if ! start_server "$GENESIS_TEST_REDIS_URL"; then
  fail "server starts and prints its ports" "stdout: $(cat "$WORK/server.out")"
  echo "$PASSED passed, $FAILED failed"
  exit 1
fi
pass "server started on fresh database $DB (grpc=$GRPC_ADDR metrics=$METRICS_ADDR)"

# --------------------------------------------------------------------------
# RPC helpers

SVC=genesis.catalog.v1.CatalogService

# shellcheck source=rpc.sh
source "$(dirname "${BASH_SOURCE[0]}")/rpc.sh"

# Picks the fields of an item a client sets, for exact round-trip comparison.
CONTENT='{title, body, attributes, labels} | with_entries(select(.value != null))'

# --------------------------------------------------------------------------
# Ops endpoints, reflection and health

check_eq "/healthz is 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$OPS/healthz")"
check_eq "/readyz is 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$OPS/readyz")"

methods="$("$BUF" curl --protocol grpc --http2-prior-knowledge --timeout 30s --list-methods "$URL" 2>&1 || true)"
want_methods="CreateItem CreateItemType DeleteItem DeleteItemType GetItem GetItemType ListItemTypes
ListItems SearchItems UndeleteItem UpdateItem UpdateItemType"
missing=""
for m in $want_methods; do grep -qx "$SVC/$m" <<<"$methods" || missing+=" $m"; done
if [ -z "$missing" ] && [ "$(grep -c "^$SVC/" <<<"$methods")" -eq 12 ]; then
  pass "--list-methods lists the 12 CatalogService methods"
else
  fail "--list-methods lists the 12 CatalogService methods" "missing:$missing" "listed: $methods"
fi
check "--list-methods lists grpc.health.v1.Health/Check" grep -qx grpc.health.v1.Health/Check <<<"$methods"

# "Describable": server reflection returns the file descriptor declaring Health.Check.
reflection="$(grep -o '^grpc\.reflection\.v1\(alpha\)\?\.ServerReflection' <<<"$methods" | sort | head -1 || true)"
rpc "$reflection/ServerReflectionInfo" '{"file_containing_symbol": "grpc.health.v1.Health"}'
descriptor="$(jq -r '.fileDescriptorResponse.fileDescriptorProto[]?' <<<"$OUT" 2>/dev/null | base64 -d 2>/dev/null |
  tr -c '[:print:]' ' ' || true)"
if [ "$RC" -eq 0 ] && [[ "$descriptor" == *grpc.health.v1* ]] && [[ "$descriptor" == *Check* ]]; then
  pass "reflection ($reflection) describes grpc.health.v1.Health/Check"
else
  fail "reflection ($reflection) describes grpc.health.v1.Health/Check" "exit $RC: $(head -c 500 <<<"$OUT")"
fi

rpc grpc.health.v1.Health/Check '{}'
check_eq 'health Check("") is SERVING' SERVING "$(jq -r .status <<<"$OUT" 2>/dev/null || echo "$OUT")"
rpc grpc.health.v1.Health/Check "{\"service\": \"$SVC\"}"
check_eq "health Check($SVC) is SERVING" SERVING "$(jq -r .status <<<"$OUT" 2>/dev/null || echo "$OUT")"
rpc grpc.health.v1.Health/Check '{"service": "no.such.Service"}'
check_eq "health Check(no.such.Service) is not_found" not_found "$(jq -r .code <<<"$OUT" 2>/dev/null || echo "$OUT")"

# --------------------------------------------------------------------------
# Item types

TYPE_REQ='{
  "item_type_id": "property",
  "item_type": {
    "display_name": "Property",
    "attributes": [
      {"name": "city", "kind": "ATTRIBUTE_KIND_STRING", "required": true, "description": "Cidade"},
      {"name": "price", "kind": "ATTRIBUTE_KIND_NUMBER"},
      {"name": "tags", "kind": "ATTRIBUTE_KIND_STRING_LIST"}
    ]
  }
}'
# Item types are administrative (access.proto): anonymous callers are refused; the calls
# below carry an operator's identity forwarded with the gateway secret (rpc.sh, OPERATOR).
operator=("${OPERATOR[@]}")
OPERATOR=()
expect_code unauthenticated CreateItemType "$TYPE_REQ" "anonymous CreateItemType"
check_jq "... saying how to call it" "$R" '.message | contains("administrative")'
OPERATOR=(-H "x-genesis-gateway-auth: not-the-secret" -H "x-genesis-subject: mallory" -H "x-genesis-roles: admin")
expect_code unauthenticated CreateItemType "$TYPE_REQ" "CreateItemType with a forged gateway secret"
OPERATOR=("${operator[@]}")
call CreateItemType "$TYPE_REQ"
check_jq "CreateItemType returns types/property with its 3 attributes" "$R" \
  --argjson req "$TYPE_REQ" \
  '.name == "types/property" and .displayName == "Property" and .etag != null and .createTime != null
   and (.attributes == ($req.item_type.attributes | map(if .required == false then del(.required) else . end)))'
type_etag="$(jq -r .etag <<<"$R")"

call GetItemType '{"name": "types/property"}'
check_jq "GetItemType returns the created type" "$R" \
  '.name == "types/property" and (.attributes | map(.name)) == ["city", "price", "tags"] and (.attributes[0].required == true)'

call ListItemTypes '{}'
check_jq "ListItemTypes lists types/property" "$R" '[.itemTypes[].name] == ["types/property"]'

call UpdateItemType "{\"item_type\": {\"name\": \"types/property\", \"display_name\": \"Imóvel\", \"etag\": \"$type_etag\"}, \"update_mask\": \"displayName\"}"
check_jq "UpdateItemType changes display_name (and only it) and the etag" "$R" --arg old "$type_etag" \
  '.displayName == "Imóvel" and .etag != $old and (.attributes | length) == 3'
expect_code aborted UpdateItemType \
  "{\"item_type\": {\"name\": \"types/property\", \"display_name\": \"X\", \"etag\": \"$type_etag\"}, \"update_mask\": \"displayName\"}" \
  "with a stale etag"

# --------------------------------------------------------------------------
# Items: create, exact round trip

# Text that breaks naive quoting: quotes, backslashes, %, _, accents, a newline, a tab, emoji.
TITLE_PT='Apartamento "Razão" 100% à beira-mar \ C:\temp\n_x O'"'"'Neil'
BODY_PT=$'Coração de São Paulo: pão de queijo, açaí e "café" à vontade.\nSegunda linha\tcom tab, 50% off, 🏠 ü ñ 日本'
ITEM_A="$(jq -n --arg t "$TITLE_PT" --arg b "$BODY_PT" '{
  type: "property", title: $t, body: $b,
  attributes: {city: "Recife", price: 450000.5, tags: ["mar", "vista \"linda\""]},
  labels: {stage: "novo", "team.region": "nordeste-ção"}}')"
REQ_A="$(jq -n --argjson item "$ITEM_A" '{item: $item, request_id: "e2e-create-a"}')"
ITEM_B='{"type": "types/property", "title": "Beach house in Recife",
  "body": "A lovely house near the sea, with a wide balcony and two bedrooms.",
  "attributes": {"city": "Recife", "price": 900000, "tags": ["beach"]}}'
ITEM_C='{"type": "property", "title": "Casa em Olinda",
  "body": "Casa colonial perto do centro histórico, com quintal.",
  "attributes": {"city": "Olinda", "price": 300000}}'

call CreateItem "$REQ_A"
A="$(jq -r '.name // empty' <<<"$R")"
check_jq "CreateItem assigns items/{id} and type types/property" "$R" \
  '(.name | test("^items/.+")) and .type == "types/property" and .etag != null and .createTime != null'
check_eq "CreateItem returns title, body, attributes and labels exactly as sent" \
  "$(jq -S "$CONTENT" <<<"$ITEM_A")" "$(jq -S "$CONTENT" <<<"$R")"
a_etag="$(jq -r .etag <<<"$R")"

call CreateItem "{\"item\": $ITEM_B}"
B="$(jq -r '.name // empty' <<<"$R")"
check_jq "CreateItem accepts type as types/{type}" "$R" '.type == "types/property"'
call CreateItem "{\"item\": $ITEM_C}"
C="$(jq -r '.name // empty' <<<"$R")"
check "the three items have distinct names" test -n "$A" -a -n "$B" -a -n "$C" -a "$A" != "$B" -a "$B" != "$C" -a "$A" != "$C"

# What PostgreSQL holds is what was sent (no double escaping hidden by a symmetric read).
stored="$(db_sql "SELECT json_build_object('title', title, 'body', body, 'attributes', attributes,
  'labels', labels) FROM catalog.items WHERE 'items/' || id = '$A'" 2>&1 || true)"
check_eq "PostgreSQL stores the item's text exactly" \
  "$(jq -S "$CONTENT" <<<"$ITEM_A")" "$(jq -S "$CONTENT" <<<"$stored" 2>/dev/null || echo "$stored")"

# --------------------------------------------------------------------------
# Get, cache

hits_before="$(metric_value 'genesis_catalog_item_cache_total{result="hit"}')"
call GetItem "{\"name\": \"$A\"}"
check_eq "GetItem returns the item exactly" "$(jq -S "$CONTENT" <<<"$ITEM_A")" "$(jq -S "$CONTENT" <<<"$R")"
call GetItem "{\"name\": \"$A\"}"
check_eq "GetItem again (from the cache) returns the item exactly" \
  "$(jq -S "$CONTENT" <<<"$ITEM_A")" "$(jq -S "$CONTENT" <<<"$R")"
check_jq "GetItem from the cache keeps name, type, etag and times" "$R" --arg a "$A" --arg e "$a_etag" \
  '.name == $a and .type == "types/property" and .etag == $e and .createTime != null and .updateTime != null'
hits_after="$(metric_value 'genesis_catalog_item_cache_total{result="hit"}')"
check "the second GetItem is a cache hit (hits $hits_before -> $hits_after)" \
  awk -v a="$hits_before" -v b="$hits_after" 'BEGIN { exit !(b > a) }'

# --------------------------------------------------------------------------
# Update with mask and etag

NEW_TITLE='Apartamento "Razão" reformado — 20% \ off'
call UpdateItem "$(jq -n --arg n "$A" --arg t "$NEW_TITLE" --arg e "$a_etag" \
  '{item: {name: $n, title: $t, body: "must be ignored: not in the mask", labels: {x: "y"}, etag: $e},
    update_mask: "title"}')"
check_jq "UpdateItem changes only the masked title and the etag" "$R" \
  --arg t "$NEW_TITLE" --arg b "$BODY_PT" --arg e "$a_etag" --argjson orig "$ITEM_A" \
  '.title == $t and .body == $b and .labels == $orig.labels and .attributes == $orig.attributes
   and .etag != $e and .updateTime != .createTime'
a_etag2="$(jq -r .etag <<<"$R")"
call GetItem "{\"name\": \"$A\"}"
check_jq "GetItem after UpdateItem returns the new title (cache invalidated)" "$R" \
  --arg t "$NEW_TITLE" --arg e "$a_etag2" '.title == $t and .etag == $e'
expect_code aborted UpdateItem \
  "$(jq -nc --arg n "$A" --arg e "$a_etag" '{item: {name: $n, title: "stale", etag: $e}, update_mask: "title"}')" \
  "with a stale etag"
expect_code aborted DeleteItem "{\"name\": \"$A\", \"etag\": \"$a_etag\"}" "with a stale etag"
call GetItem "{\"name\": \"$A\"}"
check_jq "the rejected stale writes changed nothing" "$R" --arg t "$NEW_TITLE" --arg e "$a_etag2" \
  '.title == $t and .etag == $e and .deleteTime == null'

# --------------------------------------------------------------------------
# List: filters and pagination

FILTER_RECIFE='attributes.city = \"Recife\"'
call ListItems "{\"type\": \"property\", \"filter\": \"$FILTER_RECIFE\", \"page_size\": 1}"
page1="$R"
token="$(jq -r '.nextPageToken // empty' <<<"$page1")"
check_jq "ListItems page_size=1 returns one item and a next_page_token" "$page1" \
  '(.items | length) == 1 and (.nextPageToken // "") != ""'
call ListItems "{\"type\": \"property\", \"filter\": \"$FILTER_RECIFE\", \"page_size\": 1, \"page_token\": \"$token\"}"
page2="$R"
check_jq "ListItems second page has one item and no next_page_token" "$page2" \
  '(.items | length) == 1 and (.nextPageToken // "") == ""'
check_eq "the two pages hold A and B, oldest first, no duplicates" "$A $B" \
  "$(jq -r '.items[0].name' <<<"$page1") $(jq -r '.items[0].name' <<<"$page2")"
expect_invalid page_token ListItems "{\"filter\": \"$FILTER_RECIFE\", \"page_size\": 1, \"page_token\": \"$token\"}" \
  "reusing a page_token with a different type"
call ListItems '{"filter": "attributes.price < 500000"}'
check_jq "ListItems filter attributes.price < 500000 finds A and C" "$R" --arg a "$A" --arg c "$C" \
  '[.items[].name] == [$a, $c]'
call ListItems '{"filter": "attributes.tags:\"mar\" AND labels.stage:*"}'
check_jq "ListItems filter on list contains and label presence finds A" "$R" --arg a "$A" '[.items[].name] == [$a]'
call ListItems '{"type": "types/property", "filter": "labels.team.region = \"nordeste-ção\""}'
check_jq "ListItems filter on a dotted label key with accents finds A" "$R" --arg a "$A" '[.items[].name] == [$a]'

# --------------------------------------------------------------------------
# Search

call SearchItems '{"query": "razao"}'
check_jq 'SearchItems "razao" finds the item titled "Razão" (accent-insensitive)' "$R" --arg a "$A" \
  '[.results[].item.name] == [$a]'
call SearchItems '{"query": "CORACAO"}'
check_jq 'SearchItems "CORACAO" finds A with <mark>Coração</mark> in the snippet' "$R" --arg a "$A" \
  '[.results[].item.name] == [$a] and (.results[0].snippet | contains("<mark>Coração</mark>"))
   and .results[0].score > 0'
call SearchItems '{"query": "\"wide balcony\""}'
check_jq 'SearchItems phrase "wide balcony" finds B, snippet marked' "$R" --arg b "$B" \
  '[.results[].item.name] == [$b] and (.results[0].snippet | contains("<mark>"))'
call SearchItems '{"query": "\"balcony wide\""}'
check_jq 'SearchItems phrase "balcony wide" (wrong order) finds nothing' "$R" '(.results // []) == []'
call SearchItems '{"query": "apart*"}'
check_jq 'SearchItems prefix apart* finds A' "$R" --arg a "$A" '[.results[].item.name] == [$a]'
call SearchItems '{"query": "houses"}'
check_jq 'SearchItems "houses" finds "house" (English stemming)' "$R" --arg b "$B" '[.results[].item.name] == [$b]'
call SearchItems '{"query": "casa -olinda"}'
check_jq 'SearchItems "casa -olinda" excludes C' "$R" --arg c "$C" '[.results[]?.item.name] | index($c) == null'
call SearchItems '{"query": "olinda OR beach"}'
check_jq 'SearchItems "olinda OR beach" finds B and C' "$R" --arg b "$B" --arg c "$C" \
  '[.results[].item.name] | sort == ([$b, $c] | sort)'
call SearchItems '{"query": "recife", "filter": "attributes.price > 500000"}'
check_jq 'SearchItems "recife" with filter price > 500000 finds only B' "$R" --arg b "$B" \
  '[.results[].item.name] == [$b]'

call SearchItems '{"query": "olinda OR beach", "page_size": 1}'
search1="$R"
stoken="$(jq -r '.nextPageToken // empty' <<<"$search1")"
check_jq "SearchItems page_size=1 returns one hit and a next_page_token" "$search1" \
  '(.results | length) == 1 and (.nextPageToken // "") != ""'
call SearchItems "{\"query\": \"olinda OR beach\", \"page_size\": 1, \"page_token\": \"$stoken\"}"
search2="$R"
check_jq "SearchItems second page has one hit and no next_page_token" "$search2" \
  '(.results | length) == 1 and (.nextPageToken // "") == ""'
check_eq "the two search pages hold B and C, no duplicates" "$(printf '%s\n' "$B" "$C" | sort | tr '\n' ' ')" \
  "$(jq -r '.results[0].item.name' <<<"$search1$search2" | sort | tr '\n' ' ')"
expect_invalid page_token SearchItems "{\"query\": \"beach\", \"page_size\": 1, \"page_token\": \"$stoken\"}" \
  "reusing a page_token with a different query"

# --------------------------------------------------------------------------
# Soft delete and undelete

call DeleteItem "{\"name\": \"$A\", \"etag\": \"$a_etag2\"}"
check_jq "DeleteItem returns the item with delete_time and purge_time 30 days later" "$R" \
  '.deleteTime != null and .purgeTime != null and
   ((.purgeTime | sub("\\.[0-9]+"; "") | fromdateiso8601) - (.deleteTime | sub("\\.[0-9]+"; "") | fromdateiso8601)) == 2592000'
expect_code not_found GetItem "{\"name\": \"$A\"}" "of a soft-deleted item"
call ListItems '{}'
check_jq "ListItems hides the deleted item" "$R" --arg a "$A" '[.items[].name] | index($a) == null'
call ListItems '{"show_deleted": true}'
check_jq "ListItems show_deleted=true shows it" "$R" --arg a "$A" '[.items[].name] | index($a) != null'
call SearchItems '{"query": "razao"}'
check_jq "SearchItems hides the deleted item" "$R" '(.results // []) == []'
call UndeleteItem "{\"name\": \"$A\"}"
check_jq "UndeleteItem restores it (no delete_time)" "$R" --arg a "$A" --arg t "$NEW_TITLE" \
  '.name == $a and .deleteTime == null and .purgeTime == null and .title == $t'
call GetItem "{\"name\": \"$A\"}"
check_jq "GetItem after UndeleteItem returns it" "$R" --arg t "$NEW_TITLE" '.title == $t and .deleteTime == null'
call SearchItems '{"query": "razao"}'
check_jq "SearchItems finds it again" "$R" --arg a "$A" '[.results[].item.name] == [$a]'
expect_code failed_precondition UndeleteItem "{\"name\": \"$A\"}" "of a live item"

# --------------------------------------------------------------------------
# Idempotent CreateItem

call CreateItem "$REQ_A"
check_jq "CreateItem retried with the same request_id returns the same item" "$R" --arg a "$A" '.name == $a'
expect_code already_exists CreateItem \
  "$(jq -nc --argjson item "$ITEM_C" '{item: $item, request_id: "e2e-create-a"}')" \
  "reusing a request_id for a different item"
call ListItems '{"show_deleted": true}'
count_before="$(jq '.items | length' <<<"$R")"
REQ_D='{"item": {"type": "property", "title": "Concurrent retry", "attributes": {"city": "Natal"}}, "request_id": "e2e-concurrent"}'
pids=()
for i in 1 2 3 4 5 6; do
  "$BUF" curl --protocol grpc --http2-prior-knowledge --timeout 30s -d "$REQ_D" \
    "$URL/$SVC/CreateItem" >"$WORK/concurrent.$i" 2>&1 &
  pids+=("$!")
done
concurrent_ok=1
for pid in "${pids[@]}"; do wait "$pid" || concurrent_ok=0; done
names="$(for i in 1 2 3 4 5 6; do jq -r '.name // "error"' "$WORK/concurrent.$i" 2>/dev/null || echo error; done | sort -u)"
if [ "$concurrent_ok" = 1 ] && [ "$(wc -l <<<"$names")" -eq 1 ] && [ "$names" != error ]; then
  pass "6 concurrent CreateItem with one request_id all return the same item"
else
  fail "6 concurrent CreateItem with one request_id all return the same item" \
    "names: $names" "$(cat "$WORK"/concurrent.*)"
fi
call ListItems '{"show_deleted": true}'
check_eq "... and only one item was created" "$((count_before + 1))" "$(jq '.items | length' <<<"$R")"

# --------------------------------------------------------------------------
# Item types with items

expect_code failed_precondition DeleteItemType '{"name": "types/property"}' "while it has items"
expect_code failed_precondition UpdateItemType \
  "$(jq -nc --argjson req "$TYPE_REQ" \
    '{item_type: {name: "types/property", attributes: ($req.item_type.attributes + [{name: "rooms", kind: "ATTRIBUTE_KIND_NUMBER", required: true}])},
      update_mask: "attributes"}')" \
  "adding a required attribute while it has items"
call UpdateItemType "$(jq -nc --argjson req "$TYPE_REQ" \
  '{item_type: {name: "types/property", attributes: ($req.item_type.attributes + [{name: "rooms", kind: "ATTRIBUTE_KIND_NUMBER"}])},
    update_mask: "attributes"}')"
check_jq "UpdateItemType may add an optional attribute while it has items" "$R" \
  '(.attributes | map(.name)) == ["city", "price", "tags", "rooms"] and .displayName == "Imóvel"'
call CreateItemType '{"item_type_id": "empty-type", "item_type": {"display_name": "Empty"}}'
call ListItemTypes '{"page_size": 1}'
types1="$R"
call ListItemTypes "{\"page_size\": 1, \"page_token\": \"$(jq -r '.nextPageToken // empty' <<<"$types1")\"}"
types2="$R"
check_eq "ListItemTypes pages (page_size=1) list both types in name order" \
  "types/empty-type types/property  " \
  "$(jq -r '.itemTypes[0].name' <<<"$types1") $(jq -r '.itemTypes[0].name' <<<"$types2") $(jq -r '.nextPageToken // ""' <<<"$types2") "
call DeleteItemType '{"name": "types/empty-type"}'
check_eq "DeleteItemType of a type without items returns Empty" "{}" "$(jq -c . <<<"$R")"
expect_code not_found GetItemType '{"name": "types/empty-type"}' "after DeleteItemType"

# --------------------------------------------------------------------------
# One bad request per kind of error

expect_invalid item.title CreateItem '{"item": {"type": "property", "attributes": {"city": "Recife"}}}' "without a title"
expect_invalid item.attributes.city CreateItem '{"item": {"type": "property", "title": "t"}}' \
  "without a required attribute"
expect_invalid item.attributes.price CreateItem \
  '{"item": {"type": "property", "title": "t", "attributes": {"city": "Recife", "price": "cheap"}}}' \
  "with a string for a number attribute"
expect_invalid item.attributes.tags CreateItem \
  '{"item": {"type": "property", "title": "t", "attributes": {"city": "Recife", "tags": [1, 2]}}}' \
  "with numbers for a string list attribute"
expect_invalid item.title CreateItem \
  '{"item": {"type": "property", "title": "nul\u0000char", "attributes": {"city": "Recife"}}}' \
  "with a NUL character in the title"
expect_invalid item_type_id CreateItemType '{"item_type_id": "Bad Id", "item_type": {}}' "with a bad id"
expect_invalid name GetItem '{"name": "bogus"}' "with a malformed name"
expect_invalid filter ListItems '{"filter": "attributes.city = "}' "with a malformed filter"
expect_invalid page_size ListItems '{"page_size": -1}' "with a negative page_size"
expect_invalid page_token ListItems '{"page_token": "garbage"}' "with a forged page_token"
expect_invalid query SearchItems '{"query": ""}' "with an empty query"
expect_invalid update_mask UpdateItem "{\"item\": {\"name\": \"$B\", \"title\": \"t\"}, \"update_mask\": \"type\"}" \
  "with an immutable field in the mask"
expect_code not_found GetItem '{"name": "items/00000000-0000-0000-0000-000000000000"}' "of an unknown item"
expect_code not_found GetItemType '{"name": "types/nope"}' "of an unknown type"
expect_code not_found CreateItem '{"item": {"type": "nope", "title": "t"}}' "of an unknown type"
expect_code not_found UpdateItem '{"item": {"name": "items/00000000-0000-0000-0000-000000000000", "title": "t"}, "update_mask": "title"}' \
  "of an unknown item"
expect_code already_exists CreateItemType "$TYPE_REQ" "with a taken id"
expect_code aborted UpdateItem "{\"item\": {\"name\": \"$B\", \"title\": \"t\", \"etag\": \"999\"}, \"update_mask\": \"title\"}" \
  "with a wrong etag"
expect_code failed_precondition UndeleteItem "{\"name\": \"$B\"}" "of a live item"

# --------------------------------------------------------------------------
# Regressions: an empty update_mask, and a body too large for one tsvector

ITEM_E='{"type": "property", "title": "Before", "body": "old body", "attributes": {"city": "Natal"}}'
call CreateItem "{\"item\": $ITEM_E}"
E="$(jq -r '.name // empty' <<<"$R")"
E_NEW='{"title": "After", "body": "new body", "attributes": {"city": "Natal", "price": 1}, "labels": {"k": "v"}}'
call UpdateItem "$(jq -nc --arg n "$E" --argjson e "$E_NEW" '{item: ($e + {name: $n}), update_mask: ""}')"
check_eq 'UpdateItem with update_mask "" (empty means all fields) applies the item sent' \
  "$(jq -S "$CONTENT" <<<"$E_NEW")" "$(jq -S "$CONTENT" <<<"$R")"

# 100,000 distinct 8-letter words: 900 kB, under the 1 MiB --max_item_bytes.
awk 'BEGIN { srand(7); for (i = 0; i < 100000; i++) { w = ""
  for (j = 0; j < 8; j++) w = w sprintf("%c", 97 + int(rand() * 26)); printf "%s ", w } }' |
  jq -Rs '{item: {type: "property", title: "Many distinct words", body: ., attributes: {city: "Natal"}}}' \
    >"$WORK/many-words.json"
rpc "$SVC/CreateItem" "@$WORK/many-words.json"
code="$(jq -r 'if .code then .code else "ok" end' <<<"$OUT" 2>/dev/null || echo "$OUT")"
check_eq "CreateItem with a 900 kB body of 100,000 distinct words is created" ok "$code"

# --------------------------------------------------------------------------
# Metrics after all this traffic

metrics_text="$(metrics || true)"
check "/metrics has genesis_grpc_server_handled_total for CreateItem OK" \
  grep -q "^genesis_grpc_server_handled_total{grpc_service=\"$SVC\",grpc_method=\"CreateItem\",grpc_code=\"OK\"} [1-9]" \
  <<<"$metrics_text"
check "/metrics counts GetItem NOT_FOUND" \
  grep -q "^genesis_grpc_server_handled_total{.*grpc_method=\"GetItem\",grpc_code=\"NOT_FOUND\"} [1-9]" <<<"$metrics_text"
check "/metrics is Prometheus text (# TYPE lines)" \
  grep -q '^# TYPE genesis_grpc_server_handled_total counter' <<<"$metrics_text"

# --------------------------------------------------------------------------
# Graceful shutdown

stop_server
check_eq "SIGTERM: the server exits with status 0 within 15 s (took ${STOP_SECONDS}s)" 0 "$STOP_STATUS"

# --------------------------------------------------------------------------
# Redis unreachable: the cache never fails a call

# Nothing listens on port 1: every Redis call fails at once.
if start_server redis://127.0.0.1:1; then
  pass "server starts with Redis unreachable"
  rpc grpc.health.v1.Health/Check "{\"service\": \"$SVC\"}"
  check_eq "... health Check is SERVING" SERVING "$(jq -r .status <<<"$OUT" 2>/dev/null || echo "$OUT")"
  check_eq "... /readyz is 200 (readiness needs PostgreSQL only)" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$OPS/readyz")"
  call GetItem "{\"name\": \"$A\"}"
  check_jq "... GetItem serves from PostgreSQL" "$R" --arg t "$NEW_TITLE" '.title == $t'
  call UpdateItem "$(jq -nc --arg n "$A" '{item: {name: $n, title: "Sem cache"}, update_mask: "title"}')"
  call GetItem "{\"name\": \"$A\"}"
  check_jq "... UpdateItem then GetItem returns the new title" "$R" '.title == "Sem cache"'
  check "... genesis_catalog_item_cache_total{result=\"error\"} counts the failures" \
    awk -v v="$(metric_value 'genesis_catalog_item_cache_total{result="error"}')" 'BEGIN { exit !(v > 0) }'
  stop_server
  check_eq "... SIGTERM: exits with status 0 within 15 s" 0 "$STOP_STATUS"
else
  fail "server starts with Redis unreachable" "stdout: $(cat "$WORK/server.out")"
  [ -z "$SERVER_PID" ] || stop_server
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
