#define _POSIX_C_SOURCE 200809L

/*
 * Reading ELF files: component programs, the kernel, and images for --dump.
 * Everything in the file is untrusted: every offset and count is checked
 * against the file's size before it is followed.
 */
#include "image.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <pinion/counters.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Fields are copied out with memcpy, which reads them right only on a little-endian host. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "the ELF reader assumes a little-endian host");

#define IMG_ELF_FILE_MAX (UINT64_C(1) << 30) /* far beyond any program or kernel */

static bool fail(struct sd_error *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(struct sd_error *err, const char *path, const char *fmt, ...)
{
    int prefix = snprintf(err->message, sizeof err->message, "%s: ", path);
    if (prefix > 0 && (size_t)prefix < sizeof err->message) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(err->message + prefix, sizeof err->message - (size_t)prefix, fmt, args);
        va_end(args);
    }
    return false;
}

/* [offset, offset + length) lies within a file of `size` bytes, without wrapping. */
static bool within(uint64_t offset, uint64_t length, size_t size)
{
    return offset <= size && length <= size - offset;
}

static const char *machine_name(unsigned machine)
{
    switch (machine) {
    case EM_X86_64:
        return " (x86-64)";
    case EM_386:
        return " (i386)";
    case EM_ARM:
        return " (32-bit Arm)";
    case EM_RISCV:
        return " (RISC-V)";
    default:
        return "";
    }
}

static bool check_header(const struct img_elf *elf, const Elf64_Ehdr *header, struct sd_error *err)
{
    const char *path = elf->path;
    if (elf->size < EI_NIDENT || memcmp(header->e_ident, ELFMAG, SELFMAG) != 0) {
        return fail(err, path, "not an ELF file (no \\x7fELF magic at its start)");
    }
    if (header->e_ident[EI_CLASS] != ELFCLASS64) {
        return fail(err, path, "not a 64-bit ELF file (class %u); aarch64 programs are ELF64",
                    header->e_ident[EI_CLASS]);
    }
    if (header->e_ident[EI_DATA] != ELFDATA2LSB) {
        return fail(err, path, "not a little-endian ELF file");
    }
    if (elf->size < sizeof *header) {
        return fail(err, path, "truncated: %zu bytes, shorter than an ELF header (%zu)", elf->size,
                    sizeof *header);
    }
    if (header->e_machine != EM_AARCH64) {
        return fail(err, path, "built for machine %u%s, not aarch64 (%u)", header->e_machine,
                    machine_name(header->e_machine), EM_AARCH64);
    }
    if (header->e_type == ET_DYN) {
        return fail(err, path,
                    "a position-independent executable or shared object (ET_DYN), not a static "
                    "executable (ET_EXEC): link with -static -no-pie");
    }
    if (header->e_type != ET_EXEC) {
        return fail(err, path, "not an executable (e_type %u, expected ET_EXEC)", header->e_type);
    }
    if (header->e_phnum != 0 && header->e_phentsize != sizeof(Elf64_Phdr)) {
        return fail(err, path, "program header entries of %u bytes, expected %zu",
                    header->e_phentsize, sizeof(Elf64_Phdr));
    }
    if (!within(header->e_phoff, (uint64_t)header->e_phnum * sizeof(Elf64_Phdr), elf->size)) {
        return fail(err, path,
                    "truncated: %u program headers at offset %" PRIu64
                    " run past the end of the file (%zu bytes)",
                    header->e_phnum, (uint64_t)header->e_phoff, elf->size);
    }
    return true;
}

