/* ff_sha1: SHA-1 digests, for calling Redis scripts by SHA before the first connection. */
#ifndef FF_SHA1_H
#define FF_SHA1_H

#include <stddef.h>

/* Writes the 40 lowercase hex digits of SHA-1(data) and a NUL into hex. */
void ff_sha1_hex(const void *data, size_t len, char hex[41]);

#endif
