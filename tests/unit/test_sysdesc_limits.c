/*
 * System descriptions at and past their limits (PDs, regions, channels,
 * channel ids, maps): generated here, since they need hundreds of objects.
 * At the limit a description loads; one past it is rejected with a message
 * naming the file, the object and the limit.
 */
#define _POSIX_C_SOURCE 200809L

#include "sysdesc_fixture.h"

static void append_component(struct text *text, const char *name, bool comma)
{
    append(text, "%s{\"name\": \"%s\", \"kind\": \"test\", \"program\": \"p\", \"priority\": 1}",
           comma ? ", " : "", name);
}

static void test_limit_pds(void)
{
    struct text text = {0};
    append(&text, "{\"name\": \"many\", \"components\": [");
    for (int i = 0; i < SD_MAX_PDS; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", i);
        append_component(&text, name, i > 0);
    }
    append(&text, "], \"vms\": [{\"name\": \"v\", \"vcpus\": 1, \"priority\": 1, \"memory\": "
                  "4096, \"kernel\": \"k\"}]}");
    expect_rejected(text.data, "vms[0] \"v\": more than 64 protection domains");
    free(text.data);
}

static void test_limit_regions(void)
{
    struct text text = {0};
    append(&text, "{\"name\": \"many\", \"components\": [");
    append_component(&text, "a", false);
    append(&text, "], \"regions\": [");
    for (int i = 0; i <= SD_MAX_REGIONS; i++) {
        append(&text, "%s{\"name\": \"r%d\", \"size\": 4096}", i > 0 ? ", " : "", i);
    }
    append(&text, "]}");
    expect_rejected(text.data, "regions[256] \"r256\": more than 256 regions");
    free(text.data);
}

static void test_limit_channels(void)
{
    /*
     * 513 channels spread over 20 PDs, so that no PD runs out of its 63 ids
     * first: channel c joins PD c % 20 to another PD 1..19 places on.
     */
    enum { N_PDS = 20 };
    struct text text = {0};
    append(&text, "{\"name\": \"many\", \"components\": [");
    for (int i = 0; i < N_PDS; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", i);
        append_component(&text, name, i > 0);
    }
    append(&text, "], \"channels\": [");
    for (int c = 0; c <= SD_MAX_CHANNELS; c++) {
        int from = c % N_PDS, to = (c + 1 + (c / N_PDS) % (N_PDS - 1)) % N_PDS;
        append(&text, "%s{\"name\": \"ch%d\", \"ends\": [\"c%d\", \"c%d\"]}", c > 0 ? ", " : "", c,
               from, to);
    }
    append(&text, "]}");
    expect_rejected(text.data, "channels[512] \"ch512\": more than 512 channels");

    /* The first 512 are fine, and every PD's ids are distinct. */
    char *cut = strstr(text.data, ", {\"name\": \"ch512\"");
    CHECK(cut != NULL);
    if (cut != NULL) {
        strcpy(cut, "]}");
        struct sd_error err;
        bool ok = load_text(text.data, &err);
        if (!ok) {
            fprintf(stderr, "%s\n", err.message);
        }
        CHECK(ok);
        CHECK_EQ(sys->n_channels, SD_MAX_CHANNELS);
        for (uint32_t p = 0; ok && p < sys->n_pds; p++) {
            for (uint32_t id = 0; id < PN_CONFIG_MAX_CHANNELS; id++) {
                int end;
                int channel = sd_channel_of(sys, (int)p, id, &end);
                if (channel >= 0) {
                    CHECK_EQ(sys->channels[channel].ends[end].pd, p);
                }
            }
        }
    }
    free(text.data);
}

static void test_limit_channel_ids(void)
{
    /* 64 channels from a to b: a and b each run out of ids 0..62. */
    struct text text = {0};
    append(&text, "{\"name\": \"ids\", \"components\": [");
    append_component(&text, "a", false);
    append_component(&text, "b", true);
    append(&text, "], \"channels\": [");
    for (int c = 0; c <= PN_CONFIG_MAX_CHANNELS; c++) {
        append(&text, "%s{\"name\": \"ch%d\", \"ends\": [\"a\", \"b\"]}", c > 0 ? ", " : "", c);
    }
    append(&text, "]}");
    expect_rejected(text.data,
                    "channels[63] \"ch63\": end 0: PD \"a\" has more than 63 channel ids");
    free(text.data);

    /* IRQs count against the same 63 ids. */
    text = (struct text){0};
    append(&text, "{\"name\": \"ids\", \"components\": [{\"name\": \"a\", \"kind\": \"driver\", "
                  "\"program\": \"p\", \"priority\": 1, \"irqs\": [");
    for (int i = 0; i < 62; i++) {
        append(&text, "%s{\"name\": \"i%d\", \"irq\": %d}", i > 0 ? ", " : "", i, 40 + i);
    }
    append(&text, "]}");
    append_component(&text, "b", true);
    append(&text, "], \"channels\": [{\"name\": \"x\", \"ends\": [\"b\", \"a\"]}, {\"name\": "
                  "\"y\", \"ends\": [\"b\", \"a\"]}]}");
    expect_rejected(text.data, "channels[1] \"y\": end 1: PD \"a\" has more than 63 channel ids");
    /* ...and with one channel fewer, the channel gets the last id, 62. */
    char *cut = strstr(text.data, ", {\"name\": \"y\"");
    CHECK(cut != NULL);
    if (cut != NULL) {
        strcpy(cut, "]}");
        struct sd_error err;
        CHECK(load_text(text.data, &err));
        CHECK_EQ(sys->channels[0].ends[1].id, 62);
        CHECK_EQ(sys->pds[0].irqs[61].id, 61);
    }
    free(text.data);

    /* 64 IRQs are too many before any channel. */
    text = (struct text){0};
    append(&text, "{\"name\": \"ids\", \"components\": [{\"name\": \"a\", \"kind\": \"driver\", "
                  "\"program\": \"p\", \"priority\": 1, \"irqs\": [");
    for (int i = 0; i < 64; i++) {
        append(&text, "%s{\"name\": \"i%d\", \"irq\": %d}", i > 0 ? ", " : "", i, 40 + i);
    }
    append(&text, "]}]}");
    expect_rejected(text.data, "components[0] \"a\": more than 63 irqs");
    free(text.data);
}

static void test_limit_maps(void)
{
    struct text text = {0};
    append(&text, "{\"name\": \"maps\", \"components\": [");
    append_component(&text, "a", false);
    append(&text, "], \"regions\": [{\"name\": \"r\", \"size\": 4096}], \"maps\": [");
    for (int i = 0; i <= PN_CONFIG_MAX_REGIONS; i++) {
        append(&text, "%s{\"pd\": \"a\", \"region\": \"r\", \"name\": \"m%d\", \"rights\": \"r\"}",
               i > 0 ? ", " : "", i);
    }
    append(&text, "]}");
    expect_rejected(text.data,
                    "maps[16] (PD \"a\", region \"r\"): PD \"a\" maps more than 16 regions");
    free(text.data);
}

int main(void)
{
    if (!fixture_setup()) {
        return 1;
    }
    RUN_TEST(test_limit_pds);
    RUN_TEST(test_limit_regions);
    RUN_TEST(test_limit_channels);
    RUN_TEST(test_limit_channel_ids);
    RUN_TEST(test_limit_maps);
    sd_system_free(sys);
    return check_exit();
}
