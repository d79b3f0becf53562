/*
 * pinion-image: packs a system into one bootable ELF image, or shows the
 * boot information inside one. Exit status: 0 done, 1 an input is invalid
 * (or cannot be read or written), 2 the command line is wrong.
 */
#include "image.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum {
    EXIT_OK = 0,
    EXIT_INVALID = 1,
    EXIT_USAGE = 2,
};

static const char usage_text[] =
    "usage: pinion-image --system SYSTEM.json [--placement PLACEMENT.json]\n"
    "                    --kernel KERNEL.elf --programs DIR [--guests DIR]\n"
    "                    [--memory SIZE] -o IMAGE.elf [--manifest MANIFEST.json]\n"
    "                    [--dtb-out DIR]\n"
    "       pinion-image --dump IMAGE.elf\n"
    "       pinion-image --help\n"
    "\n"
    "Packs a pinion system into one ELF image that QEMU boots with -kernel: the\n"
    "kernel, its boot information, every component's configuration, program,\n"
    "stack and shared regions, and every VM's guest kernel, initrd and device\n"
    "tree, at fixed physical addresses (docs/image.md, docs/guest-dtb.md).\n"
    "\n"
    "  --system FILE      the system description (docs/system-description.md)\n"
    "  --placement FILE   where each PD and vCPU runs and how channels are batched\n"
    "                     (docs/placement-format.md); without it, each PD runs on\n"
    "                     the core its description gives, else core 0\n"
    "  --kernel FILE      the pinion kernel, linked at 0x40200000\n"
    "  --programs DIR     where component programs are: DIR/<program>.elf\n"
    "  --guests DIR       where a VM's relative \"kernel\" and \"initrd\" paths are\n"
    "                     found (default: the system description's directory)\n"
    "  --memory SIZE      RAM of the machine, as given to QEMU's -m (default 1GiB;\n"
    "                     4096, 0x1000, 64KiB, 512MiB, 2GiB)\n"
    "  -o, --output FILE  the image to write\n"
    "  --manifest FILE    also write what experiment scripts need as JSON: PDs,\n"
    "                     VMs, cores, memory, mappings, channels and their batching\n"
    "  --dtb-out DIR      also write each VM's device tree as DIR/<vm>.dtb (an\n"
    "                     existing directory; dtc -I dtb decompiles them)\n"
    "  --dump IMAGE       print the boot information inside IMAGE: PDs, VMs,\n"
    "                     vCPUs, cores, mappings, channels, IRQs\n"
    "\n"
    "Outputs appear whole or not at all: on an error no output is written and\n"
    "existing files are left as they were.\n"
    "\n"
    "Exit status: 0 ok, 1 an invalid or unreadable input, 2 a usage error.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("pinion-image: ", stderr);
    vfprintf(stderr, fmt, args);
    fputs("\nTry 'pinion-image --help'.\n", stderr);
    va_end(args);
    return EXIT_USAGE;
}

struct arguments {
    struct img_options options;
    const char *memory_text;
    const char *dump_path;
};

struct option_slot {
    const char *long_name;
    const char *short_name; /* NULL when none */
    const char **value;
};

/* Takes "--name VALUE" or "--name=VALUE" at argv[*i]; 1 matched, 0 not this option, -1 error. */
static int take_option(const struct option_slot *slot, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    size_t len = strlen(slot->long_name);
    const char *value = NULL;
    if (strcmp(arg, slot->long_name) == 0 ||
        (slot->short_name != NULL && strcmp(arg, slot->short_name) == 0)) {
        if (*i + 1 >= argc) {
            usage_error("%s needs a value", arg);
            return -1;
        }
        value = argv[++*i];
    } else if (strncmp(arg, slot->long_name, len) == 0 && arg[len] == '=') {
        value = arg + len + 1;
    } else {
        return 0;
    }
    if (*slot->value != NULL) {
        usage_error("%s given twice", slot->long_name);
        return -1;
    }
    if (value[0] == '\0') {
        usage_error("%s needs a non-empty value", slot->long_name);
        return -1;
    }
    *slot->value = value;
    return 1;
}

