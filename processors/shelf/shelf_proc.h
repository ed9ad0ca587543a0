/* shelf_proc: footfall-shelf as a processor definition (inputs, state, engine callbacks). */
#ifndef SHELF_PROC_H
#define SHELF_PROC_H

#include "ff_proc.h"

extern const ff_processor_t shelf_processor;

#endif
