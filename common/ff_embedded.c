/* ff_embedded: lookup of the schemas and scripts compiled into every binary. */
#include "ff_embedded.h"

#include <string.h>

const char *ff_embedded_get(const char *path)
{
    for (unsigned i = 0; i < ff_embedded_files_count; i++)
        if (!strcmp(ff_embedded_files[i].path, path))
            return ff_embedded_files[i].text;
    return NULL;
}
