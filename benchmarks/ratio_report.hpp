// The main of every benchmark program: runs the benchmarks with Google Benchmark's console output,
// then prints each subject's time as a ratio of its baselines' and the target it is held to.
// Benchmarks are named "group/variant" (e.g. "table/ti-am62x-m4f-ipc-echo/rproc"); a comparison
// names two variants and applies to every group that has both.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rproc_bench {

// "subject takes at most target times as long as baseline"; a target of 0: the ratio alone.
struct comparison {
  std::string_view subject;
  std::string_view baseline;
  double target;
};

class ratio_reporter : public benchmark::ConsoleReporter {
 public:
  ratio_reporter() : ConsoleReporter(OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) record(run);
  }

  // Errors are how a benchmark says its subject and baseline disagreed.
  int errors() const noexcept { return errors_; }

  void print_ratios(std::span<const comparison> comparisons) const {
    std::printf("\n%-44s %-26s %10s %10s %8s %8s\n", "group", "subject / baseline", "subject ns",
                "base ns", "ratio", "target");
    for (const auto& [group, variants] : groups_) {
      for (const comparison& c : comparisons) {
        const auto s = variants.find(std::string(c.subject));
        const auto b = variants.find(std::string(c.baseline));
        if (s == variants.end() || b == variants.end() || b->second.ns() <= 0) continue;
        const double ratio = s->second.ns() / b->second.ns();
        const std::string pair = std::string(c.subject) + " / " + std::string(c.baseline);
        std::printf("%-44s %-26s %10.2f %10.2f %8.3f", group.c_str(), pair.c_str(),
                    s->second.ns(), b->second.ns(), ratio);
        if (c.target > 0)
          std::printf("    <= %.2f %s\n", c.target, ratio <= c.target ? "met" : "MISSED");
        else
          std::printf("\n");
      }
    }
  }

 private:
  // CPU time per iteration in ns (time the machine gave to others does not count); with
  // repetitions, their median (steadier from run to run than the minimum on a shared machine).
  struct timing {
    double sum = 0;
    int runs = 0;
    double median = -1;
    double min = -1;
    double ns() const noexcept {
      if (median >= 0) return median;
      if (min >= 0) return min;
      return runs > 0 ? sum / runs : 0;
    }
  };

  static double to_ns(const Run& run) {
    const double t = run.GetAdjustedCPUTime();
    switch (run.time_unit) {
      case benchmark::kNanosecond: return t;
      case benchmark::kMicrosecond: return t * 1e3;
      case benchmark::kMillisecond: return t * 1e6;
      case benchmark::kSecond: return t * 1e9;
    }
    return t;
  }

  void record(const Run& run) {
    if (run.error_occurred) {
      ++errors_;
      return;
    }
    const std::string& name = run.run_name.function_name;
    const auto slash = name.rfind('/');
    if (slash == std::string::npos) return;
    timing& t = groups_[name.substr(0, slash)][name.substr(slash + 1)];
    if (run.run_type == Run::RT_Aggregate) {
      if (run.aggregate_name == "median") t.median = to_ns(run);
      if (run.aggregate_name == "min") t.min = to_ns(run);
    } else {
      t.sum += to_ns(run);
      ++t.runs;
    }
  }

  std::map<std::string, std::map<std::string, timing>> groups_;
  int errors_ = 0;
};

// Registers a benchmark in ns with a "min" statistic beside Google Benchmark's own.
template <class... Args>
benchmark::internal::Benchmark* add(const std::string& name, Args&&... args) {
  return benchmark::RegisterBenchmark(name.c_str(), std::forward<Args>(args)...)
      ->Unit(benchmark::kNanosecond)
      ->ComputeStatistics("min", [](const std::vector<double>& v) {
        return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
      });
}

// The program's main: Google Benchmark's flags apply; exits 1 when a benchmark reported an error.
inline int run_benchmarks(int argc, char** argv, std::span<const comparison> comparisons) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  ratio_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  reporter.print_ratios(comparisons);
  if (reporter.errors() != 0) {
    std::printf("%d benchmark(s) reported an error\n", reporter.errors());
    return 1;
  }
  return 0;
}

}  // namespace rproc_bench
