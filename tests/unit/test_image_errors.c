/*
 * Every way the packer refuses a system, each with a message naming the
 * file, the object and the problem: misplaced or unplaceable maps, memory
 * that does not fit (and how much is needed), a device inside RAM, too
 * many cores, mappings or IRQs, missing or broken programs, a broken
 * kernel. And that a failed run writes nothing and leaves existing outputs
 * as they were. VMs have their own: test_image_vm_errors.c.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_image_fixture.h"

static struct sd_system *sys;
static struct sd_placement placement;

static const char components[] =
    "\"components\": [{\"name\": \"a\", \"kind\": \"test\", \"program\": \"prog\", \"priority\": "
    "1}, {\"name\": \"b\", \"kind\": \"test\", \"program\": \"prog\", \"priority\": 1}]";

static void write_program(const char *name, const struct fake_elf *spec)
{
    char path[600];
    scratch_path(path, sizeof path, name);
    CHECK(write_fake_elf(path, spec, 0));
}

/* Loads `json` as the system and plans it with `memory` bytes; returns whether that worked. */
static bool plan_text(const char *json, uint64_t memory, struct sd_error *err)
{
    char path[600];
    scratch_path(path, sizeof path, "system.json");
    CHECK(write_text(path, json));
    if (!sd_load_file(path, sys, err)) {
        fprintf(stderr, "the test's description does not load: %s\n", err->message);
        check_failures++;
        return false;
    }
    sd_default_placement(sys, &placement);
    struct img_plan *plan = img_plan_new();
    bool ok = img_plan_build(plan, sys, &placement, scratch, memory, err);
    img_plan_free(plan);
    return ok;
}

static void expect_plan_error(const char *json, uint64_t memory, const char *fragment)
{
    struct sd_error err;
    int before = check_failures;
    CHECK(!plan_text(json, memory, &err));
    CHECK_STR_CONTAINS(err.message, fragment);
    CHECK(strchr(err.message, '\n') == NULL);
    if (check_failures != before) {
        fprintf(stderr, "  for %s\n", json);
    }
}

static void test_map_addresses(void)
{
    char json[2048];
    snprintf(json, sizeof json,
             "{\"name\": \"s\", %s, \"regions\": [{\"name\": \"r\", \"size\": 8192}], \"maps\": "
             "[{\"pd\": \"b\", \"region\": \"r\", \"name\": \"low\", \"vaddr\": \"0x1fffe000\", "
             "\"rights\": \"r\"}]}",
             components);
    expect_plan_error(json, IMG_DEFAULT_MEMORY,
                      "system.json: PD \"b\": map \"low\" (region \"r\"): vaddr 0x1fffe000 is "
                      "below 0x20000000, where regions start (below it are the PD's "
                      "configuration, program and stack)");
    snprintf(json, sizeof json,
             "{\"name\": \"s\", %s, \"regions\": [{\"name\": \"r\", \"size\": 8192}], \"maps\": "
             "[{\"pd\": \"a\", \"region\": \"r\", \"vaddr\": \"0x7ffffff000\", \"rights\": "
             "\"r\"}]}",
             components);
    expect_plan_error(json, IMG_DEFAULT_MEMORY,
                      "PD \"a\": map \"r\" (region \"r\"): [0x7ffffff000, 0x8000001000) ends "
                      "beyond 0x8000000000, the end of a PD's address space (39 bits)");
    /* The highest page of the window is fine. */
    snprintf(json, sizeof json,
             "{\"name\": \"s\", %s, \"regions\": [{\"name\": \"r\", \"size\": 4096}], \"maps\": "
             "[{\"pd\": \"a\", \"region\": \"r\", \"vaddr\": \"0x7ffffff000\", \"rights\": "
             "\"r\"}]}",
             components);
    struct sd_error err;
    CHECK(plan_text(json, IMG_DEFAULT_MEMORY, &err));
    /* A map too large for what the other maps leave of the window. */
    snprintf(json, sizeof json,
             "{\"name\": \"s\", %s, \"regions\": [{\"name\": \"small\", \"size\": 4096}, "
             "{\"name\": \"huge\", \"size\": \"0x7fe0000000\"}], \"maps\": [{\"pd\": \"a\", "
             "\"region\": \"small\", \"vaddr\": \"0x20000000\", \"rights\": \"r\"}, {\"pd\": "
             "\"a\", \"region\": \"huge\", \"rights\": \"r\"}]}",
             components);
    expect_plan_error(json, IMG_DEFAULT_MEMORY,
                      "PD \"a\": map \"huge\" (region \"huge\"): no room for 523776 MiB between "
                      "0x20000000 and 0x8000000000 beside the PD's other maps");
}

