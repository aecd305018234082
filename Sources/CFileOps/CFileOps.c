// renameat2(2) through the raw system call, so it works whether or not the C library
// declares a wrapper; macOS has the same operations as renamex_np(2).
#define _GNU_SOURCE
#include "CFileOps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/syscall.h>
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int rename2(const char *from, const char *to, unsigned int flags) {
#ifdef SYS_renameat2
    return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, flags);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int bertc_exchange_paths(const char *a, const char *b) { return rename2(a, b, RENAME_EXCHANGE); }
int bertc_rename_noreplace(const char *from, const char *to) { return rename2(from, to, RENAME_NOREPLACE); }

#elif defined(__APPLE__)
int bertc_exchange_paths(const char *a, const char *b) { return renamex_np(a, b, RENAME_SWAP); }
int bertc_rename_noreplace(const char *from, const char *to) { return renamex_np(from, to, RENAME_EXCL); }

#else
int bertc_exchange_paths(const char *a, const char *b) { (void)a; (void)b; errno = ENOSYS; return -1; }
int bertc_rename_noreplace(const char *from, const char *to) { (void)from; (void)to; errno = ENOSYS; return -1; }
#endif
