#!/bin/bash
# subid-alloc: allocation, same start as useradd, idempotence, release,
# --dry-run, --list, --json, --deterministic, --align, --uid-only, --root.
. "$NSKIT_TOP/tests/integration/lib.sh"

# users without home or ranges: useradd, then its lines removed
adduser_bare() {
	useradd -M -s /bin/sh "$1" || return 1
	sed -i "/^$1:/d" /etc/subuid /etc/subgid
}
line_of() { grep "^$2:" "$1" | head -n1; }

: > /etc/subuid
: > /etc/subgid
adduser_bare ann
adduser_bare ben
run subid-alloc ann ben
is "$rc" 0 "allocates for two existing users"
is "$out" "/etc/subuid: add ann:100000:65536
/etc/subgid: add ann:100000:65536
/etc/subuid: add ben:165536:65536
/etc/subgid: add ben:165536:65536" "prints what it added"
is "$(cat /etc/subuid)" "ann:100000:65536
ben:165536:65536" "/etc/subuid has both ranges"
is "$(cat /etc/subgid)" "$(cat /etc/subuid)" "/etc/subgid starts at the same numbers"
check "the previous version is kept as /etc/subuid-" test -e /etc/subuid-
is "$(stat -c '%a %U %G' /etc/subuid)" "644 root root" "owner and mode kept"

cp /etc/subuid "$TMPDIR/before"
sum=$(sha256sum /etc/subuid /etc/subgid; stat -c %i /etc/subuid /etc/subgid)
run subid-alloc ann ben
is "$rc:$out" "0:" "a second run changes nothing and says nothing"
is "$(sha256sum /etc/subuid /etc/subgid; stat -c %i /etc/subuid /etc/subgid)" "$sum" "the files are not even rewritten"

# same start as the real useradd on identical files
seeds=(
	""
	"x:100000:1000
y:200000:65536"
	"y:300000:65536
x:100000:70000
# comment
junk
z:165536:5"
	"a:100000:65536
b:165536:65536
c:262144:65536"
)
n=0
for seed in "${seeds[@]}"; do
	n=$((n + 1))
	printf '%s\n' "$seed" | sed '/^$/d' > /etc/subuid
	cp /etc/subuid /etc/subgid
	cp /etc/subuid "$TMPDIR/seed"
	useradd -M "ua$n"
	want=$(line_of /etc/subuid "ua$n")
	cp "$TMPDIR/seed" /etc/subuid
	cp "$TMPDIR/seed" /etc/subgid
	run subid-alloc "ua$n"
	is "$(line_of /etc/subuid "ua$n")" "$want" "same range as useradd on seed $n ($want)"
	is "$(diff <(head -n "$(wc -l < "$TMPDIR/seed")" /etc/subuid) "$TMPDIR/seed" && echo same)" "same" "seed $n: lines kept in place"
done

# --dry-run writes nothing
: > /etc/subuid
: > /etc/subgid
sum=$(sha256sum /etc/subuid /etc/subgid)
run subid-alloc -n ann
is "$rc:$out" "0:/etc/subuid: add ann:100000:65536
/etc/subgid: add ann:100000:65536" "--dry-run prints what would be written"
is "$(sha256sum /etc/subuid /etc/subgid)" "$sum" "--dry-run writes nothing"
check "--dry-run leaves no lock" test ! -e /etc/subuid.lock

# --json
run subid-alloc --json ann
is "$out" '{"dry_run": false, "changes": [
  {"file": "/etc/subuid", "action": "add", "owner": "ann", "start": 100000, "count": 65536},
  {"file": "/etc/subgid", "action": "add", "owner": "ann", "start": 100000, "count": 65536}
]}' "--json lists the changes"

# --list through libsubid for the real root
run subid-alloc -l ann
is "$out" "OWNER TYPE  START COUNT    END
ann   uid  100000 65536 165535
ann   gid  100000 65536 165535" "--list ann"
run subid-alloc -l --json ben
is "$out" '{
   "subids": [

   ]
}' "--list --json of a user without ranges"

