// rproc-inspect --map-svg: one row per region, its bar over an address axis on which every stretch
// between two region edges gets a width that grows with the log of its size (so that a 216-byte
// segment and a 256 MiB window both show) and the gaps no region covers are cut out.
#include <rproc/fmt.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <limits>

#include "memory_map_report.hpp"

namespace inspect {

namespace {

constexpr double page_width = 1280;
constexpr double label_width = 440;  // region names and ranges, left of the plot
constexpr double plot_left = label_width + 24;
constexpr double plot_right = page_width - 32;
constexpr double row_height = 22;
constexpr double mono_char = 6.1;  // DejaVu Sans Mono at 10 px
constexpr double gap_weight = 22;
constexpr double unplaced_caption = 30;
// The first findings of a code are listed, the rest counted.
constexpr std::size_t findings_listed_per_code = 16;  // room above the rows of regions the host places
constexpr const char* finding_red = "#c0142b";

struct kind_style {
  const char* fill;
  const char* stroke;
  const char* name;
};

// Okabe and Ito's palette, distinguishable with the common colour-vision deficiencies.
constexpr kind_style style_of(rproc::region_kind kind) {
  switch (kind) {
    case rproc::region_kind::segment: return {"#0072b2", "#004a75", "loadable segment"};
    case rproc::region_kind::table: return {"#cc79a7", "#8f4774", ".resource_table"};
    case rproc::region_kind::carveout: return {"#009e73", "#006349", "carveout"};
    case rproc::region_kind::devmem: return {"#e69f00", "#9a6a00", "devmem"};
    case rproc::region_kind::trace: return {"#f0e442", "#9b9320", "trace buffer"};
    case rproc::region_kind::vring: return {"#56b4e9", "#2a7fae", "vring"};
  }
  return {"#999999", "#555555", "region"};
}

constexpr std::array all_kinds{rproc::region_kind::segment,  rproc::region_kind::table,
                               rproc::region_kind::carveout, rproc::region_kind::devmem,
                               rproc::region_kind::trace,    rproc::region_kind::vring};

// Text for an SVG document: terminal-safe escapes first (names are bytes), then XML's.
std::string xml(std::string_view text) {
  std::string escaped;
  rproc::fmt_detail::put_escaped(std::back_inserter(escaped), text, '\0');
  std::string out;
  for (const char c : escaped) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

// One past a region's last byte, saturated at 2^64 - 1 (a picture loses nothing by it).
std::uint64_t end_of(const rproc::map_region& r) {
  const std::uint64_t last = r.last();
  return r.size == 0 || last == std::numeric_limits<std::uint64_t>::max() ? last : last + 1;
}

// Where a segment runs when that is not where it is loaded (p_vaddr != p_paddr).
std::optional<std::pair<std::uint64_t, std::uint64_t>> run_range(const rproc::map_region& r) {
  if (r.kind != rproc::region_kind::segment || !r.da || r.vaddr == *r.da) return std::nullopt;
  rproc::map_region moved = r;
  moved.da = r.vaddr;
  return std::pair{r.vaddr, end_of(moved)};
}

// The address axis: the edges of every region (and of where segments run), and where each edge
// is drawn.
class address_axis {
 public:
  explicit address_axis(const std::vector<rproc::map_region>& regions) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> used;
    for (const auto& r : regions) {
      if (!r.placed()) continue;
      used.emplace_back(*r.da, end_of(r));
      if (const auto run = run_range(r)) used.push_back(*run);
    }
    for (const auto& [from, to] : used) {
      edges_.push_back(from);
      edges_.push_back(to);
    }
    std::sort(edges_.begin(), edges_.end());
    edges_.erase(std::unique(edges_.begin(), edges_.end()), edges_.end());
    if (edges_.empty()) return;
    std::vector<double> weight;
    for (std::size_t i = 0; i + 1 < edges_.size(); ++i) {
      const std::uint64_t from = edges_[i], to = edges_[i + 1];
      const bool covered = std::any_of(used.begin(), used.end(), [&](const auto& range) {
        return range.first <= from && range.second >= to;
      });
      gap_.push_back(!covered);
      weight.push_back(covered ? 8 + 6 * std::log2(1.0 + static_cast<double>(to - from))
                               : gap_weight);
    }
    double total = 0;
    for (const double w : weight) total += w;
    const double scale = total > 0 ? (plot_right - plot_left) / total : 0;
    x_.push_back(total > 0 ? plot_left : (plot_left + plot_right) / 2);
    for (const double w : weight) x_.push_back(x_.back() + w * scale);
  }

  double x(std::uint64_t address) const {
    const auto at = std::lower_bound(edges_.begin(), edges_.end(), address);
    if (at == edges_.end()) return plot_right;
    return x_[static_cast<std::size_t>(at - edges_.begin())];
  }
  const std::vector<std::uint64_t>& edges() const { return edges_; }
  double edge_x(std::size_t i) const { return x_[i]; }
  bool gap_after(std::size_t i) const { return i < gap_.size() && gap_[i]; }

 private:
  std::vector<std::uint64_t> edges_;
  std::vector<double> x_;
  std::vector<bool> gap_;
};

// Words of `text` in lines of at most `width` characters.
std::vector<std::string> wrapped(std::string_view text, std::size_t width) {
  std::vector<std::string> lines(1);
  while (!text.empty()) {
    const auto space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    if (!lines.back().empty() && lines.back().size() + 1 + word.size() > width)
      lines.emplace_back();
    if (!lines.back().empty()) lines.back() += ' ';
    lines.back() += word;
    text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
  }
  return lines;
}

class svg_writer {
 public:
  svg_writer(const memory_map_report& map, std::string_view title)
      : map_(map), title_(title), axis_(map.regions), wide_(false) {
    for (const auto& r : map.regions)
      wide_ = wide_ || (r.placed() && r.last() > 0xFFFFFFFFu);
    for (std::size_t k = 0; k < map.findings.size(); ++k) {
      const auto& f = map.findings[k];
      mark(f.region, k);
      if (f.other) mark(*f.other, k);
    }
  }

