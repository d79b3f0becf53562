/*
 * System descriptions: exact values loaded from good descriptions (ids,
 * defaults, sizes, addresses), the generated configuration, and channel
 * lookups.
 */
#define _POSIX_C_SOURCE 200809L

#include "sysdesc_fixture.h"

static bool load_full(void)
{
    char path[2048];
    struct sd_error err;
    source_path(path, sizeof path, "tests/data/sysdesc/good/full.json");
    bool ok = sd_load_file(path, sys, &err);
    if (!ok) {
        fprintf(stderr, "%s\n", err.message);
    }
    CHECK(ok);
    return ok;
}

static void test_full_description(void)
{
    if (!load_full()) {
        return;
    }
    CHECK_STR_CONTAINS(sys->name, "full");
    CHECK_STR_CONTAINS(sys->source, "tests/data/sysdesc/good/full.json");
    CHECK_EQ(sys->n_pds, 7);
    CHECK_EQ(sys->n_regions, 10);
    CHECK(sys->end_when_idle);
    CHECK_EQ(sys->n_channels, 5);

    int eth = pd_named("eth");
    CHECK_EQ(eth, 0);
    CHECK_EQ(sys->pds[eth].kind, SD_KIND_DRIVER);
    CHECK(strcmp(sys->pds[eth].program, "virtio_net") == 0);
    CHECK_EQ(sys->pds[eth].priority, 200);
    CHECK_EQ(sys->pds[eth].core, 0);
    CHECK_EQ(sys->pds[pd_named("mux_rx")].kind, SD_KIND_MULTIPLEXER);
    CHECK_EQ(sys->pds[pd_named("copy0")].kind, SD_KIND_COPIER);
    CHECK_EQ(sys->pds[pd_named("copy0")].core, -1);
    CHECK_EQ(sys->pds[pd_named("client0")].kind, SD_KIND_CLIENT);
    CHECK_EQ(sys->pds[pd_named("client0")].core, 63);
    CHECK_EQ(sys->pds[pd_named("acct")].kind, SD_KIND_ACCOUNTING);
    CHECK_EQ(sys->pds[pd_named("acct")].priority, 0);
    CHECK_EQ(sys->pds[pd_named("tester")].kind, SD_KIND_TEST);
    CHECK_EQ(sys->pds[pd_named("tester")].priority, 254);

    /* IRQs: explicit id 0 for "link" is taken first, so "dev" gets 1. */
    CHECK_EQ(sys->pds[eth].n_irqs, 2);
    CHECK(strcmp(sys->pds[eth].irqs[0].name, "dev") == 0);
    CHECK_EQ(sys->pds[eth].irqs[0].irq, 79);
    CHECK_EQ(sys->pds[eth].irqs[0].id, 1);
    CHECK(sys->pds[eth].irqs[0].edge);
    CHECK_EQ(sys->pds[eth].irqs[1].irq, 80);
    CHECK_EQ(sys->pds[eth].irqs[1].id, 0);
    CHECK(!sys->pds[eth].irqs[1].edge);
    const struct sd_pd *tester = &sys->pds[pd_named("tester")];
    CHECK_EQ(tester->irqs[0].irq, 1019);
    CHECK_EQ(tester->irqs[0].id, 0);
    CHECK_EQ(tester->irqs[1].irq, 32);
    CHECK_EQ(tester->irqs[1].id, 1);

    /* Params: strings kept, integers and booleans written out, comment keys dropped. */
    CHECK_EQ(sys->pds[eth].n_params, 3);
    CHECK(strcmp(sys->pds[eth].params[0].key, "mac") == 0);
    CHECK(strcmp(sys->pds[eth].params[0].value, "52:54:00:12:34:56") == 0);
    CHECK(strcmp(sys->pds[eth].params[1].value, "1500") == 0);
    CHECK(strcmp(sys->pds[eth].params[2].value, "false") == 0);
    const struct sd_pd *client = &sys->pds[pd_named("client0")];
    CHECK(strcmp(client->params[0].value, "true") == 0);
    CHECK(strcmp(client->params[1].value, "-12") == 0);

    /* The VM. */
    int linux_vm = pd_named("linux");
    CHECK_EQ(linux_vm, 6);
    const struct sd_pd *vm = &sys->pds[linux_vm];
    CHECK_EQ(vm->kind, SD_KIND_VM);
    CHECK_EQ(vm->vm.vcpus, 2);
    CHECK_EQ(vm->vm.memory, 256u << 20);
    CHECK(strcmp(vm->vm.kernel, "Image") == 0);
    CHECK(strcmp(vm->vm.initrd, "rootfs.cpio.gz") == 0);
    CHECK(strcmp(vm->vm.bootargs, "console=hvc0 quiet") == 0);
    CHECK_EQ(vm->vm.n_devices, 2);
    CHECK(strcmp(vm->vm.devices[1], "usb0") == 0);
    CHECK_EQ(vm->core, 2);
    CHECK_EQ(vm->priority, 90);
    CHECK(vm->program[0] == '\0');
    CHECK_EQ(vm->n_params, 1);

    /* Sizes in every notation. */
    CHECK_EQ(sys->regions[sd_find_region(sys, "rx_free")].size, 4096);
    CHECK_EQ(sys->regions[sd_find_region(sys, "rx_active")].size, 4096);
    CHECK_EQ(sys->regions[sd_find_region(sys, "rx_data")].size, 2u << 20);
    CHECK_EQ(sys->regions[sd_find_region(sys, "tx_data")].size, 64u << 10);
    CHECK_EQ(sys->regions[sd_find_region(sys, "guest_ram")].size, 1u << 30);
    CHECK_EQ(sys->regions[sd_find_region(sys, "counters")].size, 8192);
    CHECK_EQ(sys->regions[sd_find_region(sys, "huge")].size, UINT64_C(2) << 30);
    CHECK_EQ(sys->regions[sd_find_region(sys, "mid")].size, 3u << 20);
    CHECK_EQ(sd_find_region(sys, "nothing"), -1);
    CHECK(!sys->regions[sd_find_region(sys, "rx_data")].has_phys);
    const struct sd_region *rtc = &sys->regions[sd_find_region(sys, "rtc")];
    CHECK(rtc->has_phys);
    CHECK_EQ(rtc->phys, 0x09010000);
    CHECK_EQ(rtc->size, 4096);
    CHECK_EQ(sd_find_pd(sys, "nothing"), -1);

    /* Maps: default local names, hex and decimal vaddrs, rights in any order. */
    CHECK_EQ(sys->pds[eth].n_maps, 3);
    const struct sd_map *rx_free = map_named(eth, "rx_free");
    CHECK(rx_free->has_vaddr);
    CHECK_EQ(rx_free->vaddr, 0x20000000);
    CHECK_EQ(rx_free->rights, PN_RIGHT_READ | PN_RIGHT_WRITE);
    CHECK_EQ(rx_free->region, sd_find_region(sys, "rx_free"));
    CHECK_EQ(map_named(eth, "rx_active")->vaddr, 0x20001000);
    CHECK_EQ(map_named(eth, "rx_active")->rights, PN_RIGHT_READ);
    CHECK_EQ(map_named(eth, "data")->vaddr, 0x20200000);
    int mux = pd_named("mux_rx");
    CHECK(!map_named(mux, "rx_free")->has_vaddr);
    CHECK_EQ(map_named(mux, "rx_free")->rights, PN_RIGHT_READ | PN_RIGHT_WRITE);
    CHECK_EQ(map_named(pd_named("client0"), "tx_data")->rights,
             PN_RIGHT_READ | PN_RIGHT_WRITE | PN_RIGHT_EXECUTE);
    CHECK_EQ(sys->pds[pd_named("copy0")].n_maps, 2);

    /* Cached by default for RAM, uncached for device memory; either can be asked for. */
    CHECK(rx_free->cached);
    CHECK(map_named(mux, "rx_free")->cached);
    int acct = pd_named("acct");
    CHECK(!map_named(acct, "counters")->cached);
    CHECK(map_named(acct, "mid")->cached);
    int tester_pd = pd_named("tester");
    CHECK(!map_named(tester_pd, "rtc")->cached);
    CHECK(map_named(tester_pd, "rtc_cached")->cached);

    /*
     * Channel ids: explicit ones first (mux_rx "to_copy" 0, eth "tx" 5,
     * client0 "tx" 62), then IRQs, then the rest in file order.
     */
    const struct sd_channel *eth_mux = channel_named("eth_mux");
    CHECK_EQ(eth_mux->ends[0].pd, eth);
    CHECK(strcmp(eth_mux->ends[0].name, "eth_mux") == 0);
    CHECK_EQ(eth_mux->ends[0].id, 2);
    CHECK_EQ(eth_mux->ends[1].pd, mux);
    CHECK_EQ(eth_mux->ends[1].id, 1);
    const struct sd_channel *mux_copy = channel_named("mux_copy");
    CHECK(strcmp(mux_copy->ends[0].name, "to_copy") == 0);
    CHECK_EQ(mux_copy->ends[0].id, 0);
    CHECK(strcmp(mux_copy->ends[1].name, "from_mux") == 0);
    CHECK_EQ(mux_copy->ends[1].id, 0);
    const struct sd_channel *copy_client = channel_named("copy_client");
    CHECK_EQ(copy_client->ends[0].id, 1);
    CHECK(strcmp(copy_client->ends[1].name, "rx") == 0);
    CHECK_EQ(copy_client->ends[1].id, 0);
    const struct sd_channel *eth_tx = channel_named("eth_tx");
    CHECK_EQ(eth_tx->ends[0].id, 5);
    CHECK_EQ(eth_tx->ends[1].id, 62);
    const struct sd_channel *vm_link = channel_named("vm_link");
    CHECK_EQ(vm_link->ends[0].pd, linux_vm);
    CHECK_EQ(vm_link->ends[0].id, 0);
    CHECK(strcmp(vm_link->ends[1].name, "vm_link") == 0);
    CHECK_EQ(vm_link->ends[1].id, 2);
    /* Devices: kinds, slots, the net device's MAC, derived registers and interrupt. */
    CHECK_EQ(sys->n_devices, 3);
    CHECK_EQ(sd_find_device(sys, "net0"), 0);
    CHECK_EQ(sys->devices[0].kind, SD_DEVICE_VIRTIO_NET);
    CHECK_EQ(sys->devices[0].slot, 31);
    CHECK(sys->devices[0].has_mac && sys->devices[0].mac[5] == 0x56);
    CHECK_EQ(sd_device_mmio(&sys->devices[0]), 0x0a003e00);
    CHECK_EQ(sd_device_intid(&sys->devices[0]), 79);
    CHECK_EQ(sys->devices[2].kind, SD_DEVICE_VIRTIO_BLK);
    CHECK(!sys->devices[2].has_mac);
    CHECK_EQ(sys->devices[2].size, 64u << 20);
    CHECK_EQ(sys->devices[2].block_size, 4096);
    CHECK_EQ(sys->devices[2].n_partitions, 0);
    CHECK_EQ(sys->devices[2].virtualiser_pd, -1);
    CHECK_EQ(sd_find_device(sys, "nope"), -1);
}

