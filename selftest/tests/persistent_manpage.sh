#!/usr/bin/env bash
# vfs_persistent.8 is built by Samba's waf with Samba's own man-page XSLT
# (docs/wscript_build), renders, and documents every option the module
# reads.
set -euo pipefail

page="$SAMBA_CA_OUT/docs/vfs_persistent.8"
echo "== built by waf: $page"
[ -s "$page" ] || { echo "FAIL: $page not built (docs/wscript_build)"; exit 1; }
grep -q '^\.TH "VFS_PERSISTENT" "8"' "$page" || {
	echo "FAIL: $page is not a section 8 man page"
	exit 1
}
echo "built ($(wc -l <"$page") lines)"

for opt in "persistent:timeout" "persistent:max timeout" \
	"persistent:store" "persistent:scan interval" "persistent:journal" \
	"persistent:sync close" "persistent:boot id file" \
	"persistent:cluster commit timeout" "persistent:cluster start check" \
	"persistent:cluster probe" \
	"smb3 global cap:PERSISTENT HANDLES"; do
	if ! grep -qF "$opt" "$page"; then
		echo "FAIL: '$opt' not in the man page"
		exit 1
	fi
	echo "documents: $opt"
done
module="$SAMBA_CA_TOP/vfs_persistent/vfs_persistent.c
$SAMBA_CA_TOP/vfs_persistent/persistent_store.c
$SAMBA_CA_TOP/vfs_persistent/persistent_store_ctdb.c"
for opt in '"timeout"' '"max timeout"' '"store"' '"scan interval"' \
	'"journal"' '"sync close"' '"boot id file"' \
	'"cluster commit timeout"' '"cluster start check"' '"cluster probe"'; do
	# shellcheck disable=SC2086
	grep -qF "$opt" $module || {
		echo "FAIL: the module no longer reads $opt"
		exit 1
	}
done
if command -v groff >/dev/null; then
	groff -man -Tutf8 "$page" >/dev/null
	echo "renders with groff"
fi

tool_page="$SAMBA_CA_OUT/docs/ctdb_handles.8"
grep -q '^\.TH "CTDB_HANDLES" "8"' "$tool_page" 2>/dev/null || {
	echo "FAIL: $tool_page not built as a section 8 man page"
	exit 1
}
for cmd in list counts show expire; do
	grep -q "^\\fB$cmd\\fR\|^$cmd" "$tool_page" || {
		echo "FAIL: ctdb_handles(8) does not document $cmd"
		exit 1
	}
done
echo "ctdb_handles.8 built, documents list, counts, show, expire"
echo PASS
