// Field behaviours (https://google.aip.dev/203) checked against a running
// service, from its descriptors: every method of the service is called
// through a real gRPC channel (generic calls, so streaming methods too), and
//   * for every REQUIRED field reachable from the request (not inside
//     OUTPUT_ONLY fields, nor inside the resource of an update, which is
//     partial), the request with every REQUIRED field filled in but that one
//     is refused with INVALID_ARGUMENT, and its google.rpc.BadRequest names
//     that field and nothing the filled request is not refused for (the
//     filled request is "otherwise valid" as far as placeholders go: a
//     service may refuse a placeholder name, and it must still name the
//     missing field too); a missing message may be named by the field of it
//     the service needed first ("item.title" for a missing `item`);
//   * OUTPUT_ONLY fields sent in create and update requests are never the
//     reason for a refusal (AIP-203: the server ignores them).
// Placeholders: a field's `Example:` value from its proto comment when it has
// one (read from the build's descriptor set: define GENESIS_DESCRIPTOR_SET),
// else a well-formed name for a field referencing a resource (`bots/x`), else
// "x", 1, an enum's last value, a message with its REQUIRED fields and the
// first member of each oneof.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/api/resource.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "tests/testing/operator_identity.h"
#include "tests/testing/request_walk.h"

namespace genesis::testing {

// The outcome of one call: its status and the fields its BadRequest names.
struct CallOutcome {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;
  std::set<std::string> violations;
};

inline CallOutcome CallGeneric(const std::shared_ptr<grpc::Channel>& channel,
                               const google::protobuf::MethodDescriptor* method,
                               const google::protobuf::Message& request) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  AsOperator(&ctx);  // administrative methods need an operator
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto call =
      stub.PrepareCall(&ctx, "/" + method->service()->full_name() + "/" + method->name(), &cq);
  auto wait = [&cq] {
    void* tag = nullptr;
    bool ok = false;
    cq.Next(&tag, &ok);
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  wait();
  std::string bytes = request.SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer buffer(&slice, 1);
  call->Write(buffer, reinterpret_cast<void*>(2));
  if (wait()) {
    call->WritesDone(reinterpret_cast<void*>(3));
    wait();
  }
  for (;;) {
    grpc::ByteBuffer response;
    call->Read(&response, reinterpret_cast<void*>(4));
    if (!wait()) break;
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  wait();
  cq.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq.Next(&tag, &ok)) {
  }
  CallOutcome out;
  out.code = status.error_code();
  out.message = status.error_message();
  google::rpc::Status details;
  if (details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      google::rpc::BadRequest bad;
      if (!any.UnpackTo(&bad)) continue;
      for (const auto& v : bad.field_violations()) out.violations.insert(v.field());
    }
  }
  return out;
}

// The generated descriptors carry no comments; the build's descriptor set
// (GENESIS_DESCRIPTOR_SET, with source info) does. Null without it.
inline const google::protobuf::DescriptorPool* CommentedPool() {
#ifdef GENESIS_DESCRIPTOR_SET
  static const google::protobuf::DescriptorPool* pool = [] {
    auto* p = new google::protobuf::DescriptorPool();
    google::protobuf::FileDescriptorSet set;
    std::ifstream in(GENESIS_DESCRIPTOR_SET, std::ios::binary);
    if (set.ParseFromIstream(&in)) {
      for (const auto& f : set.file()) p->BuildFile(f);  // imports come first
    }
    return p;
  }();
  return pool;
#else
  return nullptr;
#endif
}

