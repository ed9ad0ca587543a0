/* ff_util: allocation that aborts on failure, growable buffers, a per-batch arena, hashing. */
#include "ff_util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void oom(size_t size)
{
    fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"out of memory allocating %zu bytes\"}\n", size);
    abort();
}

void *ff_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        oom(size);
    return p;
}

void *ff_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *ff_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        oom(size);
    return p;
}

char *ff_strdup(const char *s)
{
    return ff_strndup(s, strlen(s));
}

char *ff_strndup(const char *s, size_t n)
{
    char *p = ff_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ff_asprintf(const char *fmt, ...)
{
    ff_buf_t b;
    va_list ap;
    ff_buf_init(&b);
    va_start(ap, fmt);
    ff_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return ff_buf_detach(&b);
}

/* ---- ff_buf ---------------------------------------------------------- */

void ff_buf_init(ff_buf_t *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void ff_buf_term(ff_buf_t *b)
{
    free(b->data);
    ff_buf_init(b);
}

void ff_buf_reset(ff_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *ff_buf_reserve(ff_buf_t *b, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = ff_realloc(b->data, cap);
        b->cap = cap;
    }
    return b->data + b->len;
}

void ff_buf_append(ff_buf_t *b, const void *p, size_t n)
{
    char *dst = ff_buf_reserve(b, n);
    if (n)
        memcpy(dst, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void ff_buf_puts(ff_buf_t *b, const char *s)
{
    ff_buf_append(b, s, strlen(s));
}

void ff_buf_putc(ff_buf_t *b, char c)
{
    ff_buf_append(b, &c, 1);
}

void ff_buf_put_i64(ff_buf_t *b, int64_t v)
{
    char *dst = ff_buf_reserve(b, 20);
    b->len += ff_fmt_i64(dst, v);
    b->data[b->len] = '\0';
}

/* One formatting pass when the text fits in what the buffer has spare (it
 * mostly does: keys, fields, numbers), a second one when it did not. */
void ff_buf_vprintf(ff_buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    va_copy(ap2, ap);
    ff_buf_reserve(b, 63);
    n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->data[b->len] = '\0';
        return;
    }
    if ((size_t)n >= b->cap - b->len) {
        ff_buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    }
    b->len += (size_t)n;
}

void ff_buf_printf(ff_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ff_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void ff_buf_json_str(ff_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    ff_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': ff_buf_append(b, "\\\"", 2); break;
        case '\\': ff_buf_append(b, "\\\\", 2); break;
        case '\n': ff_buf_append(b, "\\n", 2); break;
        case '\r': ff_buf_append(b, "\\r", 2); break;
        case '\t': ff_buf_append(b, "\\t", 2); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                ff_buf_append(b, esc, 6);
            } else {
                ff_buf_putc(b, (char)c);
            }
        }
    }
    ff_buf_putc(b, '"');
}

char *ff_buf_detach(ff_buf_t *b)
{
    char *p = b->data ? b->data : ff_strdup("");
    ff_buf_init(b);
    return p;
}

/* ---- ff_arena -------------------------------------------------------- */

struct ff_arena_chunk_s {
    ff_arena_chunk_t *next;
    size_t size;
    size_t used;
    max_align_t data[];
};

void ff_arena_init(ff_arena_t *a, size_t chunk_size)
{
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
    a->spare = NULL;
    a->nspare = 0;
}

static void free_chunks(ff_arena_chunk_t *c)
{
    while (c) {
        ff_arena_chunk_t *next = c->next;
        free(c);
        c = next;
    }
}

void ff_arena_term(ff_arena_t *a)
{
    free_chunks(a->head);
    free_chunks(a->spare);
    a->head = NULL;
    a->spare = NULL;
    a->nspare = 0;
}

void ff_arena_reset(ff_arena_t *a)
{
    /* Keep one chunk of the standard size as the head, and the next
     * FF_ARENA_SPARE for the next batch: freed, a large batch's chunks went
     * back to the system and were faulted in again by the next one (12% of
     * footfall-geofence's CPU). Oversized chunks go back. */
    ff_arena_chunk_t *c = a->head, *keep = NULL;
    while (c) {
        ff_arena_chunk_t *next = c->next;
        if (!keep && c->size == a->chunk_size) {
            keep = c;
        } else if (c->size == a->chunk_size && a->nspare < FF_ARENA_SPARE) {
            c->next = a->spare;
            a->spare = c;
            a->nspare++;
        } else {
            free(c);
        }
        c = next;
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    a->head = keep;
}

void *ff_arena_alloc(ff_arena_t *a, size_t size)
{
    const size_t align = sizeof(max_align_t);
    size = (size + align - 1) & ~(align - 1);
    if (!a->head || a->head->size - a->head->used < size) {
        size_t csize = size > a->chunk_size ? size : a->chunk_size;
        ff_arena_chunk_t *c;
        if (csize == a->chunk_size && a->spare) {
            c = a->spare;
            a->spare = c->next;
            a->nspare--;
        } else {
            c = ff_malloc(sizeof(*c) + csize);
        }
        c->size = csize;
        c->used = 0;
        /* An oversized chunk goes behind the head so that the head keeps
         * serving small allocations. */
        if (a->head && csize != a->chunk_size) {
            c->next = a->head->next;
            a->head->next = c;
            c->used = size;
            return (char *)c->data;
        }
        c->next = a->head;
        a->head = c;
    }
    void *p = (char *)a->head->data + a->head->used;
    a->head->used += size;
    return p;
}

char *ff_arena_strndup(ff_arena_t *a, const char *s, size_t n)
{
    char *p = ff_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ff_arena_strdup(ff_arena_t *a, const char *s)
{
    return ff_arena_strndup(a, s, strlen(s));
}

char *ff_arena_concat(ff_arena_t *a, ...)
{
    va_list ap;
    size_t len = 0, at = 0;
    const char *s;
    char *out;
    va_start(ap, a);
    while ((s = va_arg(ap, const char *)))
        len += strlen(s);
    va_end(ap);
    out = ff_arena_alloc(a, len + 1);
    va_start(ap, a);
    while ((s = va_arg(ap, const char *))) {
        size_t l = strlen(s);
        memcpy(out + at, s, l);
        at += l;
    }
    va_end(ap);
    out[at] = '\0';
    return out;
}

/* Two digits at a time, written from the end: the digits are counted
 * first. Offsets and timestamps have 6 to 13. */
size_t ff_fmt_i64(char *out, int64_t v)
{
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324252627282930"
                                   "31323334353637383940414243444546474849505152535455565758596061"
                                   "62636465666768697071727374757677787980818283848586878889909192"
                                   "93949596979899";
    static const uint64_t pow10[20] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL,
                                       1000000ULL, 10000000ULL, 100000000ULL, 1000000000ULL,
                                       10000000000ULL, 100000000000ULL, 1000000000000ULL,
                                       10000000000000ULL, 100000000000000ULL,
                                       1000000000000000ULL, 10000000000000000ULL,
                                       100000000000000000ULL, 1000000000000000000ULL,
                                       10000000000000000000ULL};
    size_t len = 0, digits = 1;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *w;
    if (v >= 0 && v < 10) { /* most calls are protocol lengths and small counts */
        out[0] = (char)('0' + v);
        return 1;
    }
    if (v < 0)
        out[len++] = '-';
    while (digits < 20 && u >= pow10[digits])
        digits++;
    w = out + len + digits;
    while (u >= 100) {
        size_t r = (size_t)(u % 100) * 2;
        u /= 100;
        w -= 2;
        w[0] = pairs[r];
        w[1] = pairs[r + 1];
    }
    if (u >= 10) {
        w -= 2;
        w[0] = pairs[u * 2];
        w[1] = pairs[u * 2 + 1];
    } else {
        *--w = (char)('0' + u);
    }
    return len + digits;
}

/* Formats straight into the head chunk's free space, which then becomes
 * the allocation; a second pass only when the text did not fit there. */
char *ff_arena_printf(ff_arena_t *a, const char *fmt, ...)
{
    const size_t align = sizeof(max_align_t);
    va_list ap;
    size_t room = 0;
    char *p = NULL;
    int n;
    if (a->head) {
        room = (a->head->size - a->head->used) & ~(align - 1);
        p = (char *)a->head->data + a->head->used;
    }
    va_start(ap, fmt);
    n = vsnprintf(room ? p : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n < room) {
        p[n] = '\0';
        a->head->used += ((size_t)n + 1 + align - 1) & ~(align - 1);
        return p;
    }
    p = ff_arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    p[n] = '\0';
    return p;
}

/* ---- hashing --------------------------------------------------------- */

uint64_t ff_hash64(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    /* splitmix64 finaliser: spreads FNV's weak low bits over the word. */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

uint64_t ff_hash64_str(const char *s, uint64_t seed)
{
    return ff_hash64(s, strlen(s), seed);
}

/* ---- parsing --------------------------------------------------------- */

int ff_parse_i64(const char *s, int64_t *out)
{
    char *end;
    long long v;
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

int ff_parse_duration_ms(const char *s, int64_t *out)
{
    char *end;
    long long v;
    int64_t mult = 1;
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno)
        return -1;
    if (!strcmp(end, "") || !strcmp(end, "ms"))
        mult = 1;
    else if (!strcmp(end, "s"))
        mult = 1000;
    else if (!strcmp(end, "m"))
        mult = 60 * 1000;
    else if (!strcmp(end, "h"))
        mult = 3600 * 1000;
    else if (!strcmp(end, "d"))
        mult = 86400 * 1000LL;
    else
        return -1;
    if (v > INT64_MAX / mult)
        return -1;
    *out = v * mult;
    return 0;
}

/* Days from civil date, proleptic Gregorian (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int64_t ff_day_of_ms(int64_t ms)
{
    int64_t day = ms / 86400000LL;
    if (ms % 86400000LL < 0)
        day--;
    return day;
}

void ff_format_rfc3339(int64_t ms, char *buf, size_t size)
{
    int64_t day = ff_day_of_ms(ms), y;
    int64_t rem = ms - day * 86400000LL;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
             (int)(rem / 3600000), (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
             (int)(rem % 1000));
}

int ff_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void ff_window_quantiles(const int64_t *t, const double *v, size_t n, int64_t from, int64_t width,
                         size_t nwin, double q, double *out)
{
    double *in = ff_calloc(n ? n : 1, sizeof(*in));
    for (size_t w = 0; w < nwin; w++) {
        int64_t lo = from + (int64_t)w * width, hi = lo + width;
        size_t k = 0, rank;
        for (size_t i = 0; i < n; i++)
            if (t[i] >= lo && t[i] < hi)
                in[k++] = v[i];
        if (!k) {
            out[w] = NAN;
            continue;
        }
        qsort(in, k, sizeof(*in), ff_cmp_double);
        rank = (size_t)ceil(q * (double)k);
        out[w] = in[rank ? rank - 1 : 0];
    }
    free(in);
}

int ff_parse_time_ms(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, sec, n = 0;
    int64_t frac = 0, scale = 1000;
    if (ff_parse_i64(s, out) == 0)
        return 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
        return -1;
    s += n;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return -1;
        while (isdigit((unsigned char)*s)) {
            if (scale > 1) {
                scale /= 10;
                frac += (*s - '0') * scale;
            }
            s++;
        }
    }
    if (strcmp(s, "Z") && strcmp(s, "z") && strcmp(s, "+00:00"))
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
        return -1;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return -1;
    *out = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) * 60 + mi) * 60000LL +
           sec * 1000LL + frac;
    return 0;
}

int64_t ff_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ff_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t ff_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ff_sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}
