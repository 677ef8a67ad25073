# mnt-share as an unprivileged user: inside a user and mount namespace of
# their own (unshare -Urm, and nsenter-user when it is built) every case
# works; outside, one clear line about privilege.
. "$NSKIT_TOP/tests/integration/lib.sh"
. "$NSKIT_TOP/tests/integration/mnt-share/common.sh.inc"
install -m 0755 "$NSKIT_TOP/tests/integration/mnt-share/scenario" "$NSKIT_SANDBOX/scenario"
mkuser msuser || exit 1

matrix "user in unshare -Urm" as msuser unshare -Urm

# --- the default, as the user in their own namespaces -------------------------
run as msuser unshare -Urm sh -c 'mnt-share && mnt-share --check && cat /proc/self/mountinfo'
is "$rc|$err" "0|" "user: mnt-share then --check: exit 0"
is "$(printf '%s\n' "$out" | awk 'NR > 1 && $7 !~ /^shared:[0-9]+$/' | wc -l)" 0 "user: every mount of the user's namespace is shared"
run as msuser unshare -Urm sh -c 'mnt-share --check'
is "$rc|$err" "1|mnt-share: '/' is not a shared mount: it is private (make it shared: 'mnt-share /')" "user: --check in a fresh unshare -Urm (private): exit 1"

# --bind-self of a folder the user owns
d=$NSKIT_SANDBOX/home/msuser/d
as msuser mkdir -p "$d"
run as msuser unshare -Urm sh -c "mnt-share --bind-self --no-recursive '$d' && mnt-share -c '$d' && findmnt -n -o PROPAGATION --mountpoint '$d'"
is "$rc|$err" "0|" "user: --bind-self in unshare -Urm: exit 0"
like "$out" "^'$d' is a shared mount \(peer group [0-9]+\)
shared$" "user: --bind-self: the folder is a shared mount point"

# --show works for anyone
run as msuser mnt-share --show /
is "$rc|$err" "0|" "user on the host: --show works"
run as msuser mnt-share --check
is "$rc" 1 "user on the host: --check works (/ is private in the sandbox)"

# --- refused: no privilege over the mount namespace ---------------------------
msg_priv="no privilege over this mount namespace (run as root, or inside a user and mount namespace of your own: 'unshare -Urm' or 'nsenter-user'): Operation not permitted"
expect_fail 1 "mnt-share: cannot make '/' shared: $msg_priv" \
	"user on the host: refused, one line saying why and what to do" as msuser mnt-share
expect_fail 1 "mnt-share: cannot make '/proc' private: $msg_priv" \
	"user on the host: --private refused" as msuser mnt-share --private --no-recursive /proc
expect_fail 1 "mnt-share: cannot make '/' shared: $msg_priv" \
	"user in a user namespace without its own mount namespace: refused" as msuser unshare -Ur mnt-share
expect_fail 1 "mnt-share: cannot bind '$d' onto itself: $msg_priv" \
	"user on the host: --bind-self refused" as msuser mnt-share --bind-self "$d"
is "$(nmounts "$d")" 0 "user on the host: nothing was mounted"

# --- inside nsenter-user --------------------------------------------------------
if command -v nsenter-user >/dev/null 2>&1 && as msuser nsenter-user true >/dev/null 2>&1; then
	run as msuser nsenter-user sh -c 'mnt-share && mnt-share --check && cat /proc/self/mountinfo'
	is "$rc|$err" "0|" "user in nsenter-user: mnt-share then --check: exit 0"
	is "$(printf '%s\n' "$out" | awk 'NR > 1 && $7 !~ /^shared:[0-9]+$/' | wc -l)" 0 "user in nsenter-user: every mount shared"
	run as msuser nsenter-user sh -c "mnt-share --bind-self --private '$d' && findmnt -n -o PROPAGATION --mountpoint '$d'"
	is "$rc|$out" "0|private" "user in nsenter-user: --bind-self --private"
else
	skip "user in nsenter-user" "nsenter-user is not built or does not work yet"
fi

done_testing
