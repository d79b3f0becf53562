/* The fake guest of test_loadgen_engine.c: see loadgen_fake_peer.h. */
#define _POSIX_C_SOURCE 200809L

#include "loadgen_fake_peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const struct lg_endpoint fake_peer_client0 = {
    .mac = {0x52, 0x54, 0x00, 0x00, 0x00, 0x10}, .ip = 0x0a00000a, .port = 1235};
const struct lg_endpoint fake_peer_client1 = {
    .mac = {0x52, 0x54, 0x00, 0x00, 0x00, 0x11}, .ip = 0x0a00000b, .port = 1236};

uint16_t free_udp_port(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof address;
    if (fd < 0 || bind(fd, (struct sockaddr *)&address, sizeof address) != 0 ||
        getsockname(fd, (struct sockaddr *)&address, &len) != 0) {
        perror("free_udp_port");
        exit(1);
    }
    close(fd);
    return ntohs(address.sin_port);
}

static void peer_send(struct fake_peer *peer, const uint8_t *frame, size_t len)
{
    struct sockaddr_in to = {.sin_family = AF_INET,
                             .sin_port = htons(peer->loadgen_port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (sendto(peer->fd, frame, len, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)len) {
        perror("fake peer sendto");
    }
}

static int client_by_ip(struct fake_peer *peer, uint32_t ip)
{
    for (int c = 0; c < 2; c++) {
        if (peer->clients[c].ip == ip) {
            return c;
        }
    }
    return -1;
}

static void answer_arp(struct fake_peer *peer, const struct lg_frame *request)
{
    if (request->arp.op == LG_ARP_OP_REPLY) {
        peer->arp_replies_from_loadgen++;
        return;
    }
    int c = client_by_ip(peer, request->arp.target_ip);
    if (c < 0) {
        return;
    }
    struct lg_endpoint client = peer->clients[c];
    if (peer->fault == FAULT_WRONG_ARP_MAC && (size_t)c == peer->faulty_client) {
        client.mac[5] ^= 0x80;
    }
    uint8_t frame[64];
    size_t len =
        lg_build_arp(frame, sizeof frame, LG_ARP_OP_REPLY, &client, request->arp.sender_mac,
                     request->arp.sender_mac, request->arp.sender_ip);
    peer_send(peer, frame, len);
}

static struct lg_endpoint sender_of(const struct lg_frame *request)
{
    struct lg_endpoint sender = {.ip = request->ip.src, .port = request->udp.src_port};
    memcpy(sender.mac, request->eth_src, LG_MAC_LEN);
    return sender;
}

static void answer_ping(struct fake_peer *peer, int c, const struct lg_frame *request)
{
    uint8_t payload[LG_MAX_ICMP_PAYLOAD], frame[LG_MAX_FRAME_LEN];
    memcpy(payload, request->payload, request->payload_len);
    if (peer->fault == FAULT_BAD_PING_PAYLOAD && (size_t)c == peer->faulty_client &&
        peer->pings_seen[c] == 2) {
        payload[request->payload_len - 1] ^= 0x01;
    }
    peer->pings_seen[c]++;
    struct lg_endpoint sender = sender_of(request);
    size_t len =
        lg_build_icmp_echo(frame, sizeof frame, LG_ICMP_ECHO_REPLY, &peer->clients[c], &sender,
                           request->icmp.id, request->icmp.seq, payload, request->payload_len);
    peer_send(peer, frame, len);
}

static void answer_udp(struct fake_peer *peer, int c, const struct lg_frame *request)
{
    if (request->udp.dst_port != peer->clients[c].port) {
        return;
    }
    unsigned nth = peer->udp_seen[c]++;
    bool faulty = (size_t)c == peer->faulty_client;
    if (faulty && peer->fault == FAULT_DROP_EVERY_10TH && nth % 10 == 9) {
        return;
    }
    struct lg_endpoint self = peer->clients[c];
    if (faulty && peer->fault == FAULT_WRONG_PORT) {
        self.port++;
    }
    struct lg_endpoint sender = sender_of(request);
    uint8_t frame[LG_MAX_FRAME_LEN];
    size_t len =
        lg_build_udp(frame, sizeof frame, &self, &sender, request->payload, request->payload_len);
    size_t udp = LG_ETH_HEADER_LEN + LG_IPV4_HEADER_LEN;
    if (faulty && nth == 5 && peer->fault == FAULT_CORRUPT_ONE) {
        frame[len - 1] ^= 0x40;
        frame[udp + 6] = frame[udp + 7] = 0; /* no checksum: only the content check can tell */
    }
    if (faulty && nth == 5 && peer->fault == FAULT_CORRUPT_CHECKSUMED) {
        frame[len - 1] ^= 0x40;
    }
    if (faulty && nth == 99 && peer->fault == FAULT_HOLD_ONE) {
        memcpy(peer->held, frame, len);
        peer->held_len = len;
        clock_gettime(CLOCK_MONOTONIC, &peer->release_at);
        peer->release_at.tv_sec += (peer->release_at.tv_nsec + 600000000L) / 1000000000L;
        peer->release_at.tv_nsec = (peer->release_at.tv_nsec + 600000000L) % 1000000000L;
        return;
    }
    peer_send(peer, frame, len);
    if (faulty && nth == 5 && peer->fault == FAULT_DUPLICATE_ONE) {
        peer_send(peer, frame, len);
    }
    if (faulty && nth == 0 && peer->fault == FAULT_STALE_AND_NOISE) {
        /* The same echo as if from a previous run (another run id)... */
        frame[udp + 8 + 4] ^= 0xff;
        frame[udp + 6] = frame[udp + 7] = 0;
        peer_send(peer, frame, len);
        /* ...a frame with a broken IPv4 header checksum... */
        frame[LG_ETH_HEADER_LEN + 8] ^= 1;
        peer_send(peer, frame, len);
        /* ...and an ARP request for the load generator's own address. */
        len = lg_build_arp_request(frame, sizeof frame, &peer->clients[c], sender.ip);
        peer_send(peer, frame, len);
    }
}

static void peer_handle(struct fake_peer *peer, const uint8_t *data, size_t len)
{
    struct lg_frame request;
    if (lg_parse_frame(data, len, &request) != LG_PARSE_OK) {
        fprintf(stderr, "fake peer: malformed frame from the load generator\n");
        return;
    }
    if (request.kind == LG_FRAME_ARP) {
        answer_arp(peer, &request);
        return;
    }
    int c = client_by_ip(peer, request.ip.dst);
    if (c < 0 || memcmp(request.eth_dst, peer->clients[c].mac, LG_MAC_LEN) != 0) {
        return;
    }
    if (request.kind == LG_FRAME_ICMP_ECHO && request.icmp.type == LG_ICMP_ECHO_REQUEST) {
        answer_ping(peer, c, &request);
    } else if (request.kind == LG_FRAME_UDP) {
        answer_udp(peer, c, &request);
    }
}

static void *peer_main(void *arg)
{
    struct fake_peer *peer = arg;
    if (peer->start_delay_ms > 0) {
        struct timespec delay = {.tv_sec = peer->start_delay_ms / 1000,
                                 .tv_nsec = (long)(peer->start_delay_ms % 1000) * 1000000};
        nanosleep(&delay, NULL);
    }
    peer->fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in address = {.sin_family = AF_INET,
                                  .sin_port = htons(peer->qemu_port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (peer->fd < 0 || bind(peer->fd, (struct sockaddr *)&address, sizeof address) != 0) {
        perror("fake peer bind");
        exit(1);
    }
    uint8_t buffer[2048];
    while (!atomic_load(&peer->stop)) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (peer->held_len > 0 &&
            (now.tv_sec > peer->release_at.tv_sec ||
             (now.tv_sec == peer->release_at.tv_sec && now.tv_nsec >= peer->release_at.tv_nsec))) {
            peer_send(peer, peer->held, peer->held_len);
            peer->held_len = 0;
        }
        struct pollfd poll_fd = {.fd = peer->fd, .events = POLLIN};
        if (poll(&poll_fd, 1, 10) <= 0) {
            continue;
        }
        ssize_t got = recv(peer->fd, buffer, sizeof buffer, 0);
        if (got > 0 && peer->fault != FAULT_SILENT) {
            peer_handle(peer, buffer, (size_t)got);
        }
    }
    close(peer->fd);
    return NULL;
}

void fake_peer_start(struct fake_peer *peer)
{
    atomic_store(&peer->stop, false);
    if (pthread_create(&peer->thread, NULL, peer_main, peer) != 0) {
        perror("fake peer thread");
        exit(1);
    }
}

void fake_peer_stop(struct fake_peer *peer)
{
    atomic_store(&peer->stop, true);
    pthread_join(peer->thread, NULL);
}
