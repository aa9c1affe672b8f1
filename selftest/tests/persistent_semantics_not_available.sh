#!/bin/bash
# samba-ca selftest: persistent_semantics.sh, scenario "not_available" (see there).
exec "$(dirname "${BASH_SOURCE[0]}")/persistent_semantics.sh" not_available
