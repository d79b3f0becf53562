/*
 * Unit tests of uio-ping's logic (driver-vms/programs/uio_ping_core.c) on
 * the host: the command line, finding the device in a fake sysfs tree built
 * in a temporary directory, and the round-trip loop against a fake peer that
 * answers, stays silent or answers wrongly.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "uio_ping_core.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char err[UIO_PING_ERROR_MAX];

static enum uio_ping_parse_result parse(struct uio_ping_options *opts, int argc, ...)
{
    char *argv[16] = {"uio-ping"};
    va_list ap;
    va_start(ap, argc);
    for (int i = 1; i < argc; i++) {
        argv[i] = va_arg(ap, char *);
    }
    va_end(ap);
    err[0] = '\0';
    return uio_ping_parse_args(argc, argv, opts, err, sizeof err);
}

static void test_parse_defaults_and_values(void)
{
    struct uio_ping_options o;
    CHECK_EQ(parse(&o, 1), UIO_PING_PARSE_OK);
    CHECK(o.name == NULL);
    CHECK_EQ(o.count, 10);
    CHECK_EQ(o.timeout_ms, 5000);
    CHECK(strcmp(o.sysfs_root, "/sys") == 0);

    CHECK_EQ(parse(&o, 7, "--count", "3", "--timeout-ms=250", "--name", "pinion-net",
                   "--sysfs-root=/tmp/fake"),
             UIO_PING_PARSE_OK);
    CHECK_EQ(o.count, 3);
    CHECK_EQ(o.timeout_ms, 250);
    CHECK(o.name != NULL && strcmp(o.name, "pinion-net") == 0);
    CHECK(strcmp(o.sysfs_root, "/tmp/fake") == 0);

    CHECK_EQ(parse(&o, 2, "--count=100000000"), UIO_PING_PARSE_OK);
    CHECK_EQ(o.count, 100000000);
    CHECK_EQ(parse(&o, 4, "--count", "2", "--help"), UIO_PING_PARSE_HELP);
    CHECK_EQ(parse(&o, 2, "-h"), UIO_PING_PARSE_HELP);
}

static void test_parse_errors(void)
{
    struct uio_ping_options o;
    CHECK_EQ(parse(&o, 3, "--count", "0"), UIO_PING_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--count must be a number from 1 to 100000000, not \"0\"");
    CHECK_EQ(parse(&o, 2, "--count=-1"), UIO_PING_PARSE_ERROR);
    CHECK_EQ(parse(&o, 2, "--count=12x"), UIO_PING_PARSE_ERROR);
    CHECK_EQ(parse(&o, 2, "--count= 5"), UIO_PING_PARSE_ERROR);
    CHECK_EQ(parse(&o, 2, "--count=100000001"), UIO_PING_PARSE_ERROR);
    CHECK_EQ(parse(&o, 2, "--count=99999999999999999999999"), UIO_PING_PARSE_ERROR);
    CHECK_EQ(parse(&o, 2, "--timeout-ms=0"), UIO_PING_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--timeout-ms must be a number from 1 to 3600000");
    CHECK_EQ(parse(&o, 2, "--count"), UIO_PING_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--count needs a value");
    CHECK_EQ(parse(&o, 2, "--name="), UIO_PING_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "--name must be 1 to 63 characters");
    CHECK_EQ(parse(&o, 2, "--sysfs-root="), UIO_PING_PARSE_ERROR);
    CHECK_EQ(parse(&o, 2, "--counts=3"), UIO_PING_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "unknown option \"--counts=3\"");
    CHECK_EQ(parse(&o, 2, "stray"), UIO_PING_PARSE_ERROR);
    CHECK_STR_CONTAINS(err, "unexpected argument \"stray\"");
}

/* --- a fake sysfs tree ------------------------------------------------- */

static char root[64];

