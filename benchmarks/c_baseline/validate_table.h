/* A plain C validation loop over a resource table: the checks of SPEC section 2 in SPEC's order,
   made the way the Linux kernel makes them (host byte order, one pass over the offsets). It is the
   baseline rproc's parser is timed against, and an independent oracle for the fuzzers. */
#ifndef RPROC_C_BASELINE_VALIDATE_TABLE_H
#define RPROC_C_BASELINE_VALIDATE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The table codes of SPEC section 2, numbered as rproc::errc numbers them. */
enum rsc_code {
  RSC_OK = 0,
  RSC_TABLE_TOO_SMALL = 1,
  RSC_UNSUPPORTED_VERSION = 2,
  RSC_HEADER_RESERVED_NONZERO = 3,
  RSC_OFFSETS_TRUNCATED = 4,
  RSC_ENTRY_OFFSET_OUT_OF_BOUNDS = 5,
  RSC_ENTRY_TRUNCATED = 6,
  RSC_VDEV_TRUNCATED = 7,
  RSC_ENTRY_RESERVED_NONZERO = 8,
  RSC_VDEV_TOO_MANY_VRINGS = 9,
  RSC_VRING_INVALID = 10,
  RSC_UNKNOWN_RESOURCE_TYPE = 11
};

/* The entry of a fault found in the header. */
#define RSC_NO_ENTRY UINT32_MAX

struct rsc_fault {
  enum rsc_code code;
  size_t offset;  /* of the faulty field, from the first byte of the table */
  uint32_t entry; /* the entry at fault, or RSC_NO_ENTRY */
  uint64_t value; /* what was found there */
};

/* Checks the size bytes at table, read in the host's byte order. Returns RSC_OK and stores the
   number of entries in *num, or returns the first fault's code and describes it in *fault.
   A nonzero strict makes an unknown resource type an error; otherwise it is skipped. */
enum rsc_code rsc_validate_table(const unsigned char *table, size_t size, int strict,
                                 uint32_t *num, struct rsc_fault *fault);

/* A walk of the entries of a table rsc_validate_table accepted: the sum of one field per entry
   (a carveout's da, a devmem's pa, a trace's len, a vdev's id plus num_of_vrings, else the type),
   for timing a parse followed by a walk. */
uint64_t rsc_entries_digest(const unsigned char *table, uint32_t num);

#ifdef __cplusplus
}
#endif

#endif
