#!/usr/bin/env python
# samba-ca: recursed into from the Samba tree (patches/0001) as samba-ca/.

import os


def configure(conf):
    # The cores are C++17; Samba's waf only configures a C compiler.  Load
    # g++ for our .cc files, then hide CXX_NAME: waf's configure checks
    # compile as C++ whenever it is set, and Samba's remaining checks are C.
    conf.load('gxx')
    conf.env.CXX_NAME = ''
    # Only samba-ca's sources are C++, so the global CXXFLAGS are ours.
    conf.env.CXXFLAGS = ['-std=c++17', '-fPIC', '-fno-exceptions',
                                  '-fno-rtti', '-Wall', '-Wextra', '-O2', '-g']
    conf.CHECK_CFG(package='libcrypto', args='--cflags --libs',
                   msg='Checking for OpenSSL libcrypto (samba-ca signing)',
                   uselib_store='SAMBA_CA_CRYPTO', mandatory=True)
    conf.SET_TARGET_TYPE('SAMBA_CA_CRYPTO', 'SYSLIB')
    # Samba links with the C driver: name libstdc++ as a system library
    # (CHECK_LIB would define HAVE_LIBSTDC++, not a valid macro name).
    conf.env.LIB_SAMBA_CA_STDCXX = ['stdc++']
    conf.SET_TARGET_TYPE('samba_ca_stdcxx', 'SYSLIB')
    have_rdma = (conf.CHECK_LIB('ibverbs', shlib=True) and
                 conf.CHECK_LIB('rdmacm', shlib=True))
    if have_rdma:
        conf.DEFINE('SAMBA_CA_HAVE_RDMA', 1)


def build(bld):
    bld.RECURSE('persistent_core')
    bld.RECURSE('vfs_persistent')
    for sub in ('signing', 'smbclient3', 'ctdb_handles', 'smbdirect',
                'selftest', 'docs'):
        if os.path.isfile(os.path.join(bld.path.abspath(), sub, 'wscript_build')):
            bld.RECURSE(sub)
