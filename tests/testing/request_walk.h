// Walks over the contracts for tests that must cover every request of every
// Genesis service from the descriptors, so a method or field added to a proto
// later is covered without touching the test: the request types, the field
// paths under them, and requests with every REQUIRED field filled in (an
// "otherwise valid" request for the edge checks of common/rpc/request_checks.h).
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "genesis/bot/v1/bot_manager.pb.h"
#include "genesis/catalog/v1/catalog.pb.h"
#include "genesis/llmrouter/v1/llm_router.pb.h"
#include "genesis/reasoning/v1/reasoning.pb.h"
#include "genesis/voice/v1/voice.pb.h"
#include "google/api/field_behavior.pb.h"

namespace genesis::testing {

// The files of every Genesis service (naming one message of each links its
// descriptors in).
inline std::vector<const google::protobuf::FileDescriptor*> ServiceFiles() {
  return {bot::v1::CreateBotRequest::descriptor()->file(),
          catalog::v1::CreateItemTypeRequest::descriptor()->file(),
          llmrouter::v1::CompleteRequest::descriptor()->file(),
          reasoning::v1::CreateCaseRequest::descriptor()->file(),
          voice::v1::SynthesizeRequest::descriptor()->file()};
}

// The request message of every method of every service.
inline std::vector<const google::protobuf::MethodDescriptor*> Methods() {
  std::vector<const google::protobuf::MethodDescriptor*> out;
  for (const auto* fd : ServiceFiles()) {
    for (int s = 0; s < fd->service_count(); ++s) {
      for (int m = 0; m < fd->service(s)->method_count(); ++m) {
        out.push_back(fd->service(s)->method(m));
      }
    }
  }
  return out;
}

inline std::vector<const google::protobuf::Descriptor*> RequestTypes() {
  std::vector<const google::protobuf::Descriptor*> out;
  for (const auto* m : Methods()) out.push_back(m->input_type());
  return out;
}

inline bool IsGenesisMessage(const google::protobuf::Descriptor* d) {
  return d->file()->package().rfind("genesis.", 0) == 0;
}

inline bool Behaves(const google::protobuf::FieldDescriptor* f, google::api::FieldBehavior b) {
  const auto& o = f->options();
  for (int i = 0; i < o.ExtensionSize(google::api::field_behavior); ++i) {
    if (o.GetExtension(google::api::field_behavior, i) == b) return true;
  }
  return false;
}

// One field reachable from a request: the fields from the top, and its path
// as a violation names it (repeated fields on the way as "[0]").
struct FieldPath {
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  std::string path;
};

// Every field under `d` (maps skipped) for which `want` holds, descending into
// Genesis messages for which `descend` holds; recursive types are entered once.
inline void CollectPaths(
    const google::protobuf::Descriptor* d,
    const std::function<bool(const google::protobuf::FieldDescriptor*)>& want,
    const std::function<bool(const google::protobuf::FieldDescriptor*)>& descend,
    std::vector<FieldPath>* out, std::vector<const google::protobuf::FieldDescriptor*> trail = {},
    const std::string& prefix = "", std::set<const google::protobuf::Descriptor*> on_path = {}) {
  if (on_path.count(d) > 0 || trail.size() > 6) return;
  on_path.insert(d);
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    if (f->is_map()) continue;
    auto t = trail;
    t.push_back(f);
    const std::string path = prefix.empty() ? f->name() : prefix + "." + f->name();
    if (want(f)) out->push_back({t, path + (f->is_repeated() ? "[0]" : "")});
    if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE &&
        IsGenesisMessage(f->message_type()) && descend(f)) {
      CollectPaths(f->message_type(), want, descend, out, t, f->is_repeated() ? path + "[0]" : path,
                   on_path);
    }
  }
}

inline void FillRequired(google::protobuf::Message* m, int depth = 0);

// The message holding the last field of `p` in `m`: the first element of
// repeated fields; messages missing on the way are created with their
// REQUIRED fields filled.
inline google::protobuf::Message* Holder(google::protobuf::Message* m, const FieldPath& p) {
  for (size_t i = 0; i + 1 < p.fields.size(); ++i) {
    const auto* f = p.fields[i];
    const auto* r = m->GetReflection();
    if (f->is_repeated() && r->FieldSize(*m, f) > 0) {
      m = r->MutableRepeatedMessage(m, f, 0);
    } else if (!f->is_repeated() && r->HasField(*m, f)) {
      m = r->MutableMessage(m, f);
    } else {
      m = f->is_repeated() ? r->AddMessage(m, f) : r->MutableMessage(m, f);
      FillRequired(m);
    }
  }
  return m;
}

// Gives `f` of `m` a non-empty value (one element for a repeated field; a
// message is created and filled with FillRequired).
inline void SetNonEmpty(google::protobuf::Message* m, const google::protobuf::FieldDescriptor* f,
                        int depth = 0) {
  using FD = google::protobuf::FieldDescriptor;
  const auto* r = m->GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FD::CPPTYPE_STRING:
      rep ? r->AddString(m, f, "x") : r->SetString(m, f, "x");
      break;
    case FD::CPPTYPE_ENUM: {
      const auto* e = f->enum_type();
      const int v = e->value(e->value_count() - 1)->number();
      rep ? r->AddEnumValue(m, f, v) : r->SetEnumValue(m, f, v);
      break;
    }
    case FD::CPPTYPE_BOOL:
      rep ? r->AddBool(m, f, true) : r->SetBool(m, f, true);
      break;
    case FD::CPPTYPE_INT32:
      rep ? r->AddInt32(m, f, 1) : r->SetInt32(m, f, 1);
      break;
    case FD::CPPTYPE_INT64:
      rep ? r->AddInt64(m, f, 1) : r->SetInt64(m, f, 1);
      break;
    case FD::CPPTYPE_UINT32:
      rep ? r->AddUInt32(m, f, 1) : r->SetUInt32(m, f, 1);
      break;
    case FD::CPPTYPE_UINT64:
      rep ? r->AddUInt64(m, f, 1) : r->SetUInt64(m, f, 1);
      break;
    case FD::CPPTYPE_FLOAT:
      rep ? r->AddFloat(m, f, 0.5f) : r->SetFloat(m, f, 0.5f);
      break;
    case FD::CPPTYPE_DOUBLE:
      rep ? r->AddDouble(m, f, 0.5) : r->SetDouble(m, f, 0.5);
      break;
    case FD::CPPTYPE_MESSAGE: {
      auto* sub = rep ? r->AddMessage(m, f) : r->MutableMessage(m, f);
      if (depth < 8) FillRequired(sub, depth + 1);
      break;
    }
  }
}

// Sets every REQUIRED field of `m` and of the Genesis messages it then holds,
// and the first member of each oneof (a message needs one of them).
inline void FillRequired(google::protobuf::Message* m, int depth) {
  const auto* d = m->GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (Behaves(f, google::api::REQUIRED) && !f->is_map()) SetNonEmpty(m, f, depth);
  }
  for (int i = 0; i < d->oneof_decl_count(); ++i) {
    const auto* oneof = d->oneof_decl(i);
    if (oneof->is_synthetic() || m->GetReflection()->HasOneof(*m, oneof)) continue;
    SetNonEmpty(m, oneof->field(0), depth);
  }
}

}  // namespace genesis::testing
