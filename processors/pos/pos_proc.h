/* pos_proc: footfall-pos as a processor definition. */
#ifndef POS_PROC_H
#define POS_PROC_H

#include "ff_proc.h"

extern const ff_processor_t pos_processor;

#endif
