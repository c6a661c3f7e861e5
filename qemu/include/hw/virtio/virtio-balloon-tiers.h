/*
 * Virtio balloon: per-tier balloons (VIRTIO_BALLOON_F_TIERS)
 *
 * Each tier is one guest NUMA node backed by one host memory backend and
 * has its own balloon, next to the device's legacy balloon.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_VIRTIO_BALLOON_TIERS_H
#define HW_VIRTIO_BALLOON_TIERS_H

#include "hw/virtio/virtio-balloon.h"
#include "migration/vmstate.h"

/*
 * Resolve the "tiers" property and set up the tiers; before virtio_init(),
 * as the tiers decide the config size.  With tiers off, s->tiers stays
 * NULL.
 */
bool virtio_balloon_tiers_init(VirtIOBalloon *s, Error **errp);
/* Add the tier queues, at their fixed indexes: after the reserved ones */
void virtio_balloon_tiers_realize(VirtIOBalloon *s);
/* Undo init and realize; fine after init alone, or with tiers off */
void virtio_balloon_tiers_unrealize(VirtIOBalloon *s);

void virtio_balloon_tiers_reset(VirtIOBalloon *s);
void virtio_balloon_tiers_queue_reset(VirtIOBalloon *s, uint32_t queue_index);
void virtio_balloon_tiers_set_status(VirtIOBalloon *s, uint8_t status);
void virtio_balloon_tiers_get_config(VirtIOBalloon *s,
                                     VirtIOBalloonTierConfig *cfg);
void virtio_balloon_tiers_set_config(VirtIOBalloon *s,
                                     const VirtIOBalloonTierConfig *cfg);

extern const VMStateDescription vmstate_virtio_balloon_tiers;

#endif