# a smaller range is not enough for --count: a second one is added
run subid-alloc -c 100000 ann
is "$out" "/etc/subuid: add ann:165536:100000
/etc/subgid: add ann:165536:100000" "--count larger than the existing range adds one"

# --release
run subid-alloc --release ann
is "$rc" 0 "--release"
is "$(cat /etc/subuid /etc/subgid)" "" "--release removes every range of the user"

# uid and gid follow each other; --uid-only / --gid-only
printf 'q:100000:65536\n' > /etc/subgid
run subid-alloc --uid-only ann
is "$(cat /etc/subuid)" "ann:100000:65536" "--uid-only writes /etc/subuid only"
is "$(cat /etc/subgid)" "q:100000:65536" "--uid-only leaves /etc/subgid alone"
run subid-alloc ann
is "$out" "/etc/subgid: add ann:165536:65536" "the missing gid range is added where it is free"
: > /etc/subgid
run subid-alloc --gid-only ann
is "$out" "/etc/subgid: add ann:100000:65536" "--gid-only follows the existing uid range"

# --deterministic and --align
: > /etc/subuid
: > /etc/subgid
uid=$(id -u ben)
run subid-alloc --deterministic ben
want=$((100000 + (uid - 1000) * 65536))
is "$out" "/etc/subuid: add ben:$want:65536
/etc/subgid: add ben:$want:65536" "--deterministic: SUB_UID_MIN + (uid - UID_MIN) * count"
printf 'x:100000:10\n' > /etc/subuid
: > /etc/subgid
run subid-alloc --align 65536 --uid-only ann
is "$out" "/etc/subuid: add ann:131072:65536" "--align 65536"

# a real uid inside the sub range is never handed out
: > /etc/subuid
useradd -M -u 100500 -N -g 0 highuid
sed -i '/^highuid:/d' /etc/subuid /etc/subgid
run subid-alloc --uid-only ann
is "$out" "/etc/subuid: add ann:100501:65536" "skips a real uid in the range"
userdel highuid

# --from and --all, by name and by uid
: > /etc/subuid
: > /etc/subgid
printf '# users\nann\n\n%s\n' "$(id -u ben)" > "$TMPDIR/list"
run subid-alloc --uid-only -f "$TMPDIR/list"
is "$(cut -d: -f1 /etc/subuid | paste -sd,)" "ann,ben" "--from takes names and uids"
: > /etc/subuid
run subid-alloc --uid-only -A
like "$(cut -d: -f1 /etc/subuid | paste -sd,)" "ann,ben" "--all takes the users of UID_MIN..UID_MAX"
unlike "$(cat /etc/subuid)" "^(root|nobody):" "--all skips system users"

# --root DIR
root=$TMPDIR/img
mkdir -p "$root/etc"
printf 'root:x:0:0::/root:/bin/sh\ndev:x:1000:1000::/home/dev:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\ndev:x:1000:\n' > "$root/etc/group"
printf 'SUB_UID_MIN 200000\nSUB_GID_MIN 300000\nSUB_UID_COUNT 1000\nSUB_GID_COUNT 2000\n' > "$root/etc/login.defs"
sum=$(sha256sum /etc/subuid /etc/subgid)
run subid-alloc -R "$root" --create dev
is "$rc:$out" "0:$root/etc/subuid: add dev:200000:1000
$root/etc/subgid: add dev:300000:2000" "--root uses DIR's login.defs and passwd"
is "$(cat "$root/etc/subuid"):$(cat "$root/etc/subgid")" "dev:200000:1000:dev:300000:2000" "--root writes DIR/etc"
is "$(sha256sum /etc/subuid /etc/subgid)" "$sum" "--root leaves /etc alone"
run subid-alloc -R "$root" -l
is "$out" "OWNER TYPE  START COUNT    END
dev   uid  200000  1000 200999
dev   gid  300000  2000 301999" "--root --list reads DIR's files"
run subid-check -R "$root" dev
is "$rc" 1 "subid-check flags the small, unequal ranges login.defs asked for"
like "$out" "subgid:1: 'dev' has 2000 subordinate gids but 1000 uids" "... with the line"

done_testing
