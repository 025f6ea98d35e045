#include <stdio.h>
#include "ctl.h"
int cmd_directory(int argc, char **argv) { (void)argc; (void)argv; return CTL_USAGE; }
int cmd_prices(int argc, char **argv) { (void)argc; (void)argv; return CTL_USAGE; }
int cmd_report(int argc, char **argv) { (void)argc; (void)argv; return CTL_USAGE; }
int cmd_reattribute(int argc, char **argv) { (void)argc; (void)argv; return CTL_USAGE; }
