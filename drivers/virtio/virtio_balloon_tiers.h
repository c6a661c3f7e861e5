/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * HyperFlex per-tier balloons (VIRTIO_BALLOON_F_TIERS): what
 * virtio_balloon.c calls.  Every function accepts a NULL &struct vb_tiers
 * (the device did not negotiate the feature) and then does nothing.
 */
#ifndef _VIRTIO_BALLOON_TIERS_H
#define _VIRTIO_BALLOON_TIERS_H

#include <linux/types.h>

struct virtio_device;
struct virtqueue;
struct vb_tiers;

#ifdef CONFIG_VIRTIO_BALLOON_TIERS
struct vb_tiers *vb_tiers_probe(struct virtio_device *vdev);
void vb_tiers_attach(struct vb_tiers *t, struct virtqueue *const vqs[]);
void vb_tiers_start(struct vb_tiers *t);
void vb_tiers_vq_done(struct vb_tiers *t, struct virtqueue *vq);
void vb_tiers_config_changed(struct vb_tiers *t);
unsigned long vb_tiers_oom_deflate(struct vb_tiers *t, unsigned long nr);
void vb_tiers_stop(struct vb_tiers *t);
void vb_tiers_remove(struct vb_tiers *t);
#else
static inline struct vb_tiers *vb_tiers_probe(struct virtio_device *vdev)
{
	return NULL;
}

static inline void vb_tiers_attach(struct vb_tiers *t,
				   struct virtqueue *const vqs[]) { }
static inline void vb_tiers_start(struct vb_tiers *t) { }
static inline void vb_tiers_vq_done(struct vb_tiers *t,
				    struct virtqueue *vq) { }
static inline void vb_tiers_config_changed(struct vb_tiers *t) { }

static inline unsigned long vb_tiers_oom_deflate(struct vb_tiers *t,
						 unsigned long nr)
{
	return 0;
}

static inline void vb_tiers_stop(struct vb_tiers *t) { }
static inline void vb_tiers_remove(struct vb_tiers *t) { }
#endif

#endif /* _VIRTIO_BALLOON_TIERS_H */
