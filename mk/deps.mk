# mk/deps.mk - the Debian packages mlde needs, and `make deps` to install them.
# Build: compiler, pkg-config and the -dev packages of every library we link.
# Run and test: zstd and jq (tests compare with them), perl's prove (TAP),
# gnuplot for the report chart, valgrind for the optional memory checks.
DEBIAN_PACKAGES := build-essential pkg-config make \
	libcurl4-openssl-dev libjq-dev libonig-dev libzstd-dev libpng-dev libopenblas-dev \
	zstd jq perl groff-base man-db bsdextrautils gnuplot-nox valgrind

APT_GET := DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: deps
deps:
	@if [ "$$(id -u)" -ne 0 ]; then \
		echo "make deps: installing packages needs root; run:" >&2; \
		echo "  sudo sh -c 'apt-get update && apt-get install -y $(DEBIAN_PACKAGES)'" >&2; \
		exit 1; \
	fi
	$(APT_GET) update
	$(APT_GET) install -y --no-install-recommends $(DEBIAN_PACKAGES)
