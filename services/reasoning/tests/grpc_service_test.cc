// The transport in-process: a real gRPC server on a free port, the real logic
// on the fake store. Checks what a client sees: codes, google.rpc.BadRequest
// details, resource names, proto presence (prior, reliability, confidence),
// the caller's identity in the audit trail, and health.
#include "services/reasoning/grpc_service.h"
#include "tests/testing/required_fields.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "common/base/status.h"
#include "common/runtime/server.h"
#include "services/reasoning/tests/fake_store.h"

namespace genesis::reasoning {
namespace {

class ReasoningGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = std::make_unique<testing::FakeReasoningStore>();
    logic_ = std::make_unique<Reasoning>(std::move(store), MakeSuggestions(), ReasoningOptions{});
    workers_ = std::make_unique<WorkerPool>("test", 4, 64);
    dispatcher_ =
        std::make_unique<RpcDispatcher>("genesis.reasoning.v1.ReasoningService", workers_.get(),
                                        &registry_, absl::Seconds(5), IdentityTrust{});
    service_ = std::make_unique<ReasoningGrpcService>(logic_.get(), dispatcher_.get());
    ServerOptions options;
    options.metrics_port = -1;
    host_ = std::make_unique<ServiceHost>(options, &registry_);
    host_->AddService(service_.get(), "genesis.reasoning.v1.ReasoningService");
    ASSERT_TRUE(host_->Start().ok());
    stub_ = v1::ReasoningService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(host_->grpc_port()), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    host_->Shutdown();
    workers_->Shutdown();
  }

  v1::Case CreateCase() {
    grpc::ClientContext ctx;
    v1::CreateCaseRequest req;
    req.mutable_case_()->set_question("Which supplier?");
    req.mutable_case_()->set_owner("ana");
    v1::Case resp;
    EXPECT_TRUE(stub_->CreateCase(&ctx, req, &resp).ok());
    return resp;
  }

  v1::Hypothesis AddHypothesis(const std::string& parent, const std::string& statement,
                               std::optional<double> prior = std::nullopt) {
    grpc::ClientContext ctx;
    v1::CreateHypothesisRequest req;
    req.set_parent(parent);
    req.mutable_hypothesis()->set_statement(statement);
    if (prior) req.mutable_hypothesis()->set_prior(*prior);
    v1::Hypothesis resp;
    EXPECT_TRUE(stub_->CreateHypothesis(&ctx, req, &resp).ok());
    return resp;
  }

  // The LLM assist client; none: not configured.
  virtual std::unique_ptr<SuggestionClient> MakeSuggestions() { return nullptr; }

  static std::vector<std::string> Fields(const grpc::Status& st) {
    google::rpc::Status details = RpcStatusOf(st);
    std::vector<std::string> out;
    for (const auto& any : details.details()) {
      google::rpc::BadRequest bad;
      if (!any.UnpackTo(&bad)) continue;
      for (const auto& v : bad.field_violations()) out.push_back(v.field());
    }
    return out;
  }

  MetricsRegistry registry_;
  std::unique_ptr<Reasoning> logic_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<RpcDispatcher> dispatcher_;
  std::unique_ptr<ReasoningGrpcService> service_;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<v1::ReasoningService::Stub> stub_;
};

// Every REQUIRED field of every method (from the descriptors) is refused when
// empty, naming its path; OUTPUT_ONLY fields in creates and updates are not.
TEST_F(ReasoningGrpcTest, FieldBehavioursAgreeWithWhatTheServiceRefuses) {
  const std::string name = CreateCase().name();
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->grpc_port()),
                                     grpc::InsecureChannelCredentials());
  // Methods on a case name the one that exists, so a refusal is about the field.
  auto seen = genesis::testing::ExpectRequiredFieldsRefused(
      channel, "genesis.reasoning.v1.ReasoningService",
      [&](const google::protobuf::MethodDescriptor*, google::protobuf::Message* m) {
        for (const char* field : {"name", "parent"}) {
          const auto* f = m->GetDescriptor()->FindFieldByName(field);
          if (f != nullptr && f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
            m->GetReflection()->SetString(m, f, name);
          }
        }
      },
      // "The draft evidence: `description` is required; ratings are ignored."
      {"SuggestRatingsRequest:evidence.ratings"});
  for (const char* want : {"CreateCaseRequest:case.question", "CreateCaseRequest:case.owner",
                           "CreateEvidenceRequest:evidence.description",
                           "DecideCaseRequest:rationale", "ReopenCaseRequest:reason"}) {
    EXPECT_TRUE(seen.count(want)) << want;
  }
}

