// The lifecycle of a remote processor (SPEC section 4): start and stop firmware, attach to
// firmware that someone else started, detach from it while it keeps running, and re-attach
// cleanly, because the table the firmware wrote is saved at attach and written back at detach.
// One header per part: image.hpp (what start() needs of a firmware image), processor.hpp (the
// engine: state, copies of the table, resources, the operations), remote.hpp (typed handles and
// their transitions), machine.hpp (the same for states known only at run time).
#pragma once

#include "image.hpp"
#include "machine.hpp"
#include "processor.hpp"
#include "remote.hpp"
