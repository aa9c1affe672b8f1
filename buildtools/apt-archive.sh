# shellcheck shell=bash
# The Debian archive and security archive this machine's apt uses, for the
# apt sources samba-ca adds (trixie's deb-src entries in samba-base.sh, the
# client VM's private apt state in selftest/vm/vm.sh): a machine behind a
# local mirror or a proxy then builds the same way.  Sourced, not run.
#
#   apt_archive_find [ETC [CODENAME]]
#
# reads ETC/sources.list and ETC/sources.list.d/*.list (one-line format) and
# *.sources (deb822), ETC being /etc/apt unless given, and sets
#   APT_ARCHIVE_URI           URI of the first entry (deb or deb-src, enabled,
#                             component main) whose suite is CODENAME
#   APT_ARCHIVE_SECURITY_URI  URI of the first such entry whose suite is
#                             CODENAME-security
# CODENAME is the machine's (VERSION_CODENAME of /etc/os-release) unless
# given.  Files named samba-ca-* are ours and not read.  Returns 1 when an
# entry is missing, with APT_ARCHIVE_ERROR saying which one and what to add
# (one line per missing entry).

# apt_archive_entries ETC: one line "TYPE URI SUITE COMPONENT..." per
# enabled entry of ETC's source files, in apt's order (sources.list, then
# the parts sorted by name).
apt_archive_entries() {
	local etc=$1 f
	local -a files=()
	[ -f "$etc/sources.list" ] && files+=("$etc/sources.list")
	for f in "$etc"/sources.list.d/*; do
		case ${f##*/} in
		samba-ca-*) continue ;;
		*.list | *.sources) [ -f "$f" ] && files+=("$f") ;;
		esac
	done
	[ ${#files[@]} -gt 0 ] || return 0
	awk '
	function emit(type, uri, suite, comps) {
		if (type != "deb" && type != "deb-src") return
		sub(/\/+$/, "", uri)
		print type, uri, suite, comps
	}
	# deb822: a stanza ends at a blank line or the end of its file.
	function stanza(   nt, nu, ns, t, u, s, types, uris, suites) {
		if (nfield > 0 && tolower(field["enabled"]) !~ /^[ \t]*no[ \t]*$/) {
			nt = split(field["types"], types)
			nu = split(field["uris"], uris)
			ns = split(field["suites"], suites)
			for (t = 1; t <= nt; t++)
				for (u = 1; u <= nu; u++)
					for (s = 1; s <= ns; s++)
						emit(types[t], uris[u], suites[s], field["components"])
		}
		split("", field)
		nfield = 0
		last = ""
	}
	FNR == 1 { if (deb822) stanza(); deb822 = (FILENAME ~ /\.sources$/) }
	deb822 && /^#/ { next }
	deb822 && /^[ \t]*$/ { stanza(); next }
	deb822 && /^[ \t]/ { if (last != "") field[last] = field[last] " " $0; next }
	deb822 {
		name = tolower($0); sub(/:.*/, "", name)
		value = $0; sub(/^[^:]*:/, "", value)
		field[name] = value
		nfield++
		last = name
		next
	}
	{
		line = $0
		sub(/#.*/, "", line)
		if (line ~ /^[ \t]*$/) next
		type = line; sub(/^[ \t]*/, "", type); sub(/[ \t].*/, "", type)
		rest = line; sub(/^[ \t]*[^ \t]+[ \t]*/, "", rest)
		# options: "[ arch=amd64 signed-by=... ]"
		if (rest ~ /^\[/) { sub(/^\[[^]]*\][ \t]*/, "", rest) }
		n = split(rest, w)
		if (n < 2) next
		comps = ""
		for (i = 3; i <= n; i++) comps = comps " " w[i]
		emit(type, w[1], w[2], comps)
	}
	END { if (deb822) stanza() }
	' "${files[@]}"
}

# apt_archive_uri ETC SUITE: print the URI of the first suitable entry for
# SUITE (a component main, not a cdrom); nothing when there is none.
apt_archive_uri() {
	apt_archive_entries "$1" | awk -v suite="$2" '
	$3 == suite && $2 !~ /^cdrom:/ {
		for (i = 4; i <= NF; i++) if ($i == "main") { print $2; exit }
	}'
}

apt_archive_find() {
	local etc=${1:-/etc/apt} codename=${2:-} where
	APT_ARCHIVE_URI=
	APT_ARCHIVE_SECURITY_URI=
	APT_ARCHIVE_ERROR=
	if [ -z "$codename" ]; then
		# shellcheck disable=SC1091
		codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
	fi
	if [ -z "$codename" ]; then
		APT_ARCHIVE_ERROR="cannot tell this machine's Debian release (no VERSION_CODENAME in /etc/os-release), so not which of its apt source entries names the Debian archive"
		return 1
	fi
	where="$etc/sources.list or $etc/sources.list.d/ (*.list, *.sources)"
	APT_ARCHIVE_URI=$(apt_archive_uri "$etc" "$codename")
	APT_ARCHIVE_SECURITY_URI=$(apt_archive_uri "$etc" "$codename-security")
	if [ -z "$APT_ARCHIVE_URI" ]; then
		APT_ARCHIVE_ERROR="no apt source entry for suite $codename with component main in $where: the Debian archive is taken from it; add one, e.g. the line 'deb <URI of the Debian archive or your mirror of it> $codename main' to $etc/sources.list"
	fi
	if [ -z "$APT_ARCHIVE_SECURITY_URI" ]; then
		APT_ARCHIVE_ERROR="${APT_ARCHIVE_ERROR:+$APT_ARCHIVE_ERROR
}no apt source entry for suite $codename-security with component main in $where: the Debian security archive is taken from it; add one, e.g. the line 'deb <URI of the Debian security archive or your mirror of it> $codename-security main' to $etc/sources.list"
	fi
	[ -z "$APT_ARCHIVE_ERROR" ]
}
