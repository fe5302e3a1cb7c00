#!/bin/sh
MLDE_FUZZ_DIR=$(cd "$(dirname "$0")/../fuzz" && pwd) && export MLDE_FUZZ_DIR
. "$(dirname "$0")/run-unit.sh"