// The `Example:` value of a field's leading comment (JSON), or "".
inline std::string ExampleOf(const google::protobuf::FieldDescriptor* f) {
  const auto* pool = CommentedPool();
  const auto* commented = pool == nullptr ? nullptr : pool->FindFieldByName(f->full_name());
  google::protobuf::SourceLocation loc;
  if (commented == nullptr || !commented->GetSourceLocation(&loc)) return "";
  for (absl::string_view line : absl::StrSplit(loc.leading_comments, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (absl::ConsumePrefix(&line, "Example:"))
      return std::string(absl::StripAsciiWhitespace(line));
  }
  return "";
}

// A well-formed name for a field referencing a resource (`bots/x` for
// "bot.genesis.io/Bot"; the parent of the child type for `child_type`), from
// the resources the contracts declare; "" when none matches.
inline std::string NameFor(const google::api::ResourceReference& ref) {
  const bool parent = ref.type().empty();
  const std::string& type = parent ? ref.child_type() : ref.type();
  std::string pattern;
  auto consider = [&](const google::api::ResourceDescriptor& r) {
    if (r.type() == type && r.pattern_size() > 0) pattern = r.pattern(0);
  };
  for (const auto* fd : ServiceFiles()) {
    for (int i = 0; i < fd->options().ExtensionSize(google::api::resource_definition); ++i) {
      consider(fd->options().GetExtension(google::api::resource_definition, i));
    }
    for (int i = 0; i < fd->message_type_count(); ++i) {
      consider(fd->message_type(i)->options().GetExtension(google::api::resource));
    }
  }
  std::vector<std::string> segments = absl::StrSplit(pattern, '/');
  if (parent && segments.size() >= 2) segments.resize(segments.size() - 2);
  for (auto& seg : segments) {
    if (absl::StartsWith(seg, "{")) seg = "x";
  }
  return absl::StrJoin(segments, "/");
}

// Like FillRequired, with a field's example where it has one, and a
// well-formed name where it references a resource.
inline void FillRequiredWithExamples(google::protobuf::Message* m, int depth = 0) {
  const auto* d = m->GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (!Behaves(f, google::api::REQUIRED) || f->is_map()) continue;
    const std::string example = ExampleOf(f);
    if (!example.empty()) {
      // Parse {"<json_name>": <example>} into a scratch message and copy the field.
      std::unique_ptr<google::protobuf::Message> scratch(m->New());
      const std::string json = "{\"" + f->json_name() + "\": " + example + "}";
      if (google::protobuf::util::JsonStringToMessage(json, scratch.get()).ok()) {
        m->GetReflection()->ClearField(m, f);
        m->MergeFrom(*scratch);
        continue;
      }
    }
    if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING && !f->is_repeated() &&
        f->options().HasExtension(google::api::resource_reference)) {
      const std::string name = NameFor(f->options().GetExtension(google::api::resource_reference));
      if (!name.empty()) {
        m->GetReflection()->SetString(m, f, name);
        continue;
      }
    }
    if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      const auto* r = m->GetReflection();
      auto* sub = f->is_repeated() ? r->AddMessage(m, f) : r->MutableMessage(m, f);
      if (depth < 8) FillRequiredWithExamples(sub, depth + 1);
      continue;
    }
    SetNonEmpty(m, f, depth);
  }
  for (int i = 0; i < d->oneof_decl_count(); ++i) {
    const auto* oneof = d->oneof_decl(i);
    if (oneof->is_synthetic() || m->GetReflection()->HasOneof(*m, oneof)) continue;
    SetNonEmpty(m, oneof->field(0), depth);
  }
}

// The REQUIRED fields of `request` a service must refuse to do without.
inline std::vector<FieldPath> RequiredPaths(const google::protobuf::Descriptor* request) {
  const bool update = request->FindFieldByName("update_mask") != nullptr;
  std::vector<FieldPath> out;
  CollectPaths(
      request,
      [](const google::protobuf::FieldDescriptor* f) { return Behaves(f, google::api::REQUIRED); },
      [request, update](const google::protobuf::FieldDescriptor* f) {
        if (Behaves(f, google::api::OUTPUT_ONLY)) return false;
        return !(update && f->containing_type() == request &&
                 f->message_type()->options().HasExtension(google::api::resource));
      },
      &out);
  return out;
}

// The path a violation names for `p`: a repeated field without "[0]".
inline std::string ViolationPath(const FieldPath& p) {
  std::string path = p.path;
  if (p.fields.back()->is_repeated()) path.resize(path.size() - 3);
  return path;
}

