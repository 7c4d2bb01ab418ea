#!/usr/bin/env bash
# Builds wasm/usearch.wasm: USearch's C API (c/lib.cpp of the `usearch` npm package) plus
# wasm/usearch-filter.cpp, compiled by emscripten into ONE standalone wasm module with no JS glue.
# See wasm/README.md for the flags and why.
#
#   wasm/build-usearch.sh                 # writes wasm/usearch.wasm and wasm/usearch.wasm.sha256
#   wasm/build-usearch.sh --out FILE      # writes FILE only (used by wasm/check-usearch.sh)
#
# Needs: npm (to fetch the sources), node, and Debian's emscripten 3.1.6 (installed with apt-get
# when em++ is missing and we are root).
set -euo pipefail

USEARCH_VERSION=2.26.2
# sha256 of `npm pack usearch@2.26.2` (the registry tarball); a different tarball fails the build.
USEARCH_TGZ_SHA256=cb4ed21906924412cb928ac50bc3bdf24b75f6f5840d44101c8d54bfbb424c81
EMSCRIPTEN_VERSION=3.1.6

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/usearch.wasm"
write_checksum=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$(realpath -m "$2")"; write_checksum=0; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "build-usearch: unknown argument $1" >&2; exit 2 ;;
  esac
done

# Debian's emscripten runs its JS tools with /usr/bin/node; when that is not Debian's nodejs
# they cannot find Debian's node modules (acorn, ...) unless NODE_PATH points at them.
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"

if ! command -v em++ >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "build-usearch: em++ not found; installing Debian's emscripten" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y emscripten >/dev/null
  else
    echo "build-usearch: em++ not found: apt-get install -y emscripten (Debian bookworm, $EMSCRIPTEN_VERSION)" >&2
    exit 1
  fi
fi
em_version="$(em++ --version | sed -n '1s/.* \([0-9][0-9.]*\) .*/\1/p')"
if [ "$em_version" != "$EMSCRIPTEN_VERSION" ]; then
  echo "build-usearch: warning: emscripten $em_version, the committed artifact was built with $EMSCRIPTEN_VERSION;" \
    "the output will differ" >&2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/usearch-wasm.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# 1. Sources: the npm package's tarball, checked against the pinned hash.
(cd "$work" && npm pack "usearch@$USEARCH_VERSION" --silent >/dev/null)
tgz="$work/usearch-$USEARCH_VERSION.tgz"
actual="$(sha256sum "$tgz" | cut -d' ' -f1)"
if [ "$actual" != "$USEARCH_TGZ_SHA256" ]; then
  echo "build-usearch: usearch-$USEARCH_VERSION.tgz has sha256 $actual, expected $USEARCH_TGZ_SHA256" >&2
  exit 1
fi
tar -xzf "$tgz" -C "$work"
src="$work/package"

# 2. Compile and link. Exported: the C API minus the file-path functions (save/load/view/metadata
# by path would pull in stdio and WASI file imports) and minus the ones that take a C callback or
# spawn threads (filtered_search: use usearch_wasm_filtered_search; change_metric; exact_search;
# change_threads_*), plus malloc/free for the caller's buffers.
exports=(
  malloc free
  usearch_version usearch_hardware_acceleration_compiled usearch_hardware_acceleration
  usearch_init usearch_free usearch_clear usearch_memory_usage
  usearch_serialized_length usearch_save_buffer usearch_load_buffer usearch_metadata_buffer
  usearch_size usearch_capacity usearch_dimensions usearch_connectivity usearch_reserve
  usearch_expansion_add usearch_expansion_search usearch_change_expansion_add usearch_change_expansion_search
  usearch_add usearch_contains usearch_count usearch_get usearch_remove usearch_rename
  usearch_search usearch_wasm_filtered_search usearch_distance
)
exported="$(printf '"_%s",' "${exports[@]}")"
exported="[${exported%,}]"

cp "$here/usearch-filter.cpp" "$work/usearch-filter.cpp"
(
  cd "$work"
  em++ -std=c++17 -O3 -msimd128 -fno-exceptions -DNDEBUG \
    -DUSEARCH_USE_OPENMP=0 -DUSEARCH_USE_NUMKONG=0 \
    -ffile-prefix-map="$work"=/usearch \
    -Ipackage/include -Ipackage/c \
    -sSTANDALONE_WASM=1 --no-entry \
    -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB \
    -sWASM_BIGINT=1 \
    -sERROR_ON_UNDEFINED_SYMBOLS=0 -sWARN_ON_UNDEFINED_SYMBOLS=0 \
    -sEXPORTED_FUNCTIONS="$exported" \
    package/c/lib.cpp usearch-filter.cpp -o usearch.wasm
)

# 3. The module must import exactly what src/vector/usearch.ts provides (undefined symbols are
# allowed above only because env.usearch_filter comes from the host; anything else is an error).
node --input-type=module - "$work/usearch.wasm" <<'EOF'
import { readFileSync } from 'node:fs';
const mod = new WebAssembly.Module(readFileSync(process.argv[2]));
const expected = [
  'env.usearch_filter', 'env.emscripten_notify_memory_growth',
  'env.__syscall_fstat64', 'env.__syscall_stat64', 'env.__syscall_fstatat64',
  'wasi_snapshot_preview1.fd_close', 'wasi_snapshot_preview1.proc_exit',
].sort();
const actual = WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`).sort();
if (JSON.stringify(actual) !== JSON.stringify(expected)) {
  console.error(`build-usearch: unexpected imports:\n  got      ${actual.join(' ')}\n  expected ${expected.join(' ')}`);
  process.exit(1);
}
EOF

mkdir -p "$(dirname "$out")"
cp "$work/usearch.wasm" "$out"
if [ "$write_checksum" = 1 ]; then
  (cd "$(dirname "$out")" && sha256sum "$(basename "$out")" > "$(basename "$out").sha256")
fi
echo "build-usearch: wrote $out ($(wc -c < "$out") bytes, sha256 $(sha256sum "$out" | cut -d' ' -f1))"
