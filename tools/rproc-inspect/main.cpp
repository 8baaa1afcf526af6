// rproc-inspect: prints the resource table of a remote processor's firmware image (ELF32 or
// ELF64, either byte order) or of a raw table, as text or as the JSON object of SPEC section 5.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>

#include "cycles.hpp"
#include "file_contents.hpp"
#include "inspect.hpp"
#include "memory_map_report.hpp"
#include "report.hpp"

namespace {

struct command_line {
  std::string path;
  bool json = false;
  unsigned cycles = 0;
  bool map = false;
  std::string map_svg;  // where to draw the map, when asked
  inspect::options inspect;
};

void define_options(CLI::App& app, command_line& cl) {
  app.add_flag("--json", cl.json, "Print one JSON object instead of text");
  app.add_flag("--strict", cl.inspect.strict, "Treat an unknown resource type as an error");
  auto* raw = app.add_flag("--raw", cl.inspect.raw,
                           "Read FILE as a raw resource table, even if it starts with the ELF "
                           "magic (a file without it always is)");
  app.add_flag("--big-endian", cl.inspect.big_endian,
               "The raw table is big-endian (default: little-endian)")
      ->needs(raw);
  app.add_option("--cycles", cl.cycles,
                 "Run N attach / detach cycles of the table on the simulated platform and "
                 "report each (exit 0 only when every cycle leaves the table as it was)")
      ->check(CLI::Range(1u, 100000u));
  app.add_flag("--map", cl.map,
               "Print the memory map: segments, the table section, carveouts, devmem, traces and "
               "vrings by device address, with the findings (with --cycles, the addresses the "
               "host assigned in cycle 1)");
  app.add_option("--map-svg", cl.map_svg,
                 "Draw the memory map as an SVG picture into SVG (created or replaced)")
      ->type_name("SVG");
  app.add_option("FILE", cl.path, "Firmware image (ELF) or raw resource table")->required();
  app.set_version_flag("--version", "rproc-inspect " RPROC_VERSION);
  app.footer(
      "Exit status: 0 a valid table; 1 a malformed image or table; 2 a usage or I/O error;\n"
      "3 a valid ELF image without a resource table.");
}

// The table as the host left it in the first cycle's attach, when that attach went through.
std::optional<rproc::located_table> assigned_table(const inspect::inspection& found,
                                                   const std::optional<inspect::cycles_run>& run) {
  if (!run || run->cycles.empty() || run->cycles[0].error) return std::nullopt;
  return rproc::located_table{run->cycles[0].live_table, found.located->order};
}

int inspect_file(const command_line& cl) {
  const auto file = inspect::file_contents::read(cl.path);
  const auto found = inspect::inspect_bytes(file.bytes(), cl.inspect);
  auto status = inspect::status_of(found);
  std::optional<inspect::cycles_run> run;
  if (cl.cycles > 0 && found.table) {
    run = inspect::run_cycles(*found.table, cl.cycles);
    if (!run->all_clean()) status = inspect::exit_status::malformed;
  }
  std::optional<inspect::memory_map_report> map;
  if (cl.map || !cl.map_svg.empty())
    map = inspect::memory_map_of(found, assigned_table(found, run));
  if (cl.json) {
    auto report = inspect::json_report(found, cl.path);
    if (cl.cycles > 0)
      report["cycles"] = run ? inspect::cycles_json(*run, found.located->file_offset.value_or(0))
                             : nlohmann::ordered_json::array();
    if (cl.map) report["memory_map"] = map ? inspect::map_json(*map) : nullptr;
    fmt::print("{}\n", report.dump(2));
  } else {
    fmt::print("{}", inspect::text_report(found, cl.path, file.bytes().size()));
    if (run) fmt::print("{}", inspect::cycles_text(*run, found.located->file_offset.value_or(0)));
    if (cl.map && map) fmt::print("{}", inspect::map_text(*map));
  }
  if (!cl.map_svg.empty()) {
    if (!map)
      throw inspect::io_error("no memory map to draw into '" + cl.map_svg +
                              "': not a readable image or table");
    inspect::write_file(cl.map_svg,
                       inspect::map_svg(*map, std::filesystem::path(cl.path).filename().string()));
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Prints the resource table of a remote processor's firmware image or raw table.",
               "rproc-inspect");
  command_line cl;
  define_options(app, cl);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& done) {  // --help, --version
    return app.exit(done);
  } catch (const CLI::ParseError& usage) {
    app.exit(usage);
    return inspect::exit_status::usage_or_io_error;
  }
  try {
    return inspect_file(cl);
  } catch (const inspect::io_error& e) {
    fmt::print(stderr, "rproc-inspect: {}\n", e.what());
  } catch (const std::exception& e) {
    fmt::print(stderr, "rproc-inspect: {}: {}\n", cl.path, e.what());
  }
  return inspect::exit_status::usage_or_io_error;
}
