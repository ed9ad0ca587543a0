/* Tests of ff_util: parsing numbers, durations and times, buffers, JSON strings, arena, hash. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_util.h"

#define MS_PER_DAY 86400000LL

/* ---- ff_parse_i64 ---------------------------------------------------------- */

Test(ff_parse_i64, accepts_whole_decimal_integers)
{
    int64_t v = 0;
    cr_assert_eq(ff_parse_i64("0", &v), 0);
    cr_assert_eq(v, 0);
    cr_assert_eq(ff_parse_i64("-42", &v), 0);
    cr_assert_eq(v, -42);
    cr_assert_eq(ff_parse_i64("9223372036854775807", &v), 0);
    cr_assert_eq(v, INT64_MAX);
    cr_assert_eq(ff_parse_i64("-9223372036854775808", &v), 0);
    cr_assert_eq(v, INT64_MIN);
}

Test(ff_parse_i64, rejects_anything_but_a_whole_number_and_leaves_out_alone)
{
    const char *bad[] = {"", " 1", "1 ", "12abc", "abc", "1.5", "0x10",
                         "9223372036854775808", "-9223372036854775809"};
    for (size_t i = 0; i < FF_ARRAY_LEN(bad); i++) {
        int64_t v = 7;
        cr_assert_eq(ff_parse_i64(bad[i], &v), -1, "'%s' should be rejected", bad[i]);
        cr_assert_eq(v, 7, "'%s' must not touch the output", bad[i]);
    }
    int64_t v = 7;
    cr_assert_eq(ff_parse_i64(NULL, &v), -1, "NULL is not a number");
}

/* ---- ff_parse_duration_ms --------------------------------------------------- */

Test(ff_parse_duration_ms, converts_every_unit_to_milliseconds)
{
    static const struct {
        const char *in;
        int64_t ms;
    } cases[] = {
        {"0", 0},           {"250", 250},         {"500ms", 500},
        {"30s", 30000},     {"10m", 600000},      {"2h", 7200000},
        {"7d", 7 * MS_PER_DAY},
    };
    for (size_t i = 0; i < FF_ARRAY_LEN(cases); i++) {
        int64_t v = -1;
        cr_assert_eq(ff_parse_duration_ms(cases[i].in, &v), 0, "'%s' should parse", cases[i].in);
        cr_assert_eq(v, cases[i].ms, "'%s' should be %lld ms, got %lld", cases[i].in,
                     (long long)cases[i].ms, (long long)v);
    }
}

Test(ff_parse_duration_ms, rejects_signs_unknown_units_and_overflow)
{
    const char *bad[] = {"", "-5s", "+5s", " 5s", "5 s", "5x", "5sec", "m", "1.5s",
                         "106751991168d", "99999999999999999999"};
    for (size_t i = 0; i < FF_ARRAY_LEN(bad); i++) {
        int64_t v = 7;
        cr_assert_eq(ff_parse_duration_ms(bad[i], &v), -1, "'%s' should be rejected", bad[i]);
        cr_assert_eq(v, 7, "'%s' must not touch the output", bad[i]);
    }
}

/* ---- time ------------------------------------------------------------------- */

Test(ff_parse_time_ms, parses_rfc3339_utc_with_and_without_fraction)
{
    int64_t v = 0;
    cr_assert_eq(ff_parse_time_ms("2026-11-23T10:45:00Z", &v), 0);
    cr_assert_eq(v, 1795430700000LL);
    cr_assert_eq(ff_parse_time_ms("2026-11-23T10:45:00.123Z", &v), 0);
    cr_assert_eq(v, 1795430700123LL);
    cr_assert_eq(ff_parse_time_ms("2026-11-23T10:45:00.5+00:00", &v), 0);
    cr_assert_eq(v, 1795430700500LL, "one fraction digit is tenths");
    cr_assert_eq(ff_parse_time_ms("2026-11-23T10:45:00.123456789z", &v), 0);
    cr_assert_eq(v, 1795430700123LL, "digits beyond milliseconds are dropped");
    cr_assert_eq(ff_parse_time_ms("2024-02-29T23:59:59.999Z", &v), 0);
    cr_assert_eq(v, 1709251199999LL, "leap day");
    cr_assert_eq(ff_parse_time_ms("1969-12-31T23:59:59.999Z", &v), 0);
    cr_assert_eq(v, -1, "the millisecond before the epoch");
    cr_assert_eq(ff_parse_time_ms("1900-01-01T00:00:00Z", &v), 0);
    cr_assert_eq(v, -2208988800000LL);
}

