// Debian's libuv1-dev: the event loop, timers, TCP and async wake-ups (Transport module).
#ifndef SHOAL_CLIBUV_SHIM_H
#define SHOAL_CLIBUV_SHIM_H
#include <uv.h>
#endif
