#!/bin/bash
# With a central 'subid:' source in /etc/nsswitch.conf (as SSSD or FreeIPA
# would be), ranges come through libsubid and its module, and the real
# setuid newuidmap/newgidmap accept the same ranges.
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser alice
a=$(id -u alice)
b=$((500000 + 1000 * (a % 100)))       # what the test module gives every user
# The module is found by the dynamic linker's cache, which lives in the
# sandbox's copy of /etc: so the setuid helpers load it too.
mkdir -p "$NSKIT_SANDBOX/lib"
cp "$NSKIT_SANDBOX/helpers/libsubid_nktest.so" "$NSKIT_SANDBOX/lib/"
chmod -R a+rX "$NSKIT_SANDBOX/lib"
echo "$NSKIT_SANDBOX/lib" > /etc/ld.so.conf.d/nskit-test.conf
ldconfig
echo 'subid: nktest' >> /etc/nsswitch.conf
: > /etc/subuid
: > /etc/subgid

userns_proc p alice
run as alice idmap-apply --dry-run "$p"
is "$rc|$(grep -v '^#' <<<"$out")" "0|b 0 $a 1
b 1 $b 1000" "--auto takes the ranges of the central source (through libsubid)"
run as alice idmap-apply "$p"
is "$rc" 0 "newuidmap and newgidmap accept them"
is "$(kmap "$p" uid)|$(kmap "$p" gid)" "0 $a 1|1 $b 1000|0 $a 1|1 $b 1000" "the kernel's maps"
userns_proc p alice
expect_fail 1 "idmap-apply: cannot map uid range 100000-100009: not in the central 'subid: nktest' source for 'alice' (alice's ranges: $b-$((b + 999)))" \
	"a range the central source does not give is refused" as alice idmap-apply -m 0:"$a":1 -m 1:100000:10 "$p"

# With 'subid: files' again, the (empty) files are the truth.
sed -i 's/^subid: nktest$/subid: files/' /etc/nsswitch.conf
userns_proc p alice
expect_fail 1 "idmap-apply: no subordinate uid range for 'alice' in /etc/subuid (run 'subid-alloc alice' as root, or use --map-root)" \
	"'subid: files' reads the files" as alice idmap-apply "$p"

done_testing