/* A PD's param as the generated configuration gives it, or NULL. */
static const char *config_param(const char *pd, const char *key)
{
    static struct pn_config cfg;
    sd_build_config(sys, sd_find_pd(sys, pd), &cfg);
    for (uint32_t i = 0; i < cfg.n_params; i++) {
        if (strcmp(cfg.params[i].key, key) == 0) {
            return cfg.params[i].value;
        }
    }
    return NULL;
}

static bool param_is(const char *pd, const char *key, const char *value)
{
    const char *got = config_param(pd, key);
    if (got == NULL || strcmp(got, value) != 0) {
        fprintf(stderr, "%s: param %s is %s, expected %s\n", pd, key, got ? got : "(none)", value);
        return false;
    }
    return true;
}

/*
 * A block device's partitions: their geometry and PDs as loaded, and each
 * share handed to the virtualiser (in its client order) and to its client,
 * in blocks of the device, after the params the description wrote.
 */
static void test_partitions(void)
{
    char path[1024];
    struct sd_error err;
    source_path(path, sizeof path, "tests/data/sysdesc/good/partitions.json");
    CHECK(sd_load_file(path, sys, &err));
    const struct sd_device *disk = &sys->devices[0];
    CHECK_EQ(disk->size, 1u << 30);
    CHECK_EQ(disk->block_size, 4096);
    CHECK_EQ(disk->virtualiser_pd, sd_find_pd(sys, "virt"));
    CHECK_EQ(disk->n_partitions, 2);
    CHECK_EQ(disk->partitions[0].client_pd, sd_find_pd(sys, "db"));
    CHECK_EQ(disk->partitions[0].start, 0x100000);
    CHECK_EQ(disk->partitions[0].size, 256u << 20);
    CHECK_EQ(disk->partitions[1].client_pd, sd_find_pd(sys, "log"));
    CHECK_EQ(disk->partitions[1].start, 0);
    CHECK_EQ(disk->partitions[1].size, 8192);

    CHECK(param_is("virt", "capacity", "64"));
    CHECK(param_is("virt", "block_size", "4096"));
    CHECK(param_is("virt", "partition0_start", "256"));
    CHECK(param_is("virt", "partition0_blocks", "65536"));
    CHECK(param_is("virt", "partition1_start", "0"));
    CHECK(param_is("virt", "partition1_blocks", "2"));
    CHECK(config_param("virt", "partition2_start") == NULL);
    CHECK(param_is("db", "ios", "10"));
    CHECK(param_is("db", "block_size", "4096"));
    CHECK(param_is("db", "client_id", "0"));
    CHECK(param_is("db", "partition_start", "256"));
    CHECK(param_is("db", "partition_blocks", "65536"));
    CHECK(param_is("log", "client_id", "1"));
    CHECK(param_is("log", "partition_blocks", "2"));
    /* The description's own params come first, the generated ones after them. */
    const struct sd_pd *db = &sys->pds[sd_find_pd(sys, "db")];
    CHECK_EQ(db->n_params, 6);
    CHECK(strcmp(db->params[1].key, "ios") == 0 && strcmp(db->params[2].key, "block_size") == 0);
}

