// request_checks.h: an enum field holding a value its enum does not declare
// is refused naming its path. The walk test covers every enum field of every
// request of every Genesis service (from the descriptors), so a field added
// to a proto later is covered without touching this test.
#include "common/rpc/request_checks.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "genesis/bot/v1/bot_manager.pb.h"
#include "genesis/catalog/v1/catalog.pb.h"
#include "genesis/llmrouter/v1/llm_router.pb.h"
#include "genesis/reasoning/v1/reasoning.pb.h"
#include "genesis/voice/v1/voice.pb.h"

namespace genesis {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// One enum field reachable from a request: the fields from the top, and the
// path the violation must name.
struct EnumPath {
  std::vector<const FieldDescriptor*> fields;
  std::string path;
};

void Collect(const Descriptor* d, std::vector<const FieldDescriptor*> trail, std::string prefix,
             std::set<const Descriptor*> on_path, std::vector<EnumPath>* out) {
  if (on_path.count(d) > 0 || trail.size() > 6) return;  // recursive types: once
  on_path.insert(d);
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    auto t = trail;
    t.push_back(f);
    std::string path = prefix.empty() ? f->name() : prefix + "." + f->name();
    if (f->is_map()) continue;  // map values: CheckEnumValuesCoversMapsAndRepeatedFields
    if (f->is_repeated()) path += "[0]";
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
      out->push_back({t, path});
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
               f->message_type()->file()->package().rfind("genesis.", 0) == 0) {
      Collect(f->message_type(), t, path, on_path, out);
    }
  }
}

// Sets the enum at the end of `p` to `value` in `m`, creating the messages on the way.
void SetPath(Message* m, const EnumPath& p, int value) {
  for (size_t i = 0; i < p.fields.size(); ++i) {
    const FieldDescriptor* f = p.fields[i];
    const auto* r = m->GetReflection();
    const bool last = i + 1 == p.fields.size();
    if (last) {
      if (f->is_repeated()) {
        r->AddEnumValue(m, f, value);
      } else {
        r->SetEnumValue(m, f, value);
      }
    } else {
      m = f->is_repeated() ? r->AddMessage(m, f) : r->MutableMessage(m, f);
    }
  }
}

std::vector<const Descriptor*> RequestTypes() {
  std::vector<const Descriptor*> out;
  // One message of each file (naming it links the file's descriptors in).
  for (const google::protobuf::FileDescriptor* fd :
       {bot::v1::CreateBotRequest::descriptor()->file(),
        catalog::v1::CreateItemTypeRequest::descriptor()->file(),
        llmrouter::v1::CompleteRequest::descriptor()->file(),
        reasoning::v1::CreateCaseRequest::descriptor()->file(),
        voice::v1::SynthesizeRequest::descriptor()->file()}) {
    for (int s = 0; s < fd->service_count(); ++s) {
      for (int m = 0; m < fd->service(s)->method_count(); ++m) {
        out.push_back(fd->service(s)->method(m)->input_type());
      }
    }
  }
  return out;
}

TEST(RequestChecksTest, EveryEnumFieldOfEveryRequestRefusesAnUnknownValueNamingItsPath) {
  google::protobuf::DynamicMessageFactory factory;
  std::set<std::string> seen;
  int checked = 0;
  for (const Descriptor* request : RequestTypes()) {
    std::vector<EnumPath> paths;
    Collect(request, {}, "", {}, &paths);
    for (const EnumPath& p : paths) {
      std::unique_ptr<Message> m(factory.GetPrototype(request)->New());
      SetPath(m.get(), p, 99);
      absl::Status st = CheckRequest(*m);
      ASSERT_EQ(st.code(), absl::StatusCode::kInvalidArgument)
          << request->full_name() << " " << p.path;
      auto violations = FieldViolationsOf(st);
      ASSERT_EQ(violations.size(), 1u) << request->full_name() << " " << p.path << ": " << st;
      EXPECT_EQ(violations[0].first, p.path) << request->full_name();
      EXPECT_NE(violations[0].second.find("unknown value 99"), std::string::npos) << st;

      // A declared value (the enum's last one) passes.
      std::unique_ptr<Message> ok(factory.GetPrototype(request)->New());
      const auto* e = p.fields.back()->enum_type();
      SetPath(ok.get(), p, e->value(e->value_count() - 1)->number());
      EXPECT_TRUE(CheckRequest(*ok).ok()) << request->full_name() << " " << p.path;
      seen.insert(request->name() + ":" + p.path);
      ++checked;
    }
  }
  // The fields users were bitten by are among those walked.
  for (const char* want :
       {"CreateBotRequest:bot.channel", "CompleteRequest:task", "CompleteRequest:strategy",
        "CompleteRequest:constraints.required_capabilities[0]", "CompleteRequest:messages[0].role",
        "CreateItemTypeRequest:item_type.attributes[0].kind"}) {
    EXPECT_TRUE(seen.count(want)) << want;
  }
  EXPECT_GT(checked, 20);
}

TEST(RequestChecksTest, EveryViolationIsListedNotOnlyTheFirst) {
  llmrouter::v1::CompleteRequest req;
  req.set_task(static_cast<llmrouter::v1::Task>(77));
  auto* m = req.add_messages();
  m->set_role(llmrouter::v1::ROLE_USER);
  req.add_messages()->set_role(static_cast<llmrouter::v1::Role>(42));
  auto violations = FieldViolationsOf(CheckRequest(req));
  ASSERT_EQ(violations.size(), 2u);  // in field-number order
  EXPECT_EQ(violations[0].first, "messages[1].role");
  EXPECT_EQ(violations[1].first, "task");
  EXPECT_NE(violations[0].second.find("genesis.llmrouter.v1.Role"), std::string::npos);
  EXPECT_NE(violations[0].second.find("ROLE_USER"), std::string::npos) << violations[0].second;
}

TEST(RequestChecksTest, AWellFormedRequestPasses) {
  bot::v1::CreateBotRequest req;
  req.set_bot_id("b");
  req.mutable_bot()->set_channel(bot::v1::CHANNEL_TELEGRAM);
  EXPECT_TRUE(CheckRequest(req).ok());
}

}  // namespace
}  // namespace genesis
