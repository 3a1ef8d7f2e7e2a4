#!/usr/bin/env bash
# Re-derive the common-password list that Tocsin's password policy refuses.
#
#   crates/tocsin-domain/data/common-passwords.txt <- PyPI Django (django/contrib/auth/
#                                                     common-passwords.txt.gz, BSD-3-Clause)
#
# Django's list holds 20,000 common passwords (Royce Williams' list, as Django's
# CommonPasswordValidator ships it). Tocsin refuses every password shorter than 12
# characters anyway, so only the entries of 12 characters or more are kept, lowercased
# (the policy matches case-insensitively), sorted and without repeats.
#
# Run from the repository root:  scripts/derive-common-passwords.sh
# Needs: bash, python3 with pip. Idempotent: pinned version, deterministic output.
# See data/LICENCES.md for provenance.
set -euo pipefail

DJANGO_VERSION="${DJANGO_VERSION:-5.2.19}"

ROOT="$(pwd)"
if [[ ! -f "$ROOT/Cargo.toml" || ! -d "$ROOT/crates" ]]; then
  echo "derive-common-passwords.sh: run me from the repository root" >&2
  exit 1
fi
OUT="$ROOT/crates/tocsin-domain/data/common-passwords.txt"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tocsin-passwords.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

echo "==> pip download django==$DJANGO_VERSION"
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$WORK" "django==$DJANGO_VERSION"

python3 - "$WORK"/django-"$DJANGO_VERSION"-*.whl "$OUT" <<'PY'
import gzip, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
raw = zipfile.ZipFile(wheel).read("django/contrib/auth/common-passwords.txt.gz")
words = sorted({w.strip().lower() for w in gzip.decompress(raw).decode("utf-8").splitlines()
                if len(w.strip()) >= 12})
with open(out, "w", encoding="utf-8", newline="\n") as f:
    for w in words:
        f.write(w + "\n")
print(f"==> {len(words)} passwords of 12 characters or more -> {out}")
PY
