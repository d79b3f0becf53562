/*
 * Writing the image: one ELF64 executable whose PT_LOAD segments put the
 * kernel, the boot information, every component PD's memory and every
 * guest's boot pieces at their physical addresses (p_paddr, which QEMU's
 * ELF loader uses).
 *
 * Stacks and regions are zero memory, so the file holds almost nothing of
 * them: QEMU zero-fills a segment past p_filesz. But QEMU (7.2, checked by
 * tests/data/image/qemu-load-check.sh) skips segments with no file bytes
 * at all, on load and on every reset: they are zero at power-on only
 * because fresh RAM is, and keep what a previous run left after a reset.
 * So every PD segment carries at least IMG_ZERO_FILE_BYTES zero bytes in
 * the file, which makes QEMU zero the whole segment each time it loads.
 */
#include "image_internal.h"

#include "atomic_file.h"

#include <elf.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct chunk {
    uint64_t vaddr;
    uint64_t paddr;
    uint64_t filesz;
    uint64_t memsz;
    uint64_t align;
    uint64_t offset; /* in the image file */
    uint32_t flags;
    const uint8_t *data;
};

struct chunk_list {
    struct chunk *items;
    size_t count, capacity;
};

static bool add_chunk(struct chunk_list *list, struct chunk chunk)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity == 0 ? 64 : list->capacity * 2;
        struct chunk *grown = realloc(list->items, capacity * sizeof *grown);
        if (grown == NULL) {
            return false;
        }
        list->items = grown;
        list->capacity = capacity;
    }
    list->items[list->count++] = chunk;
    return true;
}

#define IMG_ZERO_FILE_BYTES 8

static const uint8_t zero_file_bytes[IMG_ZERO_FILE_BYTES];

static struct chunk memory_chunk(uint64_t pa, uint64_t memsz, uint32_t flags, const void *data,
                                 uint64_t filesz)
{
    if (filesz == 0) {
        data = zero_file_bytes;
        filesz = memsz < IMG_ZERO_FILE_BYTES ? memsz : IMG_ZERO_FILE_BYTES;
    }
    return (struct chunk){.vaddr = pa,
                          .paddr = pa,
                          .filesz = filesz,
                          .memsz = memsz,
                          .align = IMG_PAGE_SIZE,
                          .flags = flags,
                          .data = data};
}

/*
 * A guest's boot pieces, each with file bytes (so QEMU loads them again on a
 * reset): its device tree, its kernel (zero-filled up to image_size, which
 * covers its bss), its initrd. The rest of its RAM is not in the image.
 */
static bool add_guest_chunks(const struct img_vm *vm, struct chunk_list *list)
{
    uint64_t kernel_memsz =
        vm->header.image_size > vm->kernel_size ? vm->header.image_size : vm->kernel_size;
    bool ok = add_chunk(list, memory_chunk(vm->dtb_pa, img_align_up(vm->dtb_size, IMG_PAGE_SIZE),
                                           PF_R, vm->dtb, vm->dtb_size)) &&
              add_chunk(list, memory_chunk(vm->kernel_pa, img_align_up(kernel_memsz, IMG_PAGE_SIZE),
                                           PF_R | PF_W | PF_X, vm->kernel, vm->kernel_size));
    if (ok && vm->initrd != NULL) {
        ok = add_chunk(list,
                       memory_chunk(vm->initrd_pa, img_align_up(vm->initrd_size, IMG_PAGE_SIZE),
                                    PF_R, vm->initrd, vm->initrd_size));
    }
    return ok;
}

static bool collect_chunks(const struct img_plan *plan, const struct img_elf *kernel,
                           struct chunk_list *list)
{
    bool ok = true;
    /* The kernel's segments as they are, addresses and all. */
    for (uint32_t s = 0; s < kernel->n_segments; s++) {
        const struct img_segment *segment = &kernel->segments[s];
        ok = ok && add_chunk(list, (struct chunk){.vaddr = segment->vaddr,
                                                  .paddr = segment->paddr,
                                                  .filesz = segment->filesz,
                                                  .memsz = segment->memsz,
                                                  .align = segment->align,
                                                  .flags = segment->flags,
                                                  .data = kernel->bytes + segment->offset});
    }
    ok = ok && add_chunk(list, memory_chunk(PN_BOOTINFO_PA, sizeof plan->bootinfo, PF_R,
                                            &plan->bootinfo, sizeof plan->bootinfo));
    for (uint32_t v = 0; ok && v < plan->n_vms; v++) {
        ok = add_guest_chunks(&plan->vm[v], list);
    }
    for (uint32_t p = 0; ok && p < plan->sys->n_pds; p++) {
        const struct img_pd *pd = &plan->pd[p];
        if (plan->sys->pds[p].kind == SD_KIND_VM) {
            continue;
        }
        ok = add_chunk(list, memory_chunk(pd->config_pa, plan->config_size, PF_R, &plan->config[p],
                                          sizeof plan->config[p]));
        for (uint32_t s = 0; ok && s < pd->program.n_segments; s++) {
            const struct img_segment *segment = &pd->program.segments[s];
            ok = add_chunk(
                list, memory_chunk(pd->segment_pa[s], img_align_up(segment->memsz, IMG_PAGE_SIZE),
                                   segment->flags & (PF_R | PF_W | PF_X),
                                   pd->program.bytes + segment->offset, segment->filesz));
        }
        ok = ok &&
             add_chunk(list, memory_chunk(pd->stack_pa, PN_PD_STACK_SIZE, PF_R | PF_W, NULL, 0));
    }
    for (uint32_t r = 0; ok && r < plan->sys->n_regions; r++) {
        if (plan->region_placed[r]) {
            ok = add_chunk(list, memory_chunk(plan->region_pa[r], plan->sys->regions[r].size,
                                              PF_R | PF_W, NULL, 0));
        }
    }
    return ok;
}