/* The auto-placed maps skip given ones, in description order. */
static void test_ipa_assignment(void)
{
    char json[2048];
    snprintf(json, sizeof json,
             "{\"name\": \"s\", %s, \"regions\": [{\"name\": \"page\", \"size\": 4096}, "
             "{\"name\": \"block\", \"size\": \"4MiB\"}, {\"name\": \"mid\", \"size\": "
             "\"1MiB\"}], \"maps\": [{\"pd\": \"a\", \"region\": \"page\", \"name\": \"p1\", "
             "\"rights\": \"r\"}, {\"pd\": \"a\", \"region\": \"mid\", \"vaddr\": \"0x20001000\", "
             "\"rights\": \"r\"}, {\"pd\": \"a\", \"region\": \"block\", \"rights\": \"r\"}, "
             "{\"pd\": \"a\", \"region\": \"page\", \"name\": \"p2\", \"rights\": \"r\"}]}",
             components);
    char path[600];
    struct sd_error err;
    scratch_path(path, sizeof path, "system.json");
    CHECK(write_text(path, json));
    CHECK(sd_load_file(path, sys, &err));
    sd_default_placement(sys, &placement);
    struct img_plan *plan = img_plan_new();
    CHECK(img_plan_build(plan, sys, &placement, scratch, IMG_DEFAULT_MEMORY, &err));
    /* p1 first at the bottom; mid given; block after mid, 2 MiB aligned; p2 after block. */
    CHECK_EQ(plan->pd[0].map_ipa[0], 0x20000000);
    CHECK_EQ(plan->pd[0].map_ipa[1], 0x20001000);
    CHECK_EQ(plan->pd[0].map_ipa[2], 0x20200000);
    CHECK_EQ(plan->pd[0].map_ipa[3], 0x20101000);
    /* PA: the 4 MiB region 2 MiB aligned, the page after it... in region order. */
    CHECK_EQ(plan->region_pa[0] % 4096, 0);
    CHECK_EQ(plan->region_pa[1] % (2u << 20), 0);
    img_plan_free(plan);
}

static void test_memory(void)
{
    char json[2048];
    snprintf(json, sizeof json,
             "{\"name\": \"s\", %s, \"regions\": [{\"name\": \"big\", \"size\": \"2MiB\"}], "
             "\"maps\": [{\"pd\": \"a\", \"region\": \"big\", \"rights\": \"rw\"}]}",
             components);
    /* PD memory starts 8 MiB into RAM; big lands on [10 MiB, 12 MiB), the kernel needs 2 more. */
    expect_plan_error(json, 10u << 20,
                      "system.json: does not fit in 10 MiB of RAM: region \"big\" (2 MiB) would "
                      "end at 0x40c00000, beyond 0x40a00000; the image needs 14 MiB (--memory "
                      "14MiB)");
    expect_plan_error(json, 13u << 20,
                      "system.json: does not fit in 13 MiB of RAM: the PDs' memory ends at "
                      "0x40c00000, leaving the kernel less than 2 MiB for its tables; the image "
                      "needs 14 MiB");
    expect_plan_error(json, 4u << 20, "the image needs 14 MiB");
    struct sd_error err;
    CHECK(plan_text(json, 14u << 20, &err));

    /* A device region inside RAM. */
    snprintf(json, sizeof json,
             "{\"name\": \"s\", %s, \"regions\": [{\"name\": \"dev\", \"size\": 4096, \"phys\": "
             "\"0x7ffff000\"}]}",
             components);
    expect_plan_error(json, IMG_DEFAULT_MEMORY,
                      "system.json: region \"dev\": phys [0x7ffff000, 0x80000000) overlaps RAM "
                      "[0x40000000, 0x80000000), which the packer lays out");
    CHECK(plan_text(json, (1u << 30) - 4096, &err));
}

