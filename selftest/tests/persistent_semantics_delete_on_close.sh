#!/bin/bash
# samba-ca selftest: persistent_semantics.sh, scenario "delete_on_close" (see there).
exec "$(dirname "${BASH_SOURCE[0]}")/persistent_semantics.sh" delete_on_close
