#include "gateway/routing/routing.h"

#include <unistd.h>

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gateway/docs/reflection.h"

extern char** environ;

namespace genesis::gateway {

absl::StatusOr<DescriptorSource> ParseDescriptorSource(const std::string& text) {
  if (text == "file") return DescriptorSource::kFile;
  if (text == "reflection") return DescriptorSource::kReflection;
  if (text == "both") return DescriptorSource::kBoth;
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' is not one of file, reflection, both"));
}

std::vector<std::vector<std::string>> AddressesFromEnvironment() {
  std::vector<std::vector<std::string>> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    absl::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == absl::string_view::npos) continue;
    absl::string_view name = entry.substr(0, eq), value = entry.substr(eq + 1);
    if (!absl::StartsWith(name, "GENESIS_") || !absl::EndsWith(name, "_ADDR") || value.empty()) {
      continue;
    }
    out.push_back(absl::StrSplit(value, '|', absl::SkipEmpty()));
  }
  return out;
}

RoutingBuilder::RoutingBuilder(RoutingOptions options) : options_(std::move(options)) {}

GrpcBackend* RoutingBuilder::Channel(const std::string& address) {
  auto& channel = channels_[address];
  if (!channel)
    channel = std::make_unique<GrpcBackend>(address, options_.max_message_bytes,
                                            options_.max_response_bytes, options_.credentials);
  return channel.get();
}

Backend* RoutingBuilder::BackendFor(const std::vector<std::string>& addresses) {
  if (addresses.size() == 1) return Channel(addresses.front());
  auto& balancer = balancers_[absl::StrJoin(addresses, "|")];
  if (!balancer) {
    std::vector<Backend*> members;
    for (const auto& a : addresses) members.push_back(Channel(a));
    balancer = std::make_unique<RoundRobinBackend>(members);
  }
  return balancer.get();
}

absl::StatusOr<Routing> RoutingBuilder::Build() {
  Routing out;
  google::protobuf::FileDescriptorSet set;
  if (options_.source != DescriptorSource::kReflection) {
    auto read = Transcoder::ReadDescriptorSet(options_.descriptor_set);
    if (!read.ok()) return read.status();
    set = std::move(*read);
  }
  // Service -> the address list whose reflection described it.
  std::map<std::string, std::vector<std::string>> reflected;
  if (options_.source != DescriptorSource::kFile) {
    std::vector<std::vector<std::string>> lists;
    std::set<std::string> seen;
    auto add = [&](const std::vector<std::string>& list) {
      if (!list.empty() && seen.insert(absl::StrJoin(list, "|")).second) lists.push_back(list);
    };
    for (const auto& [service, addresses] : options_.backends) add(addresses);
    for (const auto& list : options_.reflection_addresses) add(list);
    google::protobuf::FileDescriptorSet fetched;
    int answered = 0;
    for (const auto& list : lists) {
      absl::Status last;
      for (const auto& address : list) {  // the first address of the list that answers
        auto got = FetchDescriptors(Channel(address)->channel(),
                                    absl::Now() + options_.reflection_timeout);
        if (!got.ok()) {
          last = got.status();
          continue;
        }
        ++answered;
        for (const auto& service : got->services) reflected.emplace(service, list);
        fetched = MergeDescriptorSets(fetched, got->files);
        last = absl::OkStatus();
        break;
      }
      if (!last.ok()) {
        out.warnings.push_back(
            absl::StrCat("reflection of ", absl::StrJoin(list, "|"),
                         " failed (its services are left out): ", last.message()));
      }
    }
    if (options_.source == DescriptorSource::kReflection && answered == 0) {
      return absl::UnavailableError(lists.empty()
                                        ? "no backend address to ask for reflection (--backend or "
                                          "GENESIS_<NAME>_ADDR)"
                                        : "no backend answered server reflection");
    }
    set = MergeDescriptorSets(set, fetched);
  }
  auto transcoder = Transcoder::Create(set, options_.transcoder);
  if (!transcoder.ok()) return transcoder.status();
  auto services = (*transcoder)->Services();
  auto routes = RouteTable::Build(services);
  if (!routes.ok()) return routes.status();

  std::set<std::string> names;
  for (const auto* service : services) {
    const std::string& name = service->full_name();
    names.insert(name);
    std::vector<std::string> addresses;
    if (auto it = options_.backends.find(name); it != options_.backends.end()) {
      addresses = it->second;
    } else if (std::string env = options_.getenv ? options_.getenv(AddressEnvFor(name)) : "";
               !env.empty()) {
      addresses = absl::StrSplit(env, '|', absl::SkipEmpty());
    } else if (auto r = reflected.find(name); r != reflected.end()) {
      addresses = r->second;
    }
    bool routed = std::any_of(routes->routes().begin(), routes->routes().end(),
                              [&](const auto& r) { return r->method->service() == service; });
    if (addresses.empty()) {
      if (routed) {
        out.warnings.push_back(absl::StrCat(name, " has HTTP rules but no backend (--backend or ",
                                            AddressEnvFor(name), ")"));
      }
      continue;
    }
    out.backends[name] = BackendFor(addresses);
    if (routed) out.notes.push_back(absl::StrCat(name, " -> ", absl::StrJoin(addresses, "|")));
  }
  for (const auto& [name, addresses] : options_.backends) {
    if (!names.contains(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--backend: '", name, "' is not a service of the descriptors"));
    }
  }
  out.transcoder = std::move(*transcoder);
  out.routes = std::move(*routes);
  return out;
}

}  // namespace genesis::gateway
