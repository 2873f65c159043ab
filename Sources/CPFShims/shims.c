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
#include <openssl/evp.h>

const int pf_o_path = O_PATH;

/* pf_sha256 is never defined: a pf_sha256 * is an EVP_MD_CTX *, so the EVP type stays out of Swift. */

pf_sha256 *pf_sha256_new(void) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL) return NULL;
    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return NULL;
    }
    return (pf_sha256 *)md;
}

int pf_sha256_update(pf_sha256 *state, const void *data, size_t len) {
    return EVP_DigestUpdate((EVP_MD_CTX *)state, data, len) == 1;
}

int pf_sha256_final(pf_sha256 *state, uint8_t out[32]) {
    unsigned int n = 0;
    return EVP_DigestFinal_ex((EVP_MD_CTX *)state, out, &n) == 1 && n == 32;
}

void pf_sha256_free(pf_sha256 *state) {
    EVP_MD_CTX_free((EVP_MD_CTX *)state);
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
