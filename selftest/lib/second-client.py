#!/usr/bin/python3
# The tests' second client on Samba's Python libsmb (the build's: run with
# PYTHONPATH=$SAMBA_BIN/python and Debian's /usr/bin/python3), for what the
# project's own client (sca_smbclient) does not do.
#
#   second-client.py ADDR SHARE USER PASSWORD CLIENT-CONF WHAT FILE
#
# WHAT:
#   open        open FILE for read+write with no sharing (a conflicting
#               open): prints "open granted", or "open refused 0xSTATUS
#               NAME" and exits 1
#   break-open  open FILE for reading, sharing everything, no lease, and
#               close it (breaks another client's Write caching): prints
#               "break-open done"
# Anything else (no connection, a client error) is a traceback, exit 1.
import sys

from samba import NTSTATUSError, credentials
from samba.samba3 import libsmb_samba_internal as libsmb
from samba.samba3 import param as s3param

GENERIC_READ = 0x80000000
GENERIC_WRITE = 0x40000000
FILE_READ_DATA_ATTRIBUTES = 0x81
SHARE_NONE = 0
SHARE_ALL = 7
FILE_OPEN = 1


def connect(addr, share, user, password, conf):
    lp = s3param.get_context()
    lp.load(conf)
    creds = credentials.Credentials()
    creds.guess(lp)
    creds.set_username(user)
    creds.set_password(password)
    return libsmb.Conn(addr, share, lp, creds)


def main(argv):
    if len(argv) != 8:
        sys.stderr.write("usage: second-client.py ADDR SHARE USER PASSWORD "
                         "CLIENT-CONF open|break-open FILE\n")
        return 2
    addr, share, user, password, conf, what, name = argv[1:8]
    conn = connect(addr, share, user, password, conf)
    if what == "open":
        try:
            fnum = conn.create(name, DesiredAccess=GENERIC_READ | GENERIC_WRITE,
                               ShareAccess=SHARE_NONE,
                               CreateDisposition=FILE_OPEN)
        except NTSTATUSError as e:
            print("open refused 0x%08x %s" % (e.args[0] & 0xffffffff,
                                              e.args[1]))
            return 1
        conn.close(fnum)
        print("open granted")
        return 0
    if what == "break-open":
        fnum = conn.create(name, DesiredAccess=FILE_READ_DATA_ATTRIBUTES,
                           ShareAccess=SHARE_ALL, CreateDisposition=FILE_OPEN)
        conn.close(fnum)
        print("break-open done")
        return 0
    sys.stderr.write("second-client.py: unknown WHAT %s\n" % what)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
