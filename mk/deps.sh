#!/bin/sh
# mk/deps.sh ensure|check|install PACKAGE... | fuzz - the Debian packages mlde needs.
# ensure: look cheaply for what the build, the loop and the tests use (the
# commands, the libraries through pkg-config, libjq's header); when something
# is missing, install PACKAGE... as root, or print the command and fail.
# check: only say what is missing, and fail (make -n).
# install: apt-get install them whatever is there (`make deps`).
# fuzz: clang and its libFuzzer runtime, for `make fuzz` only (no other
# goal needs clang).
set -eu
mode=$1
shift

# missing: the names of what is not there, one a line
missing() {
	for c in cc pkg-config zstd zstdcat jq perl prove groff man col column gnuplot pkill; do
		command -v "$c" > /dev/null 2>&1 || echo "$c"
	done
	if command -v pkg-config > /dev/null 2>&1; then
		for lib in libcurl libzstd libpng openblas; do
			pkg-config --exists "$lib" || echo "$lib (pkg-config)"
		done
	fi
	[ -f /usr/include/jv.h ] || [ -f /usr/local/include/jv.h ] || echo "jv.h (libjq)"
}

apt() {
	DEBIAN_FRONTEND=noninteractive apt-get "$@"
}

install() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "mlde: installing the Debian packages needs root; run:" >&2
		echo "  sudo sh -c 'apt-get update && apt-get install -y --no-install-recommends $*'" >&2
		echo "(or the same as root without sudo), then make again." >&2
		exit 1
	fi
	apt update
	apt install -y --no-install-recommends "$@"
}

# fuzz_missing: what `make fuzz` needs that is not there
fuzz_missing() {
	command -v clang > /dev/null 2>&1 || { echo clang; return; }
	[ -f "$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a 2> /dev/null)" ] ||
		[ -n "$(find /usr/lib/llvm-*/lib/clang -name 'libclang_rt.fuzzer*.a' 2> /dev/null | head -1)" ] ||
		echo "libFuzzer (libclang-rt-dev)"
}

case $mode in
fuzz)
	gone=$(fuzz_missing | tr '\n' ' ')
	[ -z "$gone" ] && exit 0
	echo "mlde: make fuzz needs: $gone" >&2
	install clang libclang-rt-dev
	gone=$(fuzz_missing | tr '\n' ' ')
	if [ -n "$gone" ]; then
		echo "mlde: still missing after apt-get install: $gone" >&2
		exit 1
	fi
	;;
install)
	install "$@"
	;;
ensure)
	gone=$(missing | tr '\n' ' ')
	[ -z "$gone" ] && exit 0
	echo "mlde: missing: $gone" >&2
	install "$@"
	gone=$(missing | tr '\n' ' ')
	if [ -n "$gone" ]; then
		echo "mlde: still missing after apt-get install: $gone" >&2
		exit 1
	fi
	;;
check)
	gone=$(missing | tr '\n' ' ')
	[ -z "$gone" ] && exit 0
	echo "mlde: missing: $gone(make without -n installs them)" >&2
	exit 1
	;;
*)
	echo "usage: mk/deps.sh ensure|check|install PACKAGE... | fuzz" >&2
	exit 2
	;;
esac
