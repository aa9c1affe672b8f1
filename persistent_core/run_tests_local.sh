#!/bin/sh
# Builds the core's unit tests and the record fuzzer's standalone driver with
# plain g++/gcc (ASan + UBSan) and runs them: a quick loop outside waf.
# Usage: persistent_core/run_tests_local.sh [build-dir]
set -eu
core=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$core/.." && pwd)
out=${1:-$(mktemp -d)}
mkdir -p "$out"
flags="-std=c++17 -fno-exceptions -fno-rtti -fPIC -Wall -Wextra -Werror -g -O1"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
srcs="version.cc status.cc coding.cc crc32c.cc persistent_record.cc store.cc journal.cc
lookup_stamp.cc journaled_store.cc handle_table.cc cookie.cc conflict.cc c_api.cc"
cd "$core"
# shellcheck disable=SC2086
g++ $flags $san -o "$out/record_test" persistent_record_test.cc $srcs -lcmocka
# shellcheck disable=SC2086
g++ $flags $san -o "$out/handle_table_test" handle_table_test.cc $srcs -lcmocka
# shellcheck disable=SC2086
g++ $flags $san -o "$out/journal_test" journal_test.cc $srcs -lcmocka
# shellcheck disable=SC2086
g++ $flags $san -o "$out/journaled_store_test" journaled_store_test.cc $srcs -lcmocka
# shellcheck disable=SC2086
g++ $flags $san -o "$out/cookie_test" cookie_test.cc $srcs -lcmocka
# shellcheck disable=SC2086
g++ $flags $san -o "$out/conflict_test" conflict_test.cc $srcs -lcmocka
# shellcheck disable=SC2086
gcc -std=c99 -Wall -Werror -g $san -c c_api_test.c -o "$out/c_api_test.o"
# shellcheck disable=SC2086
g++ $san -o "$out/c_api_test" "$out/c_api_test.o" $srcs -lcmocka
# shellcheck disable=SC2086
g++ $flags $san -DPCORE_FUZZ_STANDALONE -I "$core" -o "$out/record_fuzz" \
	"$root/selftest/fuzz/persistent_record_fuzz.cc" $srcs
rc=0
for t in record_test handle_table_test journal_test journaled_store_test cookie_test conflict_test c_api_test \
	record_fuzz; do
	"$out/$t" || rc=1
done
exit $rc
