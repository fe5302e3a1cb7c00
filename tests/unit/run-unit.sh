# Sourced by tests/unit/*.t: run build/<variant>/tests/test-NAME in a scratch dir.
set -eu
: "${MLDE_TESTBIN:?set MLDE_TESTBIN (make check does)}"
name=$(basename "$0" .t)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mlde-unit.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
"$MLDE_TESTBIN/test-$name"