static int parse_arguments(int argc, char **argv, struct arguments *args)
{
    const struct option_slot slots[] = {
        {"--system", NULL, &args->options.system_path},
        {"--placement", NULL, &args->options.placement_path},
        {"--kernel", NULL, &args->options.kernel_path},
        {"--programs", NULL, &args->options.programs_dir},
        {"--guests", NULL, &args->options.guests_dir},
        {"--memory", NULL, &args->memory_text},
        {"--output", "-o", &args->options.output_path},
        {"--manifest", NULL, &args->options.manifest_path},
        {"--dtb-out", NULL, &args->options.dtb_out_dir},
        {"--dump", NULL, &args->dump_path},
    };
    for (int i = 1; i < argc; i++) {
        int matched = 0;
        for (size_t s = 0; s < sizeof slots / sizeof slots[0] && matched == 0; s++) {
            matched = take_option(&slots[s], argc, argv, &i);
        }
        if (matched < 0) {
            return EXIT_USAGE;
        }
        if (matched == 0) {
            if (argv[i][0] == '-') {
                return usage_error("unknown option \"%s\"", argv[i]);
            }
            return usage_error("unexpected argument \"%s\"", argv[i]);
        }
    }
    return EXIT_OK;
}

static int check_build_arguments(struct arguments *args)
{
    struct img_options *options = &args->options;
    const struct {
        const char *value, *name;
    } required[] = {
        {options->system_path, "--system"},
        {options->kernel_path, "--kernel"},
        {options->programs_dir, "--programs"},
        {options->output_path, "-o"},
    };
    for (size_t r = 0; r < sizeof required / sizeof required[0]; r++) {
        if (required[r].value == NULL) {
            return usage_error("%s is required", required[r].name);
        }
    }
    options->memory = IMG_DEFAULT_MEMORY;
    if (args->memory_text != NULL) {
        struct sd_error err;
        if (!sd_parse_size_text(args->memory_text, "--memory", &options->memory, &err)) {
            return usage_error("%s", err.message);
        }
    }
    if (options->manifest_path != NULL &&
        strcmp(options->manifest_path, options->output_path) == 0) {
        return usage_error("the manifest and the image must be different files");
    }
    return EXIT_OK;
}

static int dump(const char *path)
{
    struct img_elf image;
    struct pn_bootinfo *boot = malloc(sizeof *boot);
    struct sd_error err;
    if (boot == NULL) {
        fprintf(stderr, "pinion-image: out of memory\n");
        return EXIT_INVALID;
    }
    int status = EXIT_OK;
    if (img_read_bootinfo(path, &image, boot, &err)) {
        img_print_image(stdout, &image, boot);
    } else {
        fprintf(stderr, "%s\n", err.message);
        status = EXIT_INVALID;
    }
    img_elf_free(&image);
    free(boot);
    return status;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return EXIT_OK;
        }
    }
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    struct arguments args;
    memset(&args, 0, sizeof args);
    int status = parse_arguments(argc, argv, &args);
    if (status != EXIT_OK) {
        return status;
    }
    if (args.dump_path != NULL) {
        const struct img_options *o = &args.options;
        if (o->system_path || o->placement_path || o->kernel_path || o->programs_dir ||
            o->output_path || o->manifest_path || o->guests_dir || o->dtb_out_dir ||
            args.memory_text) {
            return usage_error("--dump takes no other options");
        }
        status = dump(args.dump_path);
    } else {
        status = check_build_arguments(&args);
        if (status != EXIT_OK) {
            return status;
        }
        struct sd_error err;
        if (!img_build(&args.options, &err)) {
            fprintf(stderr, "%s\n", err.message);
            return EXIT_INVALID;
        }
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "pinion-image: cannot write output\n");
        return EXIT_INVALID;
    }
    return status;
}
