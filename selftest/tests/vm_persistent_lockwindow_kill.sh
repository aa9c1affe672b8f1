#!/bin/bash
# samba-ca selftest: vm_persistent_lockwindow.sh, scenario "kill" (see there).
exec "$(dirname "${BASH_SOURCE[0]}")/vm_persistent_lockwindow.sh" kill
