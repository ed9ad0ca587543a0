/* ff_map: a string-keyed hash map of pointers (open addressing, linear probing). */
#include "ff_map.h"

#include <stdlib.h>
#include <string.h>

#include "ff_util.h"

void ff_map_init(ff_map_t *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
}

void ff_map_clear(ff_map_t *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->slots[i].key);
        m->slots[i].key = NULL;
    }
    m->count = 0;
}

void ff_map_term(ff_map_t *m)
{
    ff_map_clear(m);
    free(m->slots);
    ff_map_init(m);
}

static size_t find(const ff_map_t *m, const char *key, size_t klen, unsigned long long h)
{
    size_t i = (size_t)h & (m->cap - 1);
    for (;;) {
        const ff_map_entry_t *e = &m->slots[i];
        if (!e->key || (e->hash == h && e->klen == klen && !memcmp(e->key, key, klen)))
            return i;
        i = (i + 1) & (m->cap - 1);
    }
}

static void grow(ff_map_t *m)
{
    ff_map_entry_t *old = m->slots;
    size_t oldcap = m->cap;
    m->cap = m->cap ? m->cap * 2 : 16;
    m->slots = ff_calloc(m->cap, sizeof(*m->slots));
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].key)
            m->slots[find(m, old[i].key, old[i].klen, old[i].hash)] = old[i];
    free(old);
}

void *ff_map_get(const ff_map_t *m, const char *key, size_t klen)
{
    size_t i;
    if (!m->count)
        return NULL;
    i = find(m, key, klen, ff_hash64(key, klen, 0));
    return m->slots[i].key ? m->slots[i].value : NULL;
}

void *ff_map_put(ff_map_t *m, const char *key, size_t klen, void *value)
{
    unsigned long long h = ff_hash64(key, klen, 0);
    size_t i;
    if ((m->count + 1) * 4 > m->cap * 3)
        grow(m);
    i = find(m, key, klen, h);
    if (m->slots[i].key) {
        void *prev = m->slots[i].value;
        m->slots[i].value = value;
        return prev;
    }
    m->slots[i].key = ff_strndup(key, klen);
    m->slots[i].klen = klen;
    m->slots[i].hash = h;
    m->slots[i].value = value;
    m->count++;
    return NULL;
}

void *ff_map_del(ff_map_t *m, const char *key, size_t klen)
{
    size_t i, j;
    void *value;
    if (!m->count)
        return NULL;
    i = find(m, key, klen, ff_hash64(key, klen, 0));
    if (!m->slots[i].key)
        return NULL;
    value = m->slots[i].value;
    free(m->slots[i].key);
    m->slots[i].key = NULL;
    m->count--;
    /* Re-place the rest of the probe run (backward-shift deletion). */
    j = (i + 1) & (m->cap - 1);
    while (m->slots[j].key) {
        ff_map_entry_t e = m->slots[j];
        m->slots[j].key = NULL;
        m->slots[find(m, e.key, e.klen, e.hash)] = e;
        j = (j + 1) & (m->cap - 1);
    }
    return value;
}

void ff_map_each(const ff_map_t *m, void (*fn)(const char *key, void *value, void *opaque),
                 void *opaque)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            fn(m->slots[i].key, m->slots[i].value, opaque);
}