static void test_build_config(void)
{
    if (!load_full()) {
        return;
    }
    struct pn_config cfg;
    memset(&cfg, 0xa5, sizeof cfg);
    sd_build_config(sys, sd_find_pd(sys, "eth"), &cfg);
    CHECK_EQ(cfg.magic, PN_CONFIG_MAGIC);
    CHECK_EQ(cfg.version, PN_CONFIG_VERSION);
    CHECK(strcmp(cfg.name, "eth") == 0);
    CHECK_EQ(cfg.priority, 200);

    CHECK_EQ(cfg.n_regions, 3);
    CHECK(strcmp(cfg.regions[0].name, "rx_free") == 0);
    CHECK_EQ(cfg.regions[0].vaddr, 0x20000000);
    CHECK_EQ(cfg.regions[0].size, 4096);
    CHECK_EQ(cfg.regions[0].rights, PN_RIGHT_READ | PN_RIGHT_WRITE);
    CHECK(strcmp(cfg.regions[2].name, "data") == 0);
    CHECK_EQ(cfg.regions[2].size, 2u << 20);
    CHECK_EQ(cfg.regions[3].size, 0); /* the rest is zeroed */

    /* Channels and IRQs together, by id. */
    CHECK_EQ(cfg.n_channels, 4);
    CHECK(strcmp(cfg.channels[0].name, "link") == 0);
    CHECK_EQ(cfg.channels[0].id, 0);
    CHECK_EQ(cfg.channels[0].flags, PN_CHANNEL_IRQ);
    CHECK(strcmp(cfg.channels[1].name, "dev") == 0);
    CHECK_EQ(cfg.channels[1].id, 1);
    CHECK_EQ(cfg.channels[1].flags, PN_CHANNEL_IRQ);
    CHECK(strcmp(cfg.channels[2].name, "eth_mux") == 0);
    CHECK_EQ(cfg.channels[2].id, 2);
    CHECK_EQ(cfg.channels[2].flags, 0);
    CHECK(strcmp(cfg.channels[3].name, "tx") == 0);
    CHECK_EQ(cfg.channels[3].id, 5);
    CHECK_EQ(cfg.channels[3].flags, 0);

    CHECK_EQ(cfg.n_params, 3);
    CHECK(strcmp(cfg.params[1].key, "mtu") == 0);
    CHECK(strcmp(cfg.params[1].value, "1500") == 0);

    /* A map without a vaddr reads 0: the packer or hosted runner places it. */
    sd_build_config(sys, sd_find_pd(sys, "mux_rx"), &cfg);
    CHECK_EQ(cfg.n_regions, 2);
    CHECK_EQ(cfg.regions[0].vaddr, 0);
    CHECK_EQ(cfg.n_channels, 3);
    CHECK(strcmp(cfg.channels[0].name, "to_copy") == 0);
    CHECK(strcmp(cfg.channels[2].name, "vm_link") == 0);
    CHECK_EQ(cfg.n_params, 0);

    sd_build_config(sys, sd_find_pd(sys, "linux"), &cfg);
    CHECK_EQ(cfg.magic, PN_CONFIG_MAGIC);
    CHECK_EQ(cfg.regions[0].vaddr, 0x40000000);
    CHECK(strcmp(cfg.params[0].value, "uio") == 0);

    /* No such PD: an all-zero configuration, which pn_config_valid() rejects. */
    sd_build_config(sys, 99, &cfg);
    CHECK_EQ(cfg.magic, 0);
    CHECK_EQ(cfg.n_channels, 0);
    sd_build_config(sys, -1, &cfg);
    CHECK_EQ(cfg.magic, 0);
}

