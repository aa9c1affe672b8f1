# samba-ca: make targets for developers; each calls ./samba-ca, which does
# its own set-up (packages, Samba source, build) and reuses earlier work.
.PHONY: all samba check demo baseline bench

all: samba

samba:
	./samba-ca build

check demo baseline bench:
	./samba-ca $@