TEST_F(ReasoningGrpcTest, InferThroughTheWire) {
  const v1::Case c = CreateCase();
  EXPECT_EQ(c.state(), v1::Case::STATE_OPEN);
  EXPECT_EQ(c.etag(), "1");
  const v1::Hypothesis h1 = AddHypothesis(c.name(), "Supplier A");  // prior absent: 1
  const v1::Hypothesis h2 = AddHypothesis(c.name(), "Supplier B", 3);
  EXPECT_EQ(h1.name(), c.name() + "/hypotheses/h1");
  EXPECT_EQ(h2.normalized_prior(), 0.75);

  grpc::ClientContext ectx;
  v1::CreateEvidenceRequest ereq;
  ereq.set_parent(c.name());
  auto* e = ereq.mutable_evidence();
  e->set_description("B missed two deliveries");
  e->set_source("https://example.com/deliveries");
  e->set_reliability(1);
  auto* r1 = e->add_ratings();
  r1->set_hypothesis(h1.name());
  r1->set_likelihood(0.9);
  auto* r2 = e->add_ratings();
  r2->set_hypothesis("h2");
  r2->set_ach(v1::ACH_RATING_INCONSISTENT_STRONG);
  v1::Evidence added;
  ASSERT_TRUE(stub_->CreateEvidence(&ectx, ereq, &added).ok());
  EXPECT_EQ(added.name(), c.name() + "/evidence/e1");
  EXPECT_EQ(added.ratings(1).hypothesis(), h2.name());
  EXPECT_EQ(added.ratings(1).ach(), v1::ACH_RATING_INCONSISTENT_STRONG);

  // 0.25 * 0.9 = 0.225 against 0.75 * 0.1 = 0.075: A leads with 0.75.
  grpc::ClientContext ictx;
  v1::InferCaseRequest ireq;
  ireq.set_name(c.name());
  v1::Inference inference;
  ASSERT_TRUE(stub_->InferCase(&ictx, ireq, &inference).ok());
  EXPECT_EQ(inference.leading_hypothesis(), h1.name());
  EXPECT_NEAR(inference.hypotheses(0).posterior(), 0.75, 1e-12);
  EXPECT_EQ(inference.hypotheses(1).inconsistency_score(), 2);
  EXPECT_EQ(inference.pivotal_evidence(), added.name());
  EXPECT_EQ(inference.leading_without_pivotal(), h2.name());
  EXPECT_EQ(inference.etag(), "4");

  // Choosing B is refused without an override reason.
  grpc::ClientContext dctx;
  v1::DecideCaseRequest dreq;
  dreq.set_name(c.name());
  dreq.set_hypothesis(h2.name());
  dreq.set_rationale("cheaper");
  v1::Case decided;
  EXPECT_EQ(stub_->DecideCase(&dctx, dreq, &decided).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  grpc::ClientContext dctx2;
  dreq.set_override_reason("contract already signed");
  dreq.set_confidence(0);  // explicit 0 is kept, not replaced by the posterior
  ASSERT_TRUE(stub_->DecideCase(&dctx2, dreq, &decided).ok());
  EXPECT_EQ(decided.state(), v1::Case::STATE_DECIDED);
  EXPECT_EQ(decided.decisions(0).leading_hypothesis(), h1.name());
  EXPECT_EQ(decided.decisions(0).confidence(), 0);
}

TEST_F(ReasoningGrpcTest, BadInputCarriesBadRequestDetails) {
  const v1::Case c = CreateCase();
  grpc::ClientContext ctx;
  v1::CreateEvidenceRequest req;
  req.set_parent(c.name());
  req.mutable_evidence()->set_description("x");  // reliability absent
  auto* r = req.mutable_evidence()->add_ratings();
  r->set_hypothesis("h1");  // no such hypothesis
  r->set_likelihood(2);
  v1::Evidence resp;
  grpc::Status st = stub_->CreateEvidence(&ctx, req, &resp);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Fields(st),
            (std::vector<std::string>{"evidence.reliability", "evidence.ratings[0].hypothesis",
                                      "evidence.ratings[0].likelihood"}));
}

