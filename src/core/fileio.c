/*
 * File helpers: see fileio.h. The only nettle user for hashing is src/core/hash-related code here
 * and the manifest signer in src/report (Ed25519).
 */
#define _POSIX_C_SOURCE 200809L
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

wf_status wf_file_read_all(const char *path, char **data, size_t *len, wf_error *err) {
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return wf_error_set(err, WF_ERR_IO, "%s: cannot open for reading: %s", path,
                            strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return wf_error_set(err, WF_ERR_NOMEM, "%s: out of memory reading file", path);
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                return wf_error_set(err, WF_ERR_NOMEM, "%s: out of memory reading file", path);
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return wf_error_set(err, WF_ERR_IO, "%s: read error", path);
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return WF_OK;
}

wf_status wf_file_temp_beside(const char *path, char *tmp, size_t tmp_size, wf_error *err) {
    int n = snprintf(tmp, tmp_size, "%s.tmp.XXXXXX", path);
    if (n < 0 || (size_t)n >= tmp_size)
        return wf_error_set(err, WF_ERR_INVALID, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return wf_error_set(err, WF_ERR_IO, "%s: cannot create temporary file: %s", path,
                            strerror(errno));
    close(fd);
    return WF_OK;
}

wf_status wf_file_commit(const char *tmp, const char *path, wf_error *err) {
    /* mkstemp creates 0600; outputs are meant to be shared, so use the usual 0644 (umask). */
    mode_t um = umask(0);
    umask(um);
    chmod(tmp, 0666 & ~um);
    if (rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return wf_error_set(err, WF_ERR_IO, "%s: cannot rename temporary file into place: %s", path,
                            strerror(e));
    }
    return WF_OK;
}

wf_status wf_file_write_atomic(const char *path, const void *data, size_t len, wf_error *err) {
    char tmp[4096];
    wf_status st = wf_file_temp_beside(path, tmp, sizeof tmp, err);
    if (st)
        return st;
    int fd = open(tmp, O_WRONLY | O_TRUNC);
    if (fd < 0) {
        remove(tmp);
        return wf_error_set(err, WF_ERR_IO, "%s: cannot open temporary file: %s", path,
                            strerror(errno));
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            remove(tmp);
            return wf_error_set(err, WF_ERR_IO, "%s: write failed: %s", path, strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int e = errno;
        remove(tmp);
        return wf_error_set(err, WF_ERR_IO, "%s: cannot flush to disk: %s", path, strerror(e));
    }
    return wf_file_commit(tmp, path, err);
}

static void to_hex(const uint8_t *d, size_t n, char *hex) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[2 * n] = '\0';
}

void wf_sha256_hex(const void *data, size_t len, char hex[65]) {
    struct sha256_ctx ctx;
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    sha256_update(&ctx, len, data);
    sha256_digest(&ctx, sizeof d, d);
    to_hex(d, sizeof d, hex);
}

struct wf_hasher {
    struct sha256_ctx ctx;
};

wf_hasher *wf_hasher_new(void) {
    wf_hasher *h = malloc(sizeof *h);
    if (h)
        sha256_init(&h->ctx);
    return h;
}

void wf_hasher_update(wf_hasher *h, const void *data, size_t len) {
    if (h && len)
        sha256_update(&h->ctx, len, data);
}

void wf_hasher_hex(const wf_hasher *h, char hex[65]) {
    struct sha256_ctx c = h->ctx; /* sha256_digest resets its context: digest a copy */
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&c, sizeof d, d);
    to_hex(d, sizeof d, hex);
}

void wf_hasher_free(wf_hasher *h) {
    free(h);
}

wf_status wf_sha256_file_hex(const char *path, char hex[65], wf_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return wf_error_set(err, WF_ERR_IO, "%s: cannot open for hashing: %s", path,
                            strerror(errno));
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    uint8_t buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0)
        sha256_update(&ctx, got, buf);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return wf_error_set(err, WF_ERR_IO, "%s: read error while hashing", path);
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, sizeof d, d);
    to_hex(d, sizeof d, hex);
    return WF_OK;
}

wf_status wf_path_join(const char *dir, const char *rel, char *out, size_t out_size,
                       wf_error *err) {
    int n;
    if (rel[0] == '/' || !dir || !dir[0] || strcmp(dir, ".") == 0)
        n = snprintf(out, out_size, "%s", rel);
    else
        n = snprintf(out, out_size, "%s/%s", dir, rel);
    if (n < 0 || (size_t)n >= out_size)
        return wf_error_set(err, WF_ERR_INVALID, "path too long: %s/%s", dir, rel);
    return WF_OK;
}

void wf_path_dirname(const char *path, char *out, size_t out_size) {
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(out, out_size, ".");
        return;
    }
    size_t n = (size_t)(slash - path);
    if (n == 0)
        n = 1; /* "/file" -> "/" */
    if (n >= out_size)
        n = out_size - 1;
    memcpy(out, path, n);
    out[n] = '\0';
}
