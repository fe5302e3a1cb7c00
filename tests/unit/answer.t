#!/bin/sh
# test-answer reads the real-format fixtures of tests/fixtures/formats.
MLDE_FIXTURES=$(cd "$(dirname "$0")/../fixtures" && pwd)
export MLDE_FIXTURES
. "$(dirname "$0")/run-unit.sh"
