#!/bin/bash
# make install / uninstall: every tool, man page, completion and service in
# the usual places, nothing setuid or with file capabilities, one version
# everywhere, and nothing left after uninstall.
. "$NSKIT_TOP/tests/integration/lib.sh"

d=$NSKIT_SANDBOX/destdir
v=$(cat "$NSKIT_TOP/VERSION")
# Install what the run built ('-o all': never rebuild it here, with other flags).
mk() { make --no-print-directory -C "$NSKIT_TOP" O="$NSKIT_BUILD" -o all "$@" >"$NSKIT_SANDBOX/make.log" 2>&1; }
tools=$(cd "$NSKIT_BUILD/bin" && ls)

check "make install DESTDIR PREFIX=/usr" mk install DESTDIR="$d" PREFIX=/usr SYSTEMDUNITDIR=/usr/lib/systemd/system
for t in $tools; do
	is "$(stat -c '%a %U' "$d/usr/bin/$t")" "755 root" "$t installed 0755"
	check "$t has a man page" test -s "$d/usr/share/man/man1/$t.1"
	check "$t has a bash completion" test -s "$d/usr/share/bash-completion/completions/$t"
	run "$d/usr/bin/$t" --version
	is "$out" "$t from nskit $v" "$t --version says $v"
	is "$(sed -n '1s/.*"nskit \([^"]*\)".*/\1/p' "$d/usr/share/man/man1/$t.1")" "$v" "$t(1) says $v"
	run "$d/usr/bin/$t" --help
	like "$out" "For more details see $t\\(1\\)\\.\$" "$t --help names its man page"
	like "$out" "^Usage:" "$t --help starts with Usage:"
done
# What every run pays for before main(): the tools that scripts call in
# loops load only libc (libcap-ng, libsmartcols and libsubid are dlopen()ed
# when needed, and debian/control names them), and every tool binds all
# symbols at start, which the map writers (clone(CLONE_VM) children) need.
# (make asan adds the sanitizer runtimes.)
for t in idmap-apply nsenter-user; do
	is "$(readelf -d "$NSKIT_BUILD/bin/$t" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -Ev '^lib(asan|ubsan)\.' | tr '\n' ' ')" "libc.so.6 " \
		"$t loads only libc at start"
done
# libsubid is reached one way, dlopen() when nsswitch.conf names a central
# source (lib/subid.c): linking it would load libselinux, libsemanage,
# libaudit and PAM into every run of every tool.
for t in $tools; do
	is "$(readelf -d "$NSKIT_BUILD/bin/$t" | sed -n 's/.*(NEEDED).*\[\(libsubid[^]]*\)\]/\1/p')" "" \
		"$t does not link libsubid"
done
for t in $tools; do
	like "$(readelf -d "$NSKIT_BUILD/bin/$t" | grep -E '\((FLAGS|FLAGS_1)\)' | tr '\n' ' ')" "BIND_NOW|Flags: NOW" \
		"$t is linked with -z now"
done
like "$(sed -n '/^Depends:/,/^[A-Z]/p' "$NSKIT_TOP/debian/control" | tr '\n' ' ')" "libcap-ng0, libsmartcols1" \
	"debian/control depends on the libraries loaded on demand"
check "nskit(7) is installed" test -s "$d/usr/share/man/man7/nskit.7"
is "$(sed -n '1s/.*"nskit \([^"]*\)".*/\1/p' "$d/usr/share/man/man7/nskit.7")" "$v" "nskit(7) says $v"
check "systemd unit installed" test -s "$d/usr/lib/systemd/system/nskit-mnt-share.service"
like "$(grep ExecStart "$d/usr/lib/systemd/system/nskit-mnt-share.service")" "=/usr/bin/mnt-share" "the unit runs the installed mnt-share"
check "OpenRC service installed" test -x "$d/etc/init.d/nskit-mnt-share"
is "$(find "$d" -perm /6000 | wc -l)" 0 "nothing setuid or setgid"
is "$(getcap -r "$d" 2>/dev/null | wc -l)" 0 "no file capabilities"
is "$(sed -n '1s/^nskit (\([^)]*\)).*/\1/p' "$NSKIT_TOP/debian/changelog")" "$v" "debian/changelog says $v"

check "make uninstall" mk uninstall DESTDIR="$d" PREFIX=/usr SYSTEMDUNITDIR=/usr/lib/systemd/system
is "$(find "$d" -type f | wc -l)" 0 "uninstall leaves no file"

# The completions complete from each tool's own --help. They need the
# bash-completion package (scripts/install-deps installs it for the tests).
check "bash-completion is installed (/usr/share/bash-completion/bash_completion)" \
	test -r /usr/share/bash-completion/bash_completion
run bash -c "source /usr/share/bash-completion/bash_completion; source '$NSKIT_TOP/completions/nskit.bash'
	PATH=$NSKIT_BIN:\$PATH
	comp() { COMP_WORDS=(\"\$@\"); COMP_CWORD=\$((\$# - 1)); COMP_LINE=\"\$*\"; COMP_POINT=\${#COMP_LINE}; COMPREPLY=(); _nskit; echo \"\${COMPREPLY[*]}\"; }
	comp idmap-apply --dry
	comp idmap-apply --setgroups ''
	comp nsenter-user --propagation s
	comp subid-alloc roo
	comp mnt-share --unb"
is "$out" "--dry-run
allow deny
slave shared
root
--unbindable" "bash completion: options, option values, user names"

done_testing
