// rproc-ctl: drives the remote processors of a Linux board through /sys/class/remoteproc, and
// checks a firmware image with rproc before the kernel loads it.
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "ctl.hpp"

int main(int argc, char** argv) {
  try {
    const auto output = ctl::run(std::vector<std::string>(argv + 1, argv + argc),
                                 rproc::sysfs::system_io());
    std::fputs(output.out.c_str(), stdout);
    std::fputs(output.err.c_str(), stderr);
    return output.status;
  } catch (const std::exception& e) {
    fmt::print(stderr, "rproc-ctl: {}\n", e.what());
    return ctl::usage_or_io_error;
  }
}
