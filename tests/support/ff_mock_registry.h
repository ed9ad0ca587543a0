/* ff_mock_registry: a small Confluent Schema Registry on libmicrohttpd for tests. */
#ifndef FF_MOCK_REGISTRY_H
#define FF_MOCK_REGISTRY_H

#include <stdint.h>

typedef struct ff_mock_registry_s ff_mock_registry_t;

/* Starts a registry on a free 127.0.0.1 port. It serves
 *   POST /subjects/{subject}/versions  {"schema":"..."} -> {"id":N}
 *   GET  /schemas/ids/{id}             -> {"schema":"..."}, or 404 (40403)
 * The same schema text gets the same id under every subject, as Confluent
 * does; ids start at 100. With userinfo ("user:password"), every request
 * without that basic auth is answered 401; NULL: no auth. NULL if no port
 * could be bound. Destroy with ff_mock_registry_destroy. */
ff_mock_registry_t *ff_mock_registry_start(const char *userinfo);

/* "http://127.0.0.1:PORT", valid until the registry is destroyed. */
const char *ff_mock_registry_url(const ff_mock_registry_t *r);

/* Registers schema_json under subject directly (no HTTP, not counted as a
 * request) and returns its id: the existing one for a text already known. */
int32_t ff_mock_registry_register(ff_mock_registry_t *r, const char *subject,
                                  const char *schema_json);

/* The id of the latest version under subject, or -1 if it has none. */
int32_t ff_mock_registry_subject_id(ff_mock_registry_t *r, const char *subject);
/* How many versions subject has (0 if it was never registered). */
int ff_mock_registry_versions(ff_mock_registry_t *r, const char *subject);

/* HTTP requests answered so far, whatever the answer. */
unsigned ff_mock_registry_requests(ff_mock_registry_t *r);
/* GET /schemas/ids/{id} requests for id answered so far (found or not). */
unsigned ff_mock_registry_fetches(ff_mock_registry_t *r, int32_t id);

/* Answers every request with HTTP status (a 5xx, say) until called again
 * with 0. */
void ff_mock_registry_fail(ff_mock_registry_t *r, unsigned status);

/* Stops listening (connections are then refused) but keeps the port and
 * the schemas, so that ff_mock_registry_restart can come back on the same
 * URL. Stopping a stopped registry is a no-op. */
void ff_mock_registry_stop(ff_mock_registry_t *r);
/* Listens again on the same port. 0, or -1 if the port cannot be bound. */
int ff_mock_registry_restart(ff_mock_registry_t *r);

/* Stops and frees everything. NULL is a no-op. */
void ff_mock_registry_destroy(ff_mock_registry_t *r);

#endif