  std::string document() {
    const double label_room = (wide_ ? 18 : 10) * mono_char + 12;
    axis_y_ = 112 + label_room;
    rows_top_ = axis_y_ + 14;
    placed_rows_ = static_cast<std::size_t>(std::count_if(
        map_.regions.begin(), map_.regions.end(), [](const auto& r) { return r.placed(); }));
    const double rows_bottom = row_y(map_.regions.size());
    std::string body;
    out_ = &body;
    header();
    axis();
    findings_overlays();
    rows();
    const double height = findings_list(rows_bottom + 28) + 20;
    std::string doc = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1:.0f}\" "
        "viewBox=\"0 0 {0} {1:.0f}\" font-family=\"DejaVu Sans, Verdana, sans-serif\" "
        "font-size=\"12\">\n",
        page_width, height);
    doc += "<defs><pattern id=\"assigned\" width=\"6\" height=\"6\" "
           "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
           "<rect width=\"6\" height=\"6\" fill=\"#ffffff\"/>"
           "<rect width=\"3\" height=\"6\" fill=\"#9aa5b1\"/></pattern>"
           "<pattern id=\"gap\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" "
           "patternTransform=\"rotate(-45)\"><rect width=\"8\" height=\"8\" fill=\"#f4f5f7\"/>"
           "<rect width=\"1\" height=\"8\" fill=\"#d5d9de\"/></pattern></defs>\n";
    doc += fmt::format("<rect width=\"{}\" height=\"{:.0f}\" fill=\"#ffffff\"/>\n", page_width,
                       height);
    return doc + body + "</svg>\n";
  }

 private:
  template <class... Args>
  void put(fmt::format_string<Args...> format, Args&&... args) {
    fmt::format_to(std::back_inserter(*out_), format, std::forward<Args>(args)...);
  }

  void mark(std::uint32_t region, std::size_t finding) {
    if (marks_.size() < map_.regions.size()) marks_.resize(map_.regions.size());
    marks_[region].push_back(finding);
  }
  bool marked(std::size_t region) const {
    return region < marks_.size() && !marks_[region].empty();
  }
  // The regions the host places (listed last) sit under a caption, apart from the axis.
  double row_y(std::size_t row) const {
    return rows_top_ + row_height * static_cast<double>(row) +
           (row >= placed_rows_ && placed_rows_ < map_.regions.size() ? unplaced_caption : 0);
  }

