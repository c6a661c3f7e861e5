// SPDX-License-Identifier: GPL-2.0-only
/*
 * HyperPlace and the placement rules of a page's owner: a page moves only
 * to a node that the cpuset and the task mempolicy of every thread of the
 * process allow, as migrate_pages(2) and mbind(2) require of a user who
 * moves pages.  A VMA with its own policy is never touched (migrate.c).
 */
#include <linux/cpuset.h>
#include <linux/mempolicy.h>
#include <linux/mm_types.h>
#include <linux/nodemask.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/topology.h>

#include "internal.h"

/*
 * Narrow @allowed to what @t may use: its cpuset's nodes and its task
 * policy's.  A bind or preferred-many policy allows its nodes.  Any
 * other task policy (preferred, interleave, local) says where each page
 * belongs: the task placed its pages itself, so none of them moves.
 */
static void hp_task_narrow(struct task_struct *t, nodemask_t *allowed)
{
	nodemask_t mems = cpuset_mems_allowed(t);
	struct mempolicy *pol;

	nodes_and(*allowed, *allowed, mems);
	task_lock(t);
	pol = t->mempolicy;
	if (pol) {
		switch (pol->mode) {
		case MPOL_BIND:
		case MPOL_PREFERRED_MANY:
			nodes_and(*allowed, *allowed, pol->nodes);
			break;
		default:
			nodes_clear(*allowed);
			break;
		}
	}
	task_unlock(t);
}

/*
 * A thread of the process of @mm, or of an unrelated one if @pid was
 * reused (the caller looks only at threads that use @mm): its memcg
 * owner, or else the task @pid names in the initial namespace.  Caller
 * holds rcu_read_lock().
 */
static struct task_struct *hp_mm_task(struct mm_struct *mm, pid_t pid)
{
	struct task_struct *t = NULL;

#ifdef CONFIG_MEMCG
	t = rcu_dereference(mm->owner);
#endif
	if (!t && pid > 0)
		t = find_task_by_pid_ns(pid, &init_pid_ns);
	return t;
}

/**
 * hp_owner_nodes() - the nodes the owner of @mm lets its pages go to
 * @mm: the mm, mm_users held by the caller
 * @pid: its process, as reported (used when there is no memcg owner)
 * @allowed: set to the nodes; empty if no task of @mm was found
 * @cpu_nid: set to the node of the CPU its first thread found last ran
 *	on (NUMA_NO_NODE if none was found)
 *
 * Every thread of the process that uses @mm must be allowed a node by its
 * cpuset and by its task mempolicy.  Asked when a plan is made and again
 * at every tick before moves, so a new cpuset.mems or set_mempolicy()
 * stops moves from the next tick on.  Tasks of other processes that
 * share @mm (CLONE_VM without CLONE_THREAD) are not consulted.
 */
void hp_owner_nodes(struct mm_struct *mm, pid_t pid, nodemask_t *allowed,
		    int *cpu_nid)
{
	struct task_struct *leader, *t;
	bool found = false;

	*allowed = node_states[N_MEMORY];
	*cpu_nid = NUMA_NO_NODE;
	rcu_read_lock();
	leader = hp_mm_task(mm, pid);
	if (leader) {
		for_each_thread(leader, t) {
			if (READ_ONCE(t->mm) != mm)
				continue;
			if (!found)
				*cpu_nid = cpu_to_node(task_cpu(t));
			found = true;
			hp_task_narrow(t, allowed);
		}
	}
	rcu_read_unlock();
	if (!found)
		nodes_clear(*allowed);
}
