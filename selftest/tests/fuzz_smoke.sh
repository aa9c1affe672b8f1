#!/bin/sh
# samba-ca test suite entry: builds every fuzz target in selftest/fuzz/
# (*_fuzz.cc) and runs each briefly: libFuzzer under clang++-14
# (-fsanitize=fuzzer,address,undefined) when it can link a fuzzer, else the
# targets' standalone drivers (seeded random inputs) under g++ with
# -fsanitize=address,undefined.  A crash, a sanitizer report or a violated
# invariant (the targets abort) fails the target; so does a target this
# script has no recipe for, so that a new one is never silently left out.
#
# One line per target, then "N passed, N failed".  Exit 0 when every target
# passes, 77 without a compiler, 1 otherwise.
#
# FUZZ_SMOKE_SECONDS: libFuzzer time per target (default 10).
# FUZZ_SMOKE_DRIVER=standalone uses the standalone drivers even with clang.
# FUZZ_SMOKE_KEEP=1 keeps the work directory (binaries, logs, crashes).

set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
fuzz="$top/selftest/fuzz"
core="$top/persistent_core"
seconds=${FUZZ_SMOKE_SECONDS:-10}

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_smoke.XXXXXX") || exit 1
# The journal target's files, on tmpfs when there is one (its syncs are
# free there), removed here even when a crash skipped the target's own
# clean-up.
scratch=$(mktemp -d /dev/shm/fuzz_smoke.XXXXXX 2>/dev/null) ||
	scratch=$(mktemp -d "$work/scratch.XXXXXX") || exit 1
export JOURNAL_FUZZ_DIR="$scratch"
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	rm -rf "$scratch"
	if [ "${FUZZ_SMOKE_KEEP:-0}" = 1 ]; then
		echo "fuzz_smoke: work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# --- recipes ----------------------------------------------------------------
# The sources a target is linked with come in groups, each compiled once.
group_sources() {
	case "$1" in
	core)
		for f in version status coding crc32c persistent_record store \
			journal lookup_stamp journaled_store handle_table cookie \
			c_api; do
			echo "$core/$f.cc"
		done
		;;
	signing)
		for f in status smb3_kdf smb2_signing smb2_transform \
			crypto_primitives; do
			echo "$top/signing/$f.cc"
		done
		;;
	smbdirect)
		for f in status wire connection transport loopback_transport \
			driver; do
			echo "$top/smbdirect/$f.cc"
		done
		;;
	client)
		echo "$top/signing/status.cc"
		for f in client_status smb2_pdu framing ntlmssp; do
			echo "$top/smbclient3/$f.cc"
		done
		;;
	esac
}

group_includes() {
	case "$1" in
	core) echo "-I$core" ;;
	signing) echo "-I$top/signing" ;;
	client) echo "-I$top/smbclient3 -I$top/signing" ;;
	smbdirect) echo "-I$top/smbdirect -I$top/signing" ;;
	esac
}

group_libs() {
	case "$1" in
	signing | client) echo "-lcrypto" ;;
	esac
}

# Sets group, define (the standalone driver's macro), iterations_env and
# iterations (standalone inputs; empty: the driver's own count).
recipe() {
	iterations_env=
	iterations=
	case "$1" in
	client_pdu_fuzz)
		group=client
		define=CLIENT_FUZZ_STANDALONE
		iterations_env=CLIENT_FUZZ_ITERATIONS
		iterations=50000
		;;
	signing_fuzz)
		group=signing
		define=SIGNING_FUZZ_STANDALONE
		iterations_env=SIGNING_FUZZ_ITERATIONS
		iterations=20000
		;;
	smbdirect_fuzz)
		group=smbdirect
		define=SMBDIRECT_FUZZ_STANDALONE
		iterations_env=SMBDIRECT_FUZZ_ITERATIONS
		iterations=50000
		;;
	persistent_record_fuzz)
		group=core
		define=PCORE_FUZZ_STANDALONE
		;;
	persistent_journal_fuzz)
		group=core
		define=PCORE_FUZZ_STANDALONE
		iterations_env=JOURNAL_FUZZ_ITERATIONS
		iterations=30000
		;;
	persistent_cookie_fuzz)
		group=core
		define=PCORE_FUZZ_STANDALONE
		iterations_env=COOKIE_FUZZ_ITERATIONS
		iterations=500000
		;;
	*)
		return 1
		;;
	esac
	return 0
}

# --- the compiler -------------------------------------------------------------
std="-std=c++17 -fno-exceptions -fno-rtti -O1 -g"
mode=
if [ "${FUZZ_SMOKE_DRIVER:-}" != standalone ] &&
	command -v clang++-14 >/dev/null 2>&1; then
	printf '%s\n' '#include <cstddef>' '#include <cstdint>' \
		'extern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) {' \
		'  return 0;' '}' >"$work/probe.cc"
	if clang++-14 -fsanitize=fuzzer,address,undefined "$work/probe.cc" \
		-o "$work/probe" >"$work/probe.log" 2>&1; then
		mode=libfuzzer
	else
		echo "fuzz_smoke: clang++-14 links no libFuzzer" \
			"(libclang-rt-14-dev?): standalone drivers"
	fi
