/* ff_clock: the one place footfall reads the time, injectable for tests and replays. */
#include "ff_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>

#include "ff_util.h"

static ff_clock_mode_t clock_mode = FF_CLOCK_WALL;
static int64_t fixed_ms;
static int event_mode;
static int64_t event_high = INT64_MIN;

int ff_clock_init_from_env(char *errstr, size_t errstr_size)
{
    const char *s = getenv("FOOTFALL_NOW");
    int64_t ms;
    if (!s || !*s)
        return 0;
    if (ff_parse_time_ms(s, &ms) == -1) {
        snprintf(errstr, errstr_size,
                 "FOOTFALL_NOW: '%s' is neither epoch milliseconds nor an RFC 3339 UTC time "
                 "(2026-11-23T10:00:00Z)",
                 s);
        return -1;
    }
    ff_clock_set_fixed(ms);
    return 0;
}

void ff_clock_set_fixed(int64_t ms)
{
    clock_mode = FF_CLOCK_FIXED;
    fixed_ms = ms;
}

void ff_clock_set_wall(void)
{
    clock_mode = FF_CLOCK_WALL;
}

ff_clock_mode_t ff_clock_mode(void)
{
    return clock_mode;
}

int64_t ff_clock_now_ms(void)
{
    struct timeval tv;
    if (clock_mode == FF_CLOCK_FIXED)
        return fixed_ms;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

void ff_clock_set_event_mode(int on)
{
    event_mode = on;
    event_high = INT64_MIN;
}

int ff_clock_event_mode(void)
{
    return event_mode;
}

void ff_clock_observe_event(int64_t ts)
{
    if (event_mode && ts > event_high)
        event_high = ts;
}

int64_t ff_clock_state_ms(void)
{
    if (event_mode && event_high != INT64_MIN)
        return event_high;
    return ff_clock_now_ms();
}
