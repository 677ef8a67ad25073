#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "causes.h"
#include "num.h"

/* The messages, quoted from the sources of the versions named (and, for
 * Debian 12's packages, from the binaries: strings(1) of /usr/bin/podman,
 * /usr/bin/buildah, /usr/bin/bwrap, /usr/bin/newuidmap, /usr/bin/unshare),
 * and the lines Debian 12's and 13's binaries print in the broken set-ups
 * of tests/integration/nskit-doctor/live-explain.sh, which runs them all
 * (a logrus line is matched unwrapped: dr_ex_unwrap).
 * A line is the first entry whose pieces it contains (case ignored), so an
 * entry that quotes another tool's message comes before that message's own
 * entry. The causes are finding ids (checks.h) in the order tested;
 * "subid-requested" is the explain-only check that the ids the message
 * names lie inside the user's ranges, "setgroups-order" the explain-only
 * cause that the message itself proves (setgroups written after gid_map). */

#define C(id) { id, 0 }
#define PP(id) { id, 1 }
#define UIDMAP_EPERM C("userns-apparmor"), C("newuidmap"), C("newuidmap-nosuid"), PP("no-new-privs"), \
	PP("cap-bounding"), C("parent-map")
#define GIDMAP_EPERM C("userns-apparmor"), C("newgidmap"), C("newgidmap-nosuid"), PP("no-new-privs"), \
	PP("cap-bounding"), C("parent-map")
#define CREATE C("userns-max"), C("userns-clone"), PP("userns-seccomp"), C("userns-nesting"), \
	C("userns-create")