Test(ff_parse_time_ms, accepts_a_bare_integer_as_epoch_ms)
{
    int64_t v = 0;
    cr_assert_eq(ff_parse_time_ms("1795430700000", &v), 0);
    cr_assert_eq(v, 1795430700000LL);
    cr_assert_eq(ff_parse_time_ms("-1", &v), 0);
    cr_assert_eq(v, -1);
}

Test(ff_parse_time_ms, rejects_malformed_or_non_utc_times)
{
    const char *bad[] = {"",
                         "2026-11-23",
                         "2026-11-23T10:45:00",
                         "2026-11-23T10:45:00+01:00",
                         "2026-11-23 10:45:00Z",
                         "2026-11-23T10:45:00.Z",
                         "2026-11-23T10:45:00ZZ",
                         "2026-13-01T00:00:00Z",
                         "2026-00-01T00:00:00Z",
                         "2026-11-32T00:00:00Z",
                         "2026-11-23T24:00:00Z",
                         "2026-11-23T10:60:00Z",
                         "2026-11-23T10:45:61Z",
                         "26-11-23T10:45:00Z",
                         "yesterday"};
    for (size_t i = 0; i < FF_ARRAY_LEN(bad); i++) {
        int64_t v = 7;
        cr_assert_eq(ff_parse_time_ms(bad[i], &v), -1, "'%s' should be rejected", bad[i]);
        cr_assert_eq(v, 7, "'%s' must not touch the output", bad[i]);
    }
}

Test(ff_format_rfc3339, formats_utc_with_milliseconds)
{
    char buf[25];
    ff_format_rfc3339(0, buf, sizeof buf);
    cr_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
    ff_format_rfc3339(1795430700123LL, buf, sizeof buf);
    cr_assert_str_eq(buf, "2026-11-23T10:45:00.123Z");
    ff_format_rfc3339(1709251199999LL, buf, sizeof buf);
    cr_assert_str_eq(buf, "2024-02-29T23:59:59.999Z");
    ff_format_rfc3339(951868800000LL, buf, sizeof buf);
    cr_assert_str_eq(buf, "2000-03-01T00:00:00.000Z");
}

Test(ff_format_rfc3339, formats_times_before_the_epoch)
{
    char buf[25];
    ff_format_rfc3339(-1, buf, sizeof buf);
    cr_assert_str_eq(buf, "1969-12-31T23:59:59.999Z");
    ff_format_rfc3339(-MS_PER_DAY, buf, sizeof buf);
    cr_assert_str_eq(buf, "1969-12-31T00:00:00.000Z");
    ff_format_rfc3339(-2208988800000LL, buf, sizeof buf);
    cr_assert_str_eq(buf, "1900-01-01T00:00:00.000Z");
}

Test(ff_format_rfc3339, round_trips_through_ff_parse_time_ms)
{
    const int64_t samples[] = {0, 1, -1, 999, 1795430700123LL, 951868799999LL, -2208988800001LL};
    for (size_t i = 0; i < FF_ARRAY_LEN(samples); i++) {
        char buf[25];
        int64_t back = 0;
        ff_format_rfc3339(samples[i], buf, sizeof buf);
        cr_assert_eq(ff_parse_time_ms(buf, &back), 0, "'%s' should parse", buf);
        cr_assert_eq(back, samples[i], "%lld -> %s -> %lld", (long long)samples[i], buf,
                     (long long)back);
    }
}

Test(ff_format_rfc3339, truncates_to_a_short_buffer_with_a_nul)
{
    char buf[11];
    memset(buf, 'x', sizeof buf);
    ff_format_rfc3339(0, buf, sizeof buf);
    cr_assert_str_eq(buf, "1970-01-01");
}

