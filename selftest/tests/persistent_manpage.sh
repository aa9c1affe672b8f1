#!/usr/bin/env bash
# docs/vfs_persistent.8.xml is well-formed and builds into a man page with
# the stock docbook-xsl manpages stylesheet (offline), and the page
# documents every option the module reads.
set -euo pipefail

src="$SAMBA_CA_TOP/docs/vfs_persistent.8.xml"
xsl=/usr/share/xml/docbook/stylesheet/docbook-xsl/manpages/docbook.xsl
out=${SAMBA_CA_OUT:-$(mktemp -d /var/tmp/samba-ca-man.XXXXXX)}/docs
mkdir -p "$out"

echo "== well-formed: $src"
if command -v xmllint >/dev/null; then
	xmllint --noout --nonet "$src"
else
	xsltproc --nonet - "$src" >/dev/null <<'XSL'
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"/>
XSL
fi

echo "== xsltproc --nonet $xsl"
(cd "$out" && xsltproc --nonet "$xsl" "$src")
page="$out/vfs_persistent.8"
[ -s "$page" ] || { echo "FAIL: $page not built"; exit 1; }
echo "built $page ($(wc -l <"$page") lines)"

for opt in "persistent:timeout" "persistent:max timeout" \
	"persistent:store" "smb3 global cap:PERSISTENT HANDLES"; do
	if ! grep -qF "$opt" "$page"; then
		echo "FAIL: '$opt' not in the man page"
		exit 1
	fi
	echo "documents: $opt"
done
module="$SAMBA_CA_TOP/vfs_persistent/vfs_persistent.c"
for opt in '"timeout"' '"max timeout"' '"store"'; do
	grep -qF "$opt" "$module" || {
		echo "FAIL: the module no longer reads $opt"
		exit 1
	}
done
if command -v man >/dev/null; then
	man -l "$page" 2>/dev/null | head -5 || true
fi
echo PASS
