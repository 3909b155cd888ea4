#include "vk_code.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

struct code_range {
	uintptr_t start;
	uintptr_t end;
	uintptr_t base;
	const char *name;
};

static struct {
	struct code_range ranges[VK_CODE_MAX];
	volatile size_t count;
} code;

int vk_code_add(const char *name, uintptr_t base, uintptr_t start, uintptr_t end)
{
	size_t n = code.count;

	if (n == VK_CODE_MAX)
		return -ENOSPC;
	code.ranges[n] = (struct code_range){start, end, base, name};
	/* Published after it is filled: a signal handler may read the table. */
	__atomic_store_n(&code.count, n + 1, __ATOMIC_RELEASE);
	return 0;
}

struct object_search {
	uintptr_t address;
	const char *name;
	int added;
	int error;
};

/* Whether the object's loaded segments hold the address. */
static int object_holds(const struct dl_phdr_info *info, uintptr_t address)
{
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && address >= start && address < start + ph->p_memsz)
			return 1;
	}
	return 0;
}

static int add_segments(struct dl_phdr_info *info, size_t size, void *data)
{
	struct object_search *search = data;

	(void)size;
	if (!object_holds(info, search->address))
		return 0;
	for (ElfW(Half) i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;
		int rc;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		/* The load bias as base: offsets are the file's, for addr2line(1). */
		rc = vk_code_add(search->name, info->dlpi_addr, start, start + ph->p_memsz);
		if (rc < 0) {
			search->error = rc;
			return 1;
		}
		search->added++;
	}
	return 1;
}

int vk_code_add_object(const void *address, const char *name)
{
	struct object_search search = {.address = (uintptr_t)address, .name = name};

	dl_iterate_phdr(add_segments, &search);
	if (search.error)
		return search.error;
	return search.added ? search.added : -ENOENT;
}

void vk_code_clear(void)
{
	__atomic_store_n(&code.count, 0, __ATOMIC_RELEASE);
}

static const struct code_range *find(uintptr_t pc)
{
	size_t n = __atomic_load_n(&code.count, __ATOMIC_ACQUIRE);

	for (size_t i = 0; i < n; i++)
		if (pc >= code.ranges[i].start && pc < code.ranges[i].end)
			return &code.ranges[i];
	return NULL;
}

int vk_code_contains(uintptr_t pc)
{
	return find(pc) != NULL;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

const char *vk_code_describe(uintptr_t pc, char *buf, size_t size)
{
	const struct code_range *range = find(pc);
	Dl_info info;
	int found = dladdr((void *)pc, &info);

	if (found && info.dli_sname && info.dli_saddr)
		snprintf(buf, size, "%s+0x%lx (%s)", info.dli_sname,
			 (unsigned long)(pc - (uintptr_t)info.dli_saddr),
			 range ? range->name : base_name(info.dli_fname));
	else if (range)
		snprintf(buf, size, "%s+0x%lx", range->name, (unsigned long)(pc - range->base));
	else if (found && info.dli_fname)
		snprintf(buf, size, "%s+0x%lx", base_name(info.dli_fname),
			 (unsigned long)(pc - (uintptr_t)info.dli_fbase));
	else
		snprintf(buf, size, "0x%lx", (unsigned long)pc);
	return buf;
}
