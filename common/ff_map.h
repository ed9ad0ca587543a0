/* ff_map: a string-keyed hash map of pointers (open addressing, linear probing). */
#ifndef FF_MAP_H
#define FF_MAP_H

#include <stddef.h>

typedef struct ff_map_entry_s {
    char *key; /* owned by the map */
    size_t klen;
    unsigned long long hash;
    void *value;
} ff_map_entry_t;

typedef struct ff_map_s {
    ff_map_entry_t *slots;
    size_t cap; /* power of two */
    size_t count;
} ff_map_t;

void ff_map_init(ff_map_t *m);
/* Frees the keys; values are the caller's (free them first with ff_map_each). */
void ff_map_term(ff_map_t *m);
/* Removes every entry (keys freed), keeping the table allocated. */
void ff_map_clear(ff_map_t *m);
void *ff_map_get(const ff_map_t *m, const char *key, size_t klen);
/* Inserts or replaces; returns the previous value or NULL. */
void *ff_map_put(ff_map_t *m, const char *key, size_t klen, void *value);
/* Removes key; returns its value or NULL. */
void *ff_map_del(ff_map_t *m, const char *key, size_t klen);
/* Calls fn(key, value, opaque) for each entry. */
void ff_map_each(const ff_map_t *m, void (*fn)(const char *key, void *value, void *opaque),
                 void *opaque);

#endif
