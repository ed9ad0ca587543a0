/* ff_http: the per-process HTTP listener: /metrics, /healthz, /readyz. */
#include "ff_http.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_util.h"

struct ff_http_s {
    struct MHD_Daemon *daemon;
    ff_metrics_t *metrics;
    ff_status_t *status;
    int64_t stale_ms;
};

const char *ff_readiness_name(ff_readiness_t r)
{
    static const char *const names[] = {
        [FF_READY] = "ready",
        [FF_NOT_READY_STARTING] = "not ready: no partitions assigned yet",
        [FF_NOT_READY_REDIS] = "not ready: Redis is unreachable, consumption paused",
        [FF_NOT_READY_KAFKA] = "not ready: Kafka is unreachable, consumption paused",
        [FF_NOT_READY_REGISTRY] = "not ready: the Schema Registry is unreachable, consumption paused",
        [FF_NOT_READY_STOPPING] = "not ready: stopping",
    };
    return r >= FF_READY && r <= FF_NOT_READY_STOPPING ? names[r] : "not ready";
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *type,
                             const char *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result rc;
    MHD_add_response_header(resp, "Content-Type", type);
    rc = MHD_queue_response(conn, code, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    ff_http_t *http = cls;
    char text[256];
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)state;
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return reply(conn, 405, "text/plain", "GET only\n", 9);
    if (!strcmp(url, "/metrics")) {
        ff_buf_t out;
        enum MHD_Result rc;
        ff_buf_init(&out);
        ff_metrics_render(http->metrics, &out);
        rc = reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", out.data ? out.data : "",
                   out.len);
        ff_buf_term(&out);
        return rc;
    }
    if (!strcmp(url, "/healthz")) {
        int64_t age = ff_mono_ms() - atomic_load(&http->status->heartbeat_ms);
        if (age <= http->stale_ms)
            return reply(conn, 200, "text/plain", "ok\n", 3);
        snprintf(text, sizeof text, "the processing loop has not turned for %lld ms\n",
                 (long long)age);
        return reply(conn, 503, "text/plain", text, strlen(text));
    }
    if (!strcmp(url, "/readyz")) {
        int r = atomic_load(&http->status->readiness);
        snprintf(text, sizeof text, "%s\n", ff_readiness_name((ff_readiness_t)r));
        return reply(conn, r == FF_READY ? 200 : 503, "text/plain", text, strlen(text));
    }
    return reply(conn, 404, "text/plain", "try /metrics, /healthz or /readyz\n", 34);
}

ff_http_t *ff_http_start(int port, ff_metrics_t *metrics, ff_status_t *status, int64_t stale_ms,
                         char *errstr, size_t errstr_size)
{
    ff_http_t *http = ff_calloc(1, sizeof(*http));
    http->metrics = metrics;
    http->status = status;
    http->stale_ms = stale_ms;
    http->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                                    (uint16_t)port, NULL, NULL, handle, http,
                                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    if (!http->daemon) {
        snprintf(errstr, errstr_size, "cannot listen on http.port %d (is it in use?)", port);
        free(http);
        return NULL;
    }
    return http;
}

void ff_http_stop(ff_http_t *http)
{
    if (!http)
        return;
    MHD_stop_daemon(http->daemon);
    free(http);
}
