/* footfall-web: web clickstream in, rolling intent and INVITE offers out. */
#include "ff_proc.h"
#include "web_proc.h"

int main(int argc, char **argv)
{
    return ff_proc_main(&web_processor, argc, argv);
}
