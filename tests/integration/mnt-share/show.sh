# --show agrees with findmnt on every mount of the namespace, as text and as
# JSON, with every propagation type present; --show TARGET lists the mounts
# at and below TARGET.
. "$NSKIT_TOP/tests/integration/lib.sh"
. "$NSKIT_TOP/tests/integration/mnt-share/common.sh.inc"

d=$NSKIT_SANDBOX/tmp/show
mkdir -p "$d/sh" "$d/sl" "$d/pr" "$d/un" "$d/sp ace" "$d/bind" "$NSKIT_SANDBOX/tmp/other"
mnt-share
for m in sh sl pr un "sp ace"; do mount -t tmpfs "src-$m" "$d/$m"; done
mount --bind "$NSKIT_SANDBOX/tmp/other" "$d/bind"
mnt-share --private --no-recursive "$d/pr"
mnt-share --unbindable --no-recursive "$d/un"
# a slave and a shared slave: in a bind of a shared mount (its peer)
mkdir -p "$d/sh/x" "$d/sl2"
mount --bind "$d/sh" "$d/sl2"
mnt-share --slave --no-recursive "$d/sl2"
mount --bind "$d/sh" "$d/sl"
mnt-share --slave --no-recursive "$d/sl"
mnt-share --shared --no-recursive "$d/sl"
is "$(fprop "$d/sl2")|$(fprop "$d/sl")|$(fprop "$d/un")" "private,slave|shared,slave|private,unbindable" "every propagation type is present"

# --- text -------------------------------------------------------------------------
run mnt-share --show
is "$rc|$err" "0|" "--show: exit 0"
is "$(printf '%s\n' "$out" | head -n1 | tr -s ' ')" "TARGET PROPAGATION PEER MASTER FSTYPE SOURCE" "--show: the header"
# The targets have no spaces but one; compare with findmnt in the same layout.
want=$(findmnt -l -n -o TARGET,PROPAGATION,FSTYPE,SOURCE | grep -v ' ace' | tr -s ' ')
got=$(printf '%s\n' "$out" | sed 1d | grep -v ' ace' | awk '{ print $1, $2, $(NF-1), $NF }')
is "$got" "$want" "--show text: target, propagation, fstype, source of every mount = findmnt"
is "$(printf '%s\n' "$out" | sed 1d | wc -l)" "$(wc -l < /proc/self/mountinfo)" "--show text: one line per mount"
# peer and master groups against mountinfo's optional fields
want=$(awk '$5 !~ /\\/ { p = "-"; m = "-"; for (i = 7; $i != "-"; i++) { if ($i ~ /^shared:/) p = substr($i, 8); if ($i ~ /^master:/) m = substr($i, 8) } print $5, p, m }' /proc/self/mountinfo)
got=$(printf '%s\n' "$out" | sed 1d | grep -v ' ace' | awk '{ p = "-"; m = "-"; if ($2 ~ /^shared/) p = $3; if ($2 ~ /slave/) m = ($2 ~ /^shared/) ? $4 : $3; print $1, p, m }')
is "$got" "$want" "--show text: peer and master groups = mountinfo"

# --- JSON ---------------------------------------------------------------------------
if command -v jq >/dev/null 2>&1; then
	run mnt-share --show --json
	is "$rc|$err" "0|" "--show --json: exit 0"
	want=$(findmnt -l -J -o TARGET,PROPAGATION,FSTYPE,SOURCE | jq -r '.filesystems[] | [.target, .propagation, .fstype, .source] | @tsv')
	got=$(printf '%s\n' "$out" | jq -r '.mounts[] | [.target, .propagation, .fstype, .source] | @tsv')
	is "$got" "$want" "--show --json: every mount = findmnt --json (a target with a space too)"
	want=$(all_fields | sed 's/\\040/ /g' | awk '{ p = "null"; m = "null"; for (i = 2; i <= NF; i++) { if ($i ~ /^shared:/) p = substr($i, 8); if ($i ~ /^master:/) m = substr($i, 8) } print p, m }')
	got=$(printf '%s\n' "$out" | jq -r '.mounts[] | "\(.peer) \(.master)"')
	is "$got" "$want" "--show --json: peer and master are numbers, null when none, = mountinfo"
	is "$(printf '%s\n' "$out" | jq -r '[.mounts[] | .peer, .master | select(. != null) | type] | unique | join(",")')" number "--show --json: groups are JSON numbers"
	run mnt-share -s --json "$d/sp ace"
	is "$(printf '%s\n' "$out" | jq -c '.mounts')" "[{\"target\":\"$d/sp ace\",\"propagation\":\"shared\",\"peer\":$(sed -n 's/.*\/sp\\040ace [^ ]* shared:\([0-9]*\) .*/\1/p' /proc/self/mountinfo),\"master\":null,\"fstype\":\"tmpfs\",\"source\":\"src-sp ace\"}]" "--show --json TARGET: one mount, every field"
else
	skip "--show --json against findmnt --json" "jq is not installed"
fi

# --- TARGET ----------------------------------------------------------------------------
run mnt-share -s "$d"
want=$(findmnt -l -n -o TARGET | awk -v p="$d" 'index($0, p) == 1 && (length($0) == length(p) || substr($0, length(p) + 1, 1) == "/")')
is "$(printf '%s\n' "$out" | sed 1d | awk '{ print $1 }' | sed 's/^\(.*\/sp\)$/\1 ace/')" "$want" "--show TARGET: the mounts below TARGET, in mountinfo order"
run mnt-share -s "$d/sh/" "$d/un"
is "$rc|$(printf '%s\n' "$out" | sed 1d | awk '{ print $1 }' | tr '\n' ' ')" "0|$d/sh $d/un " "--show TARGET TARGET: both, each once"
run mnt-share -s "$d/sh/x"
is "$rc|$out|$err" "0||" "--show on a folder with no mount below: nothing, exit 0"
if command -v jq >/dev/null 2>&1; then
	run mnt-share -s --json "$d/sh/x"
	is "$rc|$(printf '%s\n' "$out" | jq -c .)" '0|{"mounts":[]}' "--show --json on a folder with no mount below: an empty list"
fi
run mnt-share -s /
is "$(printf '%s\n' "$out" | sed 1d | wc -l)" "$(wc -l < /proc/self/mountinfo)" "--show /: every mount"
expect_fail 1 "mnt-share: '$d/nothing' does not exist" "--show on a missing TARGET" mnt-share -s "$d/nothing"

done_testing
