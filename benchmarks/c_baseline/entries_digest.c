/* A walk of a validated table as a C programmer would write it: each entry found through its
   offset, one field read per entry after a switch on its type. */
#include "validate_table.h"

#include "load_u32.h"

uint64_t rsc_entries_digest(const unsigned char *table, uint32_t num)
{
  uint64_t sum = 0;
  uint32_t i;

  for (i = 0; i < num; i++) {
    const unsigned char *rsc = table + load_u32(table + 16 + (size_t)i * 4);
    const uint32_t type = load_u32(rsc);

    switch (type) {
    case 0: /* carveout: da */
      sum += load_u32(rsc + 4);
      break;
    case 1: /* devmem: pa */
      sum += load_u32(rsc + 8);
      break;
    case 2: /* trace: len */
      sum += load_u32(rsc + 8);
      break;
    case 3: /* vdev: id and num_of_vrings */
      sum += load_u32(rsc + 4) + rsc[25];
      break;
    default:
      sum += type;
      break;
    }
  }
  return sum;
}
