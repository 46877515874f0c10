#include "gateway/docs/reflection.h"

#include <set>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace genesis::gateway {

namespace pb = google::protobuf;

namespace {

constexpr char kMethod[] = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

// ServerReflectionRequest field numbers (reflection.proto).
constexpr int kFileContainingSymbol = 4;
constexpr int kListServices = 7;
// ServerReflectionResponse field numbers.
constexpr int kFileDescriptorResponse = 4;
constexpr int kListServicesResponse = 6;
constexpr int kErrorResponse = 7;

std::string EncodeRequest(int field, const std::string& value) {
  std::string out;
  {
    pb::io::StringOutputStream stream(&out);
    pb::io::CodedOutputStream coded(&stream);
    coded.WriteTag((field << 3) | 2);
    coded.WriteVarint32(static_cast<uint32_t>(value.size()));
    coded.WriteString(value);
  }
  return out;
}

absl::Status FromGrpc(const grpc::Status& s, const std::string& what) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      absl::StrCat("server reflection (", what, "): ", s.error_message()));
}

// One request on its own stream; its one response into `out`.
absl::Status Exchange(grpc::GenericStub* stub, const std::string& request, absl::Time deadline,
                      const std::string& what, pb::UnknownFieldSet* out) {
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(deadline));
  auto call = stub->PrepareCall(&context, kMethod, &cq);
  auto wait = [&cq]() {
    void* tag;
    bool ok = false;
    return cq.Next(&tag, &ok) && ok;
  };
  grpc::Slice slice(request);
  grpc::ByteBuffer sent(&slice, 1), in;
  grpc::Status status;
  call->StartCall(reinterpret_cast<void*>(1));
  bool ok = wait();
  if (ok) {
    call->Write(sent, reinterpret_cast<void*>(2));
    ok = wait();
  }
  if (ok) {
    call->WritesDone(reinterpret_cast<void*>(3));
    ok = wait();
  }
  bool got = false;
  if (ok) {
    call->Read(&in, reinterpret_cast<void*>(4));
    got = wait();
  }
  call->Finish(&status, reinterpret_cast<void*>(5));
  wait();
  cq.Shutdown();
  void* tag;
  bool ignored;
  while (cq.Next(&tag, &ignored)) {
  }
  if (!status.ok()) return FromGrpc(status, what);
  if (!got) return absl::InternalError(absl::StrCat("server reflection (", what, "): no answer"));
  std::vector<grpc::Slice> slices;
  if (!in.Dump(&slices).ok()) return absl::InternalError("server reflection: unreadable answer");
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  pb::UnknownFieldSet& response = *out;
  if (!response.ParseFromString(bytes)) {
    return absl::InternalError(absl::StrCat("server reflection (", what, "): malformed answer"));
  }
  for (int i = 0; i < response.field_count(); ++i) {
    const pb::UnknownField& f = response.field(i);
    if (f.number() != kErrorResponse || f.type() != pb::UnknownField::TYPE_LENGTH_DELIMITED) {
      continue;
    }
    pb::UnknownFieldSet error;
    std::string message = "error";
    int code = static_cast<int>(absl::StatusCode::kUnknown);
    if (error.ParseFromString(f.length_delimited())) {
      for (int j = 0; j < error.field_count(); ++j) {
        if (error.field(j).number() == 1 && error.field(j).type() == pb::UnknownField::TYPE_VARINT)
          code = static_cast<int>(error.field(j).varint());
        if (error.field(j).number() == 2 &&
            error.field(j).type() == pb::UnknownField::TYPE_LENGTH_DELIMITED)
          message = error.field(j).length_delimited();
      }
    }
    if (code <= 0 || code > 16) code = static_cast<int>(absl::StatusCode::kUnknown);
    return absl::Status(static_cast<absl::StatusCode>(code),
                        absl::StrCat("server reflection (", what, "): ", message));
  }
  return absl::OkStatus();
}

// The length-delimited values of field `number` of `set` parsed as nested sets.
std::vector<std::string> Strings(const pb::UnknownFieldSet& set, int number) {
  std::vector<std::string> out;
  for (int i = 0; i < set.field_count(); ++i) {
    if (set.field(i).number() == number &&
        set.field(i).type() == pb::UnknownField::TYPE_LENGTH_DELIMITED) {
      out.push_back(set.field(i).length_delimited());
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<ReflectedDescriptors> FetchDescriptors(const std::shared_ptr<grpc::Channel>& channel,
                                                      absl::Time deadline) {
  grpc::GenericStub stub(channel);
  pb::UnknownFieldSet listed;
  absl::Status st =
      Exchange(&stub, EncodeRequest(kListServices, "*"), deadline, "list services", &listed);
  if (!st.ok()) return st;
  ReflectedDescriptors out;
  for (const auto& list : Strings(listed, kListServicesResponse)) {
    pb::UnknownFieldSet services;
    if (!services.ParseFromString(list)) return absl::InternalError("malformed service list");
    for (const auto& service : Strings(services, 1)) {
      pb::UnknownFieldSet named;
      if (!named.ParseFromString(service)) return absl::InternalError("malformed service entry");
      for (const auto& name : Strings(named, 1)) {
        if (!absl::StartsWith(name, "grpc.reflection.")) out.services.push_back(name);
      }
    }
  }
  std::set<std::string> seen;
  for (const auto& service : out.services) {
    pb::UnknownFieldSet answer;
    st = Exchange(&stub, EncodeRequest(kFileContainingSymbol, service), deadline, service, &answer);
    if (!st.ok()) return st;
    auto responses = Strings(answer, kFileDescriptorResponse);
    if (responses.empty()) {
      return absl::NotFoundError(absl::StrCat("server reflection: no descriptor for ", service));
    }
    for (const auto& response : responses) {
      pb::UnknownFieldSet files;
      if (!files.ParseFromString(response)) return absl::InternalError("malformed descriptors");
      for (const auto& bytes : Strings(files, 1)) {
        pb::FileDescriptorProto file;
        if (!file.ParseFromString(bytes)) {
          return absl::InternalError(
              absl::StrCat("server reflection: a file of ", service, " does not parse"));
        }
        if (seen.insert(file.name()).second) *out.files.add_file() = std::move(file);
      }
    }
  }
  return out;
}

pb::FileDescriptorSet MergeDescriptorSets(const pb::FileDescriptorSet& base,
                                          const pb::FileDescriptorSet& overlay) {
  std::set<std::string> replaced;
  for (const auto& f : overlay.file()) replaced.insert(f.name());
  pb::FileDescriptorSet out;
  for (const auto& f : base.file()) {
    if (!replaced.contains(f.name())) *out.add_file() = f;
  }
  for (const auto& f : overlay.file()) *out.add_file() = f;
  return out;
}

}  // namespace genesis::gateway
