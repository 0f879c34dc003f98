#!/usr/bin/env bash
# metrics_docs.sh PMAPSTORM SRCDIR — every metric is defined once, in
# bench/trials/metrics.c: the copies in docs/run.schema.json ($defs.metric_catalog)
# and in README.md (the metrics table) must say exactly what the catalog
# says, metric for metric.  Regenerate them with `pmapstorm list metrics
# --json` / `--markdown` when a definition changes.
set -euo pipefail
pm=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$pm" list metrics --json >"$tmp/catalog.json"
"$pm" list metrics --markdown >"$tmp/table.md"
python3 - "$tmp/catalog.json" "$src/docs/run.schema.json" <<'PY'
import json, sys
cat = json.load(open(sys.argv[1]))
schema = json.load(open(sys.argv[2]))["$defs"]["metric_catalog"]["properties"]
bad = []
for name, d in cat.items():
    want = d["definition"] + (" [not applicable, so absent, when: " + d["not_applicable_when"] + "]"
                              if d["not_applicable_when"] else "")
    got = schema.get(name, {})
    if got.get("description") != want or got.get("x-unit") != d["unit"] or got.get("x-scope") != d["scope"]:
        bad.append(name)
for name in schema:
    if name not in cat:
        bad.append(name + " (in the schema only)")
if bad:
    sys.exit("metrics_docs: docs/run.schema.json's metric_catalog differs from the catalog for: " + ", ".join(bad) +
             " (regenerate it from `pmapstorm list metrics --json`)")
PY
missing=0
while IFS= read -r line; do
  if ! grep -qxF -- "$line" "$src/README.md"; then
    echo "metrics_docs: README.md lacks this line of \`pmapstorm list metrics --markdown\`: $line" >&2
    missing=1
  fi
done <"$tmp/table.md"
[ "$missing" = 0 ] || exit 1
echo "metrics_docs: the schema's and the README's definitions equal the catalog's ($(python3 -c 'import json,sys;print(len(json.load(open(sys.argv[1]))))' "$tmp/catalog.json") metrics)"