static void test_channel_of(void)
{
    if (!load_full()) {
        return;
    }
    int end = -1;
    int mux = sd_find_pd(sys, "mux_rx");
    CHECK_EQ(sd_channel_of(sys, mux, 2, &end), 4);
    CHECK_EQ(end, 1);
    CHECK_EQ(sd_channel_of(sys, mux, 0, &end), 1);
    CHECK_EQ(end, 0);
    CHECK_EQ(sd_channel_of(sys, sd_find_pd(sys, "client0"), 62, &end), 3);
    CHECK_EQ(end, 1);
    CHECK_EQ(sd_channel_of(sys, sd_find_pd(sys, "eth"), 2, NULL), 0);
    /* IRQ ids are not channels. */
    CHECK_EQ(sd_channel_of(sys, sd_find_pd(sys, "eth"), 0, &end), -1);
    CHECK_EQ(sd_channel_of(sys, sd_find_pd(sys, "eth"), 1, &end), -1);
    CHECK_EQ(sd_channel_of(sys, mux, 3, &end), -1);
    CHECK_EQ(sd_channel_of(sys, sd_find_pd(sys, "acct"), 0, &end), -1);
}

static void test_hosted_pipeline(void)
{
    char path[2048];
    struct sd_error err;
    source_path(path, sizeof path, "systems/pipeline.json");
    bool ok = sd_load_file(path, sys, &err);
    if (!ok) {
        fprintf(stderr, "%s\n", err.message);
    }
    CHECK(ok);
    if (!ok) {
        return;
    }
    CHECK_EQ(sys->n_pds, 4);
    CHECK_EQ(sys->n_regions, 3);
    CHECK_EQ(sys->n_channels, 3);
    struct pn_config cfg;
    sd_build_config(sys, sd_find_pd(sys, "mux"), &cfg);
    CHECK_EQ(cfg.priority, 110);
    CHECK_EQ(cfg.n_regions, 3);
    CHECK(strcmp(cfg.regions[1].name, "out0") == 0);
    CHECK_EQ(cfg.regions[1].size, 64u << 10);
    CHECK_EQ(cfg.n_channels, 3);
    CHECK(strcmp(cfg.channels[0].name, "in") == 0);
    CHECK(strcmp(cfg.channels[1].name, "out0") == 0);
    CHECK(strcmp(cfg.channels[2].name, "out1") == 0);
    sd_build_config(sys, sd_find_pd(sys, "producer"), &cfg);
    CHECK_EQ(cfg.n_params, 3);
    CHECK(strcmp(cfg.params[0].key, "items") == 0);
    CHECK(strcmp(cfg.params[0].value, "200000") == 0);
    CHECK(strcmp(cfg.params[2].key, "capacity") == 0);
    CHECK(strcmp(cfg.params[2].value, "512") == 0);
    sd_build_config(sys, sd_find_pd(sys, "consumer1"), &cfg);
    CHECK(strcmp(cfg.params[0].value, "1") == 0);
    CHECK(strcmp(cfg.regions[0].name, "in") == 0);
    CHECK(strcmp(cfg.channels[0].name, "in") == 0);
}

