/* ff_embedded: the schemas and scripts compiled into every binary (see tools/embed.sh). */
#ifndef FF_EMBEDDED_H
#define FF_EMBEDDED_H

typedef struct ff_embedded_file_s {
    const char *path; /* as in the source tree: "schemas/web_event.avsc" */
    const char *text;
} ff_embedded_file_t;

extern const ff_embedded_file_t ff_embedded_files[];
extern const unsigned ff_embedded_files_count;

/* The text of an embedded file, or NULL. */
const char *ff_embedded_get(const char *path);

#endif
