/* footfall-geofence: store visits and consent in, NEARBY offers and staff heads-ups out. */
#include "ff_proc.h"
#include "geofence_proc.h"

int main(int argc, char **argv)
{
    return ff_proc_main(&geofence_processor, argc, argv);
}
