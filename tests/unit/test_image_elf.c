/*
 * The image packer's ELF reader and checks: what a good program and kernel
 * read as, and a clear message naming the file for every way a program or
 * kernel can be broken (truncated anywhere, wrong class or machine or type,
 * dynamically linked, segments outside their window or sharing a page, an
 * entry point outside the code, a misplaced counter table).
 */
#define _POSIX_C_SOURCE 200809L

#include "test_image_fixture.h"

static struct img_elf elf;

/* Builds `spec`, parses it (truncated to `size` bytes when non-zero) and returns whether it read.
 */
static bool parse_fake(const struct fake_elf *spec, size_t size, struct sd_error *err)
{
    struct byte_buffer bytes = fake_elf_build(spec);
    if (size != 0 && size < bytes.size) {
        bytes.size = size;
    }
    img_elf_free(&elf);
    return img_elf_parse(bytes.data, bytes.size, "progs/p.elf", &elf, err);
}

/* The spec must read, and then fail img_check_program with `fragment`. */
static void expect_program_rejected(const struct fake_elf *spec, const char *fragment)
{
    struct sd_error err;
    bool read = parse_fake(spec, 0, &err);
    if (!read) {
        fprintf(stderr, "unexpected: %s\n", err.message);
    }
    CHECK(read);
    CHECK(!img_check_program(&elf, &err));
    CHECK_STR_CONTAINS(err.message, "progs/p.elf: ");
    CHECK_STR_CONTAINS(err.message, fragment);
}

static void expect_unreadable(const struct fake_elf *spec, size_t size, const char *fragment)
{
    struct sd_error err;
    CHECK(!parse_fake(spec, size, &err));
    CHECK_STR_CONTAINS(err.message, "progs/p.elf: ");
    CHECK_STR_CONTAINS(err.message, fragment);
    CHECK(strchr(err.message, '\n') == NULL);
}

static void test_good_program(void)
{
    struct fake_elf spec = fake_program();
    struct sd_error err;
    CHECK(parse_fake(&spec, 0, &err));
    CHECK(img_check_program(&elf, &err));
    CHECK_EQ(elf.entry, 0x200010);
    CHECK_EQ(elf.n_segments, 2);
    CHECK_EQ(elf.segments[0].vaddr, 0x200000);
    CHECK_EQ(elf.segments[0].filesz, 0x123);
    CHECK_EQ(elf.segments[0].flags, PF_R | PF_X);
    CHECK_EQ(elf.segments[1].memsz, 0x1800);
    CHECK_EQ(elf.bytes[elf.segments[1].offset + 5], fake_byte(1, 5));
    CHECK(elf.has_counters);
    CHECK_EQ(elf.counters_vaddr, 0x202100);
    CHECK_EQ(elf.counters_size, sizeof(struct pn_counter_table));

    /* Without a symbol table, no counters; segments of size 0 and other types are skipped. */
    spec.counters = false;
    spec.segments[2] = (struct fake_segment){.vaddr = 0x300000, .type = PT_LOAD};
    spec.segments[3] = (struct fake_segment){.vaddr = 0, .filesz = 4, .type = PT_NOTE};
    spec.n_segments = 4;
    CHECK(parse_fake(&spec, 0, &err));
    CHECK(img_check_program(&elf, &err));
    CHECK(!elf.has_counters);
    CHECK_EQ(elf.n_segments, 2);
}

static void test_read_from_file(void)
{
    make_scratch("test_image_elf");
    char path[512];
    scratch_path(path, sizeof path, "p.elf");
    struct fake_elf spec = fake_program();
    CHECK(write_fake_elf(path, &spec, 0));
    struct sd_error err;
    img_elf_free(&elf);
    CHECK(img_elf_read(path, &elf, &err));
    CHECK_EQ(elf.n_segments, 2);
    CHECK(strcmp(elf.path, path) == 0);
    img_elf_free(&elf);

    scratch_path(path, sizeof path, "missing.elf");
    CHECK(!img_elf_read(path, &elf, &err));
    CHECK_STR_CONTAINS(err.message, path);
    CHECK_STR_CONTAINS(err.message, ": cannot open: No such file or directory");
    CHECK(!img_elf_read(scratch, &elf, &err)); /* a directory */
    CHECK_STR_CONTAINS(err.message, scratch);
    img_elf_free(&elf);
    remove_scratch();
}

