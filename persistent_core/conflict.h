// Conflicts between a disconnected persistent open and another client's
// open or byte-range lock: pure functions of the stored open and the
// request ([MS-FSA] 2.1.5.1.2 share modes; [MS-SMB2] 3.3.5.9: a break
// that cannot be delivered to the absent owner).  The glue gathers the
// request and applies the answer.
#ifndef SAMBA_CA_PERSISTENT_CONFLICT_H
#define SAMBA_CA_PERSISTENT_CONFLICT_H

#include <cstdint>

#include "persistent_core.h"

namespace samba_ca {
namespace persistent {

// Access bits ([MS-SMB2] 2.2.13.1.1) and share bits the rules look at.
constexpr uint32_t kAccessReadData = 0x00000001;
constexpr uint32_t kAccessWriteData = 0x00000002;
constexpr uint32_t kAccessAppendData = 0x00000004;
constexpr uint32_t kAccessExecute = 0x00000020;
constexpr uint32_t kAccessDelete = 0x00010000;
constexpr uint32_t kDataAccess = kAccessReadData | kAccessWriteData |
                                 kAccessAppendData | kAccessExecute |
                                 kAccessDelete;
constexpr uint32_t kShareRead = 0x1;
constexpr uint32_t kShareWrite = 0x2;
constexpr uint32_t kShareDelete = 0x4;

// Whether an open that shares `share` denies another open `access`.
bool ShareModeDenies(uint32_t share, uint32_t access);

}  // namespace persistent
}  // namespace samba_ca

#endif  // SAMBA_CA_PERSISTENT_CONFLICT_H
