/* geofence_proc: footfall-geofence as a processor definition. */
#ifndef GEOFENCE_PROC_H
#define GEOFENCE_PROC_H

#include "ff_proc.h"

extern const ff_processor_t geofence_processor;

#endif
