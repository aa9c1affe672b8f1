#!/bin/bash
# samba-ca selftest: persistent_semantics.sh, scenario "timeout" (see there).
exec "$(dirname "${BASH_SOURCE[0]}")/persistent_semantics.sh" timeout