const struct dr_ex_msg dr_ex_msgs[] = {
	/* rootlesskit: pkg/parent/parent.go, cmd/rootlesskit/main.go */
	{ "rootlesskit-uidmap-eperm", "rootlesskit",
	  "rootlesskit 1.1.0 (Debian 12) to 2.x",
	  "[rootlesskit:parent] error: failed to setup UID/GID map: newuidmap %s %v failed: %s: %w",
	  { "[rootlesskit:", "failed to setup UID/GID map:", "write to uid_map failed: Operation not permitted" },
	  { UIDMAP_EPERM },
	  "[rootlesskit:parent] error: failed to setup UID/GID map: newuidmap 4242 [0 1001 1 1 100000 65536] "
	  "failed: newuidmap: write to uid_map failed: Operation not permitted\n: exit status 1" },
	{ "rootlesskit-gidmap-eperm", "rootlesskit",
	  "rootlesskit 1.1.0 (Debian 12) to 2.x",
	  "[rootlesskit:parent] error: failed to setup UID/GID map: newgidmap %s %v failed: %s: %w",
	  { "[rootlesskit:", "failed to setup UID/GID map:", "write to gid_map failed: Operation not permitted" },
	  { GIDMAP_EPERM },
	  "[rootlesskit:parent] error: failed to setup UID/GID map: newgidmap 4242 [0 1001 1 1 100000 65536] "
	  "failed: newgidmap: write to gid_map failed: Operation not permitted\n: exit status 1" },
	{ "rootlesskit-newuidmap-missing", "rootlesskit",
	  "rootlesskit 1.1.0 (Debian 12) and later",
	  "[rootlesskit:parent] error: failed to setup UID/GID map: newuidmap %s %v failed: %s: %w",
	  { "[rootlesskit:", "failed to setup UID/GID map: newuidmap", "executable file not found" },
	  { C("newuidmap") },
	  "[rootlesskit:parent] error: failed to setup UID/GID map: newuidmap 1143 [0 1002 1 1 165536 65536] "
	  "failed: : exec: \"newuidmap\": executable file not found in $PATH" },
	{ "rootlesskit-newgidmap-missing", "rootlesskit",
	  "rootlesskit 1.1.0 (Debian 12) and later",
	  "[rootlesskit:parent] error: failed to setup UID/GID map: newgidmap %s %v failed: %s: %w",
	  { "[rootlesskit:", "failed to setup UID/GID map: newgidmap", "executable file not found" },
	  { C("newgidmap") },
	  "[rootlesskit:parent] error: failed to setup UID/GID map: newgidmap 1143 [0 1002 1 1 165536 65536] "
	  "failed: : exec: \"newgidmap\": executable file not found in $PATH" },
	{ "rootlesskit-no-subuid", "rootlesskit",
	  "rootlesskit 1.1.0 (Debian 12) to 2.x (pkg/parent/idtools)",
	  "No subuid ranges found for user %d (%q)",
	  { "[rootlesskit:", "No subuid ranges found for user" },
	  { C("subuid-file"), C("subuid-range") },
	  "[rootlesskit:parent] error: failed to setup UID/GID map: failed to compute uid/gid map: No subuid "
	  "ranges found for user 1002 (\"bob\")" },
	{ "rootlesskit-no-subgid", "rootlesskit",
	  "rootlesskit 1.1.0 (Debian 12) to 2.x (pkg/parent/idtools)",
	  "No subgid ranges found for user %d (%q)",
	  { "[rootlesskit:", "No subgid ranges found for user" },
	  { C("subgid-file"), C("subgid-range") },
	  "[rootlesskit:parent] error: failed to setup UID/GID map: failed to compute uid/gid map: No subgid "
	  "ranges found for user 1002 (\"bob\")" },

	/* containers/storage pkg/unshare/unshare_linux.go (podman, buildah) */
	/* rootlesskit's preflight (a warning) and the start of its child. */
	{ "rootlesskit-max-userns", "rootlesskit",
	  "rootlesskit 1.1.0 (Debian 12) and later (pkg/parent)",
	  "/proc/sys/user/max_user_namespaces needs to be set to non-zero.",
	  { "max_user_namespaces needs to be set to non-zero" },
	  { C("userns-max") },
	  "time=\"2026-12-08T00:22:44Z\" level=warning msg=\"/proc/sys/user/max_user_namespaces needs to be set "
	  "to non-zero.\"" },
	{ "rootlesskit-start-child", "rootlesskit",
	  "rootlesskit 1.1.0 (Debian 12) and later (pkg/parent)",
	  "[rootlesskit:parent] error: failed to start the child: %w",
	  { "[rootlesskit:", "failed to start the child: " },
	  { CREATE },
	  "[rootlesskit:parent] error: failed to start the child: fork/exec /proc/self/exe: no space left on device" },

	{ "storage-newuidmap-not-setuid", "podman, buildah (containers/storage)",
	  "containers/storage 1.45 (podman 4.3.1, buildah 1.28.2 in Debian 12) and later",
	  "%s should be setuid or have filecaps setuid",
	  { "should be setuid or have filecaps setuid" },
	  { C("newuidmap"), C("newuidmap-nosuid"), PP("no-new-privs"), PP("cap-bounding"), C("parent-map"),
	    C("userns-apparmor") },
	  "time=\"2026-12-01T20:58:08Z\" level=warning msg=\"/usr/bin/newuidmap should be setuid or have filecaps setuid\"" },
	{ "storage-newgidmap-not-setgid", "podman, buildah (containers/storage)",
	  "containers/storage 1.45 (podman 4.3.1, buildah 1.28.2 in Debian 12) and later",
	  "%s should be setgid or have filecaps setgid",
	  { "should be setgid or have filecaps setgid" },
	  { C("newgidmap"), C("newgidmap-nosuid"), PP("no-new-privs"), PP("cap-bounding"), C("parent-map"),
	    C("userns-apparmor") },
	  "time=\"2026-12-01T20:58:08Z\" level=warning msg=\"/usr/bin/newgidmap should be setgid or have filecaps setgid\"" },
	/* After a failed newuidmap or newgidmap, buildah goes on with the
	 * user's own id only; the lines before it name the helper. */
	{ "storage-single-mapping", "buildah (containers/storage pkg/unshare)",
	  "containers/storage 1.45 (buildah 1.28.2 in Debian 12) and later",
	  "Falling back to single mapping",
	  { "Falling back to single mapping" },
	  { C("newuidmap"), C("newuidmap-nosuid"), C("newgidmap"), C("newgidmap-nosuid"), PP("no-new-privs"),
	    PP("cap-bounding"), C("parent-map"), C("userns-apparmor") },
	  "time=\"2026-12-08T00:22:41Z\" level=warning msg=\"Falling back to single mapping\"" },
	/* Printed for both when either file lacks the user: buildah reads the
	 * two ranges as one. */
	{ "storage-found-no-uid-ranges", "buildah (containers/storage pkg/unshare)",
	  "containers/storage 1.45 (buildah 1.28.2 in Debian 12) and later",
	  "Found no UID ranges set aside for user %q in /etc/subuid.",
	  { "Found no UID ranges set aside for user \"", "\" in /etc/subuid" },
	  { C("subuid-file"), C("subuid-range"), C("subgid-file"), C("subgid-range") },
	  "time=\"2026-12-08T00:21:57Z\" level=warning msg=\"Found no UID ranges set aside for user \\\"bob\\\" "
	  "in /etc/subuid.\"" },
	{ "storage-found-no-gid-ranges", "buildah (containers/storage pkg/unshare)",
	  "containers/storage 1.45 (buildah 1.28.2 in Debian 12) and later",
	  "Found no GID ranges set aside for user %q in /etc/subgid.",
	  { "Found no GID ranges set aside for user \"", "\" in /etc/subgid" },
	  { C("subgid-file"), C("subgid-range"), C("subuid-file"), C("subuid-range") },
	  "time=\"2026-12-08T00:21:57Z\" level=warning msg=\"Found no GID ranges set aside for user \\\"bob\\\" "
	  "in /etc/subgid.\"" },
	{ "storage-newuidmap-missing", "podman, buildah (containers/storage)",
	  "containers/storage 1.45 (podman 4.3.1, buildah 1.28.2 in Debian 12) and later",
	  "finding newuidmap: %w",
	  { "finding newuidmap: " },
	  { C("newuidmap") },
	  "Error: finding newuidmap: exec: \"newuidmap\": executable file not found in $PATH" },
	{ "storage-newgidmap-missing", "podman, buildah (containers/storage)",
	  "containers/storage 1.45 (podman 4.3.1, buildah 1.28.2 in Debian 12) and later",
	  "finding newgidmap: %w",
	  { "finding newgidmap: " },
	  { C("newgidmap") },
	  "Error: finding newgidmap: exec: \"newgidmap\": executable file not found in $PATH" },
	/* containers/storage pkg/idtools/idtools.go */
	{ "storage-insufficient-ids", "podman, buildah (containers/storage)",
	  "containers/storage 1.45 (podman 4.3.1, buildah 1.28.2 in Debian 12): '... run podman-system-migrate: %w'; "
	  "later versions: '... run \"podman system migrate\": %w'",
	  "potentially insufficient UIDs or GIDs available in user namespace (requested %d:%d for %s): "
	  "Check /etc/subuid and /etc/subgid if configured locally and run podman-system-migrate: %w",
	  { "potentially insufficient UIDs or GIDs available in" },
	  { C("subuid-range"), C("subgid-range"), C("subid-requested"), C("subuid-size"), C("subgid-size") },
	  "Error: writing blob: adding layer with blob \"sha256:0d3b\": processing tar file(potentially insufficient "
	  "UIDs or GIDs available in user namespace (requested 42:42 for /etc/shadow): Check /etc/subuid and "
	  "/etc/subgid if configured locally and run podman-system-migrate: lchown /etc/shadow: invalid argument): "
	  "exit status 1" },
	{ "storage-no-subuid", "podman, buildah (containers/storage)",
	  "containers/storage 1.45 (podman 4.3.1, buildah 1.28.2 in Debian 12) and later",
	  "no subuid ranges found for user %q in %s",
	  { "no subuid ranges found for user" },
	  { C("subuid-file"), C("subuid-range") },
	  "time=\"2026-12-01T20:58:07Z\" level=warning msg=\"cannot find UID/GID for user alice: no subuid ranges "
	  "found for user \\\"alice\\\" in /etc/subuid - check rootless mode in man pages.\"" },
	{ "storage-no-subgid", "podman, buildah (containers/storage)",
	  "containers/storage 1.45 (podman 4.3.1, buildah 1.28.2 in Debian 12) and later",
	  "no subgid ranges found for group %q in %s",
	  { "no subgid ranges found for group" },
	  { C("subgid-file"), C("subgid-range") },
	  "time=\"2026-12-01T20:58:07Z\" level=warning msg=\"cannot find UID/GID for user alice: no subgid ranges "
	  "found for group \\\"alice\\\" in /etc/subgid - check rootless mode in man pages.\"" },

	{ "podman-single-mapping", "podman",
	  "podman 4.3.1 (Debian 12) and later",
	  "Using rootless single mapping into the namespace. This might break some images. Check /etc/subuid "
	  "and /etc/subgid for adding sub*ids if not using a network user",
	  { "Using rootless single mapping into the namespace" },
	  { C("subuid-file"), C("subuid-range"), C("subgid-file"), C("subgid-range") },
	  "time=\"2026-12-01T21:06:40Z\" level=warning msg=\"Using rootless single mapping into the namespace. "
	  "This might break some images. Check /etc/subuid and /etc/subgid for adding sub*ids if not using a "
	  "network user\"" },

	/* podman: libpod, pkg/rootless, pkg/util */
	/* podman: pkg/rootless/rootless_linux.go, tryMappingTool */
	{ "podman-newuidmap-missing", "podman (pkg/rootless)",
	  "podman 4.3.1 (Debian 12) and later",
	  "command required for rootless mode with multiple IDs: %w",
	  { "command required for rootless mode with multiple IDs", "newuidmap" },
	  { C("newuidmap") },
	  "Error: command required for rootless mode with multiple IDs: exec: \"newuidmap\": executable file not "
	  "found in $PATH" },
	{ "podman-newgidmap-missing", "podman (pkg/rootless)",
	  "podman 4.3.1 (Debian 12) and later",
	  "command required for rootless mode with multiple IDs: %w",
	  { "command required for rootless mode with multiple IDs", "newgidmap" },
	  { C("newgidmap") },
	  "Error: command required for rootless mode with multiple IDs: exec: \"newgidmap\": executable file not "
	  "found in $PATH" },
	{ "podman-newuidmap-failed", "podman (pkg/rootless)",
	  "podman 4.3.1 (Debian 12) and later (': should have setuid or have filecaps setuid' when the helper "
	  "is neither)",
	  "cannot set up namespace using %q: %w",
	  { "cannot set up namespace using \"", "newuidmap\"" },
	  { C("newuidmap"), C("newuidmap-nosuid"), PP("no-new-privs"), PP("cap-bounding"), C("parent-map"),
	    C("userns-apparmor") },
	  "Error: cannot set up namespace using \"/usr/bin/newuidmap\": should have setuid or have filecaps setuid: "
	  "exit status 1" },
	{ "podman-newgidmap-failed", "podman (pkg/rootless)",
	  "podman 4.3.1 (Debian 12) and later (': should have setgid or have filecaps setgid' when the helper "
	  "is neither)",
	  "cannot set up namespace using %q: %w",
	  { "cannot set up namespace using \"", "newgidmap\"" },
	  { C("newgidmap"), C("newgidmap-nosuid"), PP("no-new-privs"), PP("cap-bounding"), C("parent-map"),
	    C("userns-apparmor") },
	  "Error: cannot set up namespace using \"/usr/bin/newgidmap\": exit status 1" },

	{ "podman-root-not-shared", "podman",
	  "podman 4.3.1 (Debian 12) and later",
	  "%q is not a shared mount, this could cause issues or missing mounts with rootless containers",
	  { "is not a shared mount, this could cause issues or missing mounts with rootless containers" },
	  { C("root-shared") },
	  "time=\"2026-12-01T20:58:07Z\" level=warning msg=\"\\\"/\\\" is not a shared mount, this could cause "
	  "issues or missing mounts with rootless containers\"" },
	{ "podman-xdg-not-owned", "podman, buildah (containers/storage pkg/homedir)",
	  "podman 4.3.1, buildah 1.28.2 (Debian 12) and later",
	  "XDG_RUNTIME_DIR directory %q is not owned by the current user",
	  { "XDG_RUNTIME_DIR directory", "is not owned by the current user" },
	  { PP("xdg-runtime-dir") },
	  "Error: XDG_RUNTIME_DIR directory \"/run/user/0\" is not owned by the current user" },
	{ "podman-xdg-missing", "podman",
	  "podman 4.3.1 (Debian 12) and later",
	  "XDG_RUNTIME_DIR does not exist. Either create the directory or unset $XDG_RUNTIME_DIR.",
	  { "XDG_RUNTIME_DIR does not exist" },
	  { PP("xdg-runtime-dir") },
	  "Error: XDG_RUNTIME_DIR does not exist. Either create the directory or unset $XDG_RUNTIME_DIR." },
	/* podman 5 reads its configuration first, and makes
	 * $XDG_RUNTIME_DIR/libpod doing so: a folder it cannot write (or one
	 * that is missing) stops it there. */
	{ "podman-configuration", "podman",
	  "podman 5.4.2 (Debian 13) and later; podman 4.3.1 (Debian 12) says 'XDG_RUNTIME_DIR directory ... is not "
	  "owned by the current user' instead",
	  "Failed to obtain podman configuration: %s",
	  { "Failed to obtain podman configuration: " },
	  { PP("xdg-runtime-dir") },
	  "Failed to obtain podman configuration: mkdir /run/user/0/libpod: permission denied" },
	{ "common-default-config", "buildah (containers/common pkg/config)",
	  "buildah 1.39.3 (Debian 13) and later; buildah 1.28.2 (Debian 12) says 'XDG_RUNTIME_DIR directory ... is "
	  "not owned by the current user' instead",
	  "failed to get default container config: %w",
	  { "default container config" },
	  { PP("xdg-runtime-dir") },
	  "time=\"2026-12-08T00:31:23Z\" level=error msg=\"failed to setup From and Build flags: failed to get "
	  "default container config: mkdir /run/user/0/libpod: permission denied\"" },
	{ "podman-cannot-clone", "podman (pkg/rootless)",
	  "podman 4.3.1 (Debian 12) and later",
	  "cannot clone: %m",
	  { "cannot clone: " },
	  { CREATE },
	  "cannot clone: Operation not permitted" },
	{ "podman-userns-disabled", "podman (pkg/rootless)",
	  "podman 4.3.1 (Debian 12) and later",
	  "user namespaces are not enabled in %s",
	  { "user namespaces are not enabled in" },
	  { C("userns-max"), C("userns-create") },
	  "user namespaces are not enabled in /proc/sys/user/max_user_namespaces" },

	/* runc (podman's runtime on Debian 12): libcontainer/init_linux.go */
	{ "runc-setup-user", "runc (through podman or buildah)",
	  "runc 1.1.5 (Debian 12) and later",
	  "unable to setup user: %w",
	  { "unable to setup user: invalid argument" },
	  { C("subuid-range"), C("subgid-range"), C("subuid-size"), C("subgid-size") },
	  "Error: OCI runtime error: runc: runc create failed: unable to start container process: unable to "
	  "setup user: invalid argument" },

	/* bubblewrap: bubblewrap.c */
	/* runc: libcontainer/nsenter/nsexec.c (rootless, maps of more than
	 * the user's own id: runc runs newuidmap and newgidmap; the errno is
	 * the one of its own write before, whatever the helper said) */
	{ "runc-newuidmap", "runc",
	  "runc 1.1.5 (Debian 12) and later",
	  "nsexec-0[%d]: failed to use newuid map on %d: %m",
	  { "failed to use newuid map on " },
	  { C("subuid-file"), C("subuid-range"), C("subuid-size"), C("newuidmap"), C("newuidmap-nosuid"),
	    PP("no-new-privs"), PP("cap-bounding"), C("parent-map"), C("userns-apparmor") },
	  "time=\"2026-12-08T00:22:40Z\" level=fatal msg=\"nsexec-0[309]: failed to use newuid map on 312: "
	  "Operation not permitted\"" },
	{ "runc-newgidmap", "runc",
	  "runc 1.1.5 (Debian 12) and later",
	  "nsexec-0[%d]: failed to use newgid map on %d: %m",
	  { "failed to use newgid map on " },
	  { C("subgid-file"), C("subgid-range"), C("subgid-size"), C("newgidmap"), C("newgidmap-nosuid"),
	    PP("no-new-privs"), PP("cap-bounding"), C("parent-map"), C("userns-apparmor") },
	  "time=\"2026-12-08T00:22:41Z\" level=fatal msg=\"nsexec-0[625]: failed to use newgid map on 629: "
	  "Operation not permitted\"" },
	{ "runc-unshare-userns", "runc",
	  "runc 1.1.5 (Debian 12) and later",
	  "nsexec-1[%d]: failed to unshare user namespace: %m",
	  { "failed to unshare user namespace: " },
	  { CREATE },
	  "time=\"2026-12-08T00:25:56Z\" level=fatal msg=\"nsexec-1[2477]: failed to unshare user namespace: No "
	  "space left on device\"" },
	{ "runc-mapping-tool-missing", "runc",
	  "runc 1.1.5 (Debian 12) and later",
	  "nsexec-0[%d]: mapping tool not present: %m",
	  { "nsexec", "mapping tool not present" },
	  { C("newuidmap"), C("newgidmap") },
	  "time=\"2026-12-08T00:22:42Z\" level=fatal msg=\"nsexec-0[1176]: mapping tool not present: Operation "
	  "not permitted\"" },

	{ "bwrap-no-permissions", "bubblewrap",
	  "bubblewrap 0.8.0 (Debian 12): 'No permissions to creating new namespace, ...'; "
	  "0.9.0 and later: 'No permissions to create a new namespace, ...'",
	  "No permissions to creating new namespace, likely because the kernel does not allow non-privileged user "
	  "namespaces. On e.g. debian this can be enabled with 'sysctl kernel.unprivileged_userns_clone=1'.",
	  { "No permissions to creat", "new namespace" },
	  { C("userns-clone"), PP("userns-seccomp"), C("userns-apparmor"), C("userns-create") },
	  "bwrap: No permissions to creating new namespace, likely because the kernel does not allow "
	  "non-privileged user namespaces. On e.g. debian this can be enabled with "
	  "'sysctl kernel.unprivileged_userns_clone=1'." },
	{ "bwrap-enospc", "bubblewrap",
	  "bubblewrap 0.8.0 (Debian 12) and later",
	  "Creating new namespace failed: nesting depth or /proc/sys/user/max_*_namespaces exceeded (ENOSPC)",
	  { "Creating new namespace failed: nesting depth" },
	  { C("userns-max"), C("userns-nesting"), C("userns-create") },
	  "bwrap: Creating new namespace failed: nesting depth or /proc/sys/user/max_*_namespaces exceeded (ENOSPC)" },
	{ "bwrap-uid-map", "bubblewrap",
	  "bubblewrap 0.8.0 (Debian 12) and later",
	  "setting up uid map: %s",
	  { "setting up uid map: " },
	  { C("userns-apparmor"), C("parent-map"), C("userns-create") },
	  "bwrap: setting up uid map: Permission denied" },

	/* shadow: src/newuidmap.c, src/newgidmap.c, lib/idmapping.c */
	{ "newuidmap-range", "newuidmap (shadow)",
	  "shadow 4.13 (uidmap 1:4.13+dfsg1-1+deb12u2 in Debian 12) and later",
	  "%s: uid range [%lu-%lu) -> [%lu-%lu) not allowed",
	  { "newuidmap: uid range [", ") not allowed" },
	  { C("subuid-file"), C("subuid-range"), C("subid-requested") },
	  "newuidmap: uid range [1-70001) -> [100000-170000) not allowed" },
	{ "newgidmap-range", "newgidmap (shadow)",
	  "shadow 4.13 (uidmap 1:4.13+dfsg1-1+deb12u2 in Debian 12) and later",
	  "%s: gid range [%lu-%lu) -> [%lu-%lu) not allowed",
	  { "newgidmap: gid range [", ") not allowed" },
	  { C("subgid-file"), C("subgid-range"), C("subid-requested") },
	  "newgidmap: gid range [1-70001) -> [100000-170000) not allowed" },
	{ "newuidmap-eperm", "newuidmap (shadow)",
	  "shadow 4.13 (uidmap 1:4.13+dfsg1-1+deb12u2 in Debian 12) and later",
	  "%s: write to %s failed: %s",
	  { "write to uid_map failed: Operation not permitted" },
	  { UIDMAP_EPERM },
	  "newuidmap: write to uid_map failed: Operation not permitted" },
	{ "newgidmap-eperm", "newgidmap (shadow)",
	  "shadow 4.13 (uidmap 1:4.13+dfsg1-1+deb12u2 in Debian 12) and later",
	  "%s: write to %s failed: %s",
	  { "write to gid_map failed: Operation not permitted" },
	  { GIDMAP_EPERM },
	  "newgidmap: write to gid_map failed: Operation not permitted" },

	/* util-linux: sys-utils/unshare.c */
	{ "unshare-failed", "unshare (util-linux)",
	  "util-linux 2.38.1 (Debian 12) and later",
	  "unshare failed: %m",
	  { "unshare: unshare failed: " },
	  { CREATE },
	  "unshare: unshare failed: No space left on device" },
	{ "unshare-no-subuid", "unshare (util-linux)",
	  "util-linux 2.38.1 (Debian 12) and later (--map-auto)",
	  "no line matching user \"%s\" in %s",
	  { "unshare: no line matching user \"", "\" in /etc/subuid" },
	  { C("subuid-file"), C("subuid-range") },
	  "unshare: no line matching user \"bob\" in /etc/subuid: Success" },
	{ "unshare-no-subgid", "unshare (util-linux)",
	  "util-linux 2.38.1 (Debian 12) and later (--map-auto)",
	  "no line matching user \"%s\" in %s",
	  { "unshare: no line matching user \"", "\" in /etc/subgid" },
	  { C("subgid-file"), C("subgid-range") },
	  "unshare: no line matching user \"dave\" in /etc/subgid: Success" },
	{ "unshare-exec-newuidmap", "unshare (util-linux)",
	  "util-linux 2.38.1 (Debian 12) and later (--map-auto, --map-users)",
	  "failed to execute %s: %m",
	  { "unshare: failed to execute newuidmap" },
	  { C("newuidmap") },
	  "unshare: failed to execute newuidmap: Permission denied" },
	{ "unshare-exec-newgidmap", "unshare (util-linux)",
	  "util-linux 2.38.1 (Debian 12) and later (--map-auto, --map-groups)",
	  "failed to execute %s: %m",
	  { "unshare: failed to execute newgidmap" },
	  { C("newgidmap") },
	  "unshare: failed to execute newgidmap: No such file or directory" },
	/* --setgroups deny with a map: unshare writes setgroups after the
	 * gid_map (its own, or newgidmap's), which the kernel refuses. */
	{ "unshare-write-setgroups", "unshare (util-linux)",
	  "util-linux 2.38.1 (Debian 12) and later",
	  "write failed %s: %m",
	  { "unshare: write failed /proc/self/setgroups: Operation not permitted" },
	  { C("setgroups-order") },
	  "unshare: write failed /proc/self/setgroups: Operation not permitted" },
	{ "unshare-write-map", "unshare (util-linux)",
	  "util-linux 2.38.1 (Debian 12) and later",
	  "write failed %s: %m",
	  { "unshare: write failed /proc/self/", "_map" },
	  { C("userns-apparmor"), C("parent-map") },
	  "unshare: write failed /proc/self/uid_map: Operation not permitted" },
};

