/* ff_registry: a Confluent Schema Registry client: writers register their schemas, readers fetch unknown ids. */
#include "ff_registry.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_log.h"
#include "ff_util.h"

struct ff_registry_s {
    char *url;
    char *userinfo;
    int64_t timeout_ms;
    CURL *curl;
};

ff_registry_t *ff_registry_new(const char *url, const char *userinfo, int64_t timeout_ms,
                               char *errstr, size_t errstr_size)
{
    ff_registry_t *r;
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
        snprintf(errstr, errstr_size, "schema.registry.url '%s' is not an http(s) URL", url);
        return NULL;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    r = ff_calloc(1, sizeof(*r));
    r->url = ff_strdup(url);
    /* No trailing slash: paths are appended. */
    while (strlen(r->url) > 8 && r->url[strlen(r->url) - 1] == '/')
        r->url[strlen(r->url) - 1] = '\0';
    r->userinfo = userinfo && *userinfo ? ff_strdup(userinfo) : NULL;
    r->timeout_ms = timeout_ms;
    r->curl = curl_easy_init();
    return r;
}

void ff_registry_destroy(ff_registry_t *r)
{
    if (!r)
        return;
    curl_easy_cleanup(r->curl);
    free(r->url);
    free(r->userinfo);
    free(r);
}

static size_t on_body(char *data, size_t size, size_t n, void *opaque)
{
    ff_buf_append(opaque, data, size * n);
    return size * n;
}

/* One request; the status in *code (0: no answer). The body in out. */
static int request(ff_registry_t *r, const char *path, const char *post, long *code, ff_buf_t *out,
                   char *errstr, size_t errstr_size)
{
    char *url = ff_asprintf("%s%s", r->url, path);
    struct curl_slist *hdrs = NULL;
    CURLcode rc;
    char err[CURL_ERROR_SIZE] = "";

    curl_easy_reset(r->curl);
    curl_easy_setopt(r->curl, CURLOPT_URL, url);
    curl_easy_setopt(r->curl, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
    curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)r->timeout_ms);
    curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, err);
    hdrs = curl_slist_append(hdrs, "Accept: application/vnd.schemaregistry.v1+json");
    if (post) {
        hdrs = curl_slist_append(hdrs, "Content-Type: application/vnd.schemaregistry.v1+json");
        curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, post);
    }
    curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, hdrs);
    if (r->userinfo) {
        curl_easy_setopt(r->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(r->curl, CURLOPT_USERPWD, r->userinfo);
    }
    rc = curl_easy_perform(r->curl);
    *code = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, code);
    else
        snprintf(errstr, errstr_size, "schema registry %s: %s", url,
                 err[0] ? err : curl_easy_strerror(rc));
    curl_slist_free_all(hdrs);
    free(url);
    return rc == CURLE_OK ? 0 : -1;
}

/* Explains a failed answer; returns whether trying again may help. */
static int failure(long code, const ff_buf_t *body, const char *what, char *errstr,
                   size_t errstr_size)
{
    json_t *j = body->data ? json_loads(body->data, 0, NULL) : NULL;
    const char *msg = j ? json_string_value(json_object_get(j, "message")) : NULL;
    if (code == 401 || code == 403)
        snprintf(errstr, errstr_size,
                 "schema registry refused %s (HTTP %ld): check "
                 "schema.registry.basic.auth.user.info",
                 what, code);
    else
        snprintf(errstr, errstr_size, "schema registry: %s: HTTP %ld%s%s", what, code,
                 msg ? ": " : "", msg ? msg : "");
    json_decref(j);
    return code >= 500 || code == 429 ? 1 : 0;
}

int32_t ff_registry_register(ff_registry_t *r, const char *subject, const char *schema_json,
                             int *retry, char *errstr, size_t errstr_size)
{
    json_t *req = json_pack("{s:s}", "schema", schema_json), *resp = NULL;
    char *body = json_dumps(req, JSON_COMPACT), *path;
    char *esc = curl_easy_escape(r->curl, subject, 0);
    ff_buf_t out;
    long code;
    int32_t id = -1;

    ff_buf_init(&out);
    path = ff_asprintf("/subjects/%s/versions", esc);
    *retry = 1;
    if (request(r, path, body, &code, &out, errstr, errstr_size) == 0) {
        if (code == 200) {
            resp = json_loads(out.data ? out.data : "", 0, NULL);
            if (resp && json_is_integer(json_object_get(resp, "id"))) {
                id = (int32_t)json_integer_value(json_object_get(resp, "id"));
                *retry = 0;
            } else {
                snprintf(errstr, errstr_size, "schema registry: no id in the answer for %s",
                         subject);
            }
        } else {
            char what[300];
            snprintf(what, sizeof what, "registering %s", subject);
            *retry = failure(code, &out, what, errstr, errstr_size);
        }
    }
    json_decref(resp);
    json_decref(req);
    free(body);
    free(path);
    curl_free(esc);
    ff_buf_term(&out);
    return id;
}

char *ff_registry_fetch(void *registry, int32_t id, int *retry, char *errstr, size_t errstr_size)
{
    ff_registry_t *r = registry;
    char path[64];
    ff_buf_t out;
    long code;
    char *schema = NULL;

    ff_buf_init(&out);
    snprintf(path, sizeof path, "/schemas/ids/%d", id);
    *retry = 1;
    if (request(r, path, NULL, &code, &out, errstr, errstr_size) == 0) {
        if (code == 200) {
            json_t *resp = json_loads(out.data ? out.data : "", 0, NULL);
            const char *s = resp ? json_string_value(json_object_get(resp, "schema")) : NULL;
            if (s) {
                schema = ff_strdup(s);
                ff_info("registry.fetch", "schema id %d fetched from the registry", id);
            } else {
                snprintf(errstr, errstr_size, "schema registry: no schema in the answer for id %d",
                         id);
            }
            *retry = 0;
            json_decref(resp);
        } else {
            char what[64];
            snprintf(what, sizeof what, "schema id %d", id);
            *retry = failure(code, &out, what, errstr, errstr_size);
        }
    }
    ff_buf_term(&out);
    return schema;
}
