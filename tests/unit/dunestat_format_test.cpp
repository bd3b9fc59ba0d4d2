#include <gtest/gtest.h>

#include <boost/property_tree/json_parser.hpp>
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <sstream>

#include "formats.h"
#include "machine.h"

namespace dunestat {
namespace {

namespace pt = boost::property_tree;

Machine test_machine() {
  Machine m;
  m.cpu_model = "AMD EPYC <test & \"quotes\">";
  m.kernel = "Linux 6.18";
  m.flavour = "pvm";
  m.kvm_path = "/dev/kvm";
  m.kvm_device = true;
  m.nested = true;
  m.outer_hypervisor = "KVMKVMKVM";
  m.invariant_tsc = m.constant_tsc = m.nonstop_tsc = true;
  m.tsc_hz = 2.6e9;
  return m;
}

Report test_report(bool with_dune) {
  std::string native, dune = with_dune ? entered_line() : unavailable_line("no KVM here");
  for (const RowInfo& r : all_rows()) {
    double v = r.id == RowId::kTsc ? 40 : 1000 + 100 * row_index(r.id);
    native += summary_line(r.id, Summary{50, v * 0.9, v, v * 1.2, v * 2});
    if (with_dune || r.id == RowId::kExitFloor) dune += summary_line(r.id, Summary{50, v * 9, v * 10, v * 12, v * 20});
  }
  return build_report(test_machine(), Options{}, decode_worker_report(Mode::kNative, native + end_line()),
                      decode_worker_report(Mode::kDune, dune + end_line()));
}

// The tree `read` (pt::read_json or pt::read_xml) makes of text; it throws if the text is malformed.
template <typename Reader>
pt::ptree parsed(Reader read, const std::string& text) {
  pt::ptree tree;
  std::istringstream in(text);
  read(in, tree);
  return tree;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> v;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

TEST(Numbers, GroupedAndRatios) {
  EXPECT_EQ(grouped(0), "0");
  EXPECT_EQ(grouped(999.4), "999");
  EXPECT_EQ(grouped(1000), "1,000");
  EXPECT_EQ(grouped(67340.6), "67,341");
  EXPECT_EQ(grouped(1234567890), "1,234,567,890");
  EXPECT_EQ(ratio_text(1.0213), "1.02");
  EXPECT_EQ(ratio_text(175.44), "175.4");
}

TEST(Machine, ReadsCpuinfo) {
  std::string text =
      "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nflags\t\t: fpu tsc constant_tsc "
      "rdtscp nonstop_tsc_x\n\nprocessor\t: 1\nmodel name\t: other\n";
  EXPECT_EQ(cpu_model_from_cpuinfo(text), "AMD EPYC 7B13");
  EXPECT_TRUE(cpuinfo_has_flag(text, "constant_tsc"));
  EXPECT_TRUE(cpuinfo_has_flag(text, "fpu"));
  EXPECT_FALSE(cpuinfo_has_flag(text, "nonstop_tsc"));  // only a longer flag
  EXPECT_EQ(cpu_model_from_cpuinfo("processor : 0\n"), "unknown CPU");
  EXPECT_FALSE(cpuinfo_has_flag("", "tsc"));
}

TEST(Machine, NamesKnownHypervisors) {
  EXPECT_EQ(hypervisor_name("KVMKVMKVM"), "KVM, signature \"KVMKVMKVM\"");
  EXPECT_EQ(hypervisor_name("TCGTCGTCGTCG"), "QEMU TCG, signature \"TCGTCGTCGTCG\"");
  EXPECT_EQ(hypervisor_name("Microsoft Hv"), "Hyper-V, signature \"Microsoft Hv\"");
  EXPECT_EQ(hypervisor_name("NewVisor"), "signature \"NewVisor\"");
  EXPECT_EQ(hypervisor_name(""), "signature \"\"");
}

TEST(Machine, DescribesFlavourNestingAndTsc) {
  Machine m = test_machine();
  EXPECT_NE(describe_kvm(m).find("PVM"), std::string::npos);
  EXPECT_NE(describe_kvm(m).find("nested"), std::string::npos);
  EXPECT_NE(describe_kvm(m).find("under KVM, signature \"KVMKVMKVM\""), std::string::npos);
  m.flavour = "vmx";
  m.nested = false;
  EXPECT_NE(describe_kvm(m).find("Intel VT-x"), std::string::npos);
  EXPECT_NE(describe_kvm(m).find("not nested"), std::string::npos);
  m.flavour = "svm";
  m.kvm_device = false;
  EXPECT_NE(describe_kvm(m).find("AMD-V"), std::string::npos);
  EXPECT_NE(describe_kvm(m).find("/dev/kvm is missing"), std::string::npos);
  m.flavour = "dune-module";
  m.kvm_path = "/dev/dune";
  m.kvm_device = true;
  EXPECT_NE(describe_kvm(m).find("the Dune kernel module drives Intel VT-x itself (/dev/dune)"), std::string::npos);
  EXPECT_EQ(describe_kvm(m).find("unknown"), std::string::npos);
  EXPECT_TRUE(tsc_is_constant(m));
  EXPECT_NE(describe_tsc(m).find("constant TSC at 2.60 GHz"), std::string::npos);
  m.invariant_tsc = m.nonstop_tsc = false;
  EXPECT_FALSE(tsc_is_constant(m));
  EXPECT_NE(describe_tsc(m).find("not known to be constant"), std::string::npos);
}

TEST(Table, AlignedWithBothModesAndUnits) {
  std::string t = format_table(test_report(true));
  EXPECT_NE(t.find("CPU          AMD EPYC"), std::string::npos);
  EXPECT_NE(t.find("PVM"), std::string::npos);
  EXPECT_NE(t.find("constant TSC"), std::string::npos);
  EXPECT_NE(t.find("cycles/pass"), std::string::npos);
  EXPECT_NE(t.find("cycles/fault"), std::string::npos);
  EXPECT_NE(t.find("Dune / VM exit floor"), std::string::npos);
  // The median column ends at one position on every line of figures.
  std::vector<std::string> lines = lines_of(t);
  auto header = std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l.rfind("operation", 0) == 0; });
  ASSERT_NE(header, lines.end());
  size_t end_of_median = header->find("median") + 6;
  int figures = 0;
  for (auto it = header + 1; it != lines.end(); ++it) {
    if (it->find("Dune / VM exit floor") != std::string::npos) continue;
    ASSERT_GT(it->size(), end_of_median) << *it;
    EXPECT_NE((*it)[end_of_median - 1], ' ') << *it;
    EXPECT_EQ((*it)[end_of_median], ' ') << *it;
    ++figures;
  }
  EXPECT_EQ(figures, 2 * static_cast<int>(kRowCount) + 4);  // two more lines per Appel row
}

TEST(Table, SaysWhyDuneIsMissing) {
  std::string t = format_table(test_report(false));
  EXPECT_NE(t.find("Dune mode    unavailable: no KVM here"), std::string::npos);
  EXPECT_NE(t.find("(Dune mode unavailable)"), std::string::npos);
}

TEST(Json, WellFormedWithEveryRow) {
  for (bool with_dune : {true, false}) {
    std::string j = format_json(test_report(with_dune));
    pt::ptree tree;
    ASSERT_NO_THROW(tree = parsed([](std::istream& in, pt::ptree& t) { pt::read_json(in, t); }, j)) << j;
    EXPECT_EQ(tree.get_child("rows").size(), kRowCount);
    EXPECT_EQ(tree.get<std::string>("machine.cpu"), "AMD EPYC <test & \"quotes\">");
    EXPECT_EQ(tree.get<std::string>("dune.available"), with_dune ? "true" : "false");
    for (const auto& [_, row] : tree.get_child("rows")) {
      EXPECT_GT(row.get<double>("native.median"), 0);
      if (with_dune) {
        double ratio = row.get<double>("dune_to_native");
        EXPECT_NEAR(ratio, row.get<double>("dune.median") / row.get<double>("native.median"), 1e-9);
      }
    }
  }
}

TEST(Csv, OneLinePerRowModeAndUnit) {
  std::vector<std::string> lines = lines_of(format_csv(test_report(true)));
  ASSERT_EQ(lines.size(), 1 + 2 * kRowCount + 4);
  EXPECT_EQ(lines[0], "key,title,unit,mode,reps,min,median,p90,max,dune_to_native,dune_to_floor,missing");
  bool quoted_title = false;
  for (const std::string& l : lines)
    if (l.rfind("appel1,\"PROT1,TRAP,UNPROT\",cycles/pass,native,50,", 0) == 0) quoted_title = true;
  EXPECT_TRUE(quoted_title);
}

TEST(Svg, WellFormedWithOneBarPairPerRow) {
  for (bool with_dune : {true, false}) {
    std::string svg = format_svg(test_report(with_dune));
    pt::ptree tree;
    ASSERT_NO_THROW(tree = parsed([](std::istream& in, pt::ptree& t) { pt::read_xml(in, t); }, svg)) << svg;
    int pairs = 0, native = 0, dune = 0;
    for (const auto& [name, node] : tree.get_child("svg")) {
      if (name != "g" || node.get<std::string>("<xmlattr>.class", "") != "pair") continue;
      ++pairs;
      for (const auto& [child, bar] : node) {
        if (child != "rect") continue;
        std::string cls = bar.get<std::string>("<xmlattr>.class", "");
        native += cls == "native";
        dune += cls == "dune";
      }
    }
    EXPECT_EQ(pairs, static_cast<int>(kRowCount));
    EXPECT_EQ(native, static_cast<int>(kRowCount));
    EXPECT_EQ(dune, with_dune ? static_cast<int>(kRowCount) : 1);  // without Dune: only the floor
    EXPECT_NE(svg.find("AMD EPYC &lt;test &amp; &quot;quotes&quot;&gt;"), std::string::npos);
  }
}

}  // namespace
}  // namespace dunestat
