#!/bin/bash
# subid-alloc: every bad input gives one line and exit 1, and nothing changes.
. "$NSKIT_TOP/tests/integration/lib.sh"

useradd -M ann
useradd -M ben
: > /etc/subuid
: > /etc/subgid
sum() { sha256sum /etc/subuid /etc/subgid; }
before=$(sum)

expect_fail 1 "subid-alloc: unknown user 'nosuch' (not in /etc/passwd)" "unknown user" subid-alloc ann nosuch
expect_fail 1 "subid-alloc: unknown user '99999' (not in /etc/passwd)" "unknown uid" subid-alloc 99999
expect_fail 1 "subid-alloc: invalid count 'x': not a decimal number" "bad count" subid-alloc -c x ann
expect_fail 1 "subid-alloc: invalid count '-5': not a decimal number" "negative count" subid-alloc -c -5 ann
expect_fail 1 "subid-alloc: invalid count '0': a range needs at least 1 id" "count 0" subid-alloc --count 0 ann
expect_fail 1 "subid-alloc: count '4294967295' is out of range (at most 4294967294)" "count too big" subid-alloc -c 4294967295 ann
expect_fail 1 "subid-alloc: invalid alignment '0': use 1 or more" "align 0" subid-alloc --align 0 ann
expect_fail 1 "subid-alloc: no user given (name users, or use --all or --from)
Try 'subid-alloc --help' for more information." "no user" subid-alloc
expect_fail 1 "subid-alloc: unrecognized option '--bogus'
Try 'subid-alloc --help' for more information." "unknown option" subid-alloc --bogus ann
expect_fail 1 "subid-alloc: cannot read $TMPDIR/none: No such file or directory" "missing --from file" subid-alloc -f "$TMPDIR/none"
is "$(sum)" "$before" "nothing was written by the failures above"

# exhausted space
cp /etc/login.defs "$TMPDIR/login.defs"
sed -i 's/^SUB_UID_MAX.*/SUB_UID_MAX 200000/' /etc/login.defs
expect_fail 1 "subid-alloc: cannot allocate for 'ben': no free range of 65536 ids left in 100000-200000 (raise SUB_UID_MAX in /etc/login.defs or use a smaller --count)" \
	"exhausted space" subid-alloc ann ben
is "$(sum)" "$before" "an exhausted run writes nothing, not even for the first user"
sed -i 's/^SUB_UID_MAX.*/SUB_UID_MAX 1x/' /etc/login.defs
line=$(grep -n '^SUB_UID_MAX' /etc/login.defs | cut -d: -f1)
expect_fail 1 "subid-alloc: invalid SUB_UID_MAX '1x' in /etc/login.defs line $line (use a decimal number)" "bad login.defs value" subid-alloc ann
sed -i 's/^SUB_UID_MAX.*/SUB_UID_MAX 100/' /etc/login.defs
expect_fail 1 "subid-alloc: cannot allocate: SUB_UID_MIN 100000, SUB_UID_MAX 100 and count 65536 leave no room (fix /etc/login.defs or use a smaller --count)" "inconsistent login.defs" subid-alloc ann
cp "$TMPDIR/login.defs" /etc/login.defs
expect_fail 1 "subid-alloc: cannot allocate for 'root': --deterministic needs a uid of at least UID_MIN 1000, not 0" "deterministic below UID_MIN" subid-alloc --deterministic 0

# unreadable files
mv /etc/subuid "$TMPDIR/subuid.saved"
mkdir /etc/subuid
expect_fail 1 "subid-alloc: cannot read /etc/subuid: not a regular file" "subuid is a folder" subid-alloc ann
check "no lock is left behind" test ! -e /etc/subuid.lock -a ! -e /etc/subgid.lock
rmdir /etc/subuid
mv "$TMPDIR/subuid.saved" /etc/subuid
mkuser nonroot
: > /etc/subuid
: > /etc/subgid
root=$TMPDIR/img
mkdir -p "$root/etc"
printf 'dev:x:1000:1000::/:/bin/sh\n' > "$root/etc/passwd"
install -m 000 /dev/null "$root/etc/subuid"
chmod 755 "$TMPDIR" "$root" "$root/etc"
expect_fail 1 "subid-alloc: cannot read $root/etc/subuid: Permission denied" "unreadable subuid" as nonroot subid-alloc -n -R "$root" dev

# a locked file
sleep 60 &
holder=$!
echo "$holder" > /etc/subuid.lock
expect_fail 1 "subid-alloc: cannot lock /etc/subuid: locked by process $holder (/etc/subuid.lock) (try again when it is done)" "locked file" subid-alloc ann
check "the lock of the other process is left alone" test "$(cat /etc/subuid.lock)" = "$holder"
check "our own lock on subgid was not taken" test ! -e /etc/subgid.lock
kill "$holder"
wait "$holder" 2>/dev/null
run subid-alloc ann
is "$rc:$(cat /etc/subuid)" "0:ann:100000:65536" "a lock of a dead process is stale and removed"

# bad usage combinations
expect_fail 1 "subid-alloc: --uid-only and --gid-only exclude each other
Try 'subid-alloc --help' for more information." "uid-only with gid-only" subid-alloc --uid-only --gid-only ann
run subid-alloc --help
is "$rc" 0 "--help exits 0"
like "$out" "^Usage:" "--help prints usage on stdout"
run subid-alloc --version
like "$rc:$out" "^0:subid-alloc from nskit" "--version"

done_testing
