/* A TUN device created inside a named network namespace. */
#ifndef LINKEM_TUN_H
#define LINKEM_TUN_H

/*
 * Enters the namespace at ns_path (e.g. /run/netns/NAME) and creates the
 * TUN device `name` there (layer 3, no packet information header). The
 * device lives while the returned non-blocking fd is open. Returns the fd,
 * or -1 with a message on stderr.
 */
int tun_open_in_netns(const char* ns_path, const char* name);

#endif
