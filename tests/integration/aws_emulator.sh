#!/usr/bin/env bash
# The AWS emulator's own checks (tests/aws/selftest.py): botocore clients
# against it prove it verifies signatures, validates bodies against the
# service models, pages, streams SSM output and injects each fault, so the
# tests that rely on it can be trusted.
set -u
cd "$(dirname "$0")/../.."
: "${TARMAC_EMULATOR_DIR:?the AWS emulator is not running (tests/run.sh starts it)}"
/usr/bin/python3 tests/aws/selftest.py "$TARMAC_EMULATOR_DIR"