static void test_cores(void)
{
    expect_plan_error("{\"name\": \"s\", \"components\": [{\"name\": \"a\", \"kind\": \"test\", "
                      "\"program\": \"prog\", \"priority\": 1, \"core\": 9}]}",
                      IMG_DEFAULT_MEMORY,
                      "(default placement): the placement needs 10 cores; the kernel starts 1 to "
                      "8");
    /* A placement made by hand (as `place` might) that puts a PD beyond its cores. */
    struct sd_error err;
    char path[600];
    scratch_path(path, sizeof path, "system.json");
    CHECK(write_text(path, "{\"name\": \"s\", \"components\": [{\"name\": \"a\", \"kind\": "
                           "\"test\", \"program\": \"prog\", \"priority\": 1}]}"));
    CHECK(sd_load_file(path, sys, &err));
    sd_default_placement(sys, &placement);
    placement.core[0] = 2;
    struct img_plan *plan = img_plan_new();
    CHECK(!img_plan_build(plan, sys, &placement, scratch, IMG_DEFAULT_MEMORY, &err));
    CHECK_STR_CONTAINS(err.message, "PD \"a\" is on core 2, out of range 0..0 (\"cores\" is 1)");
    img_plan_free(plan);
}

/* 64 PDs with 16 maps each: 64 * (config + 2 segments + stack + 16) mappings, over 1024. */
static void test_too_many_mappings(void)
{
    char *json = malloc(1 << 20);
    size_t n = (size_t)sprintf(json, "{\"name\": \"many\", \"components\": [");
    for (int p = 0; p < 64; p++) {
        n += (size_t)sprintf(json + n,
                             "%s{\"name\": \"p%d\", \"kind\": \"test\", \"program\": \"prog\", "
                             "\"priority\": 1}",
                             p ? ", " : "", p);
    }
    n += (size_t)sprintf(json + n, "], \"regions\": [{\"name\": \"r\", \"size\": 4096}], "
                                   "\"maps\": [");
    for (int p = 0; p < 64; p++) {
        for (int m = 0; m < 16; m++) {
            n += (size_t)sprintf(json + n,
                                 "%s{\"pd\": \"p%d\", \"region\": \"r\", \"name\": \"m%d\", "
                                 "\"rights\": \"r\"}",
                                 p || m ? ", " : "", p, m);
        }
    }
    sprintf(json + n, "]}");
    expect_plan_error(json, IMG_DEFAULT_MEMORY,
                      "system.json: more than 1024 mappings in the system (boot information "
                      "holds 1024)");
    free(json);
}

static void test_too_many_irqs(void)
{
    char *json = malloc(1 << 20);
    size_t n = (size_t)sprintf(json, "{\"name\": \"irqs\", \"components\": [");
    for (int p = 0; p < 43; p++) {
        n += (size_t)sprintf(json + n,
                             "%s{\"name\": \"p%d\", \"kind\": \"driver\", \"program\": \"prog\", "
                             "\"priority\": 1, \"irqs\": [{\"name\": \"i0\", \"irq\": %d}, "
                             "{\"name\": \"i1\", \"irq\": %d}, {\"name\": \"i2\", \"irq\": %d}]}",
                             p ? ", " : "", p, 32 + 3 * p, 33 + 3 * p, 34 + 3 * p);
    }
    sprintf(json + n, "]}");
    expect_plan_error(json, IMG_DEFAULT_MEMORY,
                      "system.json: PD \"p42\": IRQ \"i2\": more than 128 IRQs in the system "
                      "(boot information holds 128)");
    free(json);
}

static void test_programs(void)
{
    static const char missing[] =
        "{\"name\": \"s\", \"components\": [{\"name\": \"a\", \"kind\": \"test\", \"program\": "
        "\"nothere\", \"priority\": 1}]}";
    char expected[700];
    snprintf(expected, sizeof expected, "%s/nothere.elf: cannot open: No such file or directory",
             scratch);
    expect_plan_error(missing, IMG_DEFAULT_MEMORY, expected);

    struct fake_elf broken = fake_program();
    broken.entry = 0x202000;
    write_program("broken.elf", &broken);
    snprintf(expected, sizeof expected,
             "%s/broken.elf: entry point 0x202000 is not inside an executable segment", scratch);
    expect_plan_error("{\"name\": \"s\", \"components\": [{\"name\": \"a\", \"kind\": \"test\", "
                      "\"program\": \"broken\", \"priority\": 1}]}",
                      IMG_DEFAULT_MEMORY, expected);
}

