# mk/deps.mk - the Debian packages mlde needs: every goal but deps, clean,
# distclean and help installs them first when something is missing (as root;
# otherwise it prints the command and stops), and `make deps` installs them.
# Build: compiler, pkg-config and the -dev packages of every library we link.
# Run and test: zstd and jq (tests compare with them), perl's prove (TAP),
# man, groff and column (man page and README tests), pkill (procps), gnuplot
# for the report chart, valgrind for the optional memory checks, curl (the
# tests and benches talk to their servers with it, as a user would).
DEBIAN_PACKAGES := build-essential pkg-config make \
	libcurl4-openssl-dev libjq-dev libonig-dev libzstd-dev libpng-dev libopenblas-dev \
	zstd jq perl groff-base man-db bsdextrautils procps gnuplot-nox valgrind curl

.PHONY: deps
deps:
	@sh mk/deps.sh install $(DEBIAN_PACKAGES)

# $(O)/pkg.mk: the compiler and linker flags of the libraries, found once the
# packages are there.  Make remakes an included makefile before it reads the
# rest, so a fresh machine gets its packages before anything is compiled.
PKGS := libcurl libzstd libpng openblas
# make -n remakes it too, but must not install: there it only looks.
$(O)/pkg.mk: mk/deps.mk mk/deps.sh
	@sh mk/deps.sh $(if $(findstring n,$(firstword -$(MAKEFLAGS))),check,ensure) $(DEBIAN_PACKAGES)
	@mkdir -p $(@D)
	@printf 'PKG_CFLAGS := %s\nPKG_LIBS := %s\n' "$$(pkg-config --cflags $(PKGS))" \
		"$$(pkg-config --libs $(PKGS))" > $@.tmp && mv $@.tmp $@
