/* C helpers for pfhost: hardware-speed SHA-256 from the system libcrypto, and the few
 * Linux calls that Swift's Glibc module does not expose. Internal to pfhost. */
#ifndef CPFSHIMS_H
#define CPFSHIMS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "CPFProcess.h"
#include "CPFMultiBufferSHA256.h"

/** An incremental SHA-256 state (a libcrypto SHA256_CTX underneath). */
typedef struct pf_sha256 pf_sha256;

/** A fresh SHA-256 state, or NULL when libcrypto cannot allocate one. */
pf_sha256 *pf_sha256_new(void);
/** Feeds `len` bytes. Returns 1 on success, 0 on failure. */
int pf_sha256_update(pf_sha256 *state, const void *data, size_t len);
/** Writes the 32-byte digest to `out`. The state cannot be used after this. 1 or 0. */
int pf_sha256_final(pf_sha256 *state, uint8_t out[32]);
/** Frees the state. NULL is allowed. */
void pf_sha256_free(pf_sha256 *state);

/** renameat2(..., RENAME_NOREPLACE): fails with EEXIST instead of replacing. 0 or -1/errno. */
int pf_rename_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

/** syncfs(2): flushes the filesystem that holds `fd`. 0 or -1/errno. */
int pf_syncfs(int fd);

/** openat2(2) with `resolve` (RESOLVE_* flags); -1/ENOSYS where the kernel or headers lack it. */
int pf_openat2(int dirfd, const char *path, int flags, unsigned int mode, unsigned long long resolve);

/** renameat2(..., RENAME_EXCHANGE): swaps two names atomically. 0 or -1/errno. (Tests use it to race the walk.) */
int pf_rename_exchange(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

/** copy_file_range(2) from `offset_in` of `fd_in` to `offset_out` of `fd_out` (neither descriptor's
 *  file offset moves): the kernel copies, sharing extents where the filesystem can (reflinks).
 *  Returns the bytes copied (0 at the end of the input) or -1/errno (EXDEV, ENOSYS, EINVAL where it
 *  cannot: fall back to read and write). */
ssize_t pf_copy_file_range(int fd_in, int64_t offset_in, int fd_out, int64_t offset_out, size_t len);

/** O_PATH (a descriptor that only names a place: enough for the *at calls, no read permission
 *  needed), which Swift's Glibc module leaves out: 010000000 on Linux. */
#define PF_O_PATH 0x200000

/** statfs(2)'s f_type for the file system holding `path` into `*type`. 0 or -1/errno. */
int pf_statfs_type(const char *path, int64_t *type);

/** The id of the mount that holds the file open as `fd` (statx(2) STATX_MNT_ID), into `*id`.
 *  0, or -1/errno (ENOSYS, EINVAL on kernels before 5.8). Bind mounts of one file system differ
 *  here where st_dev does not. */
int pf_mount_id(int fd, uint64_t *id);

/** O_PATH as a constant (the same value as PF_O_PATH). */
extern const int pf_o_path;

/** RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, as a constant Swift can import. */
#define PF_RESOLVE_BENEATH_NO_SYMLINKS 0x0eULL

#endif
