# mono.sh: installs Mono's C# compiler and runtime (Debian's mono-mcs, mono-runtime) when
# missing, for the PowerShell module's interop suite (crates/gmsa-ffi/tests/mono.rs), which
# fails without them. Sourced by scripts/test.sh; the caller defines log (die is defined
# here when the caller has none).
# shellcheck shell=bash

# shellcheck source=scripts/lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"
declare -F die >/dev/null || die() { printf 'error: %s\n' "$*" >&2; exit 1; }

install_mono() {
    command -v mcs >/dev/null && command -v mono >/dev/null && return 0
    apt_update
    log "installing mono-mcs mono-runtime (the PowerShell module's interop tests)"
    apt_get install mono-mcs mono-runtime
}