const size_t dr_ex_nmsgs = sizeof dr_ex_msgs / sizeof dr_ex_msgs[0];

/* A logrus text line: "time=..." or a "level=" field. */
static int is_logrus(const char *line)
{
	return strncmp(line, "time=", 5) == 0 || strncmp(line, "level=", 6) == 0 || strstr(line, " level=") != NULL;
}

int dr_ex_unwrap(const char *line, char **out)
{
	size_t len = strlen(line);
	char *o, *buf;
	const char *p = line;

	*out = NULL;
	if (!is_logrus(line))
		return 0;
	if (!(buf = malloc(len + 1)))
		return -ENOMEM;
	o = buf;
	while (*p) {
		/* KEY="...": a quoted value, Go's strconv.Quote escapes. */
		if (p[0] == '=' && p[1] == '"' && p > line && p[-1] != ' ' && p[-1] != '"') {
			*o++ = '=';
			p += 2;
			while (*p && *p != '"') {
				if (*p != '\\' || !p[1]) {
					*o++ = *p++;
					continue;
				}
				switch (p[1]) {
				case 'n': *o++ = '\n'; break;
				case 't': *o++ = '\t'; break;
				case '"': *o++ = '"'; break;
				case '\\': *o++ = '\\'; break;
				default: *o++ = '\\'; *o++ = p[1]; break;
				}
				p += 2;
			}
			if (*p == '"')
				p++;
			continue;
		}
		*o++ = *p++;
	}
	*o = '\0';
	*out = buf;
	return 1;
}

