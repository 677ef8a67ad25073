#!/bin/bash
# buildah inside an nsenter-user session: from scratch, mount, write into the
# mount, commit, each step a separate --join; the image is then seen by
# buildah outside (it reads the same rootless storage).
. "$NSKIT_TOP/tests/integration/lib.sh"

mkuser nsb || exit 1
u=nsb
b() { as "$u" nsenter-user --join build "$@"; }

run as "$u" nsenter-user --keep build
is "$rc" 0 "--keep build"
run b buildah from scratch
ctr=$out
is "$rc:$ctr" "0:working-container" "buildah from scratch inside the session"
run b buildah mount "$ctr"
mnt=$out
is "$rc" 0 "buildah mount inside the session"
run b sh -c "echo hello > '$mnt/hello' && mkdir '$mnt/etc' && echo nskit > '$mnt/etc/hostname'"
is "$rc" 0 "write into the mount from a later --join"
run b cat "$mnt/hello"
is "$out" hello "the mount (and what was written) is still there for the next --join"
run b buildah config --cmd /hello "$ctr"
run b buildah commit -q "$ctr" nskit-test
is "$rc" 0 "buildah commit inside the session"
run b buildah umount "$ctr"
run as "$u" nsenter-user --stop build
run as "$u" buildah images --format '{{.Name}}:{{.Tag}}'
like "$out" "^localhost/nskit-test:latest$" "buildah images outside sees the image"
run as "$u" buildah from -q localhost/nskit-test
c2=$out
run as "$u" buildah unshare sh -c "cat \$(buildah mount $c2)/hello"
is "$rc:$out" "0:hello" "the committed image holds the file written through the session"

done_testing
