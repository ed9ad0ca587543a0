/* ff_mock_registry: a small Confluent Schema Registry on libmicrohttpd for tests. */
#include "ff_mock_registry.h"

#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "ff_util.h"
#include "stack.h"

#define FIRST_ID 100          /* Confluent's ids are not small; neither are ours */
#define START_ATTEMPTS 20     /* ports another process took between probe and bind */
#define CONNECTION_TIMEOUT 10 /* seconds an idle client connection is kept */
#define CONTENT_TYPE "application/vnd.schemaregistry.v1+json"

typedef struct schema_s {
    int32_t id;
    char *text;
} schema_t;

typedef struct subject_s {
    char *name;
    int32_t *ids; /* one per version, oldest first */
    int nids;
} subject_t;

typedef struct fetch_count_s {
    int32_t id;
    unsigned n;
} fetch_count_t;

struct ff_mock_registry_s {
    struct MHD_Daemon *daemon; /* NULL while stopped */
    int port;
    char url[64];
    char *authorization; /* the Authorization header expected, or NULL */

    pthread_mutex_t lock; /* everything below; MHD answers on its own thread */
    schema_t *schemas;
    size_t nschemas;
    subject_t *subjects;
    size_t nsubjects;
    fetch_count_t *fetches;
    size_t nfetches;
    int32_t next_id;
    unsigned requests;
    unsigned fail_status;
};