/* A failed build writes nothing, and leaves what was there before as it was. */
static void test_build_leaves_nothing(void)
{
    char system[600], image[600], manifest[600], kernel[600], bad_kernel[600];
    scratch_path(system, sizeof system, "system.json");
    scratch_path(image, sizeof image, "out.elf");
    scratch_path(manifest, sizeof manifest, "out.json");
    scratch_path(kernel, sizeof kernel, "kernel.elf");
    scratch_path(bad_kernel, sizeof bad_kernel, "bad-kernel.elf");
    char json[1024];
    snprintf(json, sizeof json, "{\"name\": \"s\", %s}", components);
    CHECK(write_text(system, json));
    struct fake_elf spec = fake_kernel();
    CHECK(write_fake_elf(kernel, &spec, 0));
    CHECK(write_fake_elf(bad_kernel, &spec, 100));
    struct img_options options = {.system_path = system,
                                  .kernel_path = kernel,
                                  .programs_dir = scratch,
                                  .memory = IMG_DEFAULT_MEMORY,
                                  .output_path = image,
                                  .manifest_path = manifest};
    struct sd_error err;
    bool ok = img_build(&options, &err);
    if (!ok) {
        fprintf(stderr, "%s\n", err.message);
    }
    CHECK(ok);
    size_t good_size = 0;
    free(read_bytes(image, &good_size));
    CHECK(good_size > 0);

    CHECK(write_text(image, "old image"));
    CHECK(write_text(manifest, "old manifest"));
    int entries = scratch_entries();
    /* Each a different failure: kernel, memory, placement, system, manifest's directory. */
    struct img_options failing[5];
    for (int i = 0; i < 5; i++) {
        failing[i] = options;
    }
    failing[0].kernel_path = bad_kernel;
    failing[1].memory = 4u << 20;
    failing[2].placement_path = "/nonexistent/placement.json";
    failing[3].system_path = "/nonexistent/system.json";
    char no_dir[700];
    snprintf(no_dir, sizeof no_dir, "%s/no-such-dir/out.json", scratch);
    failing[4].manifest_path = no_dir;
    const char *messages[] = {"bad-kernel.elf: truncated", "does not fit in 4 MiB of RAM",
                              "/nonexistent/placement.json: cannot open",
                              "/nonexistent/system.json: cannot open", "no-such-dir/out.json"};
    for (int i = 0; i < 5; i++) {
        CHECK(!img_build(&failing[i], &err));
        CHECK_STR_CONTAINS(err.message, messages[i]);
        size_t size = 0;
        char *text = (char *)read_bytes(image, &size);
        CHECK(text != NULL && size == 9 && memcmp(text, "old image", 9) == 0);
        free(text);
        text = (char *)read_bytes(manifest, &size);
        CHECK(text != NULL && size == 12 && memcmp(text, "old manifest", 12) == 0);
        free(text);
        CHECK_EQ(scratch_entries(), entries); /* no temporary file left behind */
    }

    /* Without a manifest, only the image is written. */
    unlink(image);
    unlink(manifest);
    options.manifest_path = NULL;
    CHECK(img_build(&options, &err));
    CHECK(access(image, F_OK) == 0);
    CHECK(access(manifest, F_OK) != 0);
}

int main(void)
{
    sys = sd_system_new();
    make_scratch("test_image_errors");
    struct fake_elf program = fake_program();
    write_program("prog.elf", &program);
    RUN_TEST(test_map_addresses);
    RUN_TEST(test_ipa_assignment);
    RUN_TEST(test_memory);
    RUN_TEST(test_cores);
    RUN_TEST(test_too_many_mappings);
    RUN_TEST(test_too_many_irqs);
    RUN_TEST(test_programs);
    RUN_TEST(test_build_leaves_nothing);
    sd_system_free(sys);
    remove_scratch();
    return check_exit();
}
