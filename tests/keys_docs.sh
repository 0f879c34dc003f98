#!/usr/bin/env bash
# keys_docs.sh PMAPSTORM SRCDIR — every configuration key is declared once,
# in its component's table (pmapstorm/config.h): README.md's key table must
# be exactly `pmapstorm list keys --markdown`, row for row, no more and no
# fewer.  Regenerate it with that command when a key changes.
set -euo pipefail
pm=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$pm" list keys --markdown >"$tmp/table.md"
# the README's table: from its header line to the first line that is not a row
awk 'f && !/^\|/ {exit} /^\| key \| default \| values \| meaning \|$/ {f=1} f' "$src/README.md" >"$tmp/readme.md"
if ! diff -u "$tmp/readme.md" "$tmp/table.md" >"$tmp/diff"; then
  echo "keys_docs: README.md's key table differs from \`pmapstorm list keys --markdown\` (- README, + tables):" >&2
  cat "$tmp/diff" >&2
  exit 1
fi
echo "keys_docs: README.md's key table equals the components' tables ($(($(wc -l <"$tmp/table.md") - 2)) keys)"
