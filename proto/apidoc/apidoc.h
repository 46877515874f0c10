// The API reference of the contracts, in Markdown, generated from the
// descriptor set (build/proto/genesis.binpb, with source info) so it cannot
// drift from the protos: one page per package (`genesis.catalog.v1` ->
// `catalog.md`) with its services, each method's request, response,
// streaming and REST binding (google.api.http), every message's fields
// (number, type, label, comment) and every enum's values, then the error
// reasons (google.rpc.ErrorInfo) the service returns, read from its
// `reasons.h`; plus `README.md`, the index with the reasons every service
// shares. Pure: descriptors and reason lists in, file contents out.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace google::protobuf {
class DescriptorPool;
}

namespace genesis::apidoc {

// One ErrorInfo reason: its string and the comment above its constant.
struct Reason {
  std::string reason;
  std::string description;
};

// The reasons declared in a reasons header (`inline constexpr char kX[] =
// "X";`, the `//` lines right above each one its description), in order.
std::vector<Reason> ParseReasons(absl::string_view header);

struct Inputs {
  // Every file of the set whose package starts with "genesis." is documented.
  const google::protobuf::DescriptorPool* pool = nullptr;
  std::vector<std::string> files;  // the set's file names, in order
  // Package ("genesis.catalog.v1") -> its service's reasons and their source.
  std::map<std::string, std::vector<Reason>> reasons;
  std::map<std::string, std::string> reasons_source;
  std::vector<Reason> common_reasons;
  std::string common_reasons_source;
};

// File name ("catalog.md", "README.md") -> contents.
absl::StatusOr<std::map<std::string, std::string>> Render(const Inputs& in);

}  // namespace genesis::apidoc
