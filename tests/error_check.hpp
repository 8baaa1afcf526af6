// Catch2 shows an rproc::error as its message, so that a failed CHECK(e == rproc::error{...})
// says which code, offset, entry and value each side has.
#pragma once

#include <rproc/error.hpp>

#include <catch2/catch.hpp>

#include <string>

namespace Catch {
template <>
struct StringMaker<rproc::error> {
  static std::string convert(const rproc::error& e) {
    return std::string(rproc::message(e).view()) + " [value " + std::to_string(e.value) + "]";
  }
};
}  // namespace Catch
