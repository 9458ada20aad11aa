#!/usr/bin/env bash
# Soak test: replay MINUTES (default 30) of generated signal with events
# sprinkled in through the full pipeline (`rfsentry monitor --fast`), sampling
# memory, then check flat RSS, a steady noise floor, every event detected, no
# false alert and no alert left open. The checks live in tests/soak.rs, which
# `cargo test` also runs in a 2-minute short form.
#
#   scripts/soak.sh            # 30 minutes of signal (~900 MB of ci8 in a temp dir)
#   scripts/soak.sh 5          # 5 minutes
#   SOAK_DIR=/big/disk scripts/soak.sh 120
#
# Needs: a Rust toolchain; about 30 MB of disk per minute of signal (deleted
# afterwards). Prints a JSON report; exits non-zero if a check fails.
set -euo pipefail

minutes="${1:-30}"
case "$minutes" in
  ''|*[!0-9.]*) echo "usage: $0 [MINUTES]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."

export RFSENTRY_SOAK_MINUTES="$minutes"
if [[ -n "${SOAK_DIR:-}" ]]; then
  export RFSENTRY_SOAK_DIR="$SOAK_DIR"
fi
if [[ -n "${SOAK_EVERY_S:-}" ]]; then
  export RFSENTRY_SOAK_EVERY_S="$SOAK_EVERY_S"
fi

# The long open alert (signal loss): a million 50 ms frames, ~14 h of signal.
export RFSENTRY_LOSS_FRAMES="${RFSENTRY_LOSS_FRAMES:-1000000}"

echo "soak: ${minutes} min of signal, release build" >&2
exec cargo test --release --test tests -- soak:: --nocapture --test-threads 1
