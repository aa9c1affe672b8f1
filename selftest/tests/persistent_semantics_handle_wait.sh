#!/bin/bash
# samba-ca selftest: persistent_semantics.sh, scenario "handle_wait" (see there).
exec "$(dirname "${BASH_SOURCE[0]}")/persistent_semantics.sh" handle_wait
