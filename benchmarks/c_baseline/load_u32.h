/* An unaligned load in the host's byte order, as kernel C makes it. */
#ifndef RPROC_C_BASELINE_LOAD_U32_H
#define RPROC_C_BASELINE_LOAD_U32_H

#include <stdint.h>
#include <string.h>

static inline uint32_t load_u32(const unsigned char *p)
{
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

#endif
