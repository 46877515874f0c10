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
  ASSERT_EQ(rpc.details_size(), 1);
  EXPECT_EQ(rpc.details(0).type_url(), kBadRequestTypeUrl);
  google::rpc::BadRequest bad;
  ASSERT_TRUE(rpc.details(0).UnpackTo(&bad));
  EXPECT_EQ(bad.field_violations(0).field(), "name");
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
