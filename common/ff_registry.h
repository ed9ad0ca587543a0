/* ff_registry: a Confluent Schema Registry client: writers register their schemas, readers fetch unknown ids. */
#ifndef FF_REGISTRY_H
#define FF_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

typedef struct ff_registry_s ff_registry_t;

/* A client for the registry at url (http or https). userinfo is
 * "user:password" for basic auth, or "" / NULL. Each request gives up after
 * timeout_ms. NULL with errstr. */
ff_registry_t *ff_registry_new(const char *url, const char *userinfo, int64_t timeout_ms,
                               char *errstr, size_t errstr_size);
void ff_registry_destroy(ff_registry_t *r);

/* Registers schema_json under subject, or finds it there (the registry
 * answers the id it already has). Returns the id, or -1 with errstr and
 * *retry: 1 when trying again later may help (unreachable, 5xx), 0 when it
 * will not (authentication, incompatible schema). */
int32_t ff_registry_register(ff_registry_t *r, const char *subject, const char *schema_json,
                             int *retry, char *errstr, size_t errstr_size);

/* The schema text of id (caller frees), or NULL with errstr and *retry (0
 * when the registry says there is no such id). Matches ff_codec_fetch_fn. */
char *ff_registry_fetch(void *registry, int32_t id, int *retry, char *errstr,
                        size_t errstr_size);

#endif
