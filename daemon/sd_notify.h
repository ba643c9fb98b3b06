#ifndef DAEMON_SD_NOTIFY_H
#define DAEMON_SD_NOTIFY_H

/* systemd's notification protocol without libsystemd (../shared/docs/misc-specs.md a).
 * Main thread. */

#include <stdint.h>

/* Sends one datagram of "KEY=VALUE\n…" to $NOTIFY_SOCKET. 0 when sent or when there is no
 * socket (not supervised); -1 on error. */
int sd_notify_send(const char *msg);
/* The watchdog interval in microseconds when systemd asked for pings for this process, else 0. */
uint64_t sd_watchdog_usec(void);

#endif
