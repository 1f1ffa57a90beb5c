#!/bin/sh
# Differential conformance test against the corpus (see conformance.py).
exec python3 "$(dirname "$0")/conformance.py"
