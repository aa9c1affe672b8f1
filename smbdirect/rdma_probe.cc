// Copyright (C) samba-ca authors. GPLv3+.
//
// The rdma-core transport's only check so far: is there a device to run
// it on?  It always ends in a skip (exit 77) that says what was not
// tested: no test of RdmaTransport is written yet, and none can run
// without a device (the plan: the test VM with soft-RoCE, see
// docs/smbdirect.md).
#include <cstdio>
#include <string>

#include "rdma_transport.h"

int main() {
  std::string names;
  samba_ca::smbdirect::Status s = samba_ca::smbdirect::ProbeRdmaDevices(&names);
  if (!s.ok()) {
    printf(
        "smbdirect_rdma: SKIPPED: %s; the rdma-core transport is built "
        "but not exercised on this host\n",
        s.ToString().c_str());
    return 77;
  }
  printf(
      "smbdirect_rdma: SKIPPED: RDMA device(s) %s present, but no test "
      "of the rdma-core transport is written yet\n",
      names.c_str());
  return 77;
}
