/* footfall-pos: point-of-sale transactions in, offer conversions out. */
#include "ff_proc.h"
#include "pos_proc.h"

int main(int argc, char **argv)
{
    return ff_proc_main(&pos_processor, argc, argv);
}