// Runs the checks of the file comment on every method of the service named
// `service_name` ("genesis.catalog.v1.CatalogService"), but on the fields a
// method documents it ignores (`ignored`: "<Request>:<path>" prefixes); `prepare`
// may adjust the filled request of a method (a valid parent, say). Returns
// "<Request>:<path>" of every REQUIRED field checked.
inline std::set<std::string> ExpectRequiredFieldsRefused(
    const std::shared_ptr<grpc::Channel>& channel, const std::string& service_name,
    const std::function<void(const google::protobuf::MethodDescriptor*,
                             google::protobuf::Message*)>& prepare = nullptr,
    const std::set<std::string>& ignored = {}) {
  std::set<std::string> seen;
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_name);
  EXPECT_NE(service, nullptr) << service_name;
  if (service == nullptr) return seen;
  for (int i = 0; i < service->method_count(); ++i) {
    const auto* method = service->method(i);
    const auto* request = method->input_type();
    auto filled = [&] {
      std::unique_ptr<google::protobuf::Message> m(
          google::protobuf::MessageFactory::generated_factory()->GetPrototype(request)->New());
      FillRequiredWithExamples(m.get());
      if (prepare) prepare(method, m.get());
      return m;
    };
    // Cleared fields first: a filled create that succeeds would make the
    // same id taken for the calls after it.
    std::vector<std::pair<FieldPath, CallOutcome>> cleared;
    for (const FieldPath& p : RequiredPaths(request)) {
      bool skip = false;
      for (const std::string& prefix : ignored) {
        skip |= absl::StartsWith(request->name() + ":" + p.path, prefix);
      }
      if (skip) continue;
      auto m = filled();
      google::protobuf::Message* holder = Holder(m.get(), p);
      holder->GetReflection()->ClearField(holder, p.fields.back());
      cleared.emplace_back(p, CallGeneric(channel, method, *m));
    }
    const CallOutcome baseline = CallGeneric(channel, method, *filled());
    for (const auto& [p, outcome] : cleared) {
      const std::string want = ViolationPath(p);
      seen.insert(request->name() + ":" + want);
      EXPECT_EQ(outcome.code, grpc::StatusCode::INVALID_ARGUMENT)
          << method->full_name() << " without " << want << ": " << outcome.message;
      // A missing message may be named by the field of it the service needed
      // ("item.title" for a missing `item`).
      const bool message =
          p.fields.back()->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE &&
          !p.fields.back()->is_repeated();
      auto names_it = [&](const std::string& v) {
        return v == want || (message && absl::StartsWith(v, want + "."));
      };
      // A container of the field may be refused for it too ("messages: needs
      // a user message" when the only message loses its role).
      auto contains_it = [&](const std::string& v) {
        return absl::StartsWith(want, v + ".") || absl::StartsWith(want, v + "[");
      };
      bool named = false;
      std::set<std::string> others;  // beyond what the filled request is refused for
      for (const auto& v : outcome.violations) {
        if (names_it(v)) {
          named = true;
        } else if (!baseline.violations.count(v) && !contains_it(v)) {
          others.insert(v);
        }
      }
      EXPECT_TRUE(named) << method->full_name() << " without " << want << ": " << outcome.message;
      EXPECT_TRUE(others.empty()) << method->full_name() << " without " << want
                                  << " names more: " << outcome.message
                                  << " (filled request: " << baseline.message << ")";
    }
    // OUTPUT_ONLY fields in creates and updates are never what is refused.
    const std::string& name = method->name();
    if (absl::StartsWith(name, "Create") || absl::StartsWith(name, "Update")) {
      std::vector<FieldPath> output_only;
      CollectPaths(
          request,
          [](const google::protobuf::FieldDescriptor* f) {
            return Behaves(f, google::api::OUTPUT_ONLY);
          },
          [](const google::protobuf::FieldDescriptor* f) {
            return !Behaves(f, google::api::OUTPUT_ONLY);
          },
          &output_only);
      if (output_only.empty()) continue;
      auto m = filled();
      std::set<std::string> paths;
      for (const FieldPath& p : output_only) {
        SetNonEmpty(Holder(m.get(), p), p.fields.back());
        paths.insert(ViolationPath(p));
        seen.insert(request->name() + ":" + ViolationPath(p) + " (output only)");
      }
      const CallOutcome outcome = CallGeneric(channel, method, *m);
      for (const auto& v : outcome.violations) {
        EXPECT_FALSE(paths.count(v))
            << method->full_name() << " refused the output-only " << v << ": " << outcome.message;
      }
    }
  }
  return seen;
}

}  // namespace genesis::testing
