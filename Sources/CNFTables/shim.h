// Debian's libnftables-dev: submit a ruleset as `nft -f` reads it, in one call and one
// kernel transaction (the service proxy's rules).
#ifndef SHOAL_CNFTABLES_SHIM_H
#define SHOAL_CNFTABLES_SHIM_H
#include <nftables/libnftables.h>
#endif
