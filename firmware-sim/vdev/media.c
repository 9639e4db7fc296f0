/* The encoder's media controller, /dev/media0 (pi4), as
 * v4l2_m2m_register_media_controller() builds it for bcm2835-codec: the video
 * node's I/O entity (source), a processing entity of function
 * MEDIA_ENT_F_PROC_VIDEO_ENCODER, and an I/O sink entity, linked by data
 * links, with a V4L video interface (devnode 81:11) linked to both I/O
 * entities. Read-only: MEDIA_IOC_DEVICE_INFO, G_TOPOLOGY, ENUM_ENTITIES,
 * ENUM_LINKS; SETUP_LINK only accepts the immutable links as they are. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/media.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vdev.h"

/* copy_to_user() answers EFAULT for a bad pointer; user space cannot catch a
 * fault, so probe the first and last byte with process_vm_readv(), which
 * fails cleanly on unmapped memory. */
static int user_ok(const void* p, size_t n) {
  if (!p || !n) return p != NULL || n == 0;
  char c;
  for (int k = 0; k < 2; k++) {
    struct iovec local = {&c, 1};
    struct iovec remote = {(char*)p + (k ? n - 1 : 0), 1};
    if (syscall(SYS_process_vm_readv, getpid(), &local, 1UL, &remote, 1UL, 0UL) != 1) return 0;
  }
  return 1;
}

#define ENC_MINOR 11
#define KVER ((6u << 16) | (1u << 8))

/* graph object ids: type in the top byte as media_gobj_gen_id() makes them */
#define PAD_ID(n) (0x02000000u | (n))
#define LINK_ID(n) (0x03000000u | (n))
#define INTF_ID 0x04000001u

struct ent {
  uint32_t id, function;
  const char* name;
  int npads;
  uint32_t pad_flags[2];
  uint32_t first_pad; /* PAD_ID index of pad 0 */
};

static const struct ent ENTS[] = {
    {1, MEDIA_ENT_F_IO_V4L, "bcm2835-codec-encode-source", 1, {MEDIA_PAD_FL_SOURCE, 0}, 1},
    {2,
     MEDIA_ENT_F_PROC_VIDEO_ENCODER,
     "bcm2835-codec-encode-proc",
     2,
     {MEDIA_PAD_FL_SINK, MEDIA_PAD_FL_SOURCE},
     2},
    {3, MEDIA_ENT_F_IO_V4L, "bcm2835-codec-encode-sink", 1, {MEDIA_PAD_FL_SINK, 0}, 4},
};
#define NENTS 3
#define NPADS 4

struct dlink {
  uint32_t src_ent, src_pad, sink_ent, sink_pad; /* pad = index within its entity */
};
static const struct dlink DLINKS[] = {{1, 0, 2, 0}, {2, 1, 3, 0}};
#define NDLINKS 2
#define LINK_FLAGS (MEDIA_LNK_FL_ENABLED | MEDIA_LNK_FL_IMMUTABLE)

static const struct ent* find_ent(uint32_t id) {
  for (int i = 0; i < NENTS; i++)
    if (ENTS[i].id == id) return &ENTS[i];
  return NULL;
}

static int outbound(uint32_t id) {
  int n = 0;
  for (int i = 0; i < NDLINKS; i++) n += DLINKS[i].src_ent == id;
  return n;
}

static int topology(struct media_v2_topology* t) {
  struct media_v2_entity* e = (void*)(uintptr_t)t->ptr_entities;
  struct media_v2_interface* in = (void*)(uintptr_t)t->ptr_interfaces;
  struct media_v2_pad* p = (void*)(uintptr_t)t->ptr_pads;
  struct media_v2_link* l = (void*)(uintptr_t)t->ptr_links;
  if ((e && !user_ok(e, sizeof(*e) * NENTS)) || (in && !user_ok(in, sizeof(*in))) ||
      (p && !user_ok(p, sizeof(*p) * NPADS)) || (l && !user_ok(l, sizeof(*l) * (NDLINKS + 2))))
    return EFAULT;
  /* media_device_get_topology(): arrays too small -> ENOSPC */
  if ((e && t->num_entities < NENTS) || (in && t->num_interfaces < 1) ||
      (p && t->num_pads < NPADS) || (l && t->num_links < NDLINKS + 2))
    return ENOSPC;
  t->topology_version = 1;
  t->num_entities = NENTS;
  t->num_interfaces = 1;
  t->num_pads = NPADS;
  t->num_links = NDLINKS + 2;
  t->reserved1 = t->reserved2 = t->reserved3 = t->reserved4 = 0;
  for (int i = 0; e && i < NENTS; i++) {
    memset(&e[i], 0, sizeof(e[i]));
    e[i].id = ENTS[i].id;
    snprintf(e[i].name, sizeof(e[i].name), "%s", ENTS[i].name);
    e[i].function = ENTS[i].function;
  }
  if (in) {
    memset(in, 0, sizeof(*in));
    in->id = INTF_ID;
    in->intf_type = MEDIA_INTF_T_V4L_VIDEO;
    in->devnode.major = 81;
    in->devnode.minor = ENC_MINOR;
  }
  for (int i = 0, k = 0; p && i < NENTS; i++) {
    for (int j = 0; j < ENTS[i].npads; j++, k++) {
      memset(&p[k], 0, sizeof(p[k]));
      p[k].id = PAD_ID(ENTS[i].first_pad + (uint32_t)j);
      p[k].entity_id = ENTS[i].id;
      p[k].flags = ENTS[i].pad_flags[j];
      p[k].index = (uint32_t)j;
    }
  }
  if (l) {
    for (int i = 0; i < NDLINKS; i++) {
      memset(&l[i], 0, sizeof(l[i]));
      l[i].id = LINK_ID(i + 1);
      l[i].source_id = PAD_ID(find_ent(DLINKS[i].src_ent)->first_pad + DLINKS[i].src_pad);
      l[i].sink_id = PAD_ID(find_ent(DLINKS[i].sink_ent)->first_pad + DLINKS[i].sink_pad);
      l[i].flags = MEDIA_LNK_FL_DATA_LINK | LINK_FLAGS;
    }
    for (int i = 0; i < 2; i++) { /* the interface reaches both I/O entities */
      struct media_v2_link* x = &l[NDLINKS + i];
      memset(x, 0, sizeof(*x));
      x->id = LINK_ID(NDLINKS + i + 1);
      x->source_id = INTF_ID;
      x->sink_id = i ? 3 : 1;
      x->flags = MEDIA_LNK_FL_INTERFACE_LINK | LINK_FLAGS;
    }
  }
  return 0;
}

