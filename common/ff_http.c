/* ff_http: the per-process HTTP listener (/metrics, /healthz, /readyz) and the stall watchdog. */
#include "ff_http.h"

#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ff_log.h"
#include "ff_util.h"

struct ff_http_s {
    struct MHD_Daemon *daemon;
    ff_metrics_t *metrics;
    ff_status_t *status;
    int64_t stale_ms;
};

static const char *step_of(ff_status_t *status)
{
    const char *step = atomic_load(&status->step);
    return step ? step : "starting";
}

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
        snprintf(text, sizeof text, "the processing loop has not turned for %lld ms (%s)\n",
                 (long long)age, step_of(http->status));
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

struct ff_watchdog_s {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    ff_status_t *status;
    int64_t stale_ms;
};

static void *watch(void *opaque)
{
    ff_watchdog_t *w = opaque;
    int64_t warned_beat = -1, warned_age = 0; /* of the last warning */
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        struct timespec until;
        int64_t beat = atomic_load(&w->status->heartbeat_ms), age = ff_mono_ms() - beat;
        if (age > w->stale_ms && (beat != warned_beat || age - warned_age >= w->stale_ms)) {
            warned_beat = beat;
            warned_age = age;
            ff_warn("loop.stalled", "the processing loop has not turned for %lld s (%s)",
                    (long long)(age / 1000), step_of(w->status));
        }
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&w->wake, &w->lock, &until);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

ff_watchdog_t *ff_watchdog_start(ff_status_t *status, int64_t stale_ms)
{
    ff_watchdog_t *w = ff_calloc(1, sizeof(*w));
    pthread_condattr_t attr;
    sigset_t all, old;
    int rc;
    w->status = status;
    w->stale_ms = stale_ms;
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* a wall clock step is no wake-up */
    pthread_cond_init(&w->wake, &attr);
    pthread_condattr_destroy(&attr);
    /* Signals (SIGTERM: stop) are the main thread's: the thread blocks them all. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&w->thread, NULL, watch, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        ff_warn("loop.watchdog", "cannot start the stall watchdog thread");
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

void ff_watchdog_stop(ff_watchdog_t *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