fi
if [ -z "$mode" ]; then
	if command -v g++ >/dev/null 2>&1; then
		mode=standalone
	else
		echo "fuzz_smoke: neither clang++-14 nor g++: skipped"
		exit 77
	fi
fi
if [ "$mode" = libfuzzer ]; then
	cxx=clang++-14
	san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
	compile_san="$san -fsanitize=fuzzer-no-link"
	link_san="$san -fsanitize=fuzzer"
	echo "fuzz_smoke: libFuzzer (clang++-14), $seconds s per target"
else
	cxx="g++"
	san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
	compile_san=$san
	link_san=$san
	echo "fuzz_smoke: standalone drivers (g++), seeded random inputs"
fi

# The shared sources are the same from run to run: ccache keeps the suite
# inside its time on a busy machine.
cc_wrap=
if command -v ccache >/dev/null 2>&1; then
	cc_wrap=ccache
fi

# Compiles a group's sources once; prints the objects.
build_group() {
	g=$1
	dir="$work/obj/$g"
	if [ ! -f "$dir/.done" ]; then
		mkdir -p "$dir"
		for src in $(group_sources "$g"); do
			obj="$dir/$(basename "$src" .cc).o"
			# shellcheck disable=SC2086,SC2046
			if ! $cc_wrap $cxx $std $compile_san $(group_includes "$g") \
				-c "$src" -o "$obj" >>"$dir/build.log" 2>&1; then
				return 1
			fi
		done
		touch "$dir/.done"
	fi
	for src in $(group_sources "$g"); do
		echo "$dir/$(basename "$src" .cc).o"
	done
}

# Prints the libFuzzer run's figures: "N runs, cov N".
libfuzzer_figures() {
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$1" | tail -n 1)
	cov=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' "$1" | tail -n 1)
	echo "${runs:-?} runs, cov ${cov:-?}"
}

sanitizer_report() {
	grep -E 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:' \
		"$1" >/dev/null 2>&1
}

# --- build and run each target ---------------------------------------------
passed=0
failed=0
for src in "$fuzz"/*_fuzz.cc; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .cc)
	log="$work/$name.log"
	if ! recipe "$name"; then
		echo "fuzz_smoke: $name: FAILED (no recipe in fuzz_smoke.sh)"
		failed=$((failed + 1))
		continue
	fi
	if ! objs=$(build_group "$group"); then
		echo "fuzz_smoke: $name: FAILED (building the $group sources)"
		tail -20 "$work/obj/$group/build.log" >&2
		failed=$((failed + 1))
		continue
	fi
	bin="$work/$name"
	defines=
	[ "$mode" = standalone ] && defines="-D$define"
	# shellcheck disable=SC2086,SC2046
	if ! $cxx $std $link_san $defines $(group_includes "$group") \
		-I"$fuzz" "$src" $objs $(group_libs "$group") -o "$bin" \
		>"$log" 2>&1; then
		echo "fuzz_smoke: $name: FAILED (build)"
		tail -20 "$log" >&2
		failed=$((failed + 1))
		continue
	fi
	start=$(date +%s)
	if [ "$mode" = libfuzzer ]; then
		mkdir -p "$work/corpus/$name"
		"$bin" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
			-artifact_prefix="$work/$name-" "$work/corpus/$name" \
			>"$log" 2>&1
		rc=$?
		figures=$(libfuzzer_figures "$log")
	else
		if [ -n "$iterations_env" ]; then
			env "$iterations_env=$iterations" timeout 300 "$bin" \
				>"$log" 2>&1
		else
			timeout 300 "$bin" >"$log" 2>&1
		fi
		rc=$?
		figures=$(tail -n 1 "$log" | sed "s/^$name: //")
	fi
	elapsed=$(($(date +%s) - start))
	if [ "$rc" -ne 0 ] || sanitizer_report "$log"; then
		echo "fuzz_smoke: $name: FAILED (exit $rc after ${elapsed} s)"
		if grep -E -q 'ERROR:|runtime error:|deadly signal' "$log"; then
			grep -E -A 25 'ERROR:|runtime error:|deadly signal' "$log" |
				head -n 40 >&2
		else
			tail -n 30 "$log" >&2
		fi
		for crash in "$work/$name"-*; do
			[ -e "$crash" ] && echo "fuzz_smoke: input: $crash" >&2
		done
		FUZZ_SMOKE_KEEP=1
		failed=$((failed + 1))
		continue
	fi
	echo "fuzz_smoke: $name: passed ($figures, ${elapsed} s)"
	passed=$((passed + 1))
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] || exit 1
exit 0