static bool read_segments(struct img_elf *elf, const Elf64_Ehdr *header, struct sd_error *err)
{
    const char *path = elf->path;
    elf->segments = calloc(header->e_phnum + 1u, sizeof *elf->segments);
    if (elf->segments == NULL) {
        return fail(err, path, "out of memory");
    }
    for (unsigned i = 0; i < header->e_phnum; i++) {
        Elf64_Phdr phdr;
        memcpy(&phdr, elf->bytes + header->e_phoff + (uint64_t)i * sizeof phdr, sizeof phdr);
        if (phdr.p_type == PT_INTERP || phdr.p_type == PT_DYNAMIC) {
            return fail(err, path, "dynamically linked (program header %u is %s): link statically",
                        i, phdr.p_type == PT_INTERP ? "PT_INTERP" : "PT_DYNAMIC");
        }
        if (phdr.p_type != PT_LOAD || phdr.p_memsz == 0) {
            continue;
        }
        if (phdr.p_filesz > phdr.p_memsz) {
            return fail(err, path,
                        "program header %u: file size %" PRIu64 " exceeds memory size %" PRIu64, i,
                        (uint64_t)phdr.p_filesz, (uint64_t)phdr.p_memsz);
        }
        if (!within(phdr.p_offset, phdr.p_filesz, elf->size)) {
            return fail(err, path,
                        "truncated: program header %u's %" PRIu64 " bytes at offset %" PRIu64
                        " run past the end of the file (%zu bytes)",
                        i, (uint64_t)phdr.p_filesz, (uint64_t)phdr.p_offset, elf->size);
        }
        if (phdr.p_vaddr > UINT64_MAX - phdr.p_memsz || phdr.p_paddr > UINT64_MAX - phdr.p_memsz) {
            return fail(err, path, "program header %u: its range wraps around the address space",
                        i);
        }
        elf->segments[elf->n_segments++] = (struct img_segment){
            .vaddr = phdr.p_vaddr,
            .paddr = phdr.p_paddr,
            .memsz = phdr.p_memsz,
            .filesz = phdr.p_filesz,
            .offset = phdr.p_offset,
            .align = phdr.p_align,
            .flags = phdr.p_flags,
        };
    }
    return true;
}

static bool read_section(const struct img_elf *elf, const Elf64_Ehdr *header, unsigned index,
                         Elf64_Shdr *out)
{
    memcpy(out, elf->bytes + header->e_shoff + (uint64_t)index * sizeof *out, sizeof *out);
    return out->sh_type == SHT_NOBITS || within(out->sh_offset, out->sh_size, elf->size);
}

/* pn_counter_table in .symtab; a file without section headers or symbols has none. */
static bool find_counters(struct img_elf *elf, const Elf64_Ehdr *header, struct sd_error *err)
{
    const char *path = elf->path;
    if (header->e_shoff == 0 || header->e_shnum == 0) {
        return true;
    }
    if (header->e_shentsize != sizeof(Elf64_Shdr)) {
        return fail(err, path, "section header entries of %u bytes, expected %zu",
                    header->e_shentsize, sizeof(Elf64_Shdr));
    }
    if (!within(header->e_shoff, (uint64_t)header->e_shnum * sizeof(Elf64_Shdr), elf->size)) {
        return fail(err, path,
                    "truncated: %u section headers at offset %" PRIu64
                    " run past the end of the file (%zu bytes)",
                    header->e_shnum, (uint64_t)header->e_shoff, elf->size);
    }
    static const char wanted[] = "pn_counter_table";
    for (unsigned s = 0; s < header->e_shnum; s++) {
        Elf64_Shdr symtab, strtab;
        if (!read_section(elf, header, s, &symtab)) {
            return fail(err, path, "truncated: section %u runs past the end of the file", s);
        }
        if (symtab.sh_type != SHT_SYMTAB) {
            continue;
        }
        if (symtab.sh_entsize != sizeof(Elf64_Sym) || symtab.sh_link >= header->e_shnum) {
            return fail(err, path, "symbol table (section %u) is malformed", s);
        }
        if (!read_section(elf, header, symtab.sh_link, &strtab) || strtab.sh_type != SHT_STRTAB) {
            return fail(err, path, "string table of the symbol table (section %u) is malformed",
                        symtab.sh_link);
        }
        const char *names = (const char *)elf->bytes + strtab.sh_offset;
        for (uint64_t i = 0; i < symtab.sh_size / sizeof(Elf64_Sym); i++) {
            Elf64_Sym symbol;
            memcpy(&symbol, elf->bytes + symtab.sh_offset + i * sizeof symbol, sizeof symbol);
            /* The name and its NUL must lie inside the string table. */
            if (symbol.st_shndx == SHN_UNDEF || symbol.st_name >= strtab.sh_size ||
                strtab.sh_size - symbol.st_name < sizeof wanted ||
                memcmp(names + symbol.st_name, wanted, sizeof wanted) != 0) {
                continue;
            }
            elf->has_counters = true;
            elf->counters_vaddr = symbol.st_value;
            elf->counters_size = symbol.st_size;
            return true;
        }
    }
    return true;
}

