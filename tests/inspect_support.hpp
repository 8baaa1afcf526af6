// Running rproc-inspect and rproc-ctl from the tests: exit status, standard output and error.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace test {

struct tool_run {
  int status = -1;  // the exit status, or -1 when the tool did not exit normally
  std::string out;
  std::string err;
};

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (const char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A file in a fresh temporary directory, removed with it.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rproc-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

  std::filesystem::path write(const std::string& name, std::span<const std::byte> bytes) const {
    const auto p = path_ / name;
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    return p;
  }

 private:
  std::filesystem::path path_;
};

// Runs `program` with `args` in directory `cwd` (the current one when empty).
inline tool_run run_tool(const std::string& program, const std::vector<std::string>& args,
                         const std::filesystem::path& cwd = {}) {
  const temp_dir outputs;
  const auto out = outputs.path() / "stdout";
  const auto err = outputs.path() / "stderr";
  // Appends only: at -O3 GCC 12 warns falsely (-Wrestrict) on "literal" + std::string&&.
  std::string command;
  if (!cwd.empty()) command.append("cd ").append(shell_quote(cwd.string())).append(" && ");
  command += shell_quote(program);
  for (const auto& a : args) command.append(" ").append(shell_quote(a));
  command.append(" >").append(shell_quote(out.string()));
  command.append(" 2>").append(shell_quote(err.string()));
  const int raw = std::system(command.c_str());
  tool_run run;
  if (raw != -1 && WIFEXITED(raw)) run.status = WEXITSTATUS(raw);
  run.out = slurp(out);
  run.err = slurp(err);
  return run;
}

#ifdef RPROC_INSPECT
inline tool_run run_inspect(const std::vector<std::string>& args,
                            const std::filesystem::path& cwd = {}) {
  return run_tool(RPROC_INSPECT, args, cwd);
}
#endif

}  // namespace test
