#!/bin/sh
# Licensed under the Apache License, Version 2.0
#
# Builds and runs bench/codec_bench.c: the OAuthSessionPassphrase codec
# against raw AES-256-GCM and against mod_session_crypto's per-request
# PBKDF2. No Makefile needed; run from anywhere.
#
#   bench/codec_bench.sh [seconds]     (default 2; the ratio rows share it)
#
# Exit status: 0 when oac_codec reaches at least half the raw cipher's
# rate, 2 when it does not, 1 on a build or run error.

set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
out=${TMPDIR:-/tmp}/codec_bench.$$
trap 'rm -f "$out"' EXIT
trap 'exit 1' INT TERM

cd "$top"
# shellcheck disable=SC2046  # pkg-config output is meant to split
gcc -std=c11 -O2 -D_GNU_SOURCE -Wall -Wextra -Isrc \
    $(pkg-config --cflags apr-1 apr-util-1 openssl jansson) \
    -o "$out" bench/codec_bench.c src/oac_codec.c src/oac_util.c \
    $(pkg-config --libs apr-1 apr-util-1 openssl jansson) -pthread
"$out" "${1:-2}"
