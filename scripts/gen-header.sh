#!/usr/bin/env bash
# gen-header.sh: regenerate crates/gmsa-ffi/include/gmsa.h from the C ABI's sources with
# cbindgen (the header_is_current test fails until the result is committed).
set -euo pipefail
cd "$(dirname "$0")/.."
GMSA_BLESS_HEADER=1 cargo test --quiet -p gmsa-ffi --test header header_is_current
echo "wrote crates/gmsa-ffi/include/gmsa.h" >&2
