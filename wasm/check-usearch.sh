#!/usr/bin/env bash
# CI check: rebuilds usearch.wasm from source into a temp dir and compares it, byte for byte, with
# the committed wasm/usearch.wasm (and that file with wasm/usearch.wasm.sha256).
# Exit 0: identical. Exit 1: differs (or the checksum file is stale). Other: the build failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
committed="$here/usearch.wasm"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/usearch-check.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

if ! (cd "$here" && sha256sum --quiet -c usearch.wasm.sha256); then
  echo "check-usearch: FAIL: wasm/usearch.wasm does not match wasm/usearch.wasm.sha256" >&2
  exit 1
fi

start=$(date +%s)
"$here/build-usearch.sh" --out "$tmp/usearch.wasm" >/dev/null
took=$(( $(date +%s) - start ))

want="$(sha256sum "$committed" | cut -d' ' -f1)"
got="$(sha256sum "$tmp/usearch.wasm" | cut -d' ' -f1)"
if [ "$want" = "$got" ]; then
  echo "check-usearch: OK: a rebuild from source (${took}s) is byte-identical to wasm/usearch.wasm ($want)"
  exit 0
fi
echo "check-usearch: FAIL: a rebuild from source differs from the committed wasm/usearch.wasm" >&2
echo "  committed $want ($(wc -c < "$committed") bytes)" >&2
echo "  rebuilt   $got ($(wc -c < "$tmp/usearch.wasm") bytes)" >&2
echo "  (a different emscripten than 3.1.6, or changed wasm/build-usearch.sh or wasm/usearch-filter.cpp;" >&2
echo "   run wasm/build-usearch.sh and commit wasm/usearch.wasm and wasm/usearch.wasm.sha256)" >&2
cmp "$committed" "$tmp/usearch.wasm" | head -1 >&2 || true
exit 1
