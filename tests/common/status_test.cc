#include "common/base/status.h"

#include <gtest/gtest.h>

namespace genesis {
namespace {

TEST(StatusTest, NoViolationsIsOk) { EXPECT_TRUE(FieldViolations().ToStatus().ok()); }

TEST(StatusTest, ViolationsBecomeInvalidArgumentWithBadRequest) {
  FieldViolations v;
  v.Add("item.title", "is required");
  v.Add("item.attributes.price", "must be a number");
  absl::Status st = v.ToStatus();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "invalid request: item.title: is required; item.attributes.price: must be a number");
  auto back = FieldViolationsOf(st);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].first, "item.attributes.price");
}

TEST(StatusTest, GrpcStatusCarriesCodeMessageAndDetails) {
  grpc::Status g = ToGrpcStatus(InvalidField("name", "is required"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(g.error_message(), "invalid request: name: is required");
  google::rpc::Status rpc = RpcStatusOf(g);
  EXPECT_EQ(rpc.code(), 3);
  ASSERT_EQ(rpc.details_size(), 2);
  EXPECT_EQ(rpc.details(0).type_url(), kBadRequestTypeUrl);
  google::rpc::BadRequest bad;
  ASSERT_TRUE(rpc.details(0).UnpackTo(&bad));
  EXPECT_EQ(bad.field_violations(0).field(), "name");
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rpc.details(1).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "INVALID_ARGUMENT");
  EXPECT_EQ(info.domain(), "genesis.dev");
}

TEST(StatusTest, ReasonMetadataAndServiceDomainReachTheClient) {
  absl::Status st = WithReason(absl::NotFoundError("item 'items/7' does not exist"),
                               "ITEM_NOT_FOUND", {{"item", "items/7"}});
  EXPECT_EQ(ReasonOf(st), "ITEM_NOT_FOUND");
  google::rpc::Status rpc = RpcStatusOf(ToGrpcStatus(st, "catalog.genesis.dev"));
  auto info = ErrorInfoOf(rpc);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->reason(), "ITEM_NOT_FOUND");
  EXPECT_EQ(info->domain(), "catalog.genesis.dev");
  EXPECT_EQ(info->metadata().at("item"), "items/7");
  EXPECT_FALSE(RetryDelayOf(rpc).has_value()) << "NOT_FOUND is not worth a retry";
}

TEST(StatusTest, EveryErrorCarriesExactlyOneErrorInfoWithTheCodeNameByDefault) {
  for (int c = 1; c <= 16; ++c) {
    const auto code = static_cast<absl::StatusCode>(c);
    google::rpc::Status rpc = RpcStatusOf(ToGrpcStatus(absl::Status(code, "m"), "x.genesis.dev"));
    int infos = 0;
    for (const auto& any : rpc.details()) infos += any.Is<google::rpc::ErrorInfo>() ? 1 : 0;
    EXPECT_EQ(infos, 1) << c;
    auto info = ErrorInfoOf(rpc);
    ASSERT_TRUE(info.has_value()) << c;
    EXPECT_EQ(info->reason(), absl::StatusCodeToString(code));
    EXPECT_EQ(info->domain(), "x.genesis.dev");
  }
}

TEST(StatusTest, RetryInfoOnUnavailableAndResourceExhaustedOnly) {
  for (int c = 1; c <= 16; ++c) {
    const auto code = static_cast<absl::StatusCode>(c);
    auto delay = RetryDelayOf(RpcStatusOf(ToGrpcStatus(absl::Status(code, "m"))));
    if (code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kResourceExhausted) {
      ASSERT_TRUE(delay.has_value()) << c;
      EXPECT_EQ(*delay, kDefaultRetryDelay);
    } else {
      EXPECT_FALSE(delay.has_value()) << c;
    }
  }
}

TEST(StatusTest, TheLogicsRetryDelayWinsOverTheDefault) {
  absl::Status st =
      WithRetryDelay(WithReason(absl::ResourceExhaustedError("rate limited"), "RATE_LIMITED"),
                     absl::Milliseconds(2500));
  EXPECT_EQ(RetryDelayOf(st), absl::Milliseconds(2500));
  google::rpc::Status rpc = RpcStatusOf(ToGrpcStatus(st));
  EXPECT_EQ(RetryDelayOf(rpc), absl::Milliseconds(2500));
  int retry_infos = 0;
  for (const auto& any : rpc.details()) retry_infos += any.Is<google::rpc::RetryInfo>() ? 1 : 0;
  EXPECT_EQ(retry_infos, 1);
  EXPECT_EQ(RetryDelayOf(WithRetryDelay(absl::UnavailableError("x"), absl::Seconds(-3))),
            absl::ZeroDuration());
}

TEST(StatusTest, WithReasonForNamesOnlyUnnamedErrorsOfItsCode) {
  absl::StatusOr<int> missing = absl::NotFoundError("no row");
  EXPECT_EQ(ReasonOf(WithReasonFor(missing, absl::StatusCode::kNotFound, "BOT_NOT_FOUND").status()),
            "BOT_NOT_FOUND");
  EXPECT_EQ(ReasonOf(WithReasonFor(absl::UnavailableError("down"), absl::StatusCode::kNotFound,
                                   "BOT_NOT_FOUND")),
            "");
  absl::Status named = WithReason(absl::NotFoundError("gone"), "REQUEST_ID_EXPIRED");
  EXPECT_EQ(ReasonOf(WithReasonFor(named, absl::StatusCode::kNotFound, "BOT_NOT_FOUND")),
            "REQUEST_ID_EXPIRED");
  EXPECT_EQ(*WithReasonFor(absl::StatusOr<int>(3), absl::StatusCode::kNotFound, "X"), 3);
}

