#!/usr/bin/env bash
# `make run`: podfence's main job on the bundled backend-as-a-service example.
set -u
podfence=${1:-podfence}
example=${2:-examples/baa}
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step podfence check -f "$example"
"$podfence" check -f "$example" || exit $?

step podfence lint -f "$example"
# The example keeps a few mistakes on purpose (examples/baa/README.md): lint exits 1
# on them, which is the point of showing them; only invalid input (2) stops the run.
"$podfence" lint -f "$example"
status=$?
[ "$status" -le 1 ] || exit "$status"

step podfence generate -f "$example" --intents "$example-intents.yaml" --check
# The intent file says what the team meant to allow; the proof shows where the
# hand-written policies differ from it (exit 1 on the deliberate mistakes).
"$podfence" generate -f "$example" --intents "$example-intents.yaml" --check
status=$?
[ "$status" -le 1 ] || exit "$status"

step podfence matrix -f "$example" --port 8080
"$podfence" matrix -f "$example" --port 8080 || exit $?

step podfence explain -f "$example" --from api/api-server --to data/postgres --port 5432
"$podfence" explain -f "$example" --from api/api-server --to data/postgres --port 5432 || exit $?

step podfence explain -f "$example" --from billing/invoicer --to svc/notify/mailer --port 80
"$podfence" explain -f "$example" --from billing/invoicer --to svc/notify/mailer --port 80 || exit $?