TEST_F(ReasoningGrpcTest, SubjectIsTheActorAndAsOfReplays) {
  const v1::Case c = CreateCase();
  AddHypothesis(c.name(), "A");
  grpc::ClientContext ctx;
  v1::ListCaseEventsRequest req;
  req.set_parent(c.name());
  v1::ListCaseEventsResponse resp;
  ASSERT_TRUE(stub_->ListCaseEvents(&ctx, req, &resp).ok());
  ASSERT_EQ(resp.events_size(), 2);
  EXPECT_EQ(resp.events(0).type(), v1::CASE_EVENT_TYPE_CASE_CREATED);
  EXPECT_EQ(resp.events(0).actor(), "anonymous");
  EXPECT_EQ(resp.events(1).name(), c.name() + "/events/2");
  EXPECT_EQ(resp.events(1).data().fields().at("statement").string_value(), "A");

  grpc::ClientContext gctx;
  v1::GetCaseRequest greq;
  greq.set_name(c.name());
  *greq.mutable_as_of() = resp.events(0).event_time();
  v1::Case then;
  ASSERT_TRUE(stub_->GetCase(&gctx, greq, &then).ok());
  EXPECT_EQ(then.hypotheses_size(), 0);
  EXPECT_EQ(then.etag(), "1");
}

TEST_F(ReasoningGrpcTest, AssistWithoutRouterIsFailedPrecondition) {
  const v1::Case c = CreateCase();
  grpc::ClientContext ctx;
  v1::SuggestHypothesesRequest req;
  req.set_name(c.name());
  v1::SuggestHypothesesResponse resp;
  grpc::Status st = stub_->SuggestHypotheses(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(st.error_message().find("LLM assist is not configured"), std::string::npos);
}

// A client that answers fixed suggestions and records the options it got.
class FixedSuggestions final : public SuggestionClient {
 public:
  explicit FixedSuggestions(bool* sensitive_seen) : sensitive_seen_(sensitive_seen) {}
  absl::StatusOr<HypothesisSuggestions> ProposeHypotheses(const Case&, int,
                                                          const AssistOptions& options,
                                                          const CallContext&) override {
    *sensitive_seen_ = options.sensitive;
    HypothesisSuggestions out;
    out.suggestions = {{"Supplier C", 0.5, "new in March"}, {"", 1, "dropped by the logic"}};
    out.dropped = 2;
    out.model = "models/sim-local";
    return out;
  }
  absl::StatusOr<RatingSuggestions> RateEvidence(const Case&, const Evidence&,
                                                 const AssistOptions& options,
                                                 const CallContext&) override {
    *sensitive_seen_ = options.sensitive;
    RatingSuggestions out;
    RatingSuggestion s;
    s.rating.hypothesis_id = "h1";
    s.rating.likelihood = 0.8;
    s.explanation = "fits";
    out.suggestions.push_back(s);
    out.model = "models/sim-gpt-4o";
    return out;
  }

 private:
  bool* sensitive_seen_;
};

class ReasoningGrpcAssistTest : public ReasoningGrpcTest {
 protected:
  std::unique_ptr<SuggestionClient> MakeSuggestions() override {
    return std::make_unique<FixedSuggestions>(&sensitive_seen_);
  }
  bool sensitive_seen_ = false;
};

TEST_F(ReasoningGrpcAssistTest, SuggestionsCarryDroppedCountModelAndSensitive) {
  const v1::Case c = CreateCase();
  {
    grpc::ClientContext ctx;
    v1::SuggestHypothesesRequest req;
    req.set_name(c.name());
    req.set_sensitive(true);
    v1::SuggestHypothesesResponse resp;
    grpc::Status st = stub_->SuggestHypotheses(&ctx, req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(resp.suggestions_size(), 1);
    EXPECT_EQ(resp.suggestions(0).statement(), "Supplier C");
    EXPECT_EQ(resp.suggestions(0).prior(), 0.5);
    EXPECT_EQ(resp.dropped_suggestions(), 3);
    EXPECT_EQ(resp.model(), "models/sim-local");
    EXPECT_TRUE(sensitive_seen_);
  }
  {
    grpc::ClientContext ctx;
    v1::CreateHypothesisRequest add;
    add.set_parent(c.name());
    add.mutable_hypothesis()->set_statement("Supplier A");
    v1::Hypothesis added;
    ASSERT_TRUE(stub_->CreateHypothesis(&ctx, add, &added).ok());
  }
  grpc::ClientContext ctx;
  v1::SuggestRatingsRequest req;
  req.set_name(c.name());
  req.mutable_evidence()->set_description("Trucks idle");
  v1::SuggestRatingsResponse resp;
  grpc::Status st = stub_->SuggestRatings(&ctx, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(resp.suggestions_size(), 1);
  EXPECT_EQ(resp.suggestions(0).rating().hypothesis(), c.name() + "/hypotheses/h1");
  EXPECT_EQ(resp.suggestions(0).rating().likelihood(), 0.8);
  EXPECT_EQ(resp.dropped_suggestions(), 0);
  EXPECT_EQ(resp.model(), "models/sim-gpt-4o");
  EXPECT_FALSE(sensitive_seen_);
}

}  // namespace
}  // namespace genesis::reasoning
