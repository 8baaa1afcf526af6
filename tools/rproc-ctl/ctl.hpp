// rproc-ctl's commands, apart from main(): run() parses a command line and drives the remotes
// of a sysfs tree through the io it is given (the kernel's sysfs, or a test's fake kernel), and
// returns what the program prints and its exit status.
#pragma once

#include <rproc/linux/sysfs.hpp>

#include <string>
#include <vector>

namespace ctl {

enum exit_status : int {
  done = 0,
  image_refused = 1,      // the firmware image failed a check: code, file offset and entry said
  usage_or_io_error = 2,  // bad arguments, no such remote, an unreadable file, an unsafe install
  kernel_refused = 3,     // the kernel refused or failed the command (busy, invalid state ...)
  not_settled = 4,        // the remote did not reach the state in time
  crashed = 5,            // the remote crashed (with recovery disabled) while waiting
};

struct run_output {
  int status = usage_or_io_error;
  std::string out;
  std::string err;
};

// `args` without the program name.
run_output run(const std::vector<std::string>& args, rproc::sysfs::attribute_io& io);

}  // namespace ctl
