// SPDX-License-Identifier: GPL-2.0-only
/*
 * tandem_sched.ko: the misc device /dev/tandem_sched, its ioctls
 * (include/tandem/sched.h) and the registry of NFs. Every input is
 * checked before anything is taken; a registration is all or nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/pid.h>
#include <linux/capability.h>
#include <linux/uaccess.h>
#include <linux/magic.h>
#include <linux/dcache.h>
#include <tandem/nfvnice.h>
#include "tdm_sched.h"

struct tdm_snf __rcu *tdm_nfs[TDM_SCHED_MAX_NFS];
DEFINE_MUTEX(tdm_lock);
atomic_t tdm_nr_nfs = ATOMIC_INIT(0);
atomic64_t tdm_allocs = ATOMIC64_INIT(0);
atomic64_t tdm_switches = ATOMIC64_INIT(0);

/*
 * Drop what an NF holds and free it. It is not in tdm_nfs (or never
 * was) and no reader has it any more (a grace period passed).
 */
static void snf_free(struct tdm_snf *nf)
{
	if (nf->xsks)
		bpf_map_put(nf->xsks);
	if (nf->queues)
		bpf_map_put(nf->queues);
	if (nf->wfile)
		fput(nf->wfile);
	put_pid(nf->pid);		/* NULL is fine */
	kfree(nf);
	atomic64_dec(&tdm_allocs);
}

static bool is_cgroup_file(struct file *f, const char *name)
{
	unsigned long magic = file_inode(f)->i_sb->s_magic;

	return (magic == CGROUP_SUPER_MAGIC || magic == CGROUP2_SUPER_MAGIC) &&
	       !strcmp(f->f_path.dentry->d_name.name, name);
}

/*
 * The struct pid of process nr (a thread group id, in the caller's pid
 * namespace), referenced; NULL if there is no such process, or nr is a
 * thread that does not lead its group (the probes compare task_tgid()).
 */
static struct pid *get_process(u32 nr)
{
	struct pid *pid = find_get_pid(nr);
	bool leader;

	if (!pid)
		return NULL;
	rcu_read_lock();
	leader = pid_task(pid, PIDTYPE_TGID) != NULL;
	rcu_read_unlock();
	if (!leader) {
		put_pid(pid);
		return NULL;
	}
	return pid;
}

static int check_reg(const struct tdm_sched_reg *r)
{
	if (r->nf_id >= TDM_SCHED_MAX_NFS || r->flags ||
	    r->reserved[0] || r->reserved[1] || r->reserved[2])
		return -EINVAL;
	if (r->weight > TDM_WT_MAX)
		return -EINVAL;
	switch (r->weight_kind) {
	case TDM_SCHED_WEIGHT_NONE:
		if (r->weight_fd != -1)
			return -EINVAL;
		break;
	case TDM_SCHED_WEIGHT_V1:
	case TDM_SCHED_WEIGHT_V2:
		if (r->weight_fd < 0)
			return -EBADF;
		break;
	default:
		return -EINVAL;
	}
	if (r->xsks_fd < 0 || r->queues_fd < 0)
		return -EBADF;
	return 0;
}

static struct bpf_map *get_map(int fd, u32 type, u32 value_size, u32 id)
{
	struct bpf_map *map = bpf_map_get(fd);

	if (IS_ERR(map))
		return map;
	/* (an array offloaded to a device has no lookup: not ours) */
	if (map->map_type != type || map->key_size != 4 ||
	    map->max_entries <= id || !map->ops->map_lookup_elem ||
	    (value_size && map->value_size != value_size)) {
		bpf_map_put(map);
		return ERR_PTR(-EINVAL);
	}
	return map;
}

