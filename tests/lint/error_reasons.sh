#!/usr/bin/env bash
# Every google.rpc.ErrorInfo reason a service can return is a constant in a
# reasons header, and each is documented in the README that covers it:
#   common/base/reasons.h        -> proto/README.md ("Error reasons", the shared ones)
#   services/<svc>/reasons.h     -> services/<svc>/README.md
#   gateway/http/errors.h        -> gateway/README.md
# Serving code names reasons through those constants, never as a bare string.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
fail=0
checked=0

check() {  # HEADER README
  local header="$1" readme="$2" reason
  while IFS= read -r reason; do
    checked=$((checked + 1))
    if ! grep -qF "\`$reason\`" "$readme"; then
      echo "error_reasons: $reason ($header) is not documented in $readme" >&2
      fail=1
    fi
  done < <(grep -oE 'constexpr char k[A-Za-z0-9]+\[\] = "[A-Z][A-Z0-9_]*"' "$header" \
             | sed -E 's/.*"([A-Z0-9_]+)"/\1/')
}

check common/base/reasons.h proto/README.md
check gateway/http/errors.h gateway/README.md
for header in services/*/reasons.h; do
  check "$header" "$(dirname "$header")/README.md"
done
for dir in services/*/; do
  if [ ! -f "$dir/reasons.h" ]; then
    echo "error_reasons: $dir has no reasons.h" >&2
    fail=1
  fi
done

# A reason written as a literal bypasses the headers (and so the docs).
if hits="$(grep -rnE --include='*.cc' --include='*.h' 'WithReason(For)?\(.*"[A-Z][A-Z0-9]*_[A-Z0-9_]+"' \
             common services gateway | grep -vE '^[^:]*/tests/')"; then
  echo "error_reasons: reasons must come from a reasons header:" >&2
  echo "$hits" >&2
  fail=1
fi

[ "$checked" -gt 0 ] || { echo "error_reasons: no reason found at all" >&2; exit 1; }
[ "$fail" = 0 ] && echo "error_reasons: $checked reasons, each documented"
exit "$fail"