static const struct dr_ex_msg *match_text(const char *line)
{
	for (size_t i = 0; i < dr_ex_nmsgs; i++) {
		const char *p = line;
		size_t k;

		for (k = 0; k < 3 && dr_ex_msgs[i].match[k]; k++) {
			p = strcasestr(p, dr_ex_msgs[i].match[k]);
			if (!p)
				break;
			p += strlen(dr_ex_msgs[i].match[k]);
		}
		if (k == 3 || !dr_ex_msgs[i].match[k])
			if (p)
				return &dr_ex_msgs[i];
	}
	return NULL;
}

const struct dr_ex_msg *dr_ex_match(const char *line)
{
	char *text;
	const struct dr_ex_msg *m;

	/* Without the memory to unwrap it, the line is matched as it is. */
	if (dr_ex_unwrap(line, &text) <= 0)
		return match_text(line);
	m = match_text(text);
	free(text);
	return m;
}

/* A decimal number at *P (advanced past it), at most MAX. */
static int take_num(const char **p, uint64_t max, uint64_t *out)
{
	char buf[24];
	size_t n = strspn(*p, "0123456789");

	if (n == 0 || n >= sizeof buf)
		return -EINVAL;
	memcpy(buf, *p, n);
	buf[n] = '\0';
	if (nk_parse_u64(buf, max, out) < 0)
		return -EINVAL;
	*p += n;
	return 0;
}

