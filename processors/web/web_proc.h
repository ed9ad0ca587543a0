/* web_proc: footfall-web as a processor definition. */
#ifndef WEB_PROC_H
#define WEB_PROC_H

#include "ff_proc.h"

extern const ff_processor_t web_processor;

#endif
