// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tandem_sched.ko from userspace (Documentation/kmod.rst): is it there,
 * and thin wrappers over its ioctls (include/tandem/sched.h) that turn
 * the kernel's -1/errno into -errno. tandemd registers its process NFs
 * through them; the hop loader asks tdm_kmod_loaded() which variant of
 * the chain program to load.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "internal.h"

/* The module's BTF is what makes its kfuncs callable from a program. */
#define KMOD_BTF	"/sys/kernel/btf/" TDM_SCHED_NAME

bool tdm_kmod_loaded(void)
{
	return access(KMOD_BTF, F_OK) == 0;
}

int tdm_pinned_map(const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tdm_pin_root(), name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int tdm_kmod_open(void)
{
	int fd = open(TDM_SCHED_DEV, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static int kioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

int tdm_kmod_register(int fd, const struct tdm_sched_reg *reg)
{
	struct tdm_sched_reg r = *reg;

	return kioctl(fd, TDM_SCHED_IOC_REGISTER, &r);
}

int tdm_kmod_unregister(int fd, __u32 nf_id)
{
	return kioctl(fd, TDM_SCHED_IOC_UNREGISTER, &nf_id);
}

int tdm_kmod_set_pid(int fd, __u32 nf_id, __u32 pid)
{
	struct tdm_sched_pid sp = { .nf_id = nf_id, .pid = pid };

	return kioctl(fd, TDM_SCHED_IOC_SET_PID, &sp);
}

int tdm_kmod_get(int fd, __u32 nf_id, struct tdm_sched_state *st)
{
	*st = (struct tdm_sched_state){ .nf_id = nf_id };
	return kioctl(fd, TDM_SCHED_IOC_GET, st);
}

int tdm_kmod_info(int fd, struct tdm_sched_info *info)
{
	return kioctl(fd, TDM_SCHED_IOC_INFO, info);
}