static int do_register(struct file *owner, void __user *arg)
{
	struct tdm_sched_reg r;
	struct tdm_snf *nf;
	u32 key;
	int err;

	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	err = check_reg(&r);
	if (err)
		return err;

	nf = kzalloc(sizeof(*nf), GFP_KERNEL);
	if (!nf)
		return -ENOMEM;
	atomic64_inc(&tdm_allocs);
	nf->id = r.nf_id;
	nf->owner = owner;
	nf->pinned = r.weight;
	nf->cpus = r.cpus;
	nf->wkind = r.weight_kind;

	nf->xsks = get_map(r.xsks_fd, BPF_MAP_TYPE_XSKMAP, 0, r.nf_id);
	if (IS_ERR(nf->xsks)) {
		err = PTR_ERR(nf->xsks);
		nf->xsks = NULL;
		goto fail;
	}
	nf->queues = get_map(r.queues_fd, BPF_MAP_TYPE_ARRAY,
			     sizeof(struct tdm_nf_queue), r.nf_id);
	if (IS_ERR(nf->queues)) {
		err = PTR_ERR(nf->queues);
		nf->queues = NULL;
		goto fail;
	}
	/* an array's elements live as long as the map */
	key = r.nf_id;
	rcu_read_lock();
	nf->q = nf->queues->ops->map_lookup_elem(nf->queues, &key);
	rcu_read_unlock();
	if (!nf->q) {
		err = -EINVAL;
		goto fail;
	}
	if (r.weight_kind != TDM_SCHED_WEIGHT_NONE) {
		nf->wfile = fget(r.weight_fd);
		if (!nf->wfile) {
			err = -EBADF;
			goto fail;
		}
		if (!(nf->wfile->f_mode & FMODE_WRITE) ||
		    !is_cgroup_file(nf->wfile,
				    r.weight_kind == TDM_SCHED_WEIGHT_V2 ?
				    "cpu.weight" : "cpu.shares")) {
			err = -EINVAL;
			goto fail;
		}
	}
	if (r.pid) {
		nf->pid = get_process(r.pid);
		if (!nf->pid) {
			err = -ESRCH;
			goto fail;
		}
	}

	mutex_lock(&tdm_lock);
	if (rcu_access_pointer(tdm_nfs[nf->id])) {
		mutex_unlock(&tdm_lock);
		err = -EEXIST;
		goto fail;
	}
	rcu_assign_pointer(tdm_nfs[nf->id], nf);
	atomic_inc(&tdm_nr_nfs);
	tdm_nfs_changed();
	mutex_unlock(&tdm_lock);
	return 0;
fail:
	snf_free(nf);
	return err;
}

/* Under tdm_lock: take NF id out; snf_free() it after synchronize_rcu() */
static void unpublish(struct tdm_snf *nf)
{
	RCU_INIT_POINTER(tdm_nfs[nf->id], NULL);
	atomic_dec(&tdm_nr_nfs);
	tdm_nfs_changed();
}

static struct tdm_snf *owned(struct file *owner, u32 id)
{
	struct tdm_snf *nf;

	if (id >= TDM_SCHED_MAX_NFS)
		return ERR_PTR(-EINVAL);
	nf = rcu_dereference_protected(tdm_nfs[id], lockdep_is_held(&tdm_lock));
	if (!nf)
		return ERR_PTR(-ENOENT);
	if (nf->owner != owner)
		return ERR_PTR(-EPERM);
	return nf;
}

static int do_unregister(struct file *owner, void __user *arg)
{
	struct tdm_snf *nf;
	u32 id;

	if (get_user(id, (u32 __user *)arg))
		return -EFAULT;
	mutex_lock(&tdm_lock);
	nf = owned(owner, id);
	if (!IS_ERR(nf))
		unpublish(nf);
	mutex_unlock(&tdm_lock);
	if (IS_ERR(nf))
		return PTR_ERR(nf);
	synchronize_rcu();		/* kfuncs and probes are done with it */
	snf_free(nf);
	return 0;
}

static int do_set_pid(struct file *owner, void __user *arg)
{
	struct tdm_sched_pid sp;
	struct pid *pid = NULL, *old;
	struct tdm_snf *nf;

	if (copy_from_user(&sp, arg, sizeof(sp)))
		return -EFAULT;
	if (sp.pid) {
		pid = get_process(sp.pid);
		if (!pid)
			return -ESRCH;
	}
	mutex_lock(&tdm_lock);
	nf = owned(owner, sp.nf_id);
	if (IS_ERR(nf)) {
		mutex_unlock(&tdm_lock);
		put_pid(pid);
		return PTR_ERR(nf);
	}
	old = nf->pid;
	WRITE_ONCE(nf->pid, pid);
	xchg(&nf->exited, NULL);	/* an exit of old is no news now */
	mutex_unlock(&tdm_lock);
	/* the sched_switch probe compares the old pointer until then */
	synchronize_rcu();
	put_pid(old);
	return 0;
}

