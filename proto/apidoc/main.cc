// genesis-apidoc: writes (or, with --check, verifies) the Markdown API
// reference of the contracts from the descriptor set. Run through
// scripts/apidoc.sh, which knows where each service's reasons live.
//
//   genesis-apidoc --descriptor_set=build/proto/genesis.binpb --out_dir=proto/docs
//     --common_reasons=common/base/reasons.h
//     --reasons=genesis.catalog.v1=services/catalog/reasons.h ... [--check]
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "proto/apidoc/apidoc.h"

namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int Usage() {
  std::cerr << "usage: genesis-apidoc --descriptor_set=FILE --out_dir=DIR "
               "--common_reasons=HEADER [--reasons=PACKAGE=HEADER]... [--check]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  std::string descriptor_set, out_dir, common_reasons;
  std::vector<std::pair<std::string, std::string>> reasons;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](absl::string_view flag) -> std::optional<std::string> {
      if (!absl::StartsWith(arg, absl::StrCat(flag, "="))) return std::nullopt;
      return arg.substr(flag.size() + 1);
    };
    if (auto v = value("--descriptor_set")) {
      descriptor_set = *v;
    } else if (auto v = value("--out_dir")) {
      out_dir = *v;
    } else if (auto v = value("--common_reasons")) {
      common_reasons = *v;
    } else if (auto v = value("--reasons")) {
      const size_t eq = v->find('=');
      if (eq == std::string::npos) return Usage();
      reasons.emplace_back(v->substr(0, eq), v->substr(eq + 1));
    } else if (arg == "--check") {
      check = true;
    } else {
      return Usage();
    }
  }
  if (descriptor_set.empty() || out_dir.empty() || common_reasons.empty()) return Usage();

  auto bytes = ReadFile(descriptor_set);
  google::protobuf::FileDescriptorSet set;
  if (!bytes || !set.ParseFromString(*bytes)) {
    std::cerr << "genesis-apidoc: cannot read the descriptor set " << descriptor_set << "\n";
    return 1;
  }
  google::protobuf::DescriptorPool pool;
  genesis::apidoc::Inputs in;
  in.pool = &pool;
  for (const auto& file : set.file()) {
    if (pool.BuildFile(file) == nullptr) {
      std::cerr << "genesis-apidoc: " << file.name() << " does not build\n";
      return 1;
    }
    in.files.push_back(file.name());
  }
  auto header = ReadFile(common_reasons);
  if (!header) {
    std::cerr << "genesis-apidoc: cannot read " << common_reasons << "\n";
    return 1;
  }
  in.common_reasons = genesis::apidoc::ParseReasons(*header);
  in.common_reasons_source = common_reasons;
  for (const auto& [package, path] : reasons) {
    auto text = ReadFile(path);
    if (!text) {
      std::cerr << "genesis-apidoc: cannot read " << path << "\n";
      return 1;
    }
    in.reasons[package] = genesis::apidoc::ParseReasons(*text);
    in.reasons_source[package] = path;
  }
  auto pages = genesis::apidoc::Render(in);
  if (!pages.ok()) {
    std::cerr << "genesis-apidoc: " << pages.status().message() << "\n";
    return 1;
  }

  if (!check) {
    fs::create_directories(out_dir);
    for (const auto& entry : fs::directory_iterator(out_dir)) {
      if (entry.path().extension() == ".md" && !pages->count(entry.path().filename().string())) {
        fs::remove(entry.path());
      }
    }
    for (const auto& [name, text] : *pages) {
      std::ofstream out(fs::path(out_dir) / name, std::ios::binary | std::ios::trunc);
      out << text << "\n";
      if (!out) {
        std::cerr << "genesis-apidoc: cannot write " << (fs::path(out_dir) / name) << "\n";
        return 1;
      }
    }
    std::cout << "wrote " << pages->size() << " pages to " << out_dir << "\n";
    return 0;
  }
  std::vector<std::string> stale;
  for (const auto& [name, text] : *pages) {
    auto committed = ReadFile((fs::path(out_dir) / name).string());
    if (!committed || *committed != text + "\n") stale.push_back(name);
  }
  if (fs::is_directory(out_dir)) {
    for (const auto& entry : fs::directory_iterator(out_dir)) {
      const std::string name = entry.path().filename().string();
      if (entry.path().extension() == ".md" && !pages->count(name)) stale.push_back(name);
    }
  }
  if (!stale.empty()) {
    std::cerr << "the API reference in " << out_dir
              << " is stale (the protos or a reasons.h changed): ";
    for (const auto& s : stale) std::cerr << s << " ";
    std::cerr << "\nrefresh it with: scripts/apidoc.sh   (then commit " << out_dir << ")\n";
    return 1;
  }
  std::cout << "the API reference in " << out_dir << " is current (" << pages->size()
            << " pages)\n";
  return 0;
}
