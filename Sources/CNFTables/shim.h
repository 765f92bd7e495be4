// Debian's libnftables-dev: submit a ruleset as `nft -f` reads it, in one call and one
// kernel transaction (the service proxy's rules); and the kernel's netlink address for the
// element batches the proxy sends nf_tables itself.
#ifndef SHOAL_CNFTABLES_SHIM_H
#define SHOAL_CNFTABLES_SHIM_H
#include <nftables/libnftables.h>
#include <sys/socket.h>
#include <linux/netlink.h>

// setns(2) without _GNU_SOURCE: a thread enters another network namespace (tests program a
// scratch namespace from the test process).
extern int setns(int fd, int nstype);
static const int shoal_clone_newnet = 0x40000000; /* CLONE_NEWNET */
#endif
