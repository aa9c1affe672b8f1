// Version of the persistent-handle core, exported through the C API.
#include "persistent_core.h"

namespace samba_ca {
namespace {
constexpr char kCoreVersion[] = "samba-ca-core 0.1";
}  // namespace
}  // namespace samba_ca

extern "C" const char *pcore_version(void) { return samba_ca::kCoreVersion; }
