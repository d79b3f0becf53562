/*
 * Shared by the image packer's tests: ELF files made to measure in memory
 * (so that every field, and every way of breaking one, is under the test's
 * control), a scratch directory, and small file helpers.
 */
#ifndef PINION_TESTS_IMAGE_FIXTURE_H
#define PINION_TESTS_IMAGE_FIXTURE_H

#include "check.h"
#include "image.h"

#include <dirent.h>
#include <elf.h>
#include <pinion/counters.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PINION_SOURCE_DIR
#error "the build defines PINION_SOURCE_DIR, the repository root"
#endif

struct fake_segment {
    uint64_t vaddr;
    uint64_t paddr; /* 0: the same as vaddr */
    uint64_t filesz;
    uint64_t memsz;
    uint32_t flags;
    uint32_t type; /* 0: PT_LOAD */
};

struct fake_elf {
    uint8_t elf_class; /* 0: ELFCLASS64 */
    uint16_t machine;  /* 0: EM_AARCH64 */
    uint16_t type;     /* 0: ET_EXEC */
    uint64_t entry;
    size_t n_segments;
    struct fake_segment segments[24];
    bool counters; /* a pn_counter_table symbol */
    uint64_t counters_value;
    uint64_t counters_size;
};

/* Byte `i` of segment `s`'s file data, so tests can check what was copied where. */
static inline uint8_t fake_byte(size_t s, uint64_t i)
{
    return (uint8_t)(0x40 + s * 17 + i * 3);
}

struct byte_buffer {
    uint8_t *data;
    size_t size;
};

static inline void buffer_put(struct byte_buffer *buffer, size_t offset, const void *data,
                              size_t size)
{
    if (offset + size > buffer->size) {
        buffer->data = realloc(buffer->data, offset + size);
        memset(buffer->data + buffer->size, 0, offset + size - buffer->size);
        buffer->size = offset + size;
    }
    memcpy(buffer->data + offset, data, size);
}

/* An ELF64 executable: header, program headers, segment bytes, and a symbol table when asked. */
static inline struct byte_buffer fake_elf_build(const struct fake_elf *spec)
{
    struct byte_buffer out = {NULL, 0};
    size_t phoff = sizeof(Elf64_Ehdr);
    size_t cursor = phoff + spec->n_segments * sizeof(Elf64_Phdr);
    Elf64_Ehdr header = {
        .e_type = spec->type ? spec->type : ET_EXEC,
        .e_machine = spec->machine ? spec->machine : EM_AARCH64,
        .e_version = EV_CURRENT,
        .e_entry = spec->entry,
        .e_phoff = phoff,
        .e_ehsize = sizeof(Elf64_Ehdr),
        .e_phentsize = sizeof(Elf64_Phdr),
        .e_phnum = (Elf64_Half)spec->n_segments,
    };
    memcpy(header.e_ident, ELFMAG, SELFMAG);
    header.e_ident[EI_CLASS] = spec->elf_class ? spec->elf_class : ELFCLASS64;
    header.e_ident[EI_DATA] = ELFDATA2LSB;
    header.e_ident[EI_VERSION] = EV_CURRENT;
    for (size_t s = 0; s < spec->n_segments; s++) {
        const struct fake_segment *segment = &spec->segments[s];
        cursor = (cursor + 15) & ~(size_t)15;
        Elf64_Phdr phdr = {
            .p_type = segment->type ? segment->type : PT_LOAD,
            .p_flags = segment->flags,
            .p_offset = cursor,
            .p_vaddr = segment->vaddr,
            .p_paddr = segment->paddr ? segment->paddr : segment->vaddr,
            .p_filesz = segment->filesz,
            .p_memsz = segment->memsz,
            .p_align = 4096,
        };
        buffer_put(&out, phoff + s * sizeof phdr, &phdr, sizeof phdr);
        for (uint64_t i = 0; i < segment->filesz; i++) {
            uint8_t byte = fake_byte(s, i);
            buffer_put(&out, cursor + i, &byte, 1);
        }
        cursor += segment->filesz;
    }
    if (spec->counters) {
        static const char strings[] = "\0pn_counter_table\0other";
        size_t strtab = (cursor + 15) & ~(size_t)15;
        buffer_put(&out, strtab, strings, sizeof strings);
        size_t symtab = (strtab + sizeof strings + 15) & ~(size_t)15;
        Elf64_Sym symbols[3] = {
            {0},
            {.st_name = 18, .st_shndx = 1, .st_value = 0x1234}, /* "other" */
            {.st_name = 1,
             .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT),
             .st_shndx = 1,
             .st_value = spec->counters_value,
             .st_size = spec->counters_size},
        };
        buffer_put(&out, symtab, symbols, sizeof symbols);
        size_t shoff = symtab + sizeof symbols;
        Elf64_Shdr sections[3] = {
            {0},
            {.sh_type = SHT_SYMTAB,
             .sh_offset = symtab,
             .sh_size = sizeof symbols,
             .sh_link = 2,
             .sh_entsize = sizeof(Elf64_Sym)},
            {.sh_type = SHT_STRTAB, .sh_offset = strtab, .sh_size = sizeof strings},
        };
        buffer_put(&out, shoff, sections, sizeof sections);
        header.e_shoff = shoff;
        header.e_shentsize = sizeof(Elf64_Shdr);
        header.e_shnum = 3;
    }
    buffer_put(&out, 0, &header, sizeof header);
    return out;
}