/* Any opener may read any NF: the device is root's (mode 0600). */
static int do_get(void __user *arg)
{
	struct tdm_sched_state st = {};
	struct tdm_snf *nf;
	int err = 0;

	if (get_user(st.nf_id, (u32 __user *)arg))
		return -EFAULT;
	if (st.nf_id >= TDM_SCHED_MAX_NFS)
		return -EINVAL;
	mutex_lock(&tdm_lock);
	nf = rcu_dereference_protected(tdm_nfs[st.nf_id],
				       lockdep_is_held(&tdm_lock));
	if (!nf) {
		err = -ENOENT;
		goto out;
	}
	rcu_read_lock();
	st.backlog = tdm_snf_backlog(nf, &err);
	rcu_read_unlock();
	err = 0;
	st.congested = READ_ONCE(nf->congested);
	st.weight = nf->weight;
	st.crossings = atomic64_read(&nf->crossings);
	st.load_pps = READ_ONCE(nf->load_pps);
	st.cost_ns = READ_ONCE(nf->cost_ns);
	st.cpu_ns = atomic64_read(&nf->cpu_ns);
	st.consumed = atomic64_read(&nf->consumed);
	st.events = atomic64_read(&nf->events);
	st.writes = nf->writes;
	st.write_err = nf->write_err;
	st.pid = nf->pid ? pid_vnr(nf->pid) : 0;
	st.reactions = nf->reactions;
	st.react_ns_sum = nf->react_ns_sum;
	st.react_ns_last = nf->react_ns_last;
out:
	mutex_unlock(&tdm_lock);
	if (!err && copy_to_user(arg, &st, sizeof(st)))
		err = -EFAULT;
	return err;
}

static int do_info(void __user *arg)
{
	struct tdm_sched_info in = {
		.version = TDM_SCHED_VERSION,
		.nfs = atomic_read(&tdm_nr_nfs),
		.allocs = atomic64_read(&tdm_allocs),
		.ring_consumer_off = offsetof(struct tdm_xdp_ring, consumer),
		.ring_producer_off = offsetof(struct tdm_xdp_ring, producer),
		.switches = atomic64_read(&tdm_switches),
	};

	return copy_to_user(arg, &in, sizeof(in)) ? -EFAULT : 0;
}

static long tdm_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	void __user *p = (void __user *)arg;

	if (!capable(CAP_NET_ADMIN))
		return -EPERM;
	switch (cmd) {
	case TDM_SCHED_IOC_REGISTER:
		return do_register(f, p);
	case TDM_SCHED_IOC_UNREGISTER:
		return do_unregister(f, p);
	case TDM_SCHED_IOC_SET_PID:
		return do_set_pid(f, p);
	case TDM_SCHED_IOC_GET:
		return do_get(p);
	case TDM_SCHED_IOC_INFO:
		return do_info(p);
	}
	return -ENOTTY;
}

/* The opener is gone (tandemd exited, or was killed): its NFs go too. */
static int tdm_release(struct inode *inode, struct file *f)
{
	struct tdm_snf *nf, *gone[TDM_SCHED_MAX_NFS];
	int i, n = 0;

	mutex_lock(&tdm_lock);
	for (i = 0; i < TDM_SCHED_MAX_NFS; i++) {
		nf = rcu_dereference_protected(tdm_nfs[i],
					       lockdep_is_held(&tdm_lock));
		if (nf && nf->owner == f) {
			unpublish(nf);
			gone[n++] = nf;
		}
	}
	mutex_unlock(&tdm_lock);
	if (!n)
		return 0;
	synchronize_rcu();
	for (i = 0; i < n; i++)
		snf_free(gone[i]);
	return 0;
}

static const struct file_operations tdm_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = tdm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = tdm_release,
	.llseek = noop_llseek,
};

static struct miscdevice tdm_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = TDM_SCHED_NAME,
	.fops = &tdm_fops,
	.mode = 0600,
};

static int __init tdm_init(void)
{
	int err;

	BUILD_BUG_ON(sizeof(struct tdm_sched_reg) != 64);
	BUILD_BUG_ON(sizeof(struct tdm_sched_state) != 128);
	BUILD_BUG_ON(sizeof(struct tdm_sched_info) != 64);

	err = tdm_kfuncs_init();
	if (err)
		return err;
	err = tdm_events_init();
	if (err)
		return err;
	err = misc_register(&tdm_misc);
	if (err) {
		tdm_events_exit();
		return err;
	}
	return 0;
}

static void __exit tdm_exit(void)
{
	/* no opener is left (each holds a module reference): no NF */
	misc_deregister(&tdm_misc);
	tdm_events_exit();
	WARN_ON(atomic64_read(&tdm_allocs));
}

module_init(tdm_init);
module_exit(tdm_exit);
MODULE_LICENSE("GPL");
TDM_IMPORT_NS();
MODULE_AUTHOR("tandem");
MODULE_DESCRIPTION("tandem: NF queue lengths as kfuncs, event-driven CPU weights");
