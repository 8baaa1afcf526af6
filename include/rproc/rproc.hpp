// The whole freestanding core of rproc in one include: the byte accessor, errors, the table's
// layout and its entries, the builder, the ELF reader, the lifecycle (platform concept,
// resources, clean copy, typed handles and runtime machine) and the firmware side. None of it
// needs a heap, exceptions or RTTI; the optional integrations (fmt.hpp, ranges.hpp) and the
// simulated platform for tests (sim.hpp) stay out.
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
#include "crash.hpp"
#include "image.hpp"
#include "processor.hpp"
#include "remote.hpp"
#include "machine.hpp"
#include "lifecycle.hpp"
#include "firmware.hpp"
