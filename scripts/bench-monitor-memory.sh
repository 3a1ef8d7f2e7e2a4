#!/usr/bin/env bash
# Archive import memory check (issue 19): peak resident memory of `tocsin monitor import` on
# a large generated Telegram Desktop `result.json` against a small one. Constant memory means
# the two peaks are close whatever the file's size. Prints figures; asserts nothing.
#
#   scripts/bench-monitor-memory.sh [MEGABYTES]     (default 300)
#
# Uses $TOCSIN_BIN when set (e.g. a debug build), else builds the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
MB="${1:-300}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/tocsin-target}"
if [ -z "${TOCSIN_BIN:-}" ]; then
  cargo build --release -q --workspace --bin tocsin
  TOCSIN_BIN="$CARGO_TARGET_DIR/release/tocsin"
fi
WORK=$(mktemp -d /var/tmp/tocsin-bench-monitor.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

gen() { # gen FILE BYTES
  python3 - "$1" "$2" <<'PY'
import json, sys
path, target = sys.argv[1], int(sys.argv[2])
words = "market road river bridge school clinic soldiers convoy rain maize cattle vermin".split()
with open(path, "w") as f:
    f.write('{"name":"Generated","type":"public_channel","id":1,"messages":[\n')
    n, size = 0, 0
    while size < target:
        n += 1
        if n % 50 == 0:
            m = {"id": n, "type": "service", "date": "2024-05-01T09:00:00", "action": "pin_message", "text": ""}
        elif n % 3 == 0:
            m = {"id": n, "type": "message", "date": "2024-05-01T09:00:00", "date_unixtime": str(1714554000 + n),
                 "from": "Generated", "text": ["Post %d: " % n, {"type": "bold", "text": words[n % len(words)]},
                 " " + " ".join(words[(n + k) % len(words)] for k in range(40))]}
        else:
            m = {"id": n, "type": "message", "date": "2024-05-01T09:00:00", "date_unixtime": str(1714554000 + n),
                 "from": "Generated", "text": "Post %d: " % n + " ".join(words[(n * 7 + k) % len(words)] for k in range(60))}
        line = ("" if n == 1 else ",\n") + json.dumps(m)
        f.write(line)
        size += len(line)
    f.write("\n]}\n")
PY
}

run() { # run NAME FILE
  local dir="$WORK/data-$1"
  mkdir -p "$dir"
  /usr/bin/time -v "$TOCSIN_BIN" --data-dir "$dir" monitor import "$2" --name "$1" --format telegram \
    >"$WORK/$1.out" 2>"$WORK/$1.time"
  local rss secs
  rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$WORK/$1.time")
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/$1.time")
  printf '%-6s %8s MB file  peak RSS %7d KiB  wall %s  %s\n' "$1" \
    "$(( $(stat -c %s "$2") / 1048576 ))" "$rss" "$secs" "$(head -1 "$WORK/$1.out")"
}

echo "== generating result.json files (1 MB and $MB MB)"
gen "$WORK/small.json" $((1024 * 1024))
gen "$WORK/large.json" $((MB * 1024 * 1024))
run small "$WORK/small.json"
run large "$WORK/large.json"
