#define _GNU_SOURCE
#include "CPFShims.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <unistd.h>
/* The SHA256_* calls, deprecated in OpenSSL 3 in favour of EVP, run the same assembly (SHA-NI, AVX2,
   chosen at load time from the CPU's features) without EVP's provider machinery, whose first use costs
   about 1.4 ms per process (loading openssl.cnf, building the method stores) and whose every context a
   fetch: pfhost is a short-lived process hashing many small documents. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stdlib.h>

const int pf_o_path = O_PATH;

/* pf_sha256 is never defined: a pf_sha256 * is a SHA256_CTX *, so the OpenSSL type stays out of Swift. */

pf_sha256 *pf_sha256_new(void) {
    SHA256_CTX *context = malloc(sizeof *context);
    if (context == NULL) return NULL;
    if (SHA256_Init(context) != 1) {
        free(context);
        return NULL;
    }
    return (pf_sha256 *)context;
}

int pf_sha256_update(pf_sha256 *state, const void *data, size_t len) {
    return SHA256_Update((SHA256_CTX *)state, data, len) == 1;
}

int pf_sha256_final(pf_sha256 *state, uint8_t out[32]) {
    return SHA256_Final(out, (SHA256_CTX *)state) == 1;
}

void pf_sha256_free(pf_sha256 *state) {
    free(state);
}

int pf_rename_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    return renameat2(olddirfd, oldpath, newdirfd, newpath, RENAME_NOREPLACE);
}

int pf_syncfs(int fd) {
    return syncfs(fd);
}

int pf_openat2(int dirfd, const char *path, int flags, unsigned int mode, unsigned long long resolve) {
#ifdef SYS_openat2
    struct open_how how = {0};
    how.flags = (unsigned long long)(unsigned int)flags;
    how.mode = mode;
    how.resolve = resolve;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int pf_rename_exchange(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    return renameat2(olddirfd, oldpath, newdirfd, newpath, RENAME_EXCHANGE);
}

_Static_assert(PF_O_PATH == O_PATH, "PF_O_PATH is O_PATH");

ssize_t pf_copy_file_range(int fd_in, int64_t offset_in, int fd_out, int64_t offset_out, size_t len) {
    off64_t in = offset_in, out = offset_out;
    return copy_file_range(fd_in, &in, fd_out, &out, len, 0);
}

int pf_statfs_type(const char *path, int64_t *type) {
    struct statfs info;
    if (statfs(path, &info) != 0) return -1;
    *type = (int64_t)info.f_type;
    return 0;
}

int pf_mount_id(int fd, uint64_t *id) {
    struct statx info;
    if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &info) != 0) return -1;
    if (!(info.stx_mask & STATX_MNT_ID)) { errno = ENOSYS; return -1; }
    *id = info.stx_mnt_id;
    return 0;
}
