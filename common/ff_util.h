/* ff_util: allocation that aborts on failure, growable buffers, a per-batch arena, hashing. */
#ifndef FF_UTIL_H
#define FF_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define FF_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define FF_MIN(a, b) ((a) < (b) ? (a) : (b))
#define FF_MAX(a, b) ((a) > (b) ? (a) : (b))

#if defined(__GNUC__)
#define FF_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define FF_PRINTF(fmt, args)
#endif

/* Allocation. Every one aborts the process with a message when memory is
 * exhausted, so callers never check for NULL. */
void *ff_malloc(size_t size);
void *ff_calloc(size_t n, size_t size);
void *ff_realloc(void *ptr, size_t size);
char *ff_strdup(const char *s);
char *ff_strndup(const char *s, size_t n);
/* printf into a new string; caller must free. */
char *ff_asprintf(const char *fmt, ...) FF_PRINTF(1, 2);

/* A growable byte buffer. `data` is always NUL-terminated (not counted in len). */
typedef struct ff_buf_s {
    char *data;
    size_t len;
    size_t cap;
} ff_buf_t;

void ff_buf_init(ff_buf_t *b);
void ff_buf_term(ff_buf_t *b);
void ff_buf_reset(ff_buf_t *b);
/* Makes room for n more bytes and returns a pointer to them (len unchanged). */
char *ff_buf_reserve(ff_buf_t *b, size_t n);
void ff_buf_append(ff_buf_t *b, const void *p, size_t n);
void ff_buf_puts(ff_buf_t *b, const char *s);
void ff_buf_putc(ff_buf_t *b, char c);
void ff_buf_put_i64(ff_buf_t *b, int64_t v);
void ff_buf_printf(ff_buf_t *b, const char *fmt, ...) FF_PRINTF(2, 3);
void ff_buf_vprintf(ff_buf_t *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal (quotes and escapes included). */
void ff_buf_json_str(ff_buf_t *b, const char *s, size_t n);
/* Hands the data to the caller (caller must free) and leaves b empty. */
char *ff_buf_detach(ff_buf_t *b);

/* A bump allocator for data that lives as long as one batch. Reset frees
 * everything at once but keeps the first chunk, and up to FF_ARENA_SPARE
 * more of the standard size for the next batch, so a steady loop allocates
 * nothing from the system (and does not fault its pages in again). */
#define FF_ARENA_SPARE 64
typedef struct ff_arena_chunk_s ff_arena_chunk_t;
typedef struct ff_arena_s {
    ff_arena_chunk_t *head;
    size_t chunk_size;
    ff_arena_chunk_t *spare; /* standard chunks kept by a reset */
    size_t nspare;
} ff_arena_t;

void ff_arena_init(ff_arena_t *a, size_t chunk_size);
void ff_arena_term(ff_arena_t *a);
void ff_arena_reset(ff_arena_t *a);
void *ff_arena_alloc(ff_arena_t *a, size_t size);
char *ff_arena_strndup(ff_arena_t *a, const char *s, size_t n);
char *ff_arena_strdup(ff_arena_t *a, const char *s);
char *ff_arena_printf(ff_arena_t *a, const char *fmt, ...) FF_PRINTF(2, 3);

/* 64-bit FNV-1a with a splitmix64 finaliser: fast, stable across platforms
 * and releases (ids and holdout groups depend on it), not cryptographic. */
uint64_t ff_hash64(const void *p, size_t n, uint64_t seed);
uint64_t ff_hash64_str(const char *s, uint64_t seed);

/* Parses a whole decimal integer; 0 on success, -1 if s is not one. */
int ff_parse_i64(const char *s, int64_t *out);
/* Writes v in decimal to out (room for 21 bytes), without a NUL; returns
 * the length. For hot paths where printf would dominate. */
size_t ff_fmt_i64(char *out, int64_t v);
/* The concatenation of the strings up to a NULL, in the arena. */
char *ff_arena_concat(ff_arena_t *a, ...) __attribute__((sentinel));
/* Parses a duration such as "500ms", "10s", "10m", "2h", "7d" (a bare number
 * is milliseconds) into milliseconds; 0 on success, -1 on error. */
int ff_parse_duration_ms(const char *s, int64_t *out);

/* Milliseconds since the epoch -> "2026-11-23T10:45:00.000Z" (buffer >= 25). */
void ff_format_rfc3339(int64_t ms, char *buf, size_t size);
/* Parses an RFC 3339 UTC time ("2026-11-23T10:45:00Z", fraction optional,
 * "Z" or "+00:00"), or a bare integer of epoch ms. 0 on success, -1 on error. */
int ff_parse_time_ms(const char *s, int64_t *out);

/* qsort's comparison of doubles, ascending. */
int ff_cmp_double(const void *a, const void *b);
/* Quantile q (0 < q <= 1: the value at rank ceil(q * k) of the k that
 * fall in the window) of the values v[i] by window of their times t[i]:
 * out[w] for [from + w * width, from + (w + 1) * width), w < nwin; NAN for
 * a window with none. v is left as it was. */
void ff_window_quantiles(const int64_t *t, const double *v, size_t n, int64_t from, int64_t width,
                         size_t nwin, double q, double *out);
/* The civil day number (days since 1970-01-01) of ms, floor division. */
int64_t ff_day_of_ms(int64_t ms);

/* Monotonic milliseconds (for timeouts and rates, never for event logic). */
int64_t ff_mono_ms(void);
int64_t ff_mono_us(void);
/* The system clock in ms, for measurements only (latencies); decisions use ff_clock. */
int64_t ff_wall_ms(void);
void ff_sleep_ms(int64_t ms);

#endif
