// Debian's libnftables-dev: submit a ruleset as `nft -f` reads it, in one call and one
// kernel transaction (the service proxy's rules); and the few kernel definitions the proxy's
// own netlink messages need, declared here rather than included (including the system's
// socket headers into this module clashes with Glibc's module in a clean build).
#ifndef SHOAL_CNFTABLES_SHIM_H
#define SHOAL_CNFTABLES_SHIM_H
#include <nftables/libnftables.h>

// struct sockaddr_nl (linux/netlink.h): the kernel's netlink address.
struct shoal_sockaddr_nl {
    unsigned short nl_family;
    unsigned short nl_pad;
    unsigned int nl_pid;
    unsigned int nl_groups;
};

// setns(2) without _GNU_SOURCE: a thread enters another network namespace (tests program a
// scratch namespace from the test process).
extern int setns(int fd, int nstype);
static const int shoal_clone_newnet = 0x40000000; /* CLONE_NEWNET */
#endif