static void write_file(const char *relative, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", root, relative);
    /* Create the directories on the way. */
    for (char *slash = strchr(path + strlen(root) + 1, '/'); slash;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(path, 0755);
        *slash = '/';
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

/* A UIO device as uio_pdrv_genirq shows it; map sizes of 0 leave the map out. */
static void fake_device(unsigned index, const char *name, const char *map0_size,
                        const char *map1_size, const char *map1_offset)
{
    char path[128], text[96];
    snprintf(path, sizeof path, "class/uio/uio%u/name", index);
    snprintf(text, sizeof text, "%s\n", name);
    write_file(path, text);
    if (map0_size != NULL) {
        snprintf(path, sizeof path, "class/uio/uio%u/maps/map0/size", index);
        write_file(path, map0_size);
        snprintf(path, sizeof path, "class/uio/uio%u/maps/map0/offset", index);
        write_file(path, "0x0\n");
    }
    if (map1_size != NULL) {
        snprintf(path, sizeof path, "class/uio/uio%u/maps/map1/size", index);
        write_file(path, map1_size);
        snprintf(path, sizeof path, "class/uio/uio%u/maps/map1/offset", index);
        write_file(path, map1_offset);
    }
}

static void remove_tree(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot remove %s\n", root);
    }
}

static void test_find_device(void)
{
    struct uio_device dev;
    CHECK(!uio_ping_find_device(root, NULL, &dev, err, sizeof err));
    CHECK_STR_CONTAINS(err, "class/uio: this kernel has no UIO (CONFIG_UIO)");

    write_file("class/uio/.keep", "");
    CHECK(!uio_ping_find_device(root, NULL, &dev, err, sizeof err));
    CHECK_STR_CONTAINS(err, "no UIO device whose name starts with \"pinion-\" (found: none)");

    /* uio10 sorts before uio2 as text; the lookup must go by number. */
    fake_device(0, "virtio-other", "0x1000\n", NULL, NULL);
    fake_device(10, "pinion-a", "0x1000\n", "0x200000\n", "0x0\n");
    fake_device(2, "pinion-b", "0x1000\n", "0x40\n", "0x80\n");
    write_file("class/uio/not-uio/name", "pinion-z\n");
    CHECK(uio_ping_find_device(root, NULL, &dev, err, sizeof err));
    CHECK_EQ(dev.index, 2);
    CHECK(strcmp(dev.name, "pinion-b") == 0);
    CHECK(dev.doorbell.present);
    CHECK_EQ(dev.doorbell.size, 0x1000);
    CHECK(dev.shared.present);
    CHECK_EQ(dev.shared.size, 0x40);
    CHECK_EQ(dev.shared.offset, 0x80);

    CHECK(uio_ping_find_device(root, "pinion-a", &dev, err, sizeof err));
    CHECK_EQ(dev.index, 10);
    CHECK_EQ(dev.shared.size, 0x200000);
    /* An exact name is not a prefix. */
    CHECK(!uio_ping_find_device(root, "pinion", &dev, err, sizeof err));
    CHECK_STR_CONTAINS(err, "no UIO device named \"pinion\" (found: uio0 \"virtio-other\", "
                            "uio2 \"pinion-b\", uio10 \"pinion-a\")");
    /* Any device by its exact name, prefix or not. */
    CHECK(uio_ping_find_device(root, "virtio-other", &dev, err, sizeof err));
    CHECK_EQ(dev.index, 0);
    CHECK(!dev.shared.present);

    fake_device(1, "pinion-no-doorbell", NULL, NULL, NULL);
    CHECK(!uio_ping_find_device(root, NULL, &dev, err, sizeof err));
    CHECK_STR_CONTAINS(err, "uio1 \"pinion-no-doorbell\" has no map0 (the doorbell page)");
    CHECK(!uio_ping_find_device(root, "pinion-no-doorbell", &dev, err, sizeof err));

    fake_device(3, "pinion-tiny", "0x1000\n", "0x4\n", "0x0\n");
    CHECK(!uio_ping_find_device(root, "pinion-tiny", &dev, err, sizeof err));
    CHECK_STR_CONTAINS(err, "map1 (the shared region) has 4 bytes, fewer than the 8");

    fake_device(4, "pinion-bad-size", "twelve\n", NULL, NULL);
    CHECK(!uio_ping_find_device(root, "pinion-bad-size", &dev, err, sizeof err));
    CHECK_STR_CONTAINS(err, "uio4/maps/map0/size: no size, or not a number");
}

/* --- the round-trip loop against a fake peer ------------------------------ */

enum peer_behaviour { PEER_ANSWERS, PEER_SILENT, PEER_WRONG_ON_3, PEER_WAIT_FAILS };

struct fake_peer {
    enum peer_behaviour behaviour;
    uint32_t doorbell;
    uint32_t shared[2];
    bool armed;          /* unmasked since the last interrupt */
    int enable_result;   /* what enable_interrupt returns */
    uint32_t interrupts; /* delivered */
    uint32_t protocol_errors;
    int last_timeout_ms;
};

static int fake_enable(void *ctx)
{
    struct fake_peer *p = ctx;
    if (p->enable_result == 0) {
        p->armed = true;
    }
    return p->enable_result;
}

/* The peer's side of a round trip happens when the guest waits for it. */
static int fake_wait(void *ctx, int timeout_ms)
{
    struct fake_peer *p = ctx;
    p->last_timeout_ms = timeout_ms;
    uint32_t expected = p->interrupts + 1;
    /* The doorbell must have been rung with this round's number, the
     * interrupt unmasked, and the number written first. */
    if (p->doorbell != expected || !p->armed || p->shared[0] != expected) {
        p->protocol_errors++;
    }
    switch (p->behaviour) {
    case PEER_SILENT:
        return 0;
    case PEER_WAIT_FAILS:
        return -EINTR;
    case PEER_WRONG_ON_3:
        p->shared[1] = expected == 3 ? 7 : expected + 1;
        break;
    case PEER_ANSWERS:
        p->shared[1] = p->shared[0] + 1;
        break;
    }
    p->armed = false; /* as uio_pdrv_genirq masks it in its handler */
    p->interrupts++;
    return 1;
}

static struct uio_ping_port port_for(struct fake_peer *p, bool with_shared)
{
    return (struct uio_ping_port){
        .doorbell = &p->doorbell,
        .shared = with_shared ? p->shared : NULL,
        .enable_interrupt = fake_enable,
        .wait_interrupt = fake_wait,
        .ctx = p,
    };
}

static void test_run(void)
{
    struct fake_peer p = {.behaviour = PEER_ANSWERS};
    struct uio_ping_port port = port_for(&p, true);
    CHECK_EQ(uio_ping_run(&port, 10, 123, err, sizeof err), 10);
    CHECK_EQ(p.interrupts, 10);
    CHECK_EQ(p.protocol_errors, 0);
    CHECK_EQ(p.shared[1], 11);
    CHECK_EQ(p.last_timeout_ms, 123);

    p = (struct fake_peer){.behaviour = PEER_SILENT};
    port = port_for(&p, true);
    CHECK_EQ(uio_ping_run(&port, 10, 5000, err, sizeof err), 0);
    CHECK_STR_CONTAINS(err, "round trip 1 of 10: no interrupt from the peer within 5000 ms");

    p = (struct fake_peer){.behaviour = PEER_WRONG_ON_3};
    port = port_for(&p, true);
    CHECK_EQ(uio_ping_run(&port, 5, 100, err, sizeof err), 2);
    CHECK_STR_CONTAINS(err, "round trip 3 of 5: the peer wrote 7 at offset 4 of the shared "
                            "region, expected 4");

    /* Without a shared region nothing is checked beyond the interrupt. */
    p = (struct fake_peer){.behaviour = PEER_WRONG_ON_3};
    port = port_for(&p, false);
    p.shared[0] = 0;
    CHECK_EQ(uio_ping_run(&port, 5, 100, err, sizeof err), 5);
    CHECK_EQ(p.doorbell, 5);

    p = (struct fake_peer){.behaviour = PEER_ANSWERS, .enable_result = -EIO};
    port = port_for(&p, true);
    CHECK_EQ(uio_ping_run(&port, 3, 100, err, sizeof err), 0);
    CHECK_STR_CONTAINS(err, "round trip 1 of 3: cannot unmask the interrupt: ");
    CHECK_EQ(p.doorbell, 0); /* never rung without the interrupt unmasked */

    p = (struct fake_peer){.behaviour = PEER_WAIT_FAILS};
    port = port_for(&p, true);
    CHECK_EQ(uio_ping_run(&port, 3, 100, err, sizeof err), 0);
    CHECK_STR_CONTAINS(err, "round trip 1 of 3: waiting for the interrupt: ");
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/test_uio_ping.XXXXXX");
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN_TEST(test_parse_defaults_and_values);
    RUN_TEST(test_parse_errors);
    RUN_TEST(test_find_device);
    RUN_TEST(test_run);
    remove_tree();
    return check_exit();
}