Test(ff_day_of_ms, counts_whole_days_since_the_epoch)
{
    cr_assert_eq(ff_day_of_ms(0), 0);
    cr_assert_eq(ff_day_of_ms(MS_PER_DAY - 1), 0);
    cr_assert_eq(ff_day_of_ms(MS_PER_DAY), 1);
    cr_assert_eq(ff_day_of_ms(1795430700000LL), 20780, "2026-11-23 is day 20780");
}

Test(ff_day_of_ms, floors_negative_times_to_the_day_before)
{
    cr_assert_eq(ff_day_of_ms(-1), -1, "1969-12-31T23:59:59.999 is day -1, not 0");
    cr_assert_eq(ff_day_of_ms(-MS_PER_DAY + 1), -1);
    cr_assert_eq(ff_day_of_ms(-MS_PER_DAY), -1, "midnight starts day -1");
    cr_assert_eq(ff_day_of_ms(-MS_PER_DAY - 1), -2);
    cr_assert_eq(ff_day_of_ms(-2208988800000LL), -25567, "1900-01-01");
}

/* ---- ff_buf ------------------------------------------------------------------ */

Test(ff_buf, appends_and_stays_nul_terminated)
{
    ff_buf_t b;
    ff_buf_init(&b);
    ff_buf_puts(&b, "foot");
    ff_buf_putc(&b, '-');
    ff_buf_append(&b, "fallXXX", 4);
    ff_buf_printf(&b, ":%d:%s", 42, "x");
    cr_assert_eq(b.len, 14);
    cr_assert_str_eq(b.data, "foot-fall:42:x");
    cr_assert_eq(b.data[b.len], '\0');
    cr_assert_geq(b.cap, b.len + 1);
    ff_buf_term(&b);
    cr_assert_null(b.data, "term leaves the buffer empty");
    cr_assert_eq(b.len, 0);
}

Test(ff_buf, grows_past_its_first_allocation)
{
    ff_buf_t b;
    ff_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        ff_buf_printf(&b, "%03d,", i % 1000);
    cr_assert_eq(b.len, 4000);
    cr_assert_eq(strncmp(b.data, "000,001,002,", 12), 0);
    cr_assert_str_eq(b.data + 3996, "999,");
    ff_buf_term(&b);
}

Test(ff_buf, append_keeps_embedded_nul_bytes)
{
    ff_buf_t b;
    ff_buf_init(&b);
    ff_buf_append(&b, "a\0b", 3);
    cr_assert_eq(b.len, 3);
    cr_assert_eq(memcmp(b.data, "a\0b", 4), 0, "bytes then the terminating NUL");
    ff_buf_term(&b);
}

Test(ff_buf, reserve_makes_room_without_changing_len)
{
    ff_buf_t b;
    ff_buf_init(&b);
    ff_buf_puts(&b, "ab");
    char *p = ff_buf_reserve(&b, 1000);
    cr_assert_eq(p, b.data + 2, "reserve points just past the data");
    cr_assert_eq(b.len, 2);
    cr_assert_geq(b.cap, 1003);
    memcpy(p, "cd", 2);
    b.len += 2;
    b.data[b.len] = '\0';
    cr_assert_str_eq(b.data, "abcd");
    ff_buf_term(&b);
}

Test(ff_buf, reset_empties_but_keeps_the_allocation)
{
    ff_buf_t b;
    ff_buf_init(&b);
    ff_buf_reset(&b);
    cr_assert_eq(b.len, 0, "reset of a never-used buffer is harmless");
    ff_buf_puts(&b, "hello");
    char *data = b.data;
    size_t cap = b.cap;
    ff_buf_reset(&b);
    cr_assert_eq(b.len, 0);
    cr_assert_str_eq(b.data, "");
    cr_assert_eq(b.data, data);
    cr_assert_eq(b.cap, cap);
    ff_buf_term(&b);
}

