// File operations Swift's Glibc module does not expose: an atomic exchange of two paths and
// an atomic rename that never replaces an existing path (Linux renameat2(2)).
#ifndef BERTC_CFILEOPS_H
#define BERTC_CFILEOPS_H

/// Atomically swaps the directory entries `a` and `b` (both must exist; files or
/// directories). Returns 0, or -1 with errno set (EINVAL or ENOSYS where unsupported).
int bertc_exchange_paths(const char *a, const char *b);

/// Renames `from` to `to` only if `to` does not exist (EEXIST otherwise), atomically.
/// Returns 0, or -1 with errno set (EINVAL or ENOSYS where unsupported).
int bertc_rename_noreplace(const char *from, const char *to);

#endif
