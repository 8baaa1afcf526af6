/* The resource-table checks of SPEC section 2 as a C programmer would write them for a kernel:
   unaligned host-order loads, size_t arithmetic that cannot wrap, one switch per entry. */
#include "validate_table.h"

#include "load_u32.h"

static enum rsc_code fail(struct rsc_fault *fault, enum rsc_code code, size_t offset,
                          uint32_t entry, uint64_t value)
{
  fault->code = code;
  fault->offset = offset;
  fault->entry = entry;
  fault->value = value;
  return code;
}

enum rsc_code rsc_validate_table(const unsigned char *table, size_t size, int strict,
                                 uint32_t *num, struct rsc_fault *fault)
{
  uint32_t ver, count, i;

  if (size < 16)
    return fail(fault, RSC_TABLE_TOO_SMALL, 0, RSC_NO_ENTRY, size);
  ver = load_u32(table);
  if (ver != 1)
    return fail(fault, RSC_UNSUPPORTED_VERSION, 0, RSC_NO_ENTRY, ver);
  count = load_u32(table + 4);
  if (load_u32(table + 8) != 0)
    return fail(fault, RSC_HEADER_RESERVED_NONZERO, 8, RSC_NO_ENTRY, load_u32(table + 8));
  if (load_u32(table + 12) != 0)
    return fail(fault, RSC_HEADER_RESERVED_NONZERO, 12, RSC_NO_ENTRY, load_u32(table + 12));
  if (count > (size - 16) / 4)
    return fail(fault, RSC_OFFSETS_TRUNCATED, 4, RSC_NO_ENTRY, count);

  for (i = 0; i < count; i++) {
    const size_t slot = 16 + (size_t)i * 4;
    const uint32_t offset = load_u32(table + slot);
    const unsigned char *rsc;
    uint32_t type, reserved;
    size_t avail;

    if (offset > size - 4)
      return fail(fault, RSC_ENTRY_OFFSET_OUT_OF_BOUNDS, slot, i, offset);
    rsc = table + offset;
    type = load_u32(rsc);
    avail = size - offset - 4;

    switch (type) {
    case 0: /* carveout */
    case 1: /* devmem */
      if (avail < 52)
        return fail(fault, RSC_ENTRY_TRUNCATED, offset, i, type);
      reserved = load_u32(rsc + 20);
      if (reserved != 0)
        return fail(fault, RSC_ENTRY_RESERVED_NONZERO, (size_t)offset + 20, i, reserved);
      break;
    case 2: /* trace */
      if (avail < 44)
        return fail(fault, RSC_ENTRY_TRUNCATED, offset, i, type);
      reserved = load_u32(rsc + 12);
      if (reserved != 0)
        return fail(fault, RSC_ENTRY_RESERVED_NONZERO, (size_t)offset + 12, i, reserved);
      break;
    case 3: { /* vdev */
      size_t room, vring_bytes, k;
      uint32_t config_len;
      unsigned nvrings;

      if (avail < 24)
        return fail(fault, RSC_ENTRY_TRUNCATED, offset, i, type);
      nvrings = rsc[25];
      config_len = load_u32(rsc + 20);
      room = avail - 24;
      vring_bytes = (size_t)nvrings * 20;
      if (vring_bytes > room)
        return fail(fault, RSC_VDEV_TRUNCATED, (size_t)offset + 25, i, nvrings);
      if (config_len > room - vring_bytes)
        return fail(fault, RSC_VDEV_TRUNCATED, (size_t)offset + 20, i, config_len);
      if (rsc[26] != 0)
        return fail(fault, RSC_ENTRY_RESERVED_NONZERO, (size_t)offset + 26, i, rsc[26]);
      if (rsc[27] != 0)
        return fail(fault, RSC_ENTRY_RESERVED_NONZERO, (size_t)offset + 27, i, rsc[27]);
      if (nvrings > 2)
        return fail(fault, RSC_VDEV_TOO_MANY_VRINGS, (size_t)offset + 25, i, nvrings);
      for (k = 0; k < nvrings; k++) {
        const size_t vring = 28 + k * 20; /* da, align, num, notifyid, pa */
        if (load_u32(rsc + vring + 8) == 0)
          return fail(fault, RSC_VRING_INVALID, offset + vring + 8, i, 0);
        if (load_u32(rsc + vring + 4) == 0)
          return fail(fault, RSC_VRING_INVALID, offset + vring + 4, i, 0);
      }
      break;
    }
    default:
      /* 128..512 are vendor types, handed to the platform; anything else is unknown. */
      if ((type < 128 || type > 512) && strict)
        return fail(fault, RSC_UNKNOWN_RESOURCE_TYPE, offset, i, type);
      break;
    }
  }
  *num = count;
  return RSC_OK;
}
