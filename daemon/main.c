/*
 * main.c: gatehoused entry point (being written).
 */
#include "log.h"

int
main(int argc, char **argv)
{
	log_info("gatehoused starting");
	return 0;
}
