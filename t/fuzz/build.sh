#!/usr/bin/env bash
# Builds every libFuzzer target of t/fuzz/ (clang, ASan + UBSan) into
# BUILD_DIR (default t/fuzz/build). Usage: t/fuzz/build.sh [BUILD_DIR]
#
# The core is compiled once, with coverage instrumentation, into objects
# shared by all targets. oac_http_curl.c is left out: no target reaches
# the network, so the fuzzers need no libcurl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# The core's sources: the tree above t/, or OAC_SRCDIR when t/ is make
# check's copy in a build tree outside the sources (make distcheck).
top=${OAC_SRCDIR:-$(cd "$here/../.." && pwd)}
out=${1:-$here/build}
mkdir -p "$out/obj"
out=$(cd "$out" && pwd)

CC=${CC:-clang}
if ! command -v "$CC" >/dev/null 2>&1; then
    echo "build.sh: $CC not found (apt-get install clang)" >&2
    exit 1
fi
# libFuzzer's runtime ships apart from the compiler on Debian.
probe="$out/obj/probe"
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' > "$probe.c"
if ! "$CC" -fsanitize=fuzzer "$probe.c" -o "$probe" 2>/dev/null; then
    echo "build.sh: $CC cannot link libFuzzer programs (apt-get install libclang-rt-14-dev)" >&2
    exit 1
fi

deps="apr-1 apr-util-1 jansson libcrypto"
cflags="-std=c11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE \
    -I$top/src -I$top/include $(pkg-config --cflags $deps)"
libs="$(pkg-config --libs $deps) -lpthread"
# The targets' own code is held to the project's warnings.
warn="-Wall -Wextra -Wno-unused-parameter -Wshadow -Werror"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"

objs=()
for src in "$top"/src/oac_*.c; do
    name=$(basename "$src" .c)
    [ "$name" = oac_http_curl ] && continue
    obj="$out/obj/$name.o"
    if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ] \
       || [ -n "$(find "$top/src" -name 'oac_*.h' -newer "$obj")" ]; then
        # shellcheck disable=SC2086
        "$CC" $cflags $san -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
    fi
    objs+=("$obj")
done

for src in "$here"/fuzz_*.c; do
    name=$(basename "$src" .c)
    bin="$out/$name"
    if [ -e "$bin" ] && [ ! "$src" -nt "$bin" ] \
       && [ -z "$(find "$here" -maxdepth 1 -name '*.h' -newer "$bin")" ] \
       && [ -z "$(find "$out/obj" -name 'oac_*.o' -newer "$bin")" ]; then
        continue
    fi
    echo "  CCLD     $name"
    # shellcheck disable=SC2086
    "$CC" $cflags $warn $san -fsanitize=fuzzer "$src" "${objs[@]}" $libs -o "$bin"
done