static void test_wrong_files(void)
{
    struct fake_elf spec = fake_program();
    struct sd_error err;
    uint8_t *text = (uint8_t *)strdup("#!/bin/sh\necho not an ELF file\n");
    img_elf_free(&elf);
    CHECK(!img_elf_parse(text, strlen((char *)text), "progs/p.elf", &elf, &err));
    CHECK_STR_CONTAINS(err.message, "progs/p.elf: not an ELF file");
    img_elf_free(&elf);
    CHECK(!img_elf_parse(calloc(1, 1), 0, "progs/p.elf", &elf, &err));
    CHECK_STR_CONTAINS(err.message, "progs/p.elf: not an ELF file");

    spec.machine = EM_X86_64;
    expect_unreadable(&spec, 0, "built for machine 62 (x86-64), not aarch64 (183)");
    spec.machine = EM_ARM;
    expect_unreadable(&spec, 0, "built for machine 40 (32-bit Arm), not aarch64");
    spec = fake_program();
    spec.elf_class = ELFCLASS32;
    expect_unreadable(&spec, 0, "not a 64-bit ELF file (class 1)");
    spec = fake_program();
    spec.type = ET_DYN;
    expect_unreadable(&spec, 0, "(ET_DYN), not a static executable (ET_EXEC): link with -static");
    spec.type = ET_REL;
    expect_unreadable(&spec, 0, "not an executable (e_type 1, expected ET_EXEC)");
    spec = fake_program();
    spec.segments[2] = (struct fake_segment){.vaddr = 0x200200, .filesz = 8, .type = PT_INTERP};
    spec.n_segments = 3;
    expect_unreadable(&spec, 0, "dynamically linked (program header 2 is PT_INTERP)");
    spec.segments[2].type = PT_DYNAMIC;
    expect_unreadable(&spec, 0, "dynamically linked (program header 2 is PT_DYNAMIC)");
    spec = fake_program();
    spec.segments[1].filesz = 0x2000;
    expect_unreadable(&spec, 0, "program header 1: file size 8192 exceeds memory size 6144");
}

/* Cut anywhere, a file is rejected as truncated, never read past its end. */
static void test_truncated(void)
{
    struct fake_elf spec = fake_program();
    struct byte_buffer full = fake_elf_build(&spec);
    size_t phdrs_end = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
    expect_unreadable(&spec, 10, "not an ELF file");
    expect_unreadable(&spec, 40, "truncated: 40 bytes, shorter than an ELF header (64)");
    expect_unreadable(&spec, phdrs_end - 1, "truncated: 2 program headers at offset 64");
    expect_unreadable(&spec, phdrs_end + 0x20, "truncated: program header 0's 291 bytes");
    expect_unreadable(&spec, full.size - 1, "truncated: 3 section headers");
    int readable = 0;
    for (size_t size = 1; size < full.size; size++) {
        struct sd_error err;
        readable += parse_fake(&spec, size, &err);
    }
    CHECK_EQ(readable, 0);
    free(full.data);

    /* A symbol table whose data lies beyond the end of the file. */
    struct byte_buffer bytes = fake_elf_build(&spec);
    Elf64_Ehdr header;
    memcpy(&header, bytes.data, sizeof header);
    Elf64_Shdr symtab;
    memcpy(&symtab, bytes.data + header.e_shoff + sizeof symtab, sizeof symtab);
    symtab.sh_size = 1u << 20;
    memcpy(bytes.data + header.e_shoff + sizeof symtab, &symtab, sizeof symtab);
    struct sd_error err;
    img_elf_free(&elf);
    CHECK(!img_elf_parse(bytes.data, bytes.size, "progs/p.elf", &elf, &err));
    CHECK_STR_CONTAINS(err.message, "progs/p.elf: truncated: section 1 runs past the end");
}