bool img_elf_parse(uint8_t *bytes, size_t size, const char *path, struct img_elf *elf,
                   struct sd_error *err)
{
    memset(elf, 0, sizeof *elf);
    elf->bytes = bytes;
    elf->size = size;
    elf->path = strdup(path);
    if (elf->path == NULL) {
        snprintf(err->message, sizeof err->message, "%s: out of memory", path);
        return false;
    }
    Elf64_Ehdr header;
    memset(&header, 0, sizeof header);
    memcpy(&header, bytes, size < sizeof header ? size : sizeof header);
    if (!check_header(elf, &header, err) || !read_segments(elf, &header, err) ||
        !find_counters(elf, &header, err)) {
        return false;
    }
    elf->entry = header.e_entry;
    return true;
}

bool img_elf_read(const char *path, struct img_elf *elf, struct sd_error *err)
{
    memset(elf, 0, sizeof *elf);
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return fail(err, path, "cannot open: %s", strerror(errno));
    }
    uint8_t *bytes = NULL;
    size_t size = 0, capacity = 0;
    bool ok = true;
    while (ok) {
        if (size == capacity) {
            if (capacity >= IMG_ELF_FILE_MAX) {
                ok = fail(err, path, "larger than %" PRIu64 " MiB", IMG_ELF_FILE_MAX >> 20);
                break;
            }
            capacity = capacity == 0 ? 65536 : capacity * 2;
            uint8_t *grown = realloc(bytes, capacity);
            if (grown == NULL) {
                ok = fail(err, path, "out of memory");
                break;
            }
            bytes = grown;
        }
        size_t got = fread(bytes + size, 1, capacity - size, file);
        size += got;
        if (got == 0) {
            if (ferror(file)) {
                ok = fail(err, path, "cannot read: %s", strerror(errno));
            }
            break;
        }
    }
    fclose(file);
    if (!ok) {
        free(bytes);
        return false;
    }
    return img_elf_parse(bytes, size, path, elf, err);
}

void img_elf_free(struct img_elf *elf)
{
    free(elf->segments);
    free(elf->bytes);
    free(elf->path);
    memset(elf, 0, sizeof *elf);
}

/* The segment holding [vaddr, vaddr + size) by virtual address, or -1. */
static int segment_holding(const struct img_elf *elf, uint64_t vaddr, uint64_t size,
                           bool executable)
{
    for (uint32_t i = 0; i < elf->n_segments; i++) {
        const struct img_segment *segment = &elf->segments[i];
        if (vaddr >= segment->vaddr && vaddr - segment->vaddr < segment->memsz &&
            size <= segment->memsz - (vaddr - segment->vaddr) &&
            (!executable || (segment->flags & PF_X))) {
            return (int)i;
        }
    }
    return -1;
}

static uint64_t page_end(uint64_t address)
{
    return (address + IMG_PAGE_SIZE - 1) & ~(IMG_PAGE_SIZE - 1);
}

