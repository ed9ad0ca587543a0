/* ff_clock: the one place footfall reads the time, injectable for tests and replays. */
#ifndef FF_CLOCK_H
#define FF_CLOCK_H

#include <stdint.h>
#include <stddef.h>

typedef enum {
    FF_CLOCK_WALL = 0, /* the system clock */
    FF_CLOCK_FIXED,    /* FOOTFALL_NOW: frozen at one instant */
} ff_clock_mode_t;

/* Reads FOOTFALL_NOW (epoch milliseconds or an RFC 3339 UTC time) if set.
 * 0 on success; -1 with errstr set if the variable is malformed. */
int ff_clock_init_from_env(char *errstr, size_t errstr_size);
/* Freezes the clock at ms (tests). */
void ff_clock_set_fixed(int64_t ms);
void ff_clock_set_wall(void);
ff_clock_mode_t ff_clock_mode(void);

/* "Now" for the freshness guard and input validation: the wall clock or
 * FOOTFALL_NOW. */
int64_t ff_clock_now_ms(void);

/* Event-time mode (a replay's --clock=event): the state clock, which decides
 * what is too old for a window and how long a bucket lives, follows the
 * highest event time seen instead of the wall clock. The freshness guard
 * keeps using ff_clock_now_ms(), so a replay never sends a stale offer. */
void ff_clock_set_event_mode(int on);
int ff_clock_event_mode(void);
/* Feeds an event time to the event-time clock (no-op in other modes). */
void ff_clock_observe_event(int64_t ts);
/* "Now" for windows and TTLs. */
int64_t ff_clock_state_ms(void);

#endif
