// The two reports of rproc-inspect: readelf-like text, and the JSON object of SPEC section 5.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "inspect.hpp"

namespace inspect {

// `size` is the size of the file.
std::string text_report(const inspection& found, std::string_view path, std::size_t size);

// Keys in SPEC's order (a reader's convenience: JSON objects are unordered).
nlohmann::ordered_json json_report(const inspection& found, std::string_view path);

// An error or warning as SPEC section 5 writes it: code, offset, entry (a warning: code, entry,
// offset) and message.
nlohmann::ordered_json fault_json(const rproc::error& e, bool is_error);

// A name's bytes up to its NUL, each byte read as the code point of the same value (Latin-1),
// so that any name, even one that is not UTF-8, becomes a valid JSON string without loss.
std::string json_name(std::string_view name);

}  // namespace inspect