static bool check_segment_count(const struct img_elf *elf, struct sd_error *err)
{
    if (elf->n_segments == 0) {
        return fail(err, elf->path, "no loadable segments (PT_LOAD)");
    }
    if (elf->n_segments > IMG_MAX_SEGMENTS) {
        return fail(err, elf->path, "%u loadable segments, more than %d", elf->n_segments,
                    IMG_MAX_SEGMENTS);
    }
    return true;
}

bool img_check_program(const struct img_elf *elf, struct sd_error *err)
{
    const char *path = elf->path;
    if (!check_segment_count(elf, err)) {
        return false;
    }
    for (uint32_t i = 0; i < elf->n_segments; i++) {
        const struct img_segment *segment = &elf->segments[i];
        uint64_t end = segment->vaddr + segment->memsz;
        if (segment->vaddr % IMG_PAGE_SIZE != 0) {
            return fail(err, path,
                        "segment %u at 0x%" PRIx64
                        " is not page aligned (link with a script that aligns segments to 4096)",
                        i, segment->vaddr);
        }
        if (segment->vaddr < PN_PD_PROGRAM_IPA || end > PN_PD_PROGRAM_END) {
            return fail(err, path,
                        "segment %u [0x%" PRIx64 ", 0x%" PRIx64
                        ") is outside the program window [0x%llx, 0x%llx) (link at 0x%llx)",
                        i, segment->vaddr, end, PN_PD_PROGRAM_IPA, PN_PD_PROGRAM_END,
                        PN_PD_PROGRAM_IPA);
        }
        /* Segments are mapped as whole pages, so two must not share one. */
        for (uint32_t j = 0; j < i; j++) {
            const struct img_segment *other = &elf->segments[j];
            if (segment->vaddr < page_end(other->vaddr + other->memsz) &&
                other->vaddr < page_end(end)) {
                return fail(err, path,
                            "segments %u [0x%" PRIx64 ", 0x%" PRIx64 ") and %u [0x%" PRIx64
                            ", 0x%" PRIx64 ") overlap (or share a page)",
                            j, other->vaddr, other->vaddr + other->memsz, i, segment->vaddr, end);
            }
        }
    }
    if (segment_holding(elf, elf->entry, 1, true) < 0) {
        return fail(err, path, "entry point 0x%" PRIx64 " is not inside an executable segment",
                    elf->entry);
    }
    if (elf->has_counters) {
        uint64_t table_size = sizeof(struct pn_counter_table);
        if (elf->counters_size != 0 && elf->counters_size != table_size) {
            return fail(err, path,
                        "pn_counter_table is %" PRIu64 " bytes, not %" PRIu64
                        " (built against another counters.h?)",
                        elf->counters_size, table_size);
        }
        if (segment_holding(elf, elf->counters_vaddr, table_size, false) < 0) {
            return fail(err, path,
                        "pn_counter_table at 0x%" PRIx64 " (%" PRIu64
                        " bytes) is not inside a loadable segment",
                        elf->counters_vaddr, table_size);
        }
    }
    return true;
}

bool img_check_kernel(const struct img_elf *elf, struct sd_error *err)
{
    const char *path = elf->path;
    if (!check_segment_count(elf, err)) {
        return false;
    }
    for (uint32_t i = 0; i < elf->n_segments; i++) {
        const struct img_segment *segment = &elf->segments[i];
        /* QEMU loads each segment at its physical address. */
        if (segment->paddr < PN_KERNEL_PA ||
            segment->paddr + segment->memsz > PN_KERNEL_PA + PN_KERNEL_MAX) {
            return fail(err, path,
                        "segment %u [0x%" PRIx64 ", 0x%" PRIx64
                        ") (physical) is outside the kernel's area [0x%llx, 0x%llx)",
                        i, segment->paddr, segment->paddr + segment->memsz, PN_KERNEL_PA,
                        PN_KERNEL_PA + PN_KERNEL_MAX);
        }
    }
    if (segment_holding(elf, elf->entry, 1, true) < 0) {
        return fail(err, path, "entry point 0x%" PRIx64 " is not inside an executable segment",
                    elf->entry);
    }
    return true;
}
