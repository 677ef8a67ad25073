#!/bin/bash
# The three recipes of nskit(7), run as written there: provisioning a
# machine, a rootless image build script with a session, and debugging a
# failing newuidmap.
. "$NSKIT_TOP/tests/integration/lib.sh"

# --- Provisioning a machine for rootless users (as root) ------------------
useradd -m -d "$NSKIT_SANDBOX/home/alice" -s /bin/sh alice
useradd -m -d "$NSKIT_SANDBOX/home/bob" -s /bin/sh bob
sed -i '/^\(alice\|bob\):/d' /etc/subuid /etc/subgid     # as on a machine provisioned before shadow 4.6
for u in alice bob; do
	install -d -m 0700 -o "$u" -g "$u" "$NSKIT_SANDBOX/run/$(id -u "$u")"
done
sum=$(sha256sum /etc/subuid /etc/subgid)
run subid-alloc --all --dry-run
is "$rc" 0 "subid-alloc --all --dry-run"
like "$out" "alice" "the dry run names alice"
is "$(sha256sum /etc/subuid /etc/subgid)" "$sum" "the dry run writes nothing"
run subid-alloc --all
is "$rc" 0 "subid-alloc --all"
run subid-alloc --list alice
like "$out" "alice +uid" "subid-alloc --list alice shows her uid range"
run subid-check
is "$rc" 0 "subid-check is clean on what subid-alloc wrote"
mnt-share --check >/dev/null 2>&1 || mnt-share
run mnt-share --check
is "$rc" 0 "mnt-share --check || mnt-share leaves / shared"
run su - alice -c "XDG_RUNTIME_DIR=$NSKIT_SANDBOX/run/$(id -u alice) PATH=$PATH nskit-doctor --quiet"
is "$rc" 0 "su - alice -c nskit-doctor: rootless works for alice"

# --- A rootless image build script with a session ---------------------------
cat > "$NSKIT_SANDBOX/home/alice/build.sh" <<'SCRIPT'
#!/bin/sh
set -e
nsenter-user --keep build
trap 'nsenter-user --stop build' EXIT
ctr=$(nsenter-user --join build buildah from scratch)
mnt=$(nsenter-user --join build buildah mount "$ctr")
nsenter-user --join build cp -a ./rootfs/. "$mnt/"
nsenter-user --join build buildah config --cmd /bin/app "$ctr"
nsenter-user --join build buildah commit "$ctr" localhost/app:latest
buildah images localhost/app
SCRIPT
mkdir -p "$NSKIT_SANDBOX/home/alice/rootfs/bin"
printf '#!/bin/sh\necho built by nskit\n' > "$NSKIT_SANDBOX/home/alice/rootfs/bin/app"
chmod 0755 "$NSKIT_SANDBOX/home/alice/build.sh" "$NSKIT_SANDBOX/home/alice/rootfs/bin/app"
chown -R alice: "$NSKIT_SANDBOX/home/alice"
run as alice sh -c "cd \$HOME && ./build.sh"
is "$rc" 0 "the build script of nskit(7) runs"
like "$out" "localhost/app +latest" "buildah images shows the image it built"
run as alice nsenter-user --list
unlike "$out" "build" "the script's trap stopped the session"
run as alice sh -c 'c=$(buildah from -q localhost/app) && buildah unshare sh -c "cat \$(buildah mount $c)/bin/app"'
like "$out" "built by nskit" "the image holds the file copied through the session"

# --- Debugging "newuidmap: write to uid_map failed" --------------------------
run as alice nskit-doctor
is "$rc" 0 "nskit-doctor: healthy"
run as alice idmap-show --auto
like "$out" "100000|165536" "idmap-show --auto: the map alice should get"
run as alice sh -c 'unshare --user sleep 600 & p=$!; sleep 0.2; idmap-apply --dry-run $p; kill $p'
like "$out" "/usr/bin/newuidmap" "idmap-apply --dry-run says newuidmap will write the uid map"
userns_proc p alice
run as alice setpriv --no-new-privs idmap-apply "$p"
like "$err" "newuidmap: write to uid_map failed: Operation not permitted \(no_new_privs is set for this process" \
	"with no_new_privs, the message says why newuidmap fails"
run as alice setpriv --no-new-privs nskit-doctor
is "$rc" 1 "nskit-doctor fails under no_new_privs"
like "$out" "no-new-privs +fail" "and names the finding"

done_testing
