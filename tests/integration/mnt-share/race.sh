# The object checked is the object changed. Each TARGET is resolved once,
# opened, checked against the mount table and changed through that
# descriptor: a symbolic link TARGET acts on what it resolved to, and a
# TARGET swapped for a symbolic link to another mount (or to /) after it was
# resolved cannot redirect the change. tests/helpers/mnt-race plays the race
# of the security review deterministically: it swaps TARGET between the
# check and the change (or between realpath() and the open).
. "$NSKIT_TOP/tests/integration/lib.sh"
. "$NSKIT_TOP/tests/integration/mnt-share/common.sh.inc"

race=$NSKIT_SANDBOX/helpers/mnt-race
d=$NSKIT_SANDBOX/tmp/race
o=$d/other
mkdir -p "$o"
# "another mount" a swapped TARGET points to: shared, with a submount
mount -t tmpfs other "$o"
mkdir "$o/sub"
mount -t tmpfs othersub "$o/sub"
mnt-share "$o"
like "$(fields "$o")|$(fields "$o/sub")" '^shared:[0-9]+\|shared:[0-9]+$' "the other mount and its submount are shared"

# Every mount of the namespace (id, mount point, optional fields) but those
# at or below TARGET and TARGET.orig: what a change of TARGET may not touch.
others() { # TARGET
	awk -v p="$1" -v q="$1.orig" '
		$5 == p || $5 == q || index($5, p "/") == 1 || index($5, q "/") == 1 { next }
		{ f = ""; for (i = 7; $i != "-"; i++) f = f " " $i; print $1, $5 f }' /proc/self/mountinfo
}

# --- a symbolic link TARGET: the object it resolves to ----------------------
mkdir -p "$d/real"
ln -s real "$d/link"
before=$(others "$d/real")
run mnt-share --bind-self --private "$d/link"
is "$rc|$err" "0|" "--bind-self on a symbolic link: exit 0"
is "$(nmounts "$d/real")|$(nmounts "$d/link")" "1|0" "--bind-self on a symbolic link: the folder it points to is bound"
is "$(findmnt -n -o SOURCE --mountpoint "$d/real")" "$(bind_source "$d/real")" "--bind-self on a symbolic link: bound onto itself"
is "$(others "$d/real")" "$before" "--bind-self on a symbolic link: no other mount changed"
ln -s "$o" "$d/olink"
run mnt-share --private --no-recursive "$d/olink"
is "$rc|$err|$(fields "$o")" "0||" "a symbolic link to a mount point: that mount changed"
like "$(fields "$o/sub")" '^shared:[0-9]+$' "--no-recursive through a link: the submount not"
mnt-share "$o"
: > "$d/file"
run mnt-share --bind-self --private "$d/file"
is "$rc|$err|$(nmounts "$d/file")|$(fields "$d/file")" "0||1|" "--bind-self on a file: bound onto itself, private"

# --- swapped after the check, before the change --------------------------------
# The review's case: root runs 'mnt-share --bind-self --private /home/alice/d'
# and alice replaces d with a link to / in between. / (shared here, so any
# change shows) keeps its mounts and its propagation.
mnt-share --shared --no-recursive /
mkdir -p "$d/t1"
before=$(others "$d/t1")
root_before=$(nmounts /)
run "$race" checked private bind "$d/t1" /
is "$rc|$err" "0|" "swapped for a link to / after the check: the change is made"
is "$(readlink "$d/t1")" / "the swap happened: TARGET is now a link to /"
is "$(nmounts /)" "$root_before" "/ was not bound onto itself"
is "$(others "$d/t1")" "$before" "no other mount changed: / and every mount below it untouched"
like "$(fields /)" '^shared:[0-9]+$' "/ is still shared"
is "$(nmounts "$d/t1.orig")|$(fields "$d/t1.orig")" "1|" "the folder that was checked was bound and made private"

mkdir -p "$d/t2"
before=$(others "$d/t2")
run "$race" checked private bind "$d/t2" "$o"
is "$rc|$err" "0|" "swapped for a link to another mount after the check: the change is made"
is "$(others "$d/t2")" "$before" "the other mount and its submount untouched"
is "$(nmounts "$o")|$(nmounts "$o/sub")" "1|1" "nothing stacked on the other mount"
is "$(nmounts "$d/t2.orig")|$(fields "$d/t2.orig")" "1|" "the folder that was checked was bound and made private"

# a mount point TARGET, unmounted and swapped after the check: the change
# goes to the detached mount the descriptor holds, which the kernel refuses
mkdir -p "$d/m"
mount -t tmpfs m "$d/m"
before=$(others "$d/m")
run "$race" checked private nobind "$d/m" "$o"
is "$rc|$err" "1|mnt-race: cannot make '$d/m' private: not a mount point of this mount namespace: Invalid argument" \
	"a mount point swapped after the check: refused"
is "$(others "$d/m")" "$before" "the other mount untouched"

# --- swapped after realpath(), before the open ----------------------------------
mkdir -p "$d/t3"
before=$(others "$d/t3")
run "$race" resolved shared bind "$d/t3" /
is "$rc|$err" "1|mnt-race: '$d/t3' was replaced while it was being checked (run the command again)" \
	"swapped for a link to / before the open: refused"
is "$(others "$d/t3")|$(nmounts "$d/t3.orig")" "$before|0" "nothing changed, nothing bound"
mkdir -p "$d/t4"
before=$(others "$d/t4")
run "$race" resolved shared bind "$d/t4" "$o"
is "$rc|$err" "1|mnt-race: '$d/t4' was replaced while it was being checked (run the command again)" \
	"swapped for a link to another mount before the open: refused"
is "$(others "$d/t4")|$(nmounts "$d/t4.orig")" "$before|0" "nothing changed, nothing bound"

done_testing
