#!/usr/bin/env bash
# embed_check.sh -- libpmapstorm as an embedder sees it: install the build
# into a temporary prefix, then, with nothing from this source tree,
#   1. compile every installed public header alone, as strict ISO C17;
#   2. build tests/embed/embed.c with  cc $(pkg-config --cflags --libs pmapstorm)
#      (PKG_CONFIG_PATH pointing into the prefix), check that it needs the
#      shared library by its soname, and run it (LD_LIBRARY_PATH);
#   3. build the same program with a CMake project of its own that calls
#      find_package(pmapstorm COMPONENTS static) (tests/embed/CMakeLists.txt):
#      once against the shared library, run through CMake's rpath, once
#      against the archive.
#
#   tests/embed/embed_check.sh BUILD_DIR SOURCE_DIR CC PKG_CONFIG LIBDIR SOVERSION [SANITIZERS]
#
# SANITIZERS is the build's PMAPSTORM_SANITIZE (address,undefined or
# thread): the library then carries the sanitizer's runtime, and the
# program is compiled and linked with the same -fsanitize flags, as a
# program using a sanitized library must be.  Exit 0 when everything
# holds, 1 with a message naming what did not, 2 on bad arguments.
set -u

fail() {
	echo "embed_check: FAIL: $*" >&2
	exit 1
}

if [ $# -lt 6 ] || [ $# -gt 7 ] || [ ! -d "$1" ] || [ ! -r "$2/tests/embed/embed.c" ]; then
	echo "usage: embed_check.sh BUILD_DIR SOURCE_DIR CC PKG_CONFIG LIBDIR SOVERSION [SANITIZERS]" >&2
	exit 2
fi
BUILD=$1
SRC=$(cd "$2" && pwd)
CC=$3
PKG_CONFIG=$4
LIBDIR=$5
SOVERSION=$6
SAN=()
if [ -n "${7:-}" ]; then
	SAN=("-fsanitize=$7" -fno-omit-frame-pointer)
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/embed_check.XXXXXX") || fail "cannot create a temporary folder"
trap 'rm -rf "$TMP"' EXIT
PREFIX=$TMP/prefix
# run LOG COMMAND...: the command's output goes to LOG, shown when it fails
run() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 || { cat "$log" >&2; return 1; }
}

run "$TMP/install.log" cmake --install "$BUILD" --prefix "$PREFIX" || fail "cmake --install $BUILD --prefix $PREFIX"
[ -r "$PREFIX/$LIBDIR/pkgconfig/pmapstorm.pc" ] || fail "no $LIBDIR/pkgconfig/pmapstorm.pc installed"
[ -r "$PREFIX/$LIBDIR/libpmapstorm.so.$SOVERSION" ] || fail "no $LIBDIR/libpmapstorm.so.$SOVERSION installed"
[ -r "$PREFIX/$LIBDIR/libpmapstorm.a" ] || fail "no $LIBDIR/libpmapstorm.a installed"
soname=$(readelf -d "$PREFIX/$LIBDIR/libpmapstorm.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libpmapstorm.so.$SOVERSION" ] || fail "the shared library's soname is '$soname', not libpmapstorm.so.$SOVERSION"

# ---- pkg-config, from the prefix only ----
export PKG_CONFIG_PATH=$PREFIX/$LIBDIR/pkgconfig
flags=$("$PKG_CONFIG" --cflags --libs pmapstorm) || fail "pkg-config --cflags --libs pmapstorm"
case "$flags" in
*"$PREFIX"*) ;;
*) fail "pkg-config's flags do not point into the install prefix (a .pc that names the configured prefix?): $flags" ;;
esac
read -r -a FLAGS <<<"$flags"

# 1. every public header on its own, strict ISO C (no feature macro)
n=0
for h in "$PREFIX"/include/pmapstorm/*.h; do
	b=$(basename "$h")
	echo "#include <pmapstorm/$b>" >"$TMP/h.c"
	run "$TMP/h.log" "$CC" -std=c17 -Wall -Wextra -Werror -fsyntax-only "$TMP/h.c" "${FLAGS[@]}" ||
		fail "<pmapstorm/$b> does not compile on its own with -std=c17"
	n=$((n + 1))
done
[ $n -gt 0 ] || fail "no public headers installed"

# 2. cc $(pkg-config --cflags --libs pmapstorm)
run "$TMP/cc.log" "$CC" -std=c17 -Wall -Wextra -Werror "${SAN[@]}" "$SRC/tests/embed/embed.c" -o "$TMP/embed_pc" "${FLAGS[@]}" ||
	fail "cc embed.c \$(pkg-config --cflags --libs pmapstorm)"
readelf -d "$TMP/embed_pc" | grep -q "NEEDED.*\[libpmapstorm.so.$SOVERSION\]" ||
	fail "the program built with pkg-config does not load libpmapstorm.so.$SOVERSION"
LD_LIBRARY_PATH=$PREFIX/$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} "$TMP/embed_pc" || fail "embed (pkg-config build) exited $?"

# 3. find_package(pmapstorm), shared and static
run "$TMP/cmake.log" cmake -S "$SRC/tests/embed" -B "$TMP/cmake" -DCMAKE_PREFIX_PATH="$PREFIX" \
	-DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="${SAN[*]}" -DCMAKE_EXE_LINKER_FLAGS="${SAN[*]}" ||
	fail "configuring tests/embed with find_package(pmapstorm)"
run "$TMP/build.log" cmake --build "$TMP/cmake" || fail "building tests/embed with find_package(pmapstorm)"
readelf -d "$TMP/cmake/embed" | grep -q "NEEDED.*\[libpmapstorm.so.$SOVERSION\]" ||
	fail "pmapstorm::pmapstorm did not link the shared library"
readelf -d "$TMP/cmake/embed_static" | grep -q "NEEDED.*\[libpmapstorm" &&
	fail "pmapstorm::pmapstorm_static linked the shared library"
"$TMP/cmake/embed" || fail "embed (find_package, shared, through its rpath) exited $?"
"$TMP/cmake/embed_static" || fail "embed_static (find_package, the archive) exited $?"
echo "embed_check: ok: $n headers alone as C17; pkg-config and find_package builds (shared, static) ran"