TEST(StatusTest, ReasonsOnOkStatusesAreIgnored) {
  EXPECT_TRUE(WithReason(absl::OkStatus(), "X").ok());
  EXPECT_TRUE(WithRetryDelay(absl::OkStatus(), absl::Seconds(1)).ok());
  EXPECT_EQ(ReasonOf(absl::NotFoundError("x")), "");
}

TEST(StatusTest, ABadRequestKeepsItsViolationsBesideAReason) {
  absl::Status st = WithReason(InvalidField("request_id", "too long"), "REQUEST_ID_INVALID");
  EXPECT_EQ(FieldViolationsOf(st).size(), 1u);
  google::rpc::Status rpc = RpcStatusOf(ToGrpcStatus(st));
  EXPECT_EQ(ErrorInfoOf(rpc)->reason(), "REQUEST_ID_INVALID");
}

// absl keeps no payload order; the details come in a fixed one so clients
// reading details[0] of a 400 find the BadRequest.
TEST(StatusTest, DetailsComeBadRequestThenErrorInfoThenRetryInfo) {
  for (int i = 0; i < 20; ++i) {
    absl::Status st = WithReason(
        WithRetryDelay(InvalidField("item", "too large"), absl::Seconds(i)), "ITEM_TOO_LARGE");
    google::rpc::Status rpc = RpcStatusOf(ToGrpcStatus(st));
    ASSERT_EQ(rpc.details_size(), 3);
    EXPECT_EQ(rpc.details(0).type_url(), kBadRequestTypeUrl);
    EXPECT_EQ(rpc.details(1).type_url(), kErrorInfoTypeUrl);
    EXPECT_EQ(rpc.details(2).type_url(), kRetryInfoTypeUrl);
  }
}

TEST(StatusTest, ErrorDomainFollowsTheServicePackage) {
  EXPECT_EQ(ErrorDomainOf("genesis.catalog.v1.CatalogService"), "catalog.genesis.dev");
  EXPECT_EQ(ErrorDomainOf("genesis.llmrouter.v1.LlmRouterService"), "llmrouter.genesis.dev");
  EXPECT_EQ(ErrorDomainOf("grpc.health.v1.Health"), "genesis.dev");
  EXPECT_EQ(ErrorDomainOf("genesis."), "genesis.dev");
}

TEST(StatusTest, DownstreamVerdictsKeepTheirReasonDomainAndDelay) {
  absl::Status router =
      WithRetryDelay(WithReason(absl::ResourceExhaustedError("budget 'team-a' exceeded"),
                                "BUDGET_EXCEEDED", {{"budget", "team-a"}}),
                     absl::Seconds(30));
  absl::Status seen = DownstreamStatus(ToGrpcStatus(router, "llmrouter.genesis.dev"), "LLM router");
  EXPECT_EQ(seen.code(), absl::StatusCode::kResourceExhausted);
  google::rpc::Status rpc = RpcStatusOf(ToGrpcStatus(seen, "reasoning.genesis.dev"));
  EXPECT_EQ(ErrorInfoOf(rpc)->reason(), "BUDGET_EXCEEDED");
  EXPECT_EQ(ErrorInfoOf(rpc)->domain(), "llmrouter.genesis.dev");
  EXPECT_EQ(RetryDelayOf(rpc), absl::Seconds(30));

  absl::Status down =
      DownstreamStatus(grpc::Status(grpc::StatusCode::INTERNAL, "boom"), "LLM router");
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(down), "DEPENDENCY_UNAVAILABLE");
  EXPECT_EQ(ErrorInfoOf(down)->metadata().at("service"), "LLM router");
}

TEST(StatusTest, EveryCodeMapsOneToOne) {
  for (int c = 1; c <= 16; ++c) {
    absl::Status st(static_cast<absl::StatusCode>(c), "m");
    EXPECT_EQ(static_cast<int>(ToGrpcStatus(st).error_code()), c);
  }
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::Status UseMacros(int x, int* out) {
  GENESIS_ASSIGN_OR_RETURN(int h, Half(x));
  GENESIS_RETURN_IF_ERROR(h > 10 ? absl::OutOfRangeError("big") : absl::OkStatus());
  *out = h;
  return absl::OkStatus();
}

TEST(StatusTest, MacrosPropagateErrors) {
  int out = 0;
  EXPECT_TRUE(UseMacros(8, &out).ok());
  EXPECT_EQ(out, 4);
  EXPECT_EQ(UseMacros(3, &out).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(UseMacros(40, &out).code(), absl::StatusCode::kOutOfRange);
}

TEST(DownstreamStatusTest, ItsVerdictsPassOurMistakesAreInternalTheRestUnavailable) {
  auto as = [](grpc::StatusCode code) {
    return DownstreamStatus(grpc::Status(code, "why"), "LLM router");
  };
  EXPECT_TRUE(as(grpc::StatusCode::OK).ok());
  EXPECT_EQ(as(grpc::StatusCode::FAILED_PRECONDITION).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(as(grpc::StatusCode::RESOURCE_EXHAUSTED).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(as(grpc::StatusCode::DEADLINE_EXCEEDED).code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(as(grpc::StatusCode::CANCELLED).code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(as(grpc::StatusCode::INVALID_ARGUMENT).code(), absl::StatusCode::kInternal);
  for (auto code : {grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::INTERNAL,
                    grpc::StatusCode::NOT_FOUND, grpc::StatusCode::UNAUTHENTICATED}) {
    absl::Status st = as(code);
    EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
    EXPECT_NE(st.message().find("LLM router unavailable"), std::string::npos) << st;
    EXPECT_NE(st.message().find("why"), std::string::npos) << st;
  }
}

}  // namespace
}  // namespace genesis
