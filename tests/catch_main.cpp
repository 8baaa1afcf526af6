// The one Catch2 main of the test suite. A test program that needs ../shared is run as
//   test_x --requires DIR [catch options]
// and exits with 77 (ctest's "skipped") and a message when DIR is absent, never passing silently.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

int main(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  for (std::size_t i = 1; i + 1 < args.size(); ++i) {
    if (std::strcmp(args[i], "--requires") != 0) continue;
    const char* dir = args[i + 1];
    if (!std::filesystem::is_directory(dir)) {
      std::printf("SKIPPED: %s is absent; the tests that need it did not run\n", dir);
      return 77;
    }
    args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
               args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
    break;
  }
  return Catch::Session().run(static_cast<int>(args.size()), args.data());
}