static void test_sizes(void)
{
    static const struct {
        const char *size;
        uint64_t bytes;
    } cases[] = {
        {"4096", 4096},       {"\"4096\"", 4096},           {"\"0x1000\"", 4096},
        {"\"0X2000\"", 8192}, {"\"0xABCD000\"", 0xabcd000}, {"\"4K\"", 4096},
        {"\"64KiB\"", 65536}, {"\"2M\"", 2u << 20},         {"\"2MiB\"", 2u << 20},
        {"\"1G\"", 1u << 30}, {"\"1GiB\"", 1u << 30},       {"\"262144GiB\"", UINT64_C(1) << 48},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[512];
        struct sd_error err;
        snprintf(json, sizeof json,
                 "{\"name\": \"s\", \"components\": [{\"name\": \"a\", \"kind\": \"test\", "
                 "\"program\": \"a\", \"priority\": 1}], \"regions\": [{\"name\": \"r\", "
                 "\"size\": %s}]}",
                 cases[i].size);
        bool ok = load_text(json, &err);
        if (!ok) {
            fprintf(stderr, "%s: %s\n", cases[i].size, err.message);
        }
        CHECK(ok);
        CHECK_EQ(sys->regions[0].size, cases[i].bytes);
    }
    static const char *const rejected[] = {
        "\"\"",     "\"K\"",   "\"0x\"",      "\"4 KiB\"",  "\" 4096\"", "\"+4096\"",
        "\"4kib\"", "\"4KB\"", "\"0x1000K\"", "\"4096.0\"", "4096.0",    "null",
    };
    for (size_t i = 0; i < sizeof rejected / sizeof rejected[0]; i++) {
        char json[512];
        snprintf(json, sizeof json,
                 "{\"name\": \"s\", \"components\": [{\"name\": \"a\", \"kind\": \"test\", "
                 "\"program\": \"a\", \"priority\": 1}], \"regions\": [{\"name\": \"r\", "
                 "\"size\": %s}]}",
                 rejected[i]);
        expect_rejected(json, "regions[0] \"r\": ");
    }
}