Test(ff_buf, detach_hands_over_the_string_and_empties_the_buffer)
{
    ff_buf_t b;
    ff_buf_init(&b);
    char *empty = ff_buf_detach(&b);
    cr_assert_str_eq(empty, "", "an untouched buffer detaches as an empty string");
    free(empty);
    ff_buf_puts(&b, "mine");
    char *s = ff_buf_detach(&b);
    cr_assert_str_eq(s, "mine");
    cr_assert_null(b.data);
    cr_assert_eq(b.len, 0);
    cr_assert_eq(b.cap, 0);
    free(s);
}

Test(ff_buf, printf_of_an_empty_string_gives_a_valid_empty_buffer)
{
    ff_buf_t b;
    ff_buf_init(&b);
    ff_buf_printf(&b, "%s", "");
    cr_assert_eq(b.len, 0);
    cr_assert_not_null(b.data);
    cr_assert_str_eq(b.data, "");
    ff_buf_term(&b);
}

Test(ff_asprintf, formats_into_a_new_string)
{
    char *s = ff_asprintf("%s-%05d", "S", 42);
    cr_assert_str_eq(s, "S-00042");
    free(s);
}

/* ---- ff_buf_json_str ----------------------------------------------------------- */

static void assert_json(const char *in, size_t n, const char *want)
{
    ff_buf_t b;
    ff_buf_init(&b);
    ff_buf_json_str(&b, in, n);
    cr_assert_eq(b.len, strlen(want), "length of %s, got %s", want, b.data);
    cr_assert_str_eq(b.data, want);
    ff_buf_term(&b);
}

Test(ff_buf_json_str, quotes_plain_text_unchanged)
{
    assert_json("", 0, "\"\"");
    assert_json("store S001", 10, "\"store S001\"");
}

Test(ff_buf_json_str, escapes_quotes_backslashes_and_whitespace_controls)
{
    assert_json("say \"hi\"", 8, "\"say \\\"hi\\\"\"");
    assert_json("C:\\tmp", 6, "\"C:\\\\tmp\"");
    assert_json("a\nb\rc\td", 7, "\"a\\nb\\rc\\td\"");
}

