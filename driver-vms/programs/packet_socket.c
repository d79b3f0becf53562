/* The packet socket of net-bridge and l2-echo (see packet_socket.h). */
#define _DEFAULT_SOURCE /* struct ifreq, IFF_UP */

#include "packet_socket.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int packet_socket_open(const char *program, const struct packet_socket_options *options)
{
    const char *interface = options->interface;
    int sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (sock < 0) {
        fprintf(stderr, "%s: error: cannot open a packet socket: %s (is CONFIG_PACKET set?)\n",
                program, strerror(errno));
        return -1;
    }
    struct ifreq ifr = {0};
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", interface);
    if (ioctl(sock, SIOCGIFINDEX, &ifr) < 0) {
        fprintf(stderr, "%s: error: no network interface \"%s\": %s\n", program, interface,
                strerror(errno));
        goto fail;
    }
    int ifindex = ifr.ifr_ifindex;
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
        fprintf(stderr, "%s: error: cannot read the flags of \"%s\": %s\n", program, interface,
                strerror(errno));
        goto fail;
    }
    if (!(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) {
            fprintf(stderr, "%s: error: cannot bring \"%s\" up: %s\n", program, interface,
                    strerror(errno));
            goto fail;
        }
    }
    struct sockaddr_ll addr = {
        .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex};
    if (bind(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
        fprintf(stderr, "%s: error: cannot bind the packet socket to \"%s\": %s\n", program,
                interface, strerror(errno));
        goto fail;
    }
    struct packet_mreq promisc = {.mr_ifindex = ifindex, .mr_type = PACKET_MR_PROMISC};
    if (setsockopt(sock, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &promisc, sizeof promisc) < 0) {
        fprintf(stderr, "%s: error: cannot make \"%s\" promiscuous: %s\n", program, interface,
                strerror(errno));
        goto fail;
    }
    /*
     * Frames must reach the queues as they came off the wire: generic
     * receive offload would hand the socket merged TCP segments longer
     * than a buffer. Not fatal: UDP, the echo's traffic, is not merged.
     */
    struct ethtool_value gro_off = {.cmd = ETHTOOL_SGRO, .data = 0};
    ifr.ifr_data = (char *)&gro_off;
    if (ioctl(sock, SIOCETHTOOL, &ifr) < 0) {
        fprintf(stderr, "%s: warning: cannot turn off GRO on \"%s\": %s\n", program, interface,
                strerror(errno));
    }
    int one = 1;
    /* Not fatal: packet_socket_receive skips outgoing frames itself. */
    (void)setsockopt(sock, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    if (options->qdisc_bypass &&
        setsockopt(sock, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0) {
        fprintf(stderr, "%s: error: cannot bypass the queueing discipline: %s\n", program,
                strerror(errno));
        goto fail;
    }
    if (options->receive_buffer_bytes != 0) {
        /* FORCE: beyond rmem_max, as root; otherwise as much as rmem_max allows. */
        uint64_t want = options->receive_buffer_bytes;
        int rcvbuf = want > INT_MAX / 2 ? INT_MAX / 2 : (int)want;
        if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) {
            (void)setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
        }
    }
    return sock;
fail:
    close(sock);
    return -1;
}

long packet_socket_receive(int sock, unsigned char *buf, size_t capacity)
{
    for (;;) {
        struct sockaddr_ll from;
        socklen_t from_len = sizeof from;
        /* MSG_TRUNC: the whole length comes back, so a frame cut short is told apart. */
        ssize_t n = recvfrom(sock, buf, capacity, MSG_DONTWAIT | MSG_TRUNC,
                             (struct sockaddr *)&from, &from_len);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                return 0;
            }
            return -errno;
        }
        /* Our own transmissions, where PACKET_IGNORE_OUTGOING is missing. */
        if (from.sll_pkttype == PACKET_OUTGOING) {
            continue;
        }
        return (long)n;
    }
}

int packet_socket_send(int sock, const unsigned char *frame, size_t len,
                       const volatile sig_atomic_t *stop)
{
    ssize_t n;
    do {
        n = send(sock, frame, len, 0);
    } while (n < 0 && errno == EINTR && !*stop);
    return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}