static void test_program_checks(void)
{
    struct fake_elf spec = fake_program();
    spec.segments[0].vaddr = 0x100000;
    spec.entry = 0x100010;
    expect_program_rejected(&spec, "segment 0 [0x100000, 0x100123) is outside the program window "
                                   "[0x200000, 0xf00000) (link at 0x200000)");
    spec = fake_program();
    spec.segments[1].vaddr = 0xeff000;
    spec.counters = false;
    expect_program_rejected(&spec, "segment 1 [0xeff000, 0xf00800) is outside the program window");
    spec = fake_program();
    spec.segments[1].vaddr = 0x202010;
    spec.counters = false;
    expect_program_rejected(&spec, "segment 1 at 0x202010 is not page aligned");
    spec = fake_program();
    spec.segments[1].vaddr = 0x200000;
    spec.counters = false;
    expect_program_rejected(&spec, "segments 0 [0x200000, 0x200123) and 1 [0x200000, 0x201800) "
                                   "overlap (or share a page)");
    spec = fake_program();
    spec.segments[0].memsz = 0x1001; /* one byte into the page where segment 1 starts */
    spec.segments[1].vaddr = 0x201000;
    spec.counters = false;
    expect_program_rejected(&spec, "overlap (or share a page)");
    spec = fake_program();
    spec.entry = 0x202000; /* in the data segment */
    expect_program_rejected(&spec, "entry point 0x202000 is not inside an executable segment");
    spec.entry = 0x200123; /* just past the code */
    expect_program_rejected(&spec, "entry point 0x200123 is not inside an executable segment");
    spec = fake_program();
    spec.counters_value = 0x203700; /* the table runs past the segment's end */
    expect_program_rejected(&spec, "pn_counter_table at 0x203700 (");
    expect_program_rejected(&spec, "bytes) is not inside a loadable segment");
    spec.counters_value = 0x400000;
    expect_program_rejected(&spec, "pn_counter_table at 0x400000");
    spec = fake_program();
    spec.counters_size = 24;
    expect_program_rejected(&spec, "pn_counter_table is 24 bytes, not ");
    spec = fake_program();
    spec.n_segments = 0;
    spec.counters = false;
    expect_program_rejected(&spec, "no loadable segments (PT_LOAD)");

    spec = fake_program();
    spec.counters = false;
    spec.entry = 0x200000;
    spec.n_segments = 17;
    for (size_t s = 0; s < 17; s++) {
        spec.segments[s] = (struct fake_segment){
            .vaddr = 0x200000 + s * 0x1000, .filesz = 4, .memsz = 4, .flags = PF_R | PF_X};
    }
    expect_program_rejected(&spec, "17 loadable segments, more than 16");
    spec.n_segments = 16;
    struct sd_error err;
    CHECK(parse_fake(&spec, 0, &err));
    CHECK(img_check_program(&elf, &err));
}

static void test_kernel_checks(void)
{
    struct fake_elf spec = fake_kernel();
    struct sd_error err;
    CHECK(parse_fake(&spec, 0, &err));
    CHECK(img_check_kernel(&elf, &err));

    /* Linked high with physical load addresses is fine: QEMU loads by p_paddr. */
    spec.segments[0].vaddr = 0xffff000040200000;
    spec.segments[0].paddr = 0x40200000;
    spec.entry = 0xffff000040200000;
    CHECK(parse_fake(&spec, 0, &err));
    CHECK(img_check_kernel(&elf, &err));

    spec = fake_kernel();
    spec.segments[1].memsz = 0x400000;
    CHECK(parse_fake(&spec, 0, &err));
    CHECK(!img_check_kernel(&elf, &err));
    CHECK_STR_CONTAINS(err.message, "progs/p.elf: segment 1 [0x40210000, 0x40610000) (physical) "
                                    "is outside the kernel's area [0x40200000, 0x40600000)");
    spec = fake_kernel();
    spec.segments[0].vaddr = 0x40000000;
    spec.entry = 0x40000000;
    CHECK(parse_fake(&spec, 0, &err));
    CHECK(!img_check_kernel(&elf, &err));
    CHECK_STR_CONTAINS(err.message, "segment 0 [0x40000000, 0x40000800) (physical) is outside");
    spec = fake_kernel();
    spec.entry = 0x40210000;
    CHECK(parse_fake(&spec, 0, &err));
    CHECK(!img_check_kernel(&elf, &err));
    CHECK_STR_CONTAINS(err.message, "entry point 0x40210000 is not inside an executable segment");
}

int main(void)
{
    RUN_TEST(test_good_program);
    RUN_TEST(test_read_from_file);
    RUN_TEST(test_wrong_files);
    RUN_TEST(test_truncated);
    RUN_TEST(test_program_checks);
    RUN_TEST(test_kernel_checks);
    img_elf_free(&elf);
    return check_exit();
}
