// Descriptors from a backend's gRPC server reflection (grpc.reflection.v1alpha,
// the version gRPC 1.51 serves), so the gateway can route to services whose
// protos it was not built with (--descriptors=reflection|both).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/channel.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace genesis::gateway {

struct ReflectedDescriptors {
  // Services the server lists (grpc.reflection.* left out), in its order.
  std::vector<std::string> services;
  // The files defining them and every file they import, each once.
  google::protobuf::FileDescriptorSet files;
};

// Lists the server's services and fetches the file of each (with its
// imports), one short reflection stream per request, all before `deadline`.
// UNAVAILABLE / DEADLINE_EXCEEDED when the server cannot be reached,
// UNIMPLEMENTED when it does not serve reflection, INTERNAL for a malformed
// answer, NOT_FOUND when it cannot describe a service it lists.
absl::StatusOr<ReflectedDescriptors> FetchDescriptors(const std::shared_ptr<grpc::Channel>& channel,
                                                      absl::Time deadline);

// `overlay`'s files replace same-named files of `base`; the others are kept.
google::protobuf::FileDescriptorSet MergeDescriptorSets(
    const google::protobuf::FileDescriptorSet& base,
    const google::protobuf::FileDescriptorSet& overlay);

}  // namespace genesis::gateway
