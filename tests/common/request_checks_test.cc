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
#include "tests/testing/request_walk.h"

namespace genesis {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

using testing::FieldPath;

// Sets the enum at the end of `p` to `value` in `m`, creating the messages on the way.
void SetPath(Message* m, const FieldPath& p, int value) {
  Message* holder = testing::Holder(m, p);
  const FieldDescriptor* f = p.fields.back();
  const auto* r = holder->GetReflection();
  if (f->is_repeated()) {
    r->ClearField(holder, f);
    r->AddEnumValue(holder, f, value);
  } else {
    r->SetEnumValue(holder, f, value);
  }
}

TEST(RequestChecksTest, EveryEnumFieldOfEveryRequestRefusesAnUnknownValueNamingItsPath) {
  google::protobuf::DynamicMessageFactory factory;
  std::set<std::string> seen;
  int checked = 0;
  for (const Descriptor* request : testing::RequestTypes()) {
    std::vector<FieldPath> paths;
    testing::CollectPaths(
        request,
        [](const FieldDescriptor* f) { return f->cpp_type() == FieldDescriptor::CPPTYPE_ENUM; },
        [](const FieldDescriptor*) { return true; }, &paths);
    for (const FieldPath& p : paths) {
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