static void test_comments_and_defaults(void)
{
    struct sd_error err;
    bool ok = load_text("{\"$schema\": 1, \"_c\": [], \"name\": \"c\", \"components\": [{\"name\": "
                        "\"a\", \"kind\": \"test\", \"program\": \"a\", \"priority\": 7, \"_x\": "
                        "{}, \"irqs\": [{\"name\": \"i\", \"irq\": 33, \"$y\": 0}]}, {\"name\": "
                        "\"b\", \"kind\": \"load\", \"program\": \"b\", \"priority\": 7}], "
                        "\"channels\": [{\"name\": \"ab\", \"_why\": \"\", \"ends\": [\"a\", "
                        "{\"pd\": \"b\", \"_z\": 1}]}]}",
                        &err);
    if (!ok) {
        fprintf(stderr, "%s\n", err.message);
    }
    CHECK(ok);
    CHECK_EQ(sys->pds[0].core, -1);
    CHECK(!sys->pds[0].irqs[0].edge);
    CHECK_EQ(sys->pds[0].irqs[0].id, 0);
    CHECK_EQ(sys->channels[0].ends[0].id, 1);
    CHECK_EQ(sys->channels[0].ends[1].id, 0);
    CHECK(strcmp(sys->channels[0].ends[1].name, "ab") == 0);
    CHECK_EQ(sys->n_regions, 0);

    /* Messages name the origin given, or a placeholder. */
    CHECK(!sd_load_buffer("{}", 2, NULL, sys, &err));
    CHECK_STR_CONTAINS(err.message, "<buffer>: top level: missing required field \"name\"");
    CHECK(!sd_load_buffer("", 0, "empty.json", sys, &err));
    CHECK_STR_CONTAINS(err.message, "empty.json:");
}

