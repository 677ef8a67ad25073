#!/bin/bash
# scripts/install-deps's dnf path: the Debian sets mapped to Fedora 41's
# names, one table (fedora_name) for every set, and rpm/nskit.spec's
# BuildRequires what the build set maps to.
. "$NSKIT_TOP/tests/integration/lib.sh"

deps=$NSKIT_TOP/scripts/install-deps
all="--bench --fuzz --package"   # (--demo takes its own set instead of the tests')
fed() { # DEBIAN-NAME: its Fedora name, through the dnf path's table
	sh -c '. /dev/stdin; fedora_name "$1"' sh "$1" < <(sed -n '/^fedora_name()/,/^}/p' "$deps")
}

# Every package of every Debian set has a Fedora name (or none, said so).
run "$deps" --list $all
debs=$out
is "$rc" 0 "install-deps --list: the Debian sets"
run "$deps" --list --demo
debs="$debs $out"
unknown=
for d in $debs; do fed "$d" >/dev/null 2>&1 || unknown="$unknown $d"; done
is "$unknown" "" "every Debian package of every set is in the Fedora table"
run fed no-such-package
is "$rc:$err" "1:install-deps: no Fedora name for the Debian package 'no-such-package' (add it to fedora_name)" "a name not in the table stops the dnf path"

# The table, as Fedora 41 names the packages.
while read -r d f; do
	is "$(fed "$d")" "$f" "$d -> ${f:-(none)}"
done <<'T'
libc6-dev glibc-devel
pkg-config pkgconf-pkg-config
libsubid-dev shadow-utils-subid-devel
libmount-dev libmount-devel
libcap-ng-dev libcap-ng-devel
libsmartcols-dev libsmartcols-devel
check check-devel
uidmap shadow-utils
passwd shadow-utils
libcap2-bin libcap
iputils-ping iputils
libclang-rt-dev compiler-rt
dpkg-dev rpm-build
rootlesskit rootlesskit
crun crun
rpmlint rpmlint
lxd-tools
lintian
T

# What the dnf path installs: the same sets, each Fedora name once.
run "$deps" --list --dnf
is "$rc:$(echo $out)" "0:make gcc glibc-devel pkgconf-pkg-config shadow-utils-subid-devel libmount-devel libcap-ng-devel check-devel libsmartcols-devel shadow-utils util-linux podman buildah bubblewrap rootlesskit strace jq libcap runc crun perl bash-completion acl attr e2fsprogs iputils" \
	"install-deps --list --dnf: Fedora's build and test packages"
run "$deps" --list --dnf --demo
is "$rc:$(echo $out)" "0:make gcc glibc-devel pkgconf-pkg-config shadow-utils-subid-devel libmount-devel libcap-ng-devel check-devel libsmartcols-devel shadow-utils util-linux" \
	"install-deps --list --dnf --demo"
run "$deps" --list --dnf $all
is "$rc:$(printf '%s\n' "$out" | sort | uniq -d)" "0:" "--dnf with every set: no name twice"
like "$(echo $out)" " hyperfine clang compiler-rt rpm-build rpm rpmlint\$" "... the bench, fuzz and package sets last"

# rpm/nskit.spec builds with what the build set maps to (less glibc-devel,
# which gcc brings, as Fedora's guidelines have it) and systemd-rpm-macros.
spec=$(awk '$1 == "BuildRequires:" { print $2 }' "$NSKIT_TOP/rpm/nskit.spec" | sort | paste -sd' ')
want=$(for d in $("$deps" --list | head -n "$(wc -w <<<"make gcc libc6-dev pkg-config libsubid-dev libmount-dev libcap-ng-dev check libsmartcols-dev")"); do fed "$d"; done |
	grep -vx glibc-devel; echo systemd-rpm-macros)
is "$spec" "$(sort <<<"$want" | paste -sd' ')" "the spec's BuildRequires are the Fedora names of the build set"

done_testing