  void header() {
    put("<text x=\"24\" y=\"34\" font-size=\"19\" font-weight=\"bold\" fill=\"#1f2933\">"
        "{}</text>\n",
        xml(title_));
    std::size_t placed = 0;
    for (const auto& r : map_.regions) placed += r.placed() ? 1 : 0;
    std::string summary =
        fmt::format("{} regions in the remote's device addresses{}", map_.regions.size(),
                    map_.assigned ? ", with the addresses a simulated host assigned" : "");
    if (placed < map_.regions.size())
      summary += fmt::format("; {} left for the host to place", map_.regions.size() - placed);
    summary += map_.findings.empty() ? std::string("; no findings")
                                     : fmt::format("; {} finding{}", map_.findings.size(),
                                                   map_.findings.size() == 1 ? "" : "s");
    put("<text x=\"24\" y=\"56\" fill=\"#52606d\">{}</text>\n", xml(summary));
    put("<text x=\"24\" y=\"74\" font-size=\"11\" fill=\"#7b8794\">Bar widths are not to scale: "
        "each stretch between two region edges grows with the log of its size; hatched bands "
        "are address ranges no region uses, cut short.</text>\n");
    double x = 24;
    const double y = 96;
    const auto swatch = [&](const char* fill, const char* stroke, std::string_view label,
                            bool dashed) {
      put("<rect x=\"{:.1f}\" y=\"{}\" width=\"18\" height=\"11\" rx=\"2\" fill=\"{}\" "
          "stroke=\"{}\"{}/>",
          x, y - 10, fill, stroke, dashed ? " stroke-dasharray=\"3 2\"" : "");
      put("<text x=\"{:.1f}\" y=\"{}\" fill=\"#323f4b\">{}</text>\n", x + 24, y, xml(label));
      x += 24 + 7.2 * static_cast<double>(label.size()) + 18;
    };
    for (const auto kind : all_kinds) swatch(style_of(kind).fill, style_of(kind).stroke,
                                             style_of(kind).name, false);
    swatch("url(#assigned)", "#52606d", "placed by the host", true);
    swatch("#ffffff", finding_red, "finding", false);
  }