static void test_devices_and_end(void)
{
    static const char head[] =
        "{\"name\": \"d\", %s\"components\": [{\"name\": \"a\", \"kind\": \"driver\", "
        "\"program\": \"a\", \"priority\": 1}], \"regions\": [{\"name\": \"rtc\", "
        "\"size\": 4096, \"phys\": %s}, {\"name\": \"ram\", \"size\": 8192}], "
        "\"maps\": [{\"pd\": \"a\", \"region\": \"rtc\", \"rights\": \"rw\"%s}, "
        "{\"pd\": \"a\", \"region\": \"ram\", \"rights\": \"rw\"%s}]}";
    char json[1024];
    struct sd_error err;

    /* Defaults: the runner ends the run; device memory uncached, RAM cached. */
    snprintf(json, sizeof json, head, "", "151060480", "", "");
    bool ok = load_text(json, &err);
    if (!ok) {
        fprintf(stderr, "%s\n", err.message);
    }
    CHECK(ok);
    CHECK(!sys->end_when_idle);
    CHECK(sys->regions[0].has_phys);
    CHECK_EQ(sys->regions[0].phys, 0x09010000);
    CHECK(!sys->regions[1].has_phys);
    CHECK(!sys->pds[0].maps[0].cached);
    CHECK(sys->pds[0].maps[1].cached);

    /* Both can be turned the other way: the user's choice. */
    snprintf(json, sizeof json, head, "\"end\": \"external\", ", "\"0x09010000\"",
             ", \"cached\": true", ", \"cached\": false");
    ok = load_text(json, &err);
    CHECK(ok);
    CHECK(!sys->end_when_idle);
    CHECK(sys->pds[0].maps[0].cached);
    CHECK(!sys->pds[0].maps[1].cached);
    snprintf(json, sizeof json, head, "\"end\": \"idle\", ", "0", "", "");
    CHECK(load_text(json, &err));
    CHECK(sys->end_when_idle);
    CHECK(sys->regions[0].has_phys);
    CHECK_EQ(sys->regions[0].phys, 0);

    /* The highest page of the address space is fine; one past it is not. */
    snprintf(json, sizeof json, head, "", "\"0xfffffffff000\"", "", "");
    CHECK(load_text(json, &err));
    snprintf(json, sizeof json, head, "", "\"0x2000\"", ", \"cached\": 1", "");
    expect_rejected(json, "maps[0] (PD \"a\", region \"rtc\"): field \"cached\" must be a "
                          "boolean, not an integer");
    snprintf(json, sizeof json, head, "", "-4096", "", "");
    expect_rejected(json, "regions[0] \"rtc\": phys -4096 must not be negative");
    snprintf(json, sizeof json, head, "", "\"64KiB\"", "", "");
    expect_rejected(json, "regions[0] \"rtc\": phys \"64KiB\" is not an address");
    snprintf(json, sizeof json, head, "\"end\": \"Idle\", ", "0", "", "");
    expect_rejected(json, "top level: end \"Idle\" is not one of external, idle");
}

