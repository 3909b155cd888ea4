#!/bin/sh
# systemd/vkd.service passes `systemd-analyze verify`, with its paths
# pointing at this build (the install paths do not exist yet).
command -v systemd-analyze >/dev/null 2>&1 || {
	echo "SKIP: no systemd-analyze" >&2
	exit 77
}
dir=$(mktemp -d "${TMPDIR:-/tmp}/vkd-unit.XXXXXX") || exit 99
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/sbin" "$dir/etc/vkd"
ln -s "$top_builddir/src/vkd/vkd" "$dir/sbin/vkd"
ln -s "$top_builddir/vkctl/vkctl" "$dir/sbin/vkctl"
cp "$top_srcdir/conf/vkd.ini" "$dir/etc/vkd/vkd.ini"
sed -e "s|@sbindir@|$dir/sbin|g" -e "s|@sysconfdir@|$dir/etc|g" \
	"$top_srcdir/systemd/vkd.service.in" >"$dir/vkd.service"
# --man=no: the pages it names are not installed on a build machine.
# verify exits 0 on parse warnings (an unknown Type=, a bad key), so the
# unit must also make it say nothing at all.
systemd-analyze verify --man=no "$dir/vkd.service" >"$dir/out" 2>&1
status=$?
cat "$dir/out"
[ "$status" -eq 0 ] && [ ! -s "$dir/out" ]