static int requested(const char *line, struct dr_ex_req *r);

int dr_ex_requested(const char *line, struct dr_ex_req *r)
{
	char *text;
	int rc;

	if (dr_ex_unwrap(line, &text) <= 0)
		return requested(line, r);
	rc = requested(text, r);
	free(text);
	return rc;
}

static int requested(const char *line, struct dr_ex_req *r)
{
	const char *p;
	uint64_t a, b, c, d;

	memset(r, 0, sizeof *r);
	/* podman, buildah: "(requested U:G for PATH)": ids inside the namespace. */
	if ((p = strstr(line, "(requested "))) {
		p += strlen("(requested ");
		if (take_num(&p, NK_ID_MAX, &a) < 0 || *p++ != ':' || take_num(&p, NK_ID_MAX, &b) < 0)
			return -EINVAL;
		r->inner = 1;
		r->have[NK_UID] = r->have[NK_GID] = 1;
		r->lo[NK_UID] = r->hi[NK_UID] = a;
		r->lo[NK_GID] = r->hi[NK_GID] = b;
		return 0;
	}
	/* newuidmap, newgidmap: "uid range [A-B) -> [C-D) not allowed": D-1 the
	 * last host id asked for. */
	for (int t = NK_UID; t <= NK_GID; t++) {
		static const char *const keys[2] = { "uid range [", "gid range [" };
		const char *key = keys[t];

		if (!(p = strstr(line, key)))
			continue;
		p += strlen(key);
		if (take_num(&p, UINT64_MAX, &a) < 0 || *p++ != '-' || take_num(&p, UINT64_MAX, &b) < 0 ||
		    strncmp(p, ") -> [", 6) != 0)
			return -EINVAL;
		p += 6;
		if (take_num(&p, UINT64_MAX, &c) < 0 || *p++ != '-' || take_num(&p, UINT64_MAX, &d) < 0 ||
		    d <= c || b <= a)
			return -EINVAL;
		r->have[t] = 1;
		r->lo[t] = c;
		r->hi[t] = d - 1;
		return 0;
	}
	return -EINVAL;
}

size_t dr_ex_judge(const struct dr_ex_msg *m, const struct dr_findings *fs,
		   struct dr_ex_verdict out[DR_EX_MAX_CAUSES], size_t *n)
{
	size_t found = 0;

	*n = 0;
	for (size_t i = 0; i < DR_EX_MAX_CAUSES && m->causes[i].id; i++) {
		struct dr_ex_verdict *v = &out[(*n)++];

		v->id = m->causes[i].id;
		v->f = dr_findings_get(fs, v->id);
		if (!v->f)
			v->state = DR_EX_UNTESTED;
		else if (v->f->status != DR_OK) {
			v->state = DR_EX_FOUND;
			found++;
		} else
			v->state = m->causes[i].per_process ? DR_EX_UNTESTED : DR_EX_RULED_OUT;
	}
	return found;
}
