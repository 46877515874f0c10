#!/usr/bin/env bash
# No caller ever sees a library's error text (a database error echoes other
# callers' values, SQL and server addresses): the one place that turns libpqxx
# exceptions into statuses is common/storage/pg_pool.cc (StatusFromException, which
# logs the text and returns a stable message). Anywhere else in the serving
# code (common/, services/, gateway/; not tests nor benchmarks), reading an
# exception's what() or a pqxx error's query() is allowed only on a line marked
# `// error text: log only`, and such a line must not build a status.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
fail=0
pattern='(\.what\(\))|(\<(e|ex|err|error)\.query\(\))'
while IFS= read -r hit; do
  file="${hit%%:*}"
  rest="${hit#*:}"
  line="${rest#*:}"
  code="${line%%//*}"
  [[ "$code" =~ $pattern ]] || continue  # a comment, or another class's query()
  if [[ "$line" != *"// error text: log only"* ]]; then
    echo "error_text: $file:${rest%%:*}: exception text read outside common/storage/pg_pool.cc without '// error text: log only'" >&2
    echo "    $line" >&2
    fail=1
  elif [[ "$line" =~ (Error|Status)\( ]]; then
    echo "error_text: $file:${rest%%:*}: exception text put in a status" >&2
    echo "    $line" >&2
    fail=1
  fi
done < <(grep -rnE --include='*.cc' --include='*.h' "$pattern" common services gateway \
           | grep -vE '^[^:]*/tests/' | grep -v '^common/storage/pg_pool\.cc:' || true)
# In common/storage/pg_pool.cc the text is read once, in LoggableError, for the log.
reads=$(grep -cE "$pattern" common/storage/pg_pool.cc || true)
if [[ "$reads" != 1 ]] || ! grep -qE '^  absl::string_view what = e\.what\(\);' common/storage/pg_pool.cc; then
  echo "error_text: common/storage/pg_pool.cc must read e.what() exactly once, in LoggableError (found $reads)" >&2
  fail=1
fi
# A status is never built from a pqxx exception in a catch block outside the mapping.
while IFS= read -r hit; do
  echo "error_text: $hit: catches a libpqxx exception and builds a status from its text" >&2
  fail=1
done < <(grep -rnE --include='*.cc' --include='*.h' -A4 'catch \(const (pqxx|std)::[a-z_]+& ([a-z_]+)\)' common services gateway \
           | grep -vE '^[^:-]*/tests/' | grep -E '(Error|Status)\(.*\b(e|err|ex|error)\b\)' \
           | grep -v '^common/storage/pg_pool' || true)
if [[ $fail -ne 0 ]]; then exit 1; fi
echo "error_text: no exception text reaches a status"