Test(ff_buf_json_str, escapes_other_controls_as_unicode)
{
    assert_json("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"");
    assert_json("\b\f", 2, "\"\\u0008\\u000c\"");
}

Test(ff_buf_json_str, escapes_an_embedded_nul_and_stops_at_n)
{
    assert_json("a\0b", 3, "\"a\\u0000b\"");
    assert_json("abcdef", 3, "\"abc\"");
}

Test(ff_buf_json_str, passes_utf8_through)
{
    assert_json("caf\xc3\xa9 \xe2\x80\xa6", 9, "\"caf\xc3\xa9 \xe2\x80\xa6\"");
}

Test(ff_buf_json_str, appends_to_what_is_already_there)
{
    ff_buf_t b;
    ff_buf_init(&b);
    ff_buf_puts(&b, "{\"msg\":");
    ff_buf_json_str(&b, "x\"y", 3);
    ff_buf_putc(&b, '}');
    cr_assert_str_eq(b.data, "{\"msg\":\"x\\\"y\"}");
    ff_buf_term(&b);
}

/* ---- ff_arena --------------------------------------------------------------------- */

Test(ff_arena, allocations_are_aligned_and_do_not_overlap)
{
    ff_arena_t a;
    ff_arena_init(&a, 256);
    char *p[64];
    for (int i = 0; i < 64; i++) {
        p[i] = ff_arena_alloc(&a, (size_t)(i % 7) + 1);
        cr_assert_eq((uintptr_t)p[i] % _Alignof(max_align_t), 0, "allocation %d is aligned", i);
        memset(p[i], i, (size_t)(i % 7) + 1);
    }
    for (int i = 0; i < 64; i++)
        for (size_t j = 0; j < (size_t)(i % 7) + 1; j++)
            cr_assert_eq(p[i][j], (char)i, "allocation %d byte %zu was overwritten", i, j);
    ff_arena_term(&a);
    cr_assert_null(a.head);
}

Test(ff_arena, serves_an_allocation_larger_than_the_chunk_size)
{
    ff_arena_t a;
    ff_arena_init(&a, 128);
    char *small1 = ff_arena_strdup(&a, "before");
    char *big = ff_arena_alloc(&a, 10000);
    memset(big, 'B', 10000);
    char *small2 = ff_arena_strdup(&a, "after");
    cr_assert_str_eq(small1, "before");
    cr_assert_str_eq(small2, "after");
    for (size_t i = 0; i < 10000; i++)
        cr_assert_eq(big[i], 'B', "big byte %zu was overwritten", i);
    cr_assert(small2 < big || small2 >= big + 10000, "small allocations stay out of the big one");
    /* "before" and its NUL round up to one alignment unit. */
    cr_assert_eq(small2, small1 + sizeof(max_align_t),
                 "the head chunk keeps serving small allocations after the big one");
    ff_arena_term(&a);
}

Test(ff_arena, serves_an_oversized_first_allocation)
{
    ff_arena_t a;
    ff_arena_init(&a, 64);
    char *big = ff_arena_alloc(&a, 4096);
    memset(big, 'B', 4096);
    char *s = ff_arena_strdup(&a, "next");
    cr_assert_str_eq(s, "next");
    cr_assert_eq(big[4095], 'B');
    ff_arena_reset(&a);
    cr_assert_str_eq(ff_arena_strdup(&a, "again"), "again");
    ff_arena_term(&a);
}

Test(ff_arena, spills_into_new_chunks_when_one_fills_up)
{
    ff_arena_t a;
    ff_arena_init(&a, 256);
    char *s[100];
    for (int i = 0; i < 100; i++)
        s[i] = ff_arena_printf(&a, "string number %d", i);
    for (int i = 0; i < 100; i++) {
        char want[32];
        snprintf(want, sizeof want, "string number %d", i);
        cr_assert_str_eq(s[i], want);
    }
    ff_arena_term(&a);
}

Test(ff_arena, reset_reuses_the_first_chunk)
{
    ff_arena_t a;
    ff_arena_init(&a, 1024);
    for (int i = 0; i < 100; i++)
        ff_arena_alloc(&a, 100);
    ff_arena_reset(&a);
    cr_assert_not_null(a.head, "reset keeps one chunk for the next batch");
    ff_arena_chunk_t *kept = a.head;
    char *p = ff_arena_strdup(&a, "reused");
    cr_assert_eq(a.head, kept, "a small allocation after reset needs no new chunk");
    cr_assert_str_eq(p, "reused");
    ff_arena_term(&a);
}

Test(ff_arena, reset_keeps_the_first_chunk_after_an_oversized_allocation)
{
    /* ff_util.h: "Reset frees everything at once but keeps the first chunk,
     * so a steady loop allocates nothing from the system." */
    ff_arena_t a;
    ff_arena_init(&a, 1024);
    ff_arena_strdup(&a, "small");
    ff_arena_alloc(&a, 5000);
    ff_arena_reset(&a);
    cr_assert_not_null(a.head, "the standard first chunk should survive a reset even when the "
                               "batch also needed an oversized chunk");
    ff_arena_term(&a);
}

Test(ff_arena, reset_keeps_standard_chunks_for_the_next_batch)
{
    ff_arena_t a;
    ff_arena_chunk_t *seen[8];
    ff_arena_init(&a, 1024);
    /* A batch that needs five chunks, and an oversized one. */
    for (int i = 0; i < 5; i++) {
        ff_arena_alloc(&a, 1000);
        seen[i] = a.head;
    }
    ff_arena_alloc(&a, 5000);
    ff_arena_reset(&a);
    cr_assert_eq(a.nspare, 4, "the head plus four spares; the oversized chunk goes back");
    /* The next batch of the same size takes them again. */
    for (int i = 0; i < 5; i++) {
        char *p = ff_arena_alloc(&a, 1000);
        bool reused = false;
        for (int k = 0; k < 5; k++)
            reused |= a.head == seen[k];
        cr_assert(reused, "allocation %d came from a new chunk", i);
        memset(p, 0x5a, 1000);
    }
    cr_assert_eq(a.nspare, 0);
    ff_arena_term(&a);
    cr_assert_null(a.spare);
}

Test(ff_arena, reset_keeps_at_most_ff_arena_spare_chunks)
{
    ff_arena_t a;
    ff_arena_init(&a, 256);
    for (int i = 0; i < FF_ARENA_SPARE + 20; i++)
        ff_arena_alloc(&a, 200);
    ff_arena_reset(&a);
    cr_assert_eq(a.nspare, FF_ARENA_SPARE);
    ff_arena_term(&a);
}

Test(ff_arena, strndup_and_printf_copy_into_the_arena)
{
    ff_arena_t a;
    ff_arena_init(&a, 0);
    cr_assert_eq(a.chunk_size, 64 * 1024, "0 picks the default chunk size");
    char src[] = "abcdef";
    char *n = ff_arena_strndup(&a, src, 3);
    char *f = ff_arena_printf(&a, "%s=%lld", "k", (long long)-5);
    src[0] = 'X';
    cr_assert_str_eq(n, "abc");
    cr_assert_str_eq(f, "k=-5");
    ff_arena_term(&a);
}

Test(ff_arena, printf_that_outgrows_the_head_chunk_is_whole_and_leaves_no_gap)
{
    ff_arena_t a;
    char big[600];
    ff_arena_init(&a, 256);
    /* Fill the head to 16 bytes short of its end. */
    char *first = ff_arena_alloc(&a, 240);
    memset(first, 'a', 240);
    /* 20 bytes do not fit in the 16 left: a new chunk, the old one intact. */
    char *s = ff_arena_printf(&a, "%s-%d", "0123456789abcd", 42);
    cr_assert_str_eq(s, "0123456789abcd-42");
    for (int i = 0; i < 240; i++)
        cr_assert_eq(first[i], 'a', "byte %d of the allocation before was overwritten", i);
    /* Longer than a chunk: an oversized chunk of its own. */
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char *b = ff_arena_printf(&a, "<%s>", big);
    cr_assert_eq(strlen(b), sizeof big + 1);
    cr_assert_eq(b[0], '<');
    cr_assert_eq(b[sizeof big], '>');
    /* What fits right after goes into the head, after the first string. */
    char *t = ff_arena_printf(&a, "%d", 7);
    cr_assert_str_eq(t, "7");
    cr_assert_str_eq(s, "0123456789abcd-42", "a later printf wrote over an earlier one");
    cr_assert(t > s && t < s + 256, "a small printf after an oversized one uses the head chunk");
    ff_arena_term(&a);
}

Test(ff_buf, put_i64_appends_what_printf_writes)
{
    ff_buf_t b;
    ff_buf_init(&b);
    ff_buf_puts(&b, "n=");
    ff_buf_put_i64(&b, INT64_MIN);
    ff_buf_putc(&b, ',');
    ff_buf_put_i64(&b, 0);
    ff_buf_putc(&b, ',');
    ff_buf_put_i64(&b, INT64_MAX);
    cr_assert_str_eq(b.data, "n=-9223372036854775808,0,9223372036854775807");
    cr_assert_eq(b.len, strlen(b.data));
    /* A printf longer than the room the buffer had: formatted again, whole. */
    char long_text[300];
    memset(long_text, 'y', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    ff_buf_printf(&b, "[%s]", long_text);
    cr_assert_eq(b.len, 44 + 301);
    cr_assert_eq(strlen(b.data), b.len);
    cr_assert_eq(b.data[44], '[');
    cr_assert_eq(b.data[b.len - 1], ']');
    ff_buf_term(&b);
}

/* ---- hashing ---------------------------------------------------------------------- */

Test(ff_hash64, is_stable_across_releases)
{
    /* Pinned once: ids and holdout groups are derived from these hashes, so a
     * change here changes who is in the control group. */
    cr_assert_eq(ff_hash64("", 0, 0), 0xf52a15e9a9b5e89bULL);
    cr_assert_eq(ff_hash64_str("footfall", 0), 0x29e8303a95911de1ULL);
    cr_assert_eq(ff_hash64_str("footfall", 42), 0x756aab42b385517bULL);
    cr_assert_eq(ff_hash64_str("c:customer-1", 0), 0xddbe8c4e858c0937ULL);
}

Test(ff_hash64, depends_on_every_byte_length_and_seed)
{
    cr_assert_eq(ff_hash64("abc", 3, 0), ff_hash64_str("abc", 0), "_str hashes the same bytes");
    cr_assert_neq(ff_hash64("abc", 3, 0), ff_hash64("abd", 3, 0));
    cr_assert_neq(ff_hash64("abc", 3, 0), ff_hash64("abc", 2, 0));
    cr_assert_neq(ff_hash64("a\0", 2, 0), ff_hash64("a", 1, 0), "a trailing NUL byte counts");
    cr_assert_neq(ff_hash64("abc", 3, 0), ff_hash64("abc", 3, 1));
}

/* ---- fast formatting ----------------------------------------------------------------- */

Test(ff_fmt_i64, writes_what_printf_writes_at_the_edges)
{
    const int64_t values[] = {0, 7, 9, -7, 10, 11, 99, 100, -99, -100, 101, 1000, 9999, 10000,
                              -10001, 123456, 1795445495123LL, 999999999999999999LL,
                              1000000000000000000LL, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char got[32], want[32];
        size_t n = ff_fmt_i64(got, values[i]);
        got[n] = '\0';
        snprintf(want, sizeof want, "%lld", (long long)values[i]);
        cr_assert_str_eq(got, want);
        cr_assert_eq(n, strlen(want));
    }
    /* Every number of every length, and around each power of ten. */
    for (int64_t p = 1, d = 1; d <= 18; p *= 10, d++) {
        for (int64_t k = -2; k <= 2; k++) {
            int64_t cases[] = {p + k, -(p + k), p * 7 + k, p * 9 + 99 * k};
            for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char got[32], want[32];
                got[ff_fmt_i64(got, cases[i])] = '\0';
                snprintf(want, sizeof want, "%lld", (long long)cases[i]);
                cr_assert_str_eq(got, want);
            }
        }
    }
}

Test(ff_arena_concat, joins_up_to_the_null_in_the_arena)
{
    ff_arena_t a;
    ff_arena_init(&a, 16);
    cr_assert_str_eq(ff_arena_concat(&a, "ff", ":{", "c:C1", "}:", "cart", (const char *)NULL),
                     "ff:{c:C1}:cart");
    cr_assert_str_eq(ff_arena_concat(&a, (const char *)NULL), "");
    cr_assert_str_eq(ff_arena_concat(&a, "", "x", "", (const char *)NULL), "x");
    ff_arena_term(&a);
}

/* Values by window of their times: each window's own quantile, at rank
 * ceil(q * k) of its k values; an empty window is NAN; a time on a
 * window's end belongs to the next; the values keep their order. */
Test(ff_window_quantiles, gives_each_windows_own_quantile)
{
    const int64_t t[] = {1000, 1999, 1500, 2000, 2500, 4999, 5000};
    double v[] = {30, 10, 20, 7, 9, 100, 55};
    double p50[4], p99[4];
    ff_window_quantiles(t, v, 7, 1000, 1000, 4, 0.5, p50);
    ff_window_quantiles(t, v, 7, 1000, 1000, 4, 0.99, p99);
    cr_assert_float_eq(p50[0], 20, 1e-9, "30, 10, 20: the 2nd of 3");
    cr_assert_float_eq(p99[0], 30, 1e-9);
    cr_assert_float_eq(p50[1], 7, 1e-9, "7, 9: the 1st of 2");
    cr_assert_float_eq(p99[1], 9, 1e-9);
    cr_assert(isnan(p50[2]) && isnan(p99[2]), "nothing in [3000, 4000)");
    cr_assert_float_eq(p50[3], 100, 1e-9, "4999 only: 5000 is past the last window");
    cr_assert_float_eq(v[0], 30, 1e-9);
    cr_assert_float_eq(v[6], 55, 1e-9);
}
