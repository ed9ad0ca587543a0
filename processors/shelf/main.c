/* footfall-shelf: smart-shelf readings in, debounced stock alerts out. */
#include "ff_proc.h"
#include "shelf_proc.h"

int main(int argc, char **argv)
{
    return ff_proc_main(&shelf_processor, argc, argv);
}
