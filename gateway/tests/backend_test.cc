// --backend parsing and RoundRobinBackend on fake backends: rotation, one
// retry on UNAVAILABLE for idempotent calls only, readiness.
#include "gateway/routing/backend.h"

#include <gtest/gtest.h>

namespace genesis::gateway {
namespace {

// Answers every call with `status` and counts them.
class FakeAddress : public Backend {
 public:
  explicit FakeAddress(grpc::StatusCode code = grpc::StatusCode::OK) : code(code) {}
  void Call(const std::string&, std::string request, absl::Time, const Metadata&,
            std::function<void(grpc::Status, std::string)> done) override {
    ++calls;
    last_request = request;
    done(grpc::Status(code, code == grpc::StatusCode::OK ? "" : "down"), "reply");
  }
  void CheckHealth(const std::string&, absl::Time, std::function<void(bool)> done) override {
    done(code == grpc::StatusCode::OK);
  }
  grpc::StatusCode code;
  int calls = 0;
  std::string last_request;
};

grpc::StatusCode CallOnce(Backend* b, bool idempotent, absl::Duration budget = absl::Seconds(5)) {
  grpc::StatusCode got = grpc::StatusCode::UNKNOWN;
  b->CallIdempotent("/pkg.S/M", "req", absl::Now() + budget, {}, idempotent,
                    [&](grpc::Status s, std::string) { got = s.error_code(); });
  return got;
}

TEST(ParseBackendListTest, SeveralAddressesPerService) {
  auto parsed = ParseBackendList("a.S=h1:1|h2:2, b.T=h3:3");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ((*parsed)["a.S"], (std::vector<std::string>{"h1:1", "h2:2"}));
  EXPECT_EQ((*parsed)["b.T"], (std::vector<std::string>{"h3:3"}));
  for (const char* bad : {"a.S=h1:1|", "a.S=h1", "=h:1", "a.S=h:1,a.S=h:2", "a.S"}) {
    auto r = ParseBackendList(bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(RoundRobinBackendTest, EachCallGoesToTheNextAddress) {
  FakeAddress a, b, c;
  RoundRobinBackend rr({&a, &b, &c});
  for (int i = 0; i < 6; ++i) EXPECT_EQ(CallOnce(&rr, i % 2 == 0), grpc::StatusCode::OK);
  EXPECT_EQ(a.calls, 2);
  EXPECT_EQ(b.calls, 2);
  EXPECT_EQ(c.calls, 2);
}

TEST(RoundRobinBackendTest, IdempotentCallIsRetriedOnceOnTheNextAddress) {
  FakeAddress down(grpc::StatusCode::UNAVAILABLE), up;
  RoundRobinBackend rr({&down, &up});
  EXPECT_EQ(CallOnce(&rr, /*idempotent=*/true), grpc::StatusCode::OK);  // down, then up
  EXPECT_EQ(down.calls, 1);
  EXPECT_EQ(up.calls, 1);
  EXPECT_EQ(up.last_request, "req");  // the same request, resent
}

TEST(RoundRobinBackendTest, NonIdempotentCallIsNeverRetried) {
  FakeAddress down(grpc::StatusCode::UNAVAILABLE), up;
  RoundRobinBackend rr({&down, &up});
  EXPECT_EQ(CallOnce(&rr, /*idempotent=*/false), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(up.calls, 0);
  // The plain Call() is not idempotent either.
  FakeAddress down2(grpc::StatusCode::UNAVAILABLE), up2;
  RoundRobinBackend rr2({&down2, &up2});
  grpc::StatusCode got = grpc::StatusCode::OK;
  rr2.Call("/pkg.S/M", "req", absl::Now() + absl::Seconds(5), {},
           [&](grpc::Status s, std::string) { got = s.error_code(); });
  EXPECT_EQ(got, grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(up2.calls, 0);
}

TEST(RoundRobinBackendTest, OnlyUnavailableIsRetriedAndOnlyOnce) {
  FakeAddress internal(grpc::StatusCode::INTERNAL), up;
  RoundRobinBackend rr({&internal, &up});
  EXPECT_EQ(CallOnce(&rr, true), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(up.calls, 0);

  FakeAddress d1(grpc::StatusCode::UNAVAILABLE), d2(grpc::StatusCode::UNAVAILABLE),
      d3(grpc::StatusCode::UNAVAILABLE);
  RoundRobinBackend all_down({&d1, &d2, &d3});
  EXPECT_EQ(CallOnce(&all_down, true), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(d1.calls + d2.calls + d3.calls, 2);  // one attempt, one retry
}

TEST(RoundRobinBackendTest, NoRetryPastTheDeadline) {
  FakeAddress down(grpc::StatusCode::UNAVAILABLE), up;
  RoundRobinBackend rr({&down, &up});
  EXPECT_EQ(CallOnce(&rr, true, -absl::Seconds(1)), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(up.calls, 0);
}

TEST(RoundRobinBackendTest, ReadyWhenAnyAddressServes) {
  FakeAddress down(grpc::StatusCode::UNAVAILABLE), up;
  bool ready = false;
  RoundRobinBackend some({&down, &up});
  some.CheckHealth("pkg.S", absl::Now() + absl::Seconds(1), [&](bool ok) { ready = ok; });
  EXPECT_TRUE(ready);
  FakeAddress down2(grpc::StatusCode::UNAVAILABLE);
  RoundRobinBackend none({&down, &down2});
  none.CheckHealth("pkg.S", absl::Now() + absl::Seconds(1), [&](bool ok) { ready = ok; });
  EXPECT_FALSE(ready);
}

}  // namespace
}  // namespace genesis::gateway