static int by_paddr(const void *a, const void *b)
{
    const struct chunk *left = a, *right = b;
    return (left->paddr > right->paddr) - (left->paddr < right->paddr);
}

/* File offsets congruent to the address modulo the alignment, as the ELF standard asks. */
static uint64_t assign_offsets(struct chunk_list *list, uint64_t start)
{
    uint64_t cursor = start;
    for (size_t i = 0; i < list->count; i++) {
        struct chunk *chunk = &list->items[i];
        uint64_t align = chunk->align;
        if (align == 0 || (align & (align - 1)) != 0 || align > 0x10000) {
            align = IMG_PAGE_SIZE;
            chunk->align = align;
        }
        if (chunk->filesz == 0) {
            chunk->offset = chunk->vaddr % align;
            continue;
        }
        chunk->offset = img_align_up(cursor, align) + chunk->vaddr % align;
        cursor = chunk->offset + chunk->filesz;
    }
    return cursor;
}

static bool write_zeros(FILE *out, uint64_t count)
{
    static const uint8_t zeros[4096];
    while (count > 0) {
        size_t n = count < sizeof zeros ? (size_t)count : sizeof zeros;
        if (fwrite(zeros, 1, n, out) != n) {
            return false;
        }
        count -= n;
    }
    return true;
}

static bool write_chunks(FILE *out, const struct chunk_list *list, uint64_t entry)
{
    Elf64_Ehdr header = {
        .e_type = ET_EXEC,
        .e_machine = EM_AARCH64,
        .e_version = EV_CURRENT,
        .e_entry = entry,
        .e_phoff = sizeof(Elf64_Ehdr),
        .e_ehsize = sizeof(Elf64_Ehdr),
        .e_phentsize = sizeof(Elf64_Phdr),
        .e_phnum = (Elf64_Half)list->count,
        .e_shstrndx = SHN_UNDEF,
    };
    memcpy(header.e_ident, ELFMAG, SELFMAG);
    header.e_ident[EI_CLASS] = ELFCLASS64;
    header.e_ident[EI_DATA] = ELFDATA2LSB;
    header.e_ident[EI_VERSION] = EV_CURRENT;
    header.e_ident[EI_OSABI] = ELFOSABI_NONE;
    if (fwrite(&header, sizeof header, 1, out) != 1) {
        return false;
    }
    for (size_t i = 0; i < list->count; i++) {
        const struct chunk *chunk = &list->items[i];
        Elf64_Phdr phdr = {
            .p_type = PT_LOAD,
            .p_flags = chunk->flags,
            .p_offset = chunk->offset,
            .p_vaddr = chunk->vaddr,
            .p_paddr = chunk->paddr,
            .p_filesz = chunk->filesz,
            .p_memsz = chunk->memsz,
            .p_align = chunk->align,
        };
        if (fwrite(&phdr, sizeof phdr, 1, out) != 1) {
            return false;
        }
    }
    uint64_t position = sizeof(Elf64_Ehdr) + list->count * sizeof(Elf64_Phdr);
    for (size_t i = 0; i < list->count; i++) {
        const struct chunk *chunk = &list->items[i];
        if (chunk->filesz == 0) {
            continue;
        }
        if (!write_zeros(out, chunk->offset - position) ||
            fwrite(chunk->data, 1, chunk->filesz, out) != chunk->filesz) {
            return false;
        }
        position = chunk->offset + chunk->filesz;
    }
    return true;
}

bool img_write_image_stream(const struct img_plan *plan, const struct img_elf *kernel, FILE *out,
                            const char *path, struct sd_error *err)
{
    struct chunk_list list = {0};
    if (!collect_chunks(plan, kernel, &list)) {
        free(list.items);
        return img_fail(err, "%s: out of memory", path);
    }
    if (list.count >= PN_XNUM) {
        free(list.items);
        return img_fail(err, "%s: %zu segments, more than an ELF header can count", path,
                        list.count);
    }
    qsort(list.items, list.count, sizeof list.items[0], by_paddr);
    /* The layout never overlaps; a mistake here would corrupt memory silently at boot. */
    for (size_t i = 1; i < list.count; i++) {
        const struct chunk *before = &list.items[i - 1], *chunk = &list.items[i];
        if (before->paddr + before->memsz > chunk->paddr) {
            uint64_t start = chunk->paddr;
            free(list.items);
            return img_fail(err, "%s: internal error: segments overlap at 0x%" PRIx64, path, start);
        }
    }
    assign_offsets(&list, sizeof(Elf64_Ehdr) + list.count * sizeof(Elf64_Phdr));
    bool ok = write_chunks(out, &list, kernel->entry);
    free(list.items);
    if (!ok) {
        return img_fail(err, "%s: cannot write", path);
    }
    return true;
}

bool img_write_image(const struct img_plan *plan, const struct img_elf *kernel, const char *path,
                     struct sd_error *err)
{
    struct sd_atomic_file out;
    if (!sd_atomic_open(&out, path, err)) {
        return false;
    }
    if (!img_write_image_stream(plan, kernel, out.file, path, err)) {
        sd_atomic_abort(&out);
        return false;
    }
    return sd_atomic_commit(&out, err);
}
