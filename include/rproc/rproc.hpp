// The whole freestanding core of rproc in one include: the byte accessor, errors, the table and
// its entries, the builder, the ELF reader, the lifecycle (platform concept, resources, clean
// copy, typed handles and runtime machine), the simulated platform and the firmware side. None
// of it needs a heap, exceptions or RTTI; the optional integrations (fmt.hpp) stay out.
#pragma once

#include "bytes.hpp"
#include "error.hpp"
#include "entries.hpp"
#include "table.hpp"
#include "builder.hpp"
#include "elf_format.hpp"
#include "loader.hpp"
#include "located_table.hpp"
#include "elf.hpp"
#include "platform.hpp"
#include "resources.hpp"
#include "clean_copy.hpp"
#include "image.hpp"
#include "processor.hpp"
#include "remote.hpp"
#include "machine.hpp"
#include "lifecycle.hpp"
#include "sim.hpp"
#include "firmware.hpp"
