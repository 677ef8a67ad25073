# nskit - one non-recursive Makefile.
#
#   make            build every tool into build/bin
#   make check      install missing dependencies, build, run every test (sh check.sh: the same, without make)
#   make demo       install what the demo needs, build, show a rootless namespace (sh demo.sh)
#   make asan       build with address+undefined sanitizers and run the tests
#   make bench      side-by-side timings (needs hyperfine, podman, buildah, bwrap)
#   make install    PREFIX, DESTDIR, BINDIR, MANDIR; mode 0755, never setuid
#
# Tools are found by convention: every <area>/<tool>.c is one executable,
# and the folder <area>/<tool>/ beside it holds the rest of that tool's own
# files (every .c there is linked into it, and into nothing else but the
# unit tests); lib/*.c is libnskit.a, the mechanisms, which never print or
# exit; cli/*.c is libnskit-cli.a, the front end the tools share (option
# parsing, messages, exit); tests/unit/check_<module>.c is one Check suite.

VERSION := $(shell cat VERSION)

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR  ?= $(DATADIR)/man
SYSCONFDIR ?= /etc
INSTALL ?= install
PKG_CONFIG ?= pkg-config

CC ?= cc
O  ?= build

PKGS := mount smartcols libcap-ng

# Project flags live in their own variables; the user's CFLAGS, CPPFLAGS and
# LDFLAGS (distributions put hardening flags there) are appended, never replaced.
# pkg-config is asked lazily (so 'make check' can install it first) and once
# a run; a module it cannot find stops the build with its name.
pkg = $(if $(shell command -v $(PKG_CONFIG) 2>/dev/null),,$(error '$(PKG_CONFIG)' is not installed: run 'scripts/install-deps' as root (or install pkg-config)))$(foreach m,$(2),$(if $(shell $(PKG_CONFIG) --exists $(m) 2>/dev/null && echo y),$(shell $(PKG_CONFIG) $(1) $(m)),$(error pkg-config cannot find '$(m)': install its -dev package ('scripts/install-deps' as root installs them all))))
once = $(eval $(1) := $(2))$($(1))
PKG_CFLAGS = $(call once,PKG_CFLAGS,$(call pkg,--cflags,$(PKGS)))
PKG_LIBS = $(call once,PKG_LIBS,$(call pkg,--libs,$(PKGS)))
NK_CFLAGS = -std=gnu11 -O2 -g -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Werror=format-security -Werror=format -Werror=missing-prototypes \
	-Werror=implicit-function-declaration -Werror=return-type \
	-D_GNU_SOURCE -Ilib -Icli $(PKG_CFLAGS)
NK_LIBS = $(PKG_LIBS) -ldl
CHECK_CFLAGS = $(call once,CHECK_CFLAGS,$(call pkg,--cflags,check))
CHECK_LIBS = $(call once,CHECK_LIBS,$(call pkg,--libs,check))
# Header dependencies are generated: touching a header rebuilds only what
# includes it.
# They are kept in $(O)/.deps, one file a target.
DEPFLAGS = -MMD -MP -MF $(O)/.deps/$(subst /,_,$@).d

ALL_CFLAGS = $(NK_CFLAGS) $(DEPFLAGS) $(SAN_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SAN_CFLAGS) $(LDFLAGS)
# Every program that links libnskit binds all symbols at start: the map
# writers are clone(CLONE_VM) children that must never enter ld.so's lazy
# binding. Only the libraries actually used are recorded (the start-up
# cost of idmap-apply and nsenter-user is part of their spec).
NK_LDFLAGS = -Wl,--as-needed -Wl,-z,relro,-z,now

