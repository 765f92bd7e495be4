// Debian's liblz4-dev: the lz4 frame format, so snapshots are readable by the stock `lz4 -d`.
#ifndef SHOAL_CLZ4_SHIM_H
#define SHOAL_CLZ4_SHIM_H
#include <lz4.h>
#include <lz4frame.h>
#endif
