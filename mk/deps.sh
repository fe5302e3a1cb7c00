#!/bin/sh
# mk/deps.sh ensure|check|install PACKAGE... | fuzz | browser - the Debian packages mlde needs.
# ensure: look cheaply for what the build, the loop and the tests use (the
# commands, the libraries through pkg-config, libjq's header); when something
# is missing, install PACKAGE... as root, or print the command and fail.
# check: only say what is missing, and fail (make -n).
# install: apt-get install them whatever is there (`make deps`).
# fuzz: clang and its libFuzzer runtime, for `make fuzz` only (no other
# goal needs clang).
# browser: Chromium (apt) and puppeteer-core (npm, into build/browser), for
# the review page's browser test (tests/browser/review.t) only.
set -eu
mode=$1
shift

# missing: the names of what is not there, one a line
missing() {
	for c in cc pkg-config zstd zstdcat jq perl prove groff man col column gnuplot pkill curl; do
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
# (llvm-symbolizer too: without it the sanitizers print bare addresses,
# and tests/lsan.supp, which names libjq's leaking function, cannot match)
fuzz_missing() {
	command -v llvm-symbolizer > /dev/null 2>&1 || echo "llvm-symbolizer (llvm)"
	command -v clang > /dev/null 2>&1 || { echo clang; return; }
	[ -f "$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a 2> /dev/null)" ] ||
		[ -n "$(find /usr/lib/llvm-*/lib/clang -name 'libclang_rt.fuzzer*.a' 2> /dev/null | head -1)" ] ||
		echo "libFuzzer (libclang-rt-dev)"
}

# browser_missing: what the browser test needs that is not there
BROWSER_NPM=puppeteer-core@22
browser_missing() {
	[ -x /usr/bin/chromium ] || echo chromium
	command -v npm > /dev/null 2>&1 || echo npm
	NODE_PATH=build/browser/node_modules node -e 'require("puppeteer-core")' 2> /dev/null ||
		echo "puppeteer-core (npm)"
}

case $mode in
browser)
	gone=$(browser_missing | tr '\n' ' ')
	[ -z "$gone" ] && exit 0
	echo "mlde: the browser test needs: $gone" >&2
	case $gone in *chromium* | *"npm "*) install chromium npm ;; esac
	mkdir -p build/browser
	npm install --prefix build/browser --no-audit --no-fund --no-save "$BROWSER_NPM"
	gone=$(browser_missing | tr '\n' ' ')
	if [ -n "$gone" ]; then
		echo "mlde: still missing after installing: $gone" >&2
		exit 1
	fi
	;;
fuzz)
	gone=$(fuzz_missing | tr '\n' ' ')
	[ -z "$gone" ] && exit 0
	echo "mlde: make fuzz needs: $gone" >&2
	install clang libclang-rt-dev llvm
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
	echo "usage: mk/deps.sh ensure|check|install PACKAGE... | fuzz | browser" >&2
	exit 2
	;;
esac
