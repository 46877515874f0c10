// The provider simulator's fixed answers (option, script, header) and its
// instant mode, which other services' tests rely on.
#include <gtest/gtest.h>

#include "services/llm_router/providers/provider.h"
#include "services/llm_router/simulator/simulator.h"
#include "services/llm_router/tests/test_util.h"

namespace genesis::llmrouter {
namespace {

TEST(SimulatorAnswerTest, FixedAnswerFromOptionScriptAndHeader) {
  sim::SimulatorOptions options;
  options.answer = R"({"intent": "buy", "city": "Recife"})";
  auto s = sim::ProviderSimulator::Start("127.0.0.1", 0, options);
  ASSERT_TRUE(s.ok());
  auto client = MakeProviderClients();
  ModelSpec m = testing::SimModel("m", Protocol::kOpenAi, (*s)->url());
  std::vector<Message> messages = {{Role::kUser, "anything"}};
  ProviderRequest req;
  req.model = &m;
  req.messages = &messages;
  req.max_tokens = 1;  // a fixed answer is not cut
  req.timeout = absl::Seconds(5);
  auto r = client->Complete(req);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.reply.text, R"({"intent": "buy", "city": "Recife"})");
  // Streamed in pieces that concatenate to the same text (Anthropic wire).
  ModelSpec anthropic = testing::SimModel("m2", Protocol::kAnthropic, (*s)->url());
  sim::ModelScript script;
  script.answer = "Olá, ação concluída com êxito.";
  (*s)->Script("m2", script);
  req.model = &anthropic;
  std::string streamed;
  int pieces = 0;
  auto st = client->Stream(req, [&](std::string_view t) {
    streamed.append(t);
    ++pieces;
    return true;
  });
  ASSERT_TRUE(st.status.ok()) << st.status;
  EXPECT_EQ(streamed, "Olá, ação concluída com êxito.");
  EXPECT_GT(pieces, 1);
  EXPECT_EQ(st.reply.usage.output_tokens, 5);
}

TEST(SimulatorAnswerTest, InstantIgnoresScriptedLatency) {
  sim::SimulatorOptions options;
  options.instant = true;
  auto s = sim::ProviderSimulator::Start("127.0.0.1", 0, options);
  ASSERT_TRUE(s.ok());
  sim::ModelScript script;
  script.latency_ms = 5000;
  (*s)->Script("m", script);
  auto client = MakeProviderClients();
  ModelSpec m = testing::SimModel("m", Protocol::kGemini, (*s)->url());
  std::vector<Message> messages = {{Role::kUser, "rápido"}};
  ProviderRequest req;
  req.model = &m;
  req.messages = &messages;
  req.max_tokens = 16;
  req.timeout = absl::Seconds(2);  // fails if the 5 s latency were applied
  auto r = client->Complete(req);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.reply.text, "echo: rápido");
}

}  // namespace
}  // namespace genesis::llmrouter