/* "Basic " and the base64 of userinfo (caller frees). */
static char *basic_authorization(const char *userinfo)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(userinfo);
    char *out = ff_malloc(6 + 4 * ((n + 2) / 3) + 1), *o = out;
    memcpy(o, "Basic ", 6);
    o += 6;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)userinfo[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)(unsigned char)userinfo[i + 1] << 8;
        if (i + 2 < n)
            v |= (uint32_t)(unsigned char)userinfo[i + 2];
        *o++ = tab[(v >> 18) & 63];
        *o++ = tab[(v >> 12) & 63];
        *o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        *o++ = i + 2 < n ? tab[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

/* ---- the registry's state (lock held) ---------------------------------- */

static int32_t store(ff_mock_registry_t *r, const char *subject, const char *text)
{
    schema_t *schema = NULL;
    subject_t *sub = NULL;

    for (size_t i = 0; i < r->nschemas && !schema; i++)
        if (!strcmp(r->schemas[i].text, text))
            schema = &r->schemas[i];
    if (!schema) {
        r->schemas = ff_realloc(r->schemas, (r->nschemas + 1) * sizeof(*r->schemas));
        schema = &r->schemas[r->nschemas++];
        schema->id = r->next_id++;
        schema->text = ff_strdup(text);
    }
    for (size_t i = 0; i < r->nsubjects && !sub; i++)
        if (!strcmp(r->subjects[i].name, subject))
            sub = &r->subjects[i];
    if (!sub) {
        r->subjects = ff_realloc(r->subjects, (r->nsubjects + 1) * sizeof(*r->subjects));
        sub = &r->subjects[r->nsubjects++];
        sub->name = ff_strdup(subject);
        sub->ids = NULL;
        sub->nids = 0;
    }
    /* A schema the subject already has is not a new version. */
    for (int v = 0; v < sub->nids; v++)
        if (sub->ids[v] == schema->id)
            return schema->id;
    sub->ids = ff_realloc(sub->ids, (size_t)(sub->nids + 1) * sizeof(*sub->ids));
    sub->ids[sub->nids++] = schema->id;
    return schema->id;
}

static const subject_t *find_subject(const ff_mock_registry_t *r, const char *subject)
{
    for (size_t i = 0; i < r->nsubjects; i++)
        if (!strcmp(r->subjects[i].name, subject))
            return &r->subjects[i];
    return NULL;
}

static void count_fetch(ff_mock_registry_t *r, int32_t id)
{
    for (size_t i = 0; i < r->nfetches; i++) {
        if (r->fetches[i].id == id) {
            r->fetches[i].n++;
            return;
        }
    }
    r->fetches = ff_realloc(r->fetches, (r->nfetches + 1) * sizeof(*r->fetches));
    r->fetches[r->nfetches].id = id;
    r->fetches[r->nfetches++].n = 1;
}

/* ---- HTTP --------------------------------------------------------------- */

/* An answer, made under the lock and sent after it. */
typedef struct answer_s {
    unsigned status;
    char *body; /* JSON, from json_dumps */
} answer_t;

static void set_answer(answer_t *a, unsigned status, json_t *body)
{
    a->status = status;
    a->body = json_dumps(body, JSON_COMPACT);
    json_decref(body);
}

static void set_error(answer_t *a, unsigned status, int error_code, const char *message)
{
    set_answer(a, status, json_pack("{s:i,s:s}", "error_code", error_code, "message", message));
}

/* The subject of "/subjects/{subject}/versions" (caller frees), or NULL. */
static char *versions_subject(const char *url)
{
    static const char prefix[] = "/subjects/", suffix[] = "/versions";
    size_t n = strlen(url), plen = strlen(prefix), slen = strlen(suffix);
    if (n <= plen + slen || strncmp(url, prefix, plen) || strcmp(url + n - slen, suffix))
        return NULL;
    if (memchr(url + plen, '/', n - plen - slen))
        return NULL;
    return ff_strndup(url + plen, n - plen - slen);
}

static void post_version(ff_mock_registry_t *r, const char *subject, const ff_buf_t *upload,
                         answer_t *a)
{
    json_t *req = json_loads(upload->data ? upload->data : "", 0, NULL);
    const char *text = json_string_value(json_object_get(req, "schema"));
    json_t *parsed = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    if (!parsed)
        set_error(a, 422, 42201, "Invalid schema");
    else
        set_answer(a, 200, json_pack("{s:i}", "id", (int)store(r, subject, text)));
    json_decref(parsed);
    json_decref(req);
}

static void get_schema(ff_mock_registry_t *r, const char *idtext, answer_t *a)
{
    int64_t id;
    if (ff_parse_i64(idtext, &id) == -1 || id < INT32_MIN || id > INT32_MAX) {
        set_error(a, 404, 40403, "Schema not found");
        return;
    }
    count_fetch(r, (int32_t)id);
    for (size_t i = 0; i < r->nschemas; i++) {
        if (r->schemas[i].id == id) {
            set_answer(a, 200, json_pack("{s:s}", "schema", r->schemas[i].text));
            return;
        }
    }
    set_error(a, 404, 40403, "Schema not found");
}

static int authorized(const ff_mock_registry_t *r, struct MHD_Connection *conn)
{
    const char *h;
    if (!r->authorization)
        return 1;
    h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    /* The scheme is case-insensitive, the credentials are not. */
    return h && !strncasecmp(h, "Basic ", 6) && !strcmp(h + 6, r->authorization + 6);
}

static enum MHD_Result respond(ff_mock_registry_t *r, struct MHD_Connection *conn,
                               const char *url, const char *method, const ff_buf_t *upload)
{
    static const char ids_prefix[] = "/schemas/ids/";
    answer_t a = {0, NULL};
    struct MHD_Response *resp;
    enum MHD_Result rc;
    char *subject = versions_subject(url);

    pthread_mutex_lock(&r->lock);
    r->requests++;
    if (r->fail_status)
        set_error(&a, r->fail_status, 50001, "Error in the backend data store");
    else if (!authorized(r, conn))
        set_error(&a, 401, 401, "Unauthorized");
    else if (subject && !strcmp(method, "POST"))
        post_version(r, subject, upload, &a);
    else if (!strncmp(url, ids_prefix, strlen(ids_prefix)) && !strcmp(method, "GET"))
        get_schema(r, url + strlen(ids_prefix), &a);
    else
        set_error(&a, 404, 404, "HTTP 404 Not Found");
    pthread_mutex_unlock(&r->lock);
    free(subject);

    resp = MHD_create_response_from_buffer(strlen(a.body), a.body, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
    if (a.status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"SchemaRegistry\"");
    rc = MHD_queue_response(conn, a.status, resp);
    MHD_destroy_response(resp);
    free(a.body);
    return rc;
}

/* MHD calls this once for the headers, once per piece of the body, and once
 * more at the end, when the answer is sent; *state holds the body. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *data_size, void **state)
{
    ff_buf_t *upload = *state;
    (void)version;
    if (!upload) {
        upload = ff_malloc(sizeof(*upload));
        ff_buf_init(upload);
        *state = upload;
        return MHD_YES;
    }
    if (*data_size) {
        ff_buf_append(upload, data, *data_size);
        *data_size = 0;
        return MHD_YES;
    }
    return respond(cls, conn, url, method, upload);
}

static void completed(void *cls, struct MHD_Connection *conn, void **state,
                      enum MHD_RequestTerminationCode toe)
{
    ff_buf_t *upload = *state;
    (void)cls;
    (void)conn;
    (void)toe;
    if (upload) {
        ff_buf_term(upload);
        free(upload);
        *state = NULL;
    }
}

static int listen_on_port(ff_mock_registry_t *r)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)r->port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)r->port, NULL, NULL,
                                 handle, r, MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)&addr,
                                 MHD_OPTION_NOTIFY_COMPLETED, completed, r,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
                                 MHD_OPTION_END);
    return r->daemon ? 0 : -1;
}

/* ---- public ------------------------------------------------------------- */

ff_mock_registry_t *ff_mock_registry_start(const char *userinfo)
{
    ff_mock_registry_t *r = ff_calloc(1, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    r->next_id = FIRST_ID;
    r->authorization = userinfo ? basic_authorization(userinfo) : NULL;
    for (int attempt = 0; attempt < START_ATTEMPTS && !r->daemon; attempt++) {
        r->port = ff_free_port();
        if (r->port > 0)
            listen_on_port(r);
    }
    if (!r->daemon) {
        ff_mock_registry_destroy(r);
        return NULL;
    }
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%d", r->port);
    return r;
}

const char *ff_mock_registry_url(const ff_mock_registry_t *r)
{
    return r->url;
}

int32_t ff_mock_registry_register(ff_mock_registry_t *r, const char *subject,
                                  const char *schema_json)
{
    int32_t id;
    pthread_mutex_lock(&r->lock);
    id = store(r, subject, schema_json);
    pthread_mutex_unlock(&r->lock);
    return id;
}

int32_t ff_mock_registry_subject_id(ff_mock_registry_t *r, const char *subject)
{
    const subject_t *sub;
    int32_t id;
    pthread_mutex_lock(&r->lock);
    sub = find_subject(r, subject);
    id = sub && sub->nids ? sub->ids[sub->nids - 1] : -1;
    pthread_mutex_unlock(&r->lock);
    return id;
}

int ff_mock_registry_versions(ff_mock_registry_t *r, const char *subject)
{
    const subject_t *sub;
    int n;
    pthread_mutex_lock(&r->lock);
    sub = find_subject(r, subject);
    n = sub ? sub->nids : 0;
    pthread_mutex_unlock(&r->lock);
    return n;
}

unsigned ff_mock_registry_requests(ff_mock_registry_t *r)
{
    unsigned n;
    pthread_mutex_lock(&r->lock);
    n = r->requests;
    pthread_mutex_unlock(&r->lock);
    return n;
}

unsigned ff_mock_registry_fetches(ff_mock_registry_t *r, int32_t id)
{
    unsigned n = 0;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->nfetches; i++)
        if (r->fetches[i].id == id)
            n = r->fetches[i].n;
    pthread_mutex_unlock(&r->lock);
    return n;
}

void ff_mock_registry_fail(ff_mock_registry_t *r, unsigned status)
{
    pthread_mutex_lock(&r->lock);
    r->fail_status = status;
    pthread_mutex_unlock(&r->lock);
}

void ff_mock_registry_stop(ff_mock_registry_t *r)
{
    if (!r->daemon)
        return;
    MHD_stop_daemon(r->daemon);
    r->daemon = NULL;
}

int ff_mock_registry_restart(ff_mock_registry_t *r)
{
    if (r->daemon)
        return 0;
    return listen_on_port(r);
}

void ff_mock_registry_destroy(ff_mock_registry_t *r)
{
    if (!r)
        return;
    ff_mock_registry_stop(r);
    for (size_t i = 0; i < r->nschemas; i++)
        free(r->schemas[i].text);
    free(r->schemas);
    for (size_t i = 0; i < r->nsubjects; i++) {
        free(r->subjects[i].name);
        free(r->subjects[i].ids);
    }
    free(r->subjects);
    free(r->fetches);
    free(r->authorization);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
