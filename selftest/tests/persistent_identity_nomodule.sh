#!/bin/bash
# samba-ca selftest: persistent_identity.sh, scenario "nomodule" (see there).
exec "$(dirname "${BASH_SOURCE[0]}")/persistent_identity.sh" nomodule
