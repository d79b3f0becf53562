/* The load generator's results: a summary for people, a JSON document for the experiment runner. */
#include "atomic_file.h"
#include "loadgen.h"

#include <jansson.h>
#include <string.h>

static const char *arp_text(enum lg_arp_result arp)
{
    switch (arp) {
    case LG_ARP_NOT_RUN:
        return "not run";
    case LG_ARP_OK:
        return "ok";
    case LG_ARP_NO_REPLY:
        return "no reply";
    case LG_ARP_WRONG_MAC:
        return "wrong MAC";
    }
    return "unknown";
}

static void print_target(FILE *out, const struct lg_config *config, const struct lg_report *report,
                         size_t t)
{
    const struct lg_endpoint *address = &config->targets[t];
    const struct lg_target_report *row = &report->targets[t];
    char mac[LG_MAC_TEXT_LEN], ip[LG_IPV4_TEXT_LEN];
    lg_format_mac(address->mac, mac);
    lg_format_ipv4(address->ip, ip);
    fprintf(out, "target %zu %s %s:%u:", t, mac, ip, (unsigned)address->port);
    if (report->arp_run) {
        fprintf(out, " arp %s", arp_text(row->arp));
        if (row->arp == LG_ARP_WRONG_MAC) {
            char seen[LG_MAC_TEXT_LEN];
            lg_format_mac(row->arp_mac_seen, seen);
            fprintf(out, " (%s)", seen);
        }
        fputc(';', out);
    }
    if (report->ping_run) {
        const struct lg_echo_counts *ping = &row->ping;
        fprintf(out, " ping sent %llu replied %llu bad %llu lost %llu;",
                (unsigned long long)ping->sent, (unsigned long long)ping->echoed,
                (unsigned long long)(ping->corrupted + ping->duplicated),
                (unsigned long long)ping->lost);
    }
    if (report->udp_run) {
        const struct lg_echo_counts *udp = &row->udp;
        fprintf(out, " udp sent %llu echoed %llu lost %llu corrupted %llu duplicated %llu;",
                (unsigned long long)udp->sent, (unsigned long long)udp->echoed,
                (unsigned long long)udp->lost, (unsigned long long)udp->corrupted,
                (unsigned long long)udp->duplicated);
    }
    fprintf(out, " unexpected %llu\n", (unsigned long long)row->unexpected);
}

void lg_report_print(FILE *out, const struct lg_config *config, const struct lg_report *report)
{
    fprintf(out, "pinion-loadgen %s: %zu target%s", lg_mode_name(config->mode),
            config->target_count, config->target_count == 1 ? "" : "s");
    if (report->udp_run) {
        fprintf(out, ", %llu datagrams of %u bytes", (unsigned long long)config->packets,
                (unsigned)config->size);
    }
    if (report->ping_run) {
        fprintf(out, ", %u pings each", (unsigned)config->pings);
    }
    fprintf(out, ", window %u\n", (unsigned)config->window);
    for (size_t t = 0; t < config->target_count; t++) {
        print_target(out, config, report, t);
    }
    if (report->ping_run) {
        const struct lg_echo_counts *ping = &report->ping_total;
        fprintf(out, "total ping: sent %llu replied %llu bad %llu lost %llu\n",
                (unsigned long long)ping->sent, (unsigned long long)ping->echoed,
                (unsigned long long)(ping->corrupted + ping->duplicated),
                (unsigned long long)ping->lost);
    }
    if (report->udp_run) {
        const struct lg_echo_counts *udp = &report->udp_total;
        fprintf(out,
                "total udp: sent %llu echoed %llu lost %llu corrupted %llu duplicated %llu"
                " (late %llu)\n",
                (unsigned long long)udp->sent, (unsigned long long)udp->echoed,
                (unsigned long long)udp->lost, (unsigned long long)udp->corrupted,
                (unsigned long long)udp->duplicated, (unsigned long long)udp->late);
    }
    const struct {
        bool stalled;
        const char *what;
    } stalls[] = {{report->ping_stalled, "pings"}, {report->udp_stalled, "datagrams"}};
    for (size_t s = 0; s < 2; s++) {
        if (stalls[s].stalled) {
            fprintf(out, "stopped sending %s after %d timeouts in a row without an echo\n",
                    stalls[s].what, LG_STALLED_TIMEOUTS);
        }
    }
    fprintf(out, "unexpected frames: %llu", (unsigned long long)report->unexpected_total);
    const char *separator = " (";
    for (int r = 0; r < LG_UNEXPECTED_REASONS; r++) {
        if (report->unexpected_by_reason[r] > 0) {
            fprintf(out, "%s%s %llu", separator, lg_unexpected_reason_name(r),
                    (unsigned long long)report->unexpected_by_reason[r]);
            separator = ", ";
        }
    }
    fputs(separator[0] == ',' ? ")\n" : "\n", out);
    for (int s = 1; s < LG_PARSE_STATUSES; s++) {
        if (report->malformed_by_status[s] > 0) {
            fprintf(out, "  malformed: %s: %llu\n", lg_parse_status_text(s),
                    (unsigned long long)report->malformed_by_status[s]);
        }
    }
    if (report->host_rcvbuf_drops > 0) {
        fprintf(out,
                "host UDP receive buffers overflowed %lld times during the run (all sockets):"
                " loss there is the host's, most likely QEMU's socket; try a smaller --window\n",
                (long long)report->host_rcvbuf_drops);
    }
    fprintf(out, "elapsed %.2f s (wall clock under QEMU: informational only)\n", report->elapsed_s);
    fprintf(out, "result: %s\n", lg_report_ok(report, config->target_count) ? "ok" : "FAILED");
}