AREAS     := idmap nsenter subid mnt doctor
TOOL_SRCS := $(wildcard $(addsuffix /*.c,$(AREAS)))
TOOLS     := $(notdir $(TOOL_SRCS:.c=))
TOOL_BINS := $(addprefix $(O)/bin/,$(TOOLS))
LIB_SRCS  := $(wildcard lib/*.c)
LIB_OBJS  := $(LIB_SRCS:%.c=$(O)/%.o)
LIB_HDRS  := $(wildcard lib/*.h)
LIBNSKIT  := $(O)/libnskit.a
CLI_SRCS  := $(wildcard cli/*.c)
CLI_OBJS  := $(CLI_SRCS:%.c=$(O)/%.o)
LIBCLI    := $(O)/libnskit-cli.a
# A tool's own files: <area>/<tool>/*.c. The unit tests reach them through
# one archive (an archive links only the members a test uses).
PRIV_SRCS := $(wildcard $(addsuffix /*/*.c,$(AREAS)))
PRIV_OBJS := $(PRIV_SRCS:%.c=$(O)/%.o)
LIBPRIV   := $(O)/libnskit-tools.a
priv_objs = $(patsubst %.c,$(O)/%.o,$(wildcard $(dir $(filter %/$(1).c,$(TOOL_SRCS)))$(1)/*.c))
UNIT_SRCS := $(wildcard tests/unit/check_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)
TEST_HELPER_SRCS := $(wildcard tests/helpers/*.c)
TEST_HELPERS := $(TEST_HELPER_SRCS:tests/helpers/%.c=$(O)/tests/helpers/%)
MANPAGES  := $(wildcard man/*.1 man/*.7)
MAN_OUT   := $(MANPAGES:man/%=$(O)/man/%)
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
SYSTEMDUNITDIR ?= $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null | grep . || echo /lib/systemd/system)
OPENRCDIR ?= $(SYSCONFDIR)/init.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
WITH_SYSTEMD ?= yes
WITH_OPENRC ?= yes

.PHONY: all deps check check-only check-unit demo demo-only asan bench install uninstall clean tests fuzz fuzz-build \
	install-bin install-man install-completions install-systemd install-openrc install-tmpfiles dist

all: $(TOOL_BINS) $(MAN_OUT)

$(O)/lib/%.o: lib/%.c
	@mkdir -p $(dir $@) $(O)/.deps
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/cli/%.o: cli/%.c
	@mkdir -p $(dir $@) $(O)/.deps
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# A tool's own files see its folder's headers.
$(PRIV_OBJS): $(O)/%.o: %.c
	@mkdir -p $(dir $@) $(O)/.deps
	$(CC) $(ALL_CFLAGS) -I$(dir $<) -c -o $@ $<

# The version lives in VERSION alone; only cli/tool.c prints it.
$(O)/cli/tool.o: VERSION
$(O)/cli/tool.o: ALL_CFLAGS += -DNSKIT_VERSION='"$(VERSION)"'
$(O)/tests/check_tool: VERSION
$(O)/tests/check_tool: ALL_CFLAGS += -DNSKIT_VERSION='"$(VERSION)"'

$(LIBNSKIT): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBCLI): $(CLI_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(LIBPRIV): $(PRIV_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/bin/%: $(LIBCLI) $(LIBNSKIT)
	@mkdir -p $(dir $@) $(O)/.deps
	$(CC) $(ALL_CFLAGS) -I$(dir $(filter %/$*.c,$(TOOL_SRCS)))$* -o $@ $(filter %/$*.c,$(TOOL_SRCS)) $(call priv_objs,$*) $(LIBCLI) $(LIBNSKIT) $(ALL_LDFLAGS) $(NK_LDFLAGS) $(NK_LIBS)

# Each tool depends on its own source file and its folder's objects.
define tool_rule
$(O)/bin/$(notdir $(1:.c=)): $(1) $(call priv_objs,$(notdir $(1:.c=)))
endef
$(foreach s,$(TOOL_SRCS),$(eval $(call tool_rule,$(s))))

$(O)/tests/check_%: tests/unit/check_%.c $(LIBPRIV) $(LIBCLI) $(LIBNSKIT)
	@mkdir -p $(dir $@) $(O)/.deps
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests/unit $(addprefix -I,$(sort $(dir $(PRIV_SRCS)))) -o $@ $< $(LIBPRIV) $(LIBCLI) $(LIBNSKIT) $(ALL_LDFLAGS) $(NK_LDFLAGS) $(NK_LIBS) $(CHECK_LIBS)

$(O)/tests/helpers/%: tests/helpers/%.c $(LIBNSKIT)
	@mkdir -p $(dir $@) $(O)/.deps
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIBNSKIT) $(ALL_LDFLAGS) $(NK_LDFLAGS) $(NK_LIBS) $(HELPER_LIBS)

# No tool links libsubid (lib/subid.c dlopen()s it for a central source; a
# packaging test checks): only the test helper that compares nskit's reading
# of the files with libsubid's own links it.
$(O)/tests/helpers/ranges-compare: HELPER_LIBS = -lsubid

tests: all $(UNIT_BINS) $(TEST_HELPERS)

deps:
	@scripts/install-deps

# The README's test command: dependencies, build, every test.
check: deps
	@$(MAKE) --no-print-directory tests
	@NSKIT_BUILD=$(abspath $(O)) tests/run

# Run the tests on what is built, without the dependency step.
check-only: tests
	@NSKIT_BUILD=$(abspath $(O)) tests/run

# Only the unit tests (no root needed; what a package build runs).
check-unit: tests
	@NSKIT_BUILD=$(abspath $(O)) NSKIT_UNIT_ONLY=1 tests/run

demo:
	@scripts/install-deps --demo
	@$(MAKE) --no-print-directory demo-only

demo-only: all
	@NSKIT_BUILD=$(abspath $(O)) scripts/demo

asan: deps
	@$(MAKE) --no-print-directory O=build-asan SAN_CFLAGS='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' tests
	@NSKIT_BUILD=$(abspath build-asan) NSKIT_ASAN=1 \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=99 \
		tests/run

# Fuzzing (libFuzzer, clang): every parser, FUZZ_TIME seconds each, with
# ASan and UBSan; a crash fails. Seed corpora are in tests/fuzz/corpus/.
FUZZ_CC ?= clang
FUZZ_TIME ?= 30
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)

# A target may fuzz a tool's own module (the doctor's --explain table): the
# tools' archive comes first, and its folders' headers are found.
fuzz-build:
	@$(MAKE) --no-print-directory O=build-fuzz CC=$(FUZZ_CC) SAN_CFLAGS='$(FUZZ_SAN) -fsanitize=fuzzer-no-link' \
		build-fuzz/libnskit-tools.a build-fuzz/libnskit-cli.a build-fuzz/libnskit.a
	@for s in $(FUZZ_SRCS); do \
		n=$$(basename $$s .c); \
		echo "  FUZZ  $$n"; \
		$(FUZZ_CC) $(NK_CFLAGS) $(addprefix -I,$(sort $(dir $(PRIV_SRCS)))) $(FUZZ_SAN) -fsanitize=fuzzer \
			-o build-fuzz/$$n $$s build-fuzz/libnskit-tools.a build-fuzz/libnskit-cli.a build-fuzz/libnskit.a $(NK_LIBS) || exit 1; \
	done

fuzz:
	@scripts/install-deps --fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZ_TIME=$(FUZZ_TIME) tests/fuzz/run build-fuzz

bench: deps
	@$(MAKE) --no-print-directory all
	@NSKIT_BUILD=$(abspath $(O)) bench/run

# Man pages carry the version of VERSION, whatever their source says.
$(O)/man/%: man/% VERSION
	@mkdir -p $(dir $@)
	sed -e '1,/^\.TH/s/^\(\.TH [^ ]* [^ ]* "[^"]*" \)"[^"]*"/\1"nskit $(VERSION)"/' $< > $@

# Install: every tool (0755, never setuid or with file capabilities), every
# man page, bash completions, and the contrib boot services for mnt-share
# (WITH_SYSTEMD=no / WITH_OPENRC=no leave one out).
install: install-bin install-man install-completions install-tmpfiles
	@if [ "$(WITH_SYSTEMD)" = yes ]; then $(MAKE) --no-print-directory install-systemd; fi
	@if [ "$(WITH_OPENRC)" = yes ]; then $(MAKE) --no-print-directory install-openrc; fi

install-bin: all
	$(INSTALL) -d -m 0755 $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 0755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)/

install-man: $(MAN_OUT)
	$(INSTALL) -d -m 0755 $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	for m in $(MAN_OUT); do \
		s=$${m##*.}; $(INSTALL) -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; \
	done

# One completion script, installed under each tool's name (bash-completion
# loads completions/<command> on demand).
install-completions:
	$(INSTALL) -d -m 0755 $(DESTDIR)$(BASHCOMPDIR)
	for t in $(TOOLS); do $(INSTALL) -m 0644 completions/nskit.bash $(DESTDIR)$(BASHCOMPDIR)/$$t || exit 1; done

install-systemd:
	$(INSTALL) -d -m 0755 $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|/usr/local/bin/|$(BINDIR)/|g' contrib/systemd/nskit-mnt-share.service > $(DESTDIR)$(SYSTEMDUNITDIR)/nskit-mnt-share.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/nskit-mnt-share.service

# systemd-tmpfiles and OpenRC's opentmpfiles both read tmpfiles.d: never
# clean /tmp/nskit-* (session and slice records) while it is in use.
install-tmpfiles:
	$(INSTALL) -d -m 0755 $(DESTDIR)$(TMPFILESDIR)
	$(INSTALL) -m 0644 contrib/tmpfiles.d/nskit.conf $(DESTDIR)$(TMPFILESDIR)/nskit.conf

install-openrc:
	$(INSTALL) -d -m 0755 $(DESTDIR)$(OPENRCDIR)
	sed 's|/usr/local/bin/|$(BINDIR)/|g' contrib/openrc/nskit-mnt-share > $(DESTDIR)$(OPENRCDIR)/nskit-mnt-share
	chmod 0755 $(DESTDIR)$(OPENRCDIR)/nskit-mnt-share

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$t; done
	for m in $(notdir $(MANPAGES)); do s=$${m##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$$m; done
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BASHCOMPDIR)/$$t; done
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/nskit-mnt-share.service $(DESTDIR)$(OPENRCDIR)/nskit-mnt-share
	rm -f $(DESTDIR)$(TMPFILESDIR)/nskit.conf

# A versioned source tarball: what git tracks (or the tree, outside git),
# with the man pages stamped with the version.
dist: $(MAN_OUT)
	rm -rf $(O)/dist && mkdir -p $(O)/dist/nskit-$(VERSION)
	if git rev-parse --git-dir >/dev/null 2>&1; then \
		git ls-files -z | xargs -0 tar -cf - | tar -xf - -C $(O)/dist/nskit-$(VERSION); \
	else \
		find . -path ./$(O) -prune -o -path ./build-asan -prune -o -path ./build-fuzz -prune -o \
			-type f -print0 | xargs -0 tar -cf - | tar -xf - -C $(O)/dist/nskit-$(VERSION); \
	fi
	cp $(MAN_OUT) $(O)/dist/nskit-$(VERSION)/man/
	tar -C $(O)/dist -czf nskit-$(VERSION).tar.gz --owner=0 --group=0 --sort=name nskit-$(VERSION)
	@echo "nskit-$(VERSION).tar.gz"

clean:
	rm -rf $(O) build-asan build-fuzz

# subid-alloc's tests: a libsubid NSS module (a shared object, not a program).
$(O)/tests/helpers/libsubid_nktest.so: tests/helpers/subid-plugin/libsubid_nktest.c
	@mkdir -p $(dir $@)
	$(CC) $(NK_CFLAGS) $(CPPFLAGS) $(CFLAGS) -fPIC -shared -o $@ $< $(LDFLAGS)
tests: $(O)/tests/helpers/libsubid_nktest.so
# nsenter-user's tests: killed at a chosen libc call (LD_PRELOAD).
$(O)/tests/helpers/killat.so: tests/helpers/killat/killat.c
	@mkdir -p $(dir $@)
	$(CC) $(NK_CFLAGS) $(CPPFLAGS) $(CFLAGS) -fPIC -shared -o $@ $< $(LDFLAGS) -ldl
tests: $(O)/tests/helpers/killat.so

-include $(wildcard $(O)/.deps/*.d)
