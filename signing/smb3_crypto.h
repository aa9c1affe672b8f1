// Copyright (C) samba-ca authors. GPLv3+.
//
// samba-ca SMB3 crypto over OpenSSL EVP: the one header users include.
//
//   smb3_kdf.h        SP800-108 KDF, SMB 3.0/3.0.2/3.1.1 session keys,
//                     SHA-512 preauth integrity hash
//   smb2_signing.h    HMAC-SHA256 / AES-CMAC / AES-GMAC signing of PDUs and
//                     compound chains, constant-time verification
//   smb2_transform.h  TRANSFORM_HEADER, AES-128/256-CCM/GCM seal and open
//
// No Samba header is included anywhere below; errors are Status values.

#ifndef SAMBA_CA_SIGNING_SMB3_CRYPTO_H_
#define SAMBA_CA_SIGNING_SMB3_CRYPTO_H_

#include "smb2_signing.h"
#include "smb2_transform.h"
#include "smb3_kdf.h"
#include "status.h"

#endif  // SAMBA_CA_SIGNING_SMB3_CRYPTO_H_
