/* The UDP socket between the load generator and QEMU's socket netdev. */
#define _POSIX_C_SOURCE 200809L

#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*
 * Room for bursts: QEMU writes the guest's frames as fast as the guest sends
 * them, and a full receive buffer drops them, which would read as loss.
 * The kernel caps this at net.core.rmem_max; asking for more is harmless.
 */
enum { SOCKET_BUFFER_BYTES = 4 << 20 };

static struct sockaddr_in loopback(uint16_t port)
{
    struct sockaddr_in address;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

bool lg_net_open(struct lg_net *net, uint16_t listen_port, uint16_t qemu_port, char *error,
                 size_t error_len)
{
    net->qemu = loopback(qemu_port);
    net->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (net->fd < 0) {
        snprintf(error, error_len, "cannot create a UDP socket: %s", strerror(errno));
        return false;
    }
    int buffer = SOCKET_BUFFER_BYTES;
    (void)setsockopt(net->fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    (void)setsockopt(net->fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
    struct sockaddr_in local = loopback(listen_port);
    if (bind(net->fd, (const struct sockaddr *)&local, sizeof local) != 0) {
        snprintf(error, error_len, "cannot listen on 127.0.0.1:%u (--listen): %s",
                 (unsigned)listen_port, strerror(errno));
        close(net->fd);
        net->fd = -1;
        return false;
    }
    return true;
}

void lg_net_close(struct lg_net *net)
{
    if (net->fd >= 0) {
        close(net->fd);
        net->fd = -1;
    }
}

enum lg_send_result lg_net_send(struct lg_net *net, const uint8_t *frame, size_t len)
{
    for (;;) {
        ssize_t sent =
            sendto(net->fd, frame, len, 0, (const struct sockaddr *)&net->qemu, sizeof net->qemu);
        if (sent == (ssize_t)len) {
            return LG_SEND_OK;
        }
        if (sent >= 0) {
            errno = EMSGSIZE; /* a datagram socket never sends part of one */
            return LG_SEND_FAILED;
        }
        switch (errno) {
        case EINTR:
            continue;
        case ECONNREFUSED:
            /*
             * An earlier datagram found nobody listening (QEMU not up yet);
             * the error is reported once, and this datagram was not sent.
             */
            continue;
        case EAGAIN:
#if EWOULDBLOCK != EAGAIN
        case EWOULDBLOCK:
#endif
        case ENOBUFS:
            return LG_SEND_BUSY;
        default:
            return LG_SEND_FAILED;
        }
    }
}

int lg_net_receive(struct lg_net *net, uint8_t *buffer, size_t capacity, size_t *len,
                   bool *from_qemu)
{
    for (;;) {
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        ssize_t got = recvfrom(net->fd, buffer, capacity, 0, (struct sockaddr *)&from, &from_len);
        if (got >= 0) {
            *from_qemu = from_len >= sizeof from && from.sin_family == AF_INET &&
                         from.sin_port == net->qemu.sin_port &&
                         from.sin_addr.s_addr == net->qemu.sin_addr.s_addr;
            *len = (size_t)got;
            return 1;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return 0;
        }
        /* A pending error from an earlier send to a port nobody listened on: not about this read.
         */
        if (errno != EINTR && errno != ECONNREFUSED) {
            return -1;
        }
    }
}

bool lg_net_wait(struct lg_net *net, int timeout_ms)
{
    struct pollfd poll_fd = {.fd = net->fd, .events = POLLIN};
    int ready = poll(&poll_fd, 1, timeout_ms < 0 ? 0 : timeout_ms);
    return ready >= 0 || errno == EINTR;
}

bool lg_host_udp_rcvbuf_errors(uint64_t *count)
{
    FILE *snmp = fopen("/proc/net/snmp", "r");
    if (snmp == NULL) {
        return false;
    }
    /* Two "Udp:" lines: the field names, then their values in the same order. */
    char names[1024], values[1024];
    bool found = false;
    while (!found && fgets(names, sizeof names, snmp) != NULL) {
        if (strncmp(names, "Udp: ", 5) == 0 && fgets(values, sizeof values, snmp) != NULL &&
            strncmp(values, "Udp: ", 5) == 0) {
            char *name_save, *value_save;
            char *name = strtok_r(names, " \n", &name_save);
            char *value = strtok_r(values, " \n", &value_save);
            for (; name != NULL && value != NULL; name = strtok_r(NULL, " \n", &name_save),
                                                  value = strtok_r(NULL, " \n", &value_save)) {
                if (strcmp(name, "RcvbufErrors") == 0) {
                    *count = strtoull(value, NULL, 10);
                    found = true;
                    break;
                }
            }
        }
    }
    fclose(snmp);
    return found;
}

uint64_t lg_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
}