  void axis() {
    const double bottom = rows_top_ + row_height * static_cast<double>(placed_rows_);
    const auto& edges = axis_.edges();
    for (std::size_t i = 0; i + 1 < edges.size(); ++i) {
      if (!axis_.gap_after(i)) continue;
      const double x0 = axis_.edge_x(i), x1 = axis_.edge_x(i + 1);
      put("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"url(#gap)\">"
          "<title>{} unused</title></rect>\n",
          x0, axis_y_, x1 - x0, bottom - axis_y_, human_size(edges[i + 1] - edges[i]));
      put("<path d=\"M{:.1f} {:.1f} l3 -5 l3 10 l3 -5\" stroke=\"#7b8794\" fill=\"none\"/>\n",
          (x0 + x1) / 2 - 4.5, axis_y_);
    }
    put("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#323f4b\"/>\n", plot_left,
        axis_y_, plot_right, axis_y_);
    double last_label = -1e9;
    for (std::size_t i = 0; i < edges.size(); ++i) {
      const double x = axis_.edge_x(i);
      put("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#323f4b\"/>"
          "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{3:.1f}\" stroke=\"#e4e7eb\" "
          "stroke-width=\"0.6\"/>\n",
          x, axis_y_, axis_y_ - 5, bottom);
      if (x - last_label < 11.5) continue;  // a label needs its font's height
      last_label = x;
      put("<text transform=\"translate({:.1f} {:.1f}) rotate(-90)\" font-family=\"DejaVu Sans "
          "Mono, monospace\" font-size=\"10\" fill=\"#323f4b\">{}</text>\n",
          x + 3.5, axis_y_ - 8, map_address(edges[i], wide_));
    }
  }

  void rows() {
    std::vector<const rproc::map_region*> holders;
    for (std::size_t row = 0; row < map_.regions.size(); ++row) {
      const auto& r = map_.regions[row];
      const double y = row_y(row);
      if (row == placed_rows_) unplaced_header(y);
      if (row % 2 == 1)
        put("<rect x=\"0\" y=\"{:.1f}\" width=\"{}\" height=\"{}\" fill=\"#f7f8fa\" "
            "fill-opacity=\"0.8\"/>\n",
            y, plot_left - 8, row_height);
      std::size_t depth = 0;
      if (r.placed()) {
        while (!holders.empty() && !holders.back()->contains(r)) holders.pop_back();
        depth = holders.size();
        if (r.size != 0) holders.push_back(&r);
      }
      label(row, r, y, depth);
      bar(row, r, y);
    }
  }

  void unplaced_header(double y) {
    put("<line x1=\"24\" y1=\"{0:.1f}\" x2=\"{1}\" y2=\"{0:.1f}\" stroke=\"#9aa5b1\"/>\n",
        y - unplaced_caption + 8, plot_right);
    put("<text x=\"24\" y=\"{:.1f}\" font-size=\"11\" font-style=\"italic\" "
        "fill=\"#52606d\">Left at FW_RSC_ADDR_ANY: the host chooses their addresses when it "
        "loads or attaches (run with --cycles to see a simulated host's)</text>\n",
        y - 6);
  }

  void label(std::size_t row, const rproc::map_region& r, double y, std::size_t depth) {
    const auto style = style_of(r.kind);
    const double x = 24 + 12 * static_cast<double>(std::min<std::size_t>(depth, 6));
    std::string text(rproc::region_label(r).view());
    if (const auto name = map_.name_of(r); !name.empty()) text += " " + std::string(name);
    if (r.kind == rproc::region_kind::segment)
      text += fmt::format(" {}{}{}", r.flags & 4u ? 'r' : '-', r.flags & 2u ? 'w' : '-',
                          r.flags & 1u ? 'x' : '-');
    const bool cut = text.size() > 34;
    if (cut) text.resize(33);
    put("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"8\" height=\"8\" rx=\"1.5\" fill=\"{}\"/>", x,
        y + 7, style.fill);
    put("<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"{}\">{}</text>", x + 13, y + 15,
        marked(row) ? finding_red : "#1f2933", xml(text) + (cut ? "&#8230;" : ""));
    const std::string range =
        r.placed() ? map_address(*r.da, wide_) + "&#8211;" + map_address(r.last(), wide_)
                   : std::string("FW_RSC_ADDR_ANY");
    put("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" font-family=\"DejaVu Sans Mono, "
        "monospace\" font-size=\"10\" fill=\"#616e7c\">{}</text>\n",
        label_width - 8, y + 15, range);
    if (marked(row)) {
      const double cx = 12;
      put("<path d=\"M{0:.1f} {1:.1f} l6 10.5 h-12 z\" fill=\"{2}\"/><text x=\"{0:.1f}\" "
          "y=\"{3:.1f}\" text-anchor=\"middle\" font-size=\"9\" font-weight=\"bold\" "
          "fill=\"#ffffff\">!</text>\n",
          cx, y + 5, finding_red, y + 14.5);
    }
  }

  void bar(std::size_t row, const rproc::map_region& r, double y) {
    const auto style = style_of(r.kind);
    const std::string tip = fmt::format("{}: {}", rproc::region_label(r).view(),
                                        r.placed() ? map_.describe(r) : "placed by the host");
    if (!r.placed()) {
      put("<rect x=\"{}\" y=\"{:.1f}\" width=\"120\" height=\"14\" rx=\"2\" "
          "fill=\"url(#assigned)\" stroke=\"#52606d\" stroke-dasharray=\"3 2\">"
          "<title>{}</title></rect>",
          plot_left, y + 4, xml(tip));
      put("<text x=\"{}\" y=\"{:.1f}\" font-size=\"11\" font-style=\"italic\" fill=\"#52606d\">"
          "{}, the host chooses where</text>\n",
          plot_left + 128, y + 15, human_size(r.size));
      return;
    }
    if (const auto run = run_range(r)) {
      const double g0 = axis_.x(run->first);
      const double g1 = std::max(axis_.x(run->second), g0 + 3);
      put("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"14\" rx=\"2\" "
          "fill=\"none\" stroke=\"{}\" stroke-dasharray=\"4 2\"><title>{} runs at {}</title>"
          "</rect>\n",
          g0, y + 4, g1 - g0, style.stroke, rproc::region_label(r).view(),
          map_address(run->first, wide_));
      const bool right = g1 + 64 < plot_right;
      put("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\" font-size=\"10\" "
          "font-style=\"italic\" fill=\"#52606d\">runs here</text>\n",
          right ? g1 + 4 : g0 - 4, y + 14.5, right ? "start" : "end");
    }
    const double x0 = axis_.x(*r.da);
    const double x1 = std::max(axis_.x(end_of(r)), x0 + 3);
    const bool finding = marked(row);
    put("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"14\" rx=\"2\" fill=\"{}\" "
        "stroke=\"{}\" stroke-width=\"{}\"{}><title>{}</title></rect>\n",
        x0, y + 4, x1 - x0, r.assigned ? "url(#assigned)" : style.fill,
        finding ? finding_red : style.stroke, finding ? 2 : 1,
        r.assigned ? " stroke-dasharray=\"3 2\"" : "", xml(tip));
    const std::string size = human_size(r.size);
    const double room = x1 - x0;
    const double text_width = 6.6 * static_cast<double>(size.size());
    if (room >= text_width + 8)
      put("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"10\" "
          "fill=\"{}\"{}>{}</text>\n",
          (x0 + x1) / 2, y + 14.5,
          r.kind == rproc::region_kind::trace || r.assigned ? "#1f2933" : "#ffffff",
          r.assigned ? " stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\"" : "",
          size);
    else if (x1 + text_width + 6 < plot_right)
      put("<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" fill=\"#52606d\">{}</text>\n",
          x1 + 4, y + 14.5, size);
    else
      put("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" font-size=\"10\" "
          "fill=\"#52606d\">{}</text>\n",
          x0 - 4, y + 14.5, size);
  }

  // A band over the addresses two colliding regions share, across both rows.
  void findings_overlays() {
    for (const auto& f : map_.findings) {
      if (!f.other) continue;
      const auto& a = map_.regions[f.region];
      const auto& b = map_.regions[*f.other];
      const std::uint64_t from = std::max(*a.da, *b.da);
      const std::uint64_t to = std::min(end_of(a), end_of(b));
      const double x0 = axis_.x(from);
      const double x1 = std::max(axis_.x(to), x0 + 3);
      const double y0 = row_y(std::min<std::size_t>(f.region, *f.other)) + 2;
      const double y1 = row_y(std::max<std::size_t>(f.region, *f.other)) + row_height - 2;
      put("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" "
          "fill-opacity=\"0.08\"/>\n",
          x0, y0, x1 - x0, y1 - y0, finding_red);
    }
  }

  // The numbered findings under the rows; returns where the page ends.
  double findings_list(double y) {
    if (map_.findings.empty()) {
      put("<text x=\"24\" y=\"{:.1f}\" fill=\"#3e7c17\">No findings: nothing overlaps where it "
          "should not, and everything the firmware fixed lies in memory it declares.</text>\n",
          y);
      return y;
    }
    put("<text x=\"24\" y=\"{:.1f}\" font-weight=\"bold\" fill=\"{}\">Findings</text>\n", y,
        finding_red);
    for (const auto& group : map_.findings_by_code()) {
      y += 22;
      put("<text x=\"24\" y=\"{:.1f}\"><tspan font-weight=\"bold\" fill=\"{}\">{}</tspan>"
          "<tspan dx=\"6\" fill=\"#52606d\">({})</tspan></text>\n",
          y, finding_red, rproc::to_string(group.code), group.findings.size());
      for (const auto& line : wrapped(rproc::describe(group.code), 160)) {
        y += 15;
        put("<text x=\"40\" y=\"{:.1f}\" font-size=\"11\" fill=\"#52606d\">{}</text>\n", y,
            xml(line));
      }
      const std::size_t shown = std::min(group.findings.size(), findings_listed_per_code);
      for (std::size_t k = 0; k < shown; ++k) {
        y += 16;
        put("<text x=\"40\" y=\"{:.1f}\" font-family=\"DejaVu Sans Mono, monospace\" "
            "font-size=\"11\" fill=\"#1f2933\">{}</text>\n",
            y, xml(map_.regions_of(group.findings[k])));
      }
      if (shown < group.findings.size()) {
        y += 16;
        put("<text x=\"40\" y=\"{:.1f}\" font-size=\"11\" font-style=\"italic\" "
            "fill=\"#52606d\">and {} more (all of them in rproc-inspect --map)</text>\n",
            y, group.findings.size() - shown);
      }
    }
    if (map_.findings_truncated) {
      y += 20;
      put("<text x=\"24\" y=\"{:.1f}\" fill=\"{}\">More findings not listed (at most {} are "
          "kept).</text>\n",
          y, finding_red, max_findings);
    }
    return y;
  }

  const memory_map_report& map_;
  std::string_view title_;
  address_axis axis_;
  bool wide_;
  std::vector<std::vector<std::size_t>> marks_;
  double axis_y_ = 0, rows_top_ = 0;
  std::size_t placed_rows_ = 0;
  std::string* out_ = nullptr;
};

}  // namespace

std::string map_svg(const memory_map_report& map, std::string_view title) {
  return svg_writer(map, title).document();
}

}  // namespace inspect
