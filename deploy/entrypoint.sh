#!/bin/sh
# Container start: bring this service's database to head (idempotent), then become `api` or `worker` (exec, so
# the Python process gets the stop signal directly).
set -eu
: "${SERVICE:?SERVICE is not set (build the image with --build-arg SERVICE=<name>)}"
python -m "services.$SERVICE" migrate
exec python -m "services.$SERVICE" "$@"