static void pad_desc(struct media_pad_desc* d, uint32_t ent, uint32_t index) {
  memset(d, 0, sizeof(*d));
  d->entity = ent;
  d->index = (uint16_t)index;
  d->flags = find_ent(ent)->pad_flags[index];
}

int media_ioctl(struct vfile* f, unsigned long req, void* arg) {
  (void)f;
  switch (req) {
    case MEDIA_IOC_DEVICE_INFO: {
      struct media_device_info* m = arg;
      memset(m, 0, sizeof(*m));
      snprintf(m->driver, sizeof(m->driver), "bcm2835-codec");
      snprintf(m->model, sizeof(m->model), "bcm2835-codec");
      snprintf(m->bus_info, sizeof(m->bus_info), "platform:bcm2835-codec");
      m->media_version = KVER;
      m->driver_version = KVER;
      return 0;
    }
    case MEDIA_IOC_G_TOPOLOGY:
      return topology(arg);
    case MEDIA_IOC_ENUM_ENTITIES: {
      struct media_entity_desc* d = arg;
      uint32_t want = d->id & ~MEDIA_ENT_ID_FLAG_NEXT;
      const struct ent* e = NULL;
      if (d->id & MEDIA_ENT_ID_FLAG_NEXT) {
        for (int i = 0; i < NENTS && !e; i++)
          if (ENTS[i].id > want) e = &ENTS[i];
      } else {
        e = find_ent(want);
      }
      if (!e) return EINVAL;
      memset(d, 0, sizeof(*d));
      d->id = e->id;
      snprintf(d->name, sizeof(d->name), "%s", e->name);
      d->type = e->function;
      d->pads = (uint16_t)e->npads;
      d->links = (uint16_t)outbound(e->id);
      if (e->id == 1) { /* the video node's own entity */
        d->dev.major = 81;
        d->dev.minor = ENC_MINOR;
      }
      return 0;
    }
    case MEDIA_IOC_ENUM_LINKS: {
      struct media_links_enum* le = arg;
      const struct ent* e = find_ent(le->entity);
      if (!e) return EINVAL;
      if ((le->pads && !user_ok(le->pads, sizeof(*le->pads) * (size_t)e->npads)) ||
          (le->links && outbound(e->id) &&
           !user_ok(le->links, sizeof(*le->links) * (size_t)outbound(e->id))))
        return EFAULT;
      for (int j = 0; le->pads && j < e->npads; j++) pad_desc(&le->pads[j], e->id, (uint32_t)j);
      for (int i = 0, k = 0; le->links && i < NDLINKS; i++) {
        if (DLINKS[i].src_ent != e->id) continue;
        memset(&le->links[k], 0, sizeof(le->links[k]));
        pad_desc(&le->links[k].source, DLINKS[i].src_ent, DLINKS[i].src_pad);
        pad_desc(&le->links[k].sink, DLINKS[i].sink_ent, DLINKS[i].sink_pad);
        le->links[k].flags = LINK_FLAGS;
        k++;
      }
      memset(le->reserved, 0, sizeof(le->reserved));
      return 0;
    }
    case MEDIA_IOC_SETUP_LINK: {
      struct media_link_desc* ld = arg;
      memset(ld->reserved, 0, sizeof(ld->reserved));
      for (int i = 0; i < NDLINKS; i++)
        if (DLINKS[i].src_ent == ld->source.entity && DLINKS[i].src_pad == ld->source.index &&
            DLINKS[i].sink_ent == ld->sink.entity && DLINKS[i].sink_pad == ld->sink.index)
          return ld->flags == LINK_FLAGS ? 0 : EINVAL; /* immutable: only as it is */
      return EINVAL;
    }
    default:
      return ENOTTY;
  }
}
