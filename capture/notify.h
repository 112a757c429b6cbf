/*
 * notify - the service manager's readiness and status protocol
 * (sd_notify(3)): one datagram of "KEY=VALUE" lines to the unix socket named
 * by $NOTIFY_SOCKET, which systemd sets for Type=notify units. So
 * `systemctl status migscope-capture` shows what the agent keeps, drops and
 * has lost, and systemd knows when the programs are attached. The protocol
 * is a stable, documented interface of a few lines; linking libsystemd for
 * it would add a dependency for one sendmsg (design §9).
 *
 * notify_send() returns 1 when sent, 0 when not run by a service manager
 * (no $NOTIFY_SOCKET), or -errno.
 */
#ifndef MIGSCOPE_CAPTURE_NOTIFY_H
#define MIGSCOPE_CAPTURE_NOTIFY_H

int notify_send(const char *state);

#endif