static json_t *echo_counts_json(const struct lg_echo_counts *counts)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "sent", (json_int_t)counts->sent, "echoed",
                     (json_int_t)counts->echoed, "lost", (json_int_t)counts->lost, "corrupted",
                     (json_int_t)counts->corrupted, "duplicated", (json_int_t)counts->duplicated,
                     "late", (json_int_t)counts->late);
}

static json_t *ping_json(bool run, const struct lg_echo_counts *ping)
{
    if (!run) {
        return json_null();
    }
    return json_pack(
        "{s:I, s:I, s:I, s:I}", "sent", (json_int_t)ping->sent, "replied", (json_int_t)ping->echoed,
        "bad", (json_int_t)(ping->corrupted + ping->duplicated), "lost", (json_int_t)ping->lost);
}

static json_t *target_json(const struct lg_config *config, const struct lg_report *report, size_t t)
{
    const struct lg_endpoint *address = &config->targets[t];
    const struct lg_target_report *row = &report->targets[t];
    char mac[LG_MAC_TEXT_LEN], ip[LG_IPV4_TEXT_LEN];
    lg_format_mac(address->mac, mac);
    lg_format_ipv4(address->ip, ip);
    json_t *object = json_pack("{s:s, s:s, s:i}", "mac", mac, "ip", ip, "port", (int)address->port);
    json_t *udp = echo_counts_json(&row->udp);
    json_object_update(object, udp);
    json_decref(udp);
    json_object_set_new(object, "unexpected", json_integer((json_int_t)row->unexpected));
    json_object_set_new(object, "arp",
                        report->arp_run ? json_string(row->arp == LG_ARP_OK ? "ok" : "failed")
                                        : json_null());
    json_object_set_new(object, "arp_detail",
                        report->arp_run ? json_string(arp_text(row->arp)) : json_null());
    json_object_set_new(object, "ping", ping_json(report->ping_run, &row->ping));
    return object;
}

static json_t *report_json(const struct lg_config *config, const struct lg_report *report)
{
    json_t *targets = json_array();
    for (size_t t = 0; t < config->target_count; t++) {
        json_array_append_new(targets, target_json(config, report, t));
    }
    json_t *total = echo_counts_json(&report->udp_total);
    json_object_set_new(total, "unexpected", json_integer((json_int_t)report->unexpected_total));
    json_object_set_new(total, "ping", ping_json(report->ping_run, &report->ping_total));
    json_object_set_new(total, "udp_stalled", json_boolean(report->udp_stalled));
    json_object_set_new(total, "ping_stalled", json_boolean(report->ping_stalled));
    json_t *reasons = json_object();
    for (int r = 0; r < LG_UNEXPECTED_REASONS; r++) {
        json_object_set_new(reasons, lg_unexpected_reason_name(r),
                            json_integer((json_int_t)report->unexpected_by_reason[r]));
    }
    json_t *malformed = json_object();
    for (int s = 1; s < LG_PARSE_STATUSES; s++) {
        if (report->malformed_by_status[s] > 0) {
            json_object_set_new(malformed, lg_parse_status_text(s),
                                json_integer((json_int_t)report->malformed_by_status[s]));
        }
    }
    json_t *host_drops = report->host_rcvbuf_drops >= 0
                             ? json_integer((json_int_t)report->host_rcvbuf_drops)
                             : json_null();
    return json_pack("{s:s, s:b, s:o, s:o, s:o, s:o, s:I, s:I, s:o, s:i, s:i, s:I, s:i, s:f, "
                     "s:f}",
                     "mode", lg_mode_name(config->mode), "ok",
                     lg_report_ok(report, config->target_count), "targets", targets, "total", total,
                     "unexpected_reasons", reasons, "malformed", malformed, "frames_received",
                     (json_int_t)report->frames_received, "arp_requests_answered",
                     (json_int_t)report->arp_requests_answered, "host_udp_rcvbuf_drops", host_drops,
                     "window", (int)config->window, "size", (int)config->size, "packets",
                     (json_int_t)config->packets, "pings", (int)config->pings, "timeout_s",
                     config->timeout_ms / 1000.0, "elapsed_s", report->elapsed_s);
}

bool lg_report_write_json(const char *path, const struct lg_config *config,
                          const struct lg_report *report, char *error, size_t error_len)
{
    json_t *root = report_json(config, report);
    if (root == NULL) {
        snprintf(error, error_len, "%s: out of memory building the JSON report", path);
        return false;
    }
    struct sd_atomic_file out;
    struct sd_error err;
    bool ok = sd_atomic_open(&out, path, &err);
    if (ok) {
        if (json_dumpf(root, out.file, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 &&
            fputc('\n', out.file) != EOF) {
            ok = sd_atomic_commit(&out, &err);
        } else {
            snprintf(err.message, sizeof err.message, "%s: cannot write the JSON report", path);
            sd_atomic_abort(&out);
            ok = false;
        }
    }
    if (!ok) {
        snprintf(error, error_len, "%s", err.message);
    }
    json_decref(root);
    return ok;
}
