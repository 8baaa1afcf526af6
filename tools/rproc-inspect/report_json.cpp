#include <rproc/crash.hpp>
#include <rproc/entries.hpp>

#include <string>

#include "report.hpp"

namespace inspect {

namespace {

using json = nlohmann::ordered_json;

std::string lower_hex(std::span<const std::byte> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (const auto b : bytes) {
    out += digits[std::to_integer<unsigned>(b) >> 4];
    out += digits[std::to_integer<unsigned>(b) & 0xF];
  }
  return out;
}

template <class Memory>
void memory_fields(json& j, const Memory& m) {
  j["da"] = m.da();
  j["pa"] = m.pa();
  j["len"] = m.len();
  j["flags"] = m.flags();
  j["reserved"] = m.reserved();
  j["name"] = json_name(m.name());
}

json entry_json(const rproc::resource_entry& e) {
  json j{{"index", e.index()},
         {"offset", e.offset()},
         {"type", rproc::to_string(e.kind())},
         {"type_id", e.type_id()}};
  e.visit(rproc::overloaded{
      [&](const rproc::carveout_entry& c) { memory_fields(j, c); },
      [&](const rproc::devmem_entry& d) { memory_fields(j, d); },
      [&](const rproc::trace_entry& t) {
        j["da"] = t.da();
        j["len"] = t.len();
        j["reserved"] = t.reserved();
        j["name"] = json_name(t.name());
      },
      [&](const rproc::vdev_entry& v) {
        j["id"] = v.id();
        j["notifyid"] = v.notifyid();
        j["dfeatures"] = v.dfeatures();
        j["gfeatures"] = v.gfeatures();
        j["config_len"] = v.config_len();
        j["status"] = v.status();
        j["num_of_vrings"] = v.num_of_vrings();
        j["reserved"] = json::array({v.reserved()[0], v.reserved()[1]});
        json vrings = json::array();
        for (const auto r : v.vrings())
          vrings.push_back({{"da", r.da()},
                            {"align", r.align()},
                            {"num", r.num()},
                            {"notifyid", r.notifyid()},
                            {"pa", r.pa()}});
        j["vrings"] = std::move(vrings);
        j["config"] = lower_hex(v.config());
      },
      [&](const rproc::vendor_entry& v) {
        // AMD's crash report (type 128), where the body holds one; else index, offset and type.
        if (v.type_id() != rproc::amd_crash_report_type) return;
        if (const auto report = rproc::read_crash_report(v))
          j["crash_report"] = {{"crash_state", report->crash_state},
                               {"crash_reason", report->reason_word},
                               {"reason", rproc::to_string(report->reason())}};
      },
      [](const rproc::unknown_entry&) {}});
  return j;
}

json table_json(const rproc::located_table& where, const rproc::table_view& table) {
  json offsets = json::array();
  for (std::uint32_t i = 0; i < table.num(); ++i) offsets.push_back(table.offset(i));
  json entries = json::array();
  for (const auto e : table) entries.push_back(entry_json(e));
  return {{"file_offset", where.file_offset.value_or(0)},
          {"address", where.da ? json(*where.da) : json(nullptr)},
          {"size", table.size_bytes()},
          {"ver", table.ver()},
          {"num", table.num()},
          {"offsets", std::move(offsets)},
          {"entries", std::move(entries)}};
}

}  // namespace

std::string json_name(std::string_view name) {
  std::string out;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80) {
      out += c;
    } else {
      out += static_cast<char>(0xC0 | (u >> 6));
      out += static_cast<char>(0x80 | (u & 0x3F));
    }
  }
  return out;
}

json fault_json(const rproc::error& e, bool is_error) {
  const json entry = e.entry ? json(*e.entry) : json(nullptr);
  const std::string message(rproc::message(e).view());
  // SPEC orders a warning's keys code, entry, offset and an error's code, offset, entry.
  if (is_error)
    return {{"code", rproc::to_string(e.code)}, {"offset", e.offset}, {"entry", entry},
            {"message", message}};
  return {{"code", rproc::to_string(e.code)}, {"entry", entry}, {"offset", e.offset},
          {"message", message}};
}

json json_report(const inspection& found, std::string_view path) {
  json j;
  j["file"] = json_name(path);
  j["format"] = found.format == file_format::elf ? "elf" : "raw";
  if (found.format == file_format::elf) {
    if (found.elf)
      j["elf"] = {{"class", found.elf->bits()},
                  {"endian", found.elf->order() == rproc::endian::big ? "big" : "little"},
                  {"machine", found.elf->machine()},
                  {"entry", found.elf->entry()}};
    else
      j["elf"] = nullptr;  // the image failed an ELF check
  }
  j["resource_table"] =
      found.table && !found.error ? table_json(*found.located, *found.table) : json(nullptr);
  json warnings = json::array();
  if (!found.error)
    for (const auto& w : found.warnings) warnings.push_back(fault_json(w, false));
  j["warnings"] = std::move(warnings);
  j["error"] = found.error ? fault_json(*found.error, true) : json(nullptr);
  return j;
}

}  // namespace inspect