static void test_size_text(void)
{
    struct sd_error err;
    uint64_t size = 0;
    CHECK(sd_parse_size_text("1GiB", "memory", &size, &err));
    CHECK_EQ(size, UINT64_C(1) << 30);
    CHECK(sd_parse_size_text("0x200000", "memory", &size, &err));
    CHECK_EQ(size, 2u << 20);
    CHECK(sd_parse_size_text("4096", "memory", &size, &err));
    CHECK_EQ(size, 4096);
    CHECK(sd_parse_size_text("512M", "memory", &size, &err));
    CHECK_EQ(size, 512u << 20);
    CHECK(!sd_parse_size_text("1 GiB", "memory", &size, &err));
    CHECK_STR_CONTAINS(err.message, "memory \"1 GiB\" is not a size");
    CHECK(!sd_parse_size_text("", "memory", &size, &err));
    CHECK_STR_CONTAINS(err.message, "memory \"\" is not a size");
    CHECK(!sd_parse_size_text("0", "memory", &size, &err));
    CHECK_STR_CONTAINS(err.message, "memory must not be zero");
    CHECK(!sd_parse_size_text("4097", "memory", &size, &err));
    CHECK_STR_CONTAINS(err.message, "memory \"4097\" is not a multiple of the page size (4096)");
    CHECK(!sd_parse_size_text("262145GiB", "memory", &size, &err));
    CHECK_STR_CONTAINS(err.message, "is beyond the 48-bit address space");
    CHECK(!sd_parse_size_text("99999999999999999999", "memory", &size, &err));
    CHECK_STR_CONTAINS(err.message, "is too large");
    CHECK(!sd_parse_size_text("-4096", "memory", &size, &err));
    CHECK_STR_CONTAINS(err.message, "is not a size");
}

static void test_missing_file(void)
{
    struct sd_error err;
    CHECK(!sd_load_file("/nonexistent/system.json", sys, &err));
    CHECK_STR_CONTAINS(err.message, "/nonexistent/system.json: cannot open: ");
}

static void test_kind_names(void)
{
    CHECK(strcmp(sd_kind_name(SD_KIND_DRIVER), "driver") == 0);
    CHECK(strcmp(sd_kind_name(SD_KIND_MULTIPLEXER), "multiplexer") == 0);
    CHECK(strcmp(sd_kind_name(SD_KIND_COPIER), "copier") == 0);
    CHECK(strcmp(sd_kind_name(SD_KIND_CLIENT), "client") == 0);
    CHECK(strcmp(sd_kind_name(SD_KIND_LOAD), "load") == 0);
    CHECK(strcmp(sd_kind_name(SD_KIND_ACCOUNTING), "accounting") == 0);
    CHECK(strcmp(sd_kind_name(SD_KIND_TEST), "test") == 0);
    CHECK(strcmp(sd_kind_name(SD_KIND_VM), "vm") == 0);
}

int main(void)
{
    if (!fixture_setup()) {
        return 1;
    }
    RUN_TEST(test_full_description);
    RUN_TEST(test_build_config);
    RUN_TEST(test_channel_of);
    RUN_TEST(test_hosted_pipeline);
    RUN_TEST(test_sizes);
    RUN_TEST(test_comments_and_defaults);
    RUN_TEST(test_devices_and_end);
    RUN_TEST(test_partitions);
    RUN_TEST(test_size_text);
    RUN_TEST(test_missing_file);
    RUN_TEST(test_kind_names);
    sd_system_free(sys);
    return check_exit();
}