/* A program as the packer wants one: text at 0x200000, data with bss at 0x202000. */
static inline struct fake_elf fake_program(void)
{
    struct fake_elf spec = {
        .entry = 0x200010,
        .n_segments = 2,
        .segments =
            {
                {.vaddr = 0x200000, .filesz = 0x123, .memsz = 0x123, .flags = PF_R | PF_X},
                {.vaddr = 0x202000, .filesz = 0x10, .memsz = 0x1800, .flags = PF_R | PF_W},
            },
        .counters = true,
        .counters_value = 0x202100,
        .counters_size = sizeof(struct pn_counter_table),
    };
    return spec;
}

/* A kernel at 0x40200000: code, then data and bss. */
static inline struct fake_elf fake_kernel(void)
{
    struct fake_elf spec = {
        .entry = 0x40200000,
        .n_segments = 2,
        .segments =
            {
                {.vaddr = 0x40200000, .filesz = 0x800, .memsz = 0x800, .flags = PF_R | PF_X},
                {.vaddr = 0x40210000, .filesz = 0x40, .memsz = 0x20000, .flags = PF_R | PF_W},
            },
    };
    return spec;
}

static inline bool write_bytes(const char *path, const void *data, size_t size)
{
    FILE *file = fopen(path, "wb");
    if (file == NULL) {
        return false;
    }
    bool ok = fwrite(data, 1, size, file) == size;
    return fclose(file) == 0 && ok;
}

static inline bool write_fake_elf(const char *path, const struct fake_elf *spec, size_t truncate_to)
{
    struct byte_buffer elf = fake_elf_build(spec);
    size_t size = truncate_to != 0 && truncate_to < elf.size ? truncate_to : elf.size;
    bool ok = write_bytes(path, elf.data, size);
    free(elf.data);
    return ok;
}

/*
 * A stand-in for an arm64 Linux Image: the 64-byte header Linux's
 * Documentation/arch/arm64/booting.rst defines (code0, code1, text_offset,
 * image_size, flags, reserved, magic "ARM\x64" at byte 56), then bytes of a
 * known pattern up to `size`.
 */
struct fake_linux {
    size_t size;
    uint64_t text_offset;
    uint64_t image_size; /* 0: `size` rounded up to 64 KiB */
    uint64_t flags;      /* 0: little-endian, 4K pages, anywhere (0xa) */
    bool no_magic;
    bool no_image_size; /* image_size 0, as kernels before Linux 3.17 have it */
};

static inline uint8_t fake_linux_byte(uint64_t i)
{
    return (uint8_t)(0x5a ^ (i * 7));
}

static inline void put_le64(uint8_t *at, uint64_t value)
{
    for (int i = 0; i < 8; i++) {
        at[i] = (uint8_t)(value >> (8 * i));
    }
}

static inline struct byte_buffer fake_linux_build(const struct fake_linux *spec)
{
    struct byte_buffer out = {calloc(1, spec->size < 64 ? 64 : spec->size), spec->size};
    for (size_t i = 64; i < spec->size; i++) {
        out.data[i] = fake_linux_byte(i);
    }
    uint64_t image_size = spec->no_image_size     ? 0
                          : spec->image_size != 0 ? spec->image_size
                                                  : (spec->size + 0xffff) & ~(uint64_t)0xffff;
    uint8_t header[64] = {0};
    put_le64(header + 8, spec->text_offset);
    put_le64(header + 16, image_size);
    put_le64(header + 24, spec->flags != 0 ? spec->flags : 0xa);
    if (!spec->no_magic) {
        memcpy(header + 56, "ARM\x64", 4);
    }
    memcpy(out.data, header, spec->size < 64 ? spec->size : 64);
    return out;
}

static inline bool write_fake_linux(const char *path, const struct fake_linux *spec)
{
    struct byte_buffer image = fake_linux_build(spec);
    bool ok = write_bytes(path, image.data, image.size);
    free(image.data);
    return ok;
}

static inline bool write_text(const char *path, const char *text)
{
    return write_bytes(path, text, strlen(text));
}

static inline uint8_t *read_bytes(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return NULL;
    }
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    uint8_t *data = malloc(length > 0 ? (size_t)length : 1);
    *size = fread(data, 1, (size_t)(length > 0 ? length : 0), file);
    fclose(file);
    return data;
}

/* A scratch directory; remove_scratch() deletes it and everything in it. */
static char scratch[256];

static inline void make_scratch(const char *name)
{
    snprintf(scratch, sizeof scratch, "/tmp/%s.XXXXXX", name);
    if (mkdtemp(scratch) == NULL) {
        fprintf(stderr, "cannot make a scratch directory\n");
        exit(1);
    }
}

static inline void scratch_path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", scratch, name);
}

/* How many entries the scratch directory holds (to see that nothing was left behind). */
static inline int scratch_entries(void)
{
    DIR *dir = opendir(scratch);
    int count = 0;
    struct dirent *entry;
    while (dir != NULL && (entry = readdir(dir)) != NULL) {
        count += entry->d_name[0] != '.';
    }
    if (dir != NULL) {
        closedir(dir);
    }
    return count;
}

static inline void remove_scratch(void)
{
    DIR *dir = opendir(scratch);
    struct dirent *entry;
    while (dir != NULL && (entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] != '.') {
            char path[600];
            scratch_path(path, sizeof path, entry->d_name);
            unlink(path);
        }
    }
    if (dir != NULL) {
        closedir(dir);
    }
    rmdir(scratch);
}

#endif
