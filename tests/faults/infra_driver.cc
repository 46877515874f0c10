// The catalog client of the infra fault scenarios (faults_infra_*.sh): what a
// user's program would do, with each call's code and latency printed so the
// script can assert on them.
//
//   infra_driver get ADDR NAME COUNT DEADLINE_MS
//       COUNT GetItem calls one after another; one line per call
//       "call CODE LATENCY_US TITLE", then "summary ok=N codes=C:N,... p50_us=N max_us=N".
//   infra_driver get_for ADDR NAME SECONDS DEADLINE_MS PAUSE_MS
//       GetItem calls one after another for SECONDS, PAUSE_MS apart; one line per call
//       "call CODE LATENCY_US TITLE UNIX_MS" (when it started), then the same summary.
//   infra_driver create ADDR TYPE PREFIX THREADS SECONDS DEADLINE_MS
//       THREADS writers create items "PREFIX-T-I" (request_id the same) for SECONDS,
//       retrying each on UNAVAILABLE / DEADLINE_EXCEEDED with the same request_id (50 ms
//       apart, for up to 20 s) until it is acknowledged; "ack TITLE ID UNIX_MS" per item,
//       "fail CODE UNIX_MS" per failed attempt, "gaveup TITLE CODE" when the retries ran
//       out, then "summary acked=N gaveup=N codes=C:N,... max_outage_ms=N".
//   infra_driver reads ADDR NAME SECONDS DEADLINE_MS
//       GetItem calls for SECONDS (20 ms apart); "read CODE UNIX_MS" per failed call,
//       then "summary ok=N codes=C:N,...".
//   infra_driver watch ADDR SECONDS
//       grpc.health.v1 Check every 50 ms for SECONDS; "health STATUS UNIX_MS" at the
//       first answer and at each change (STATUS as for `health`).
//   infra_driver list ADDR TYPE
//       every item of TYPE: "item TITLE ID" per item.
//   infra_driver update ADDR NAME TITLE DEADLINE_MS
//       one UpdateItem of the title; prints the code.
//   infra_driver type ADDR TYPE          creates item type TYPE (no attributes); prints the code.
//   infra_driver put ADDR TYPE TITLE     creates one item; prints its name (exit 1 if not OK).
//   infra_driver health ADDR             grpc.health.v1 Check of the whole server: SERVING,
//                                        NOT_SERVING, or the call's code.
// Exit status 0 unless the arguments are wrong or a list could not complete.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "genesis/catalog/v1/catalog.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace {

namespace v1 = genesis::catalog::v1;
using Clock = std::chrono::steady_clock;

long long UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::OK:
      return "OK";
    case grpc::CANCELLED:
      return "CANCELLED";
    case grpc::UNKNOWN:
      return "UNKNOWN";
    case grpc::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::ABORTED:
      return "ABORTED";
    case grpc::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::INTERNAL:
      return "INTERNAL";
    case grpc::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "OTHER";
  }
}

std::unique_ptr<v1::CatalogService::Stub> Stub(const std::string& addr) {
  grpc::ChannelArguments args;
  // Reconnect quickly after the server comes back (the default back-off grows to 2 min).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  return v1::CatalogService::NewStub(
      grpc::CreateCustomChannel(addr, grpc::InsecureChannelCredentials(), args));
}

void Deadline(grpc::ClientContext* ctx, int ms) {
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(ms));
}

std::string Codes(const std::map<std::string, int>& codes) {
  std::string out;
  for (const auto& [code, n] : codes) {
    if (!out.empty()) out += ",";
    out += code + ":" + std::to_string(n);
  }
  return out.empty() ? "none" : out;
}

// `count` calls, or calls until `seconds` have passed when seconds > 0 (then
// each line also has the call's start in Unix milliseconds).
int Get(const std::string& addr, const std::string& name, int count, int deadline_ms,
        int seconds = 0, int pause_ms = 0) {
  auto stub = Stub(addr);
  std::vector<int64_t> latencies;
  std::map<std::string, int> codes;
  int ok = 0;
  const auto stop_at = Clock::now() + std::chrono::seconds(seconds);
  for (int i = 0; seconds > 0 ? Clock::now() < stop_at : i < count; ++i) {
    if (i > 0 && pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
    const int64_t started_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
    grpc::ClientContext ctx;
    Deadline(&ctx, deadline_ms);
    v1::GetItemRequest req;
    req.set_name(name);
    v1::Item item;
    const auto start = Clock::now();
    grpc::Status st = stub->GetItem(&ctx, req, &item);
    const int64_t us =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    latencies.push_back(us);
    ++codes[CodeName(st.error_code())];
    if (st.ok()) ++ok;
    if (seconds > 0) {
      std::printf("call %s %lld %s %lld\n", CodeName(st.error_code()), static_cast<long long>(us),
                  st.ok() ? item.title().c_str() : "-", static_cast<long long>(started_ms));
    } else {
      std::printf("call %s %lld %s\n", CodeName(st.error_code()), static_cast<long long>(us),
                  st.ok() ? item.title().c_str() : "-");
    }
  }
  std::sort(latencies.begin(), latencies.end());
  const int64_t p50 = latencies.empty() ? 0 : latencies[latencies.size() / 2];
  const int64_t max = latencies.empty() ? 0 : latencies.back();
  std::printf("summary ok=%d codes=%s p50_us=%lld max_us=%lld\n", ok, Codes(codes).c_str(),
              static_cast<long long>(p50), static_cast<long long>(max));
  return 0;
}

int Create(const std::string& addr, const std::string& type, const std::string& prefix, int threads,
           int seconds, int deadline_ms) {
  auto stub = Stub(addr);
  std::mutex mu;
  std::map<std::string, int> codes;
  int acked = 0, gaveup = 0;
  int64_t max_outage_ms = 0;
  const auto stop_at = Clock::now() + std::chrono::seconds(seconds);
  std::vector<std::thread> writers;
  for (int t = 0; t < threads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; Clock::now() < stop_at; ++i) {
        const std::string title = prefix + "-" + std::to_string(t) + "-" + std::to_string(i);
        v1::CreateItemRequest req;
        req.mutable_item()->set_type(type);
        req.mutable_item()->set_title(title);
        req.set_request_id(title);
        const auto first_try = Clock::now();
        const auto give_up = first_try + std::chrono::seconds(20);
        for (;;) {
          grpc::ClientContext ctx;
          Deadline(&ctx, deadline_ms);
          v1::Item item;
          grpc::Status st = stub->CreateItem(&ctx, req, &item);
          const bool retry =
              st.error_code() == grpc::UNAVAILABLE || st.error_code() == grpc::DEADLINE_EXCEEDED;
          std::lock_guard<std::mutex> lock(mu);
          ++codes[CodeName(st.error_code())];
          if (st.ok()) {
            ++acked;
            const int64_t waited =
                std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - first_try)
                    .count();
            max_outage_ms = std::max(max_outage_ms, waited);
            std::printf("ack %s %s %lld\n", title.c_str(), item.name().c_str(), UnixMs());
            break;
          }
          std::printf("fail %s %lld\n", CodeName(st.error_code()), UnixMs());
          if (!retry || Clock::now() >= give_up) {
            ++gaveup;
            std::printf("gaveup %s %s %s\n", title.c_str(), CodeName(st.error_code()),
                        st.error_message().c_str());
            break;
          }
          mu.unlock();
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          mu.lock();
        }
        std::fflush(stdout);
      }
    });
  }
  for (auto& w : writers) w.join();
  std::printf("summary acked=%d gaveup=%d codes=%s max_outage_ms=%lld\n", acked, gaveup,
              Codes(codes).c_str(), static_cast<long long>(max_outage_ms));
  return 0;
}

int Reads(const std::string& addr, const std::string& name, int seconds, int deadline_ms) {
  auto stub = Stub(addr);
  std::map<std::string, int> codes;
  int ok = 0;
  const auto stop_at = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < stop_at) {
    grpc::ClientContext ctx;
    Deadline(&ctx, deadline_ms);
    v1::GetItemRequest req;
    req.set_name(name);
    v1::Item item;
    grpc::Status st = stub->GetItem(&ctx, req, &item);
    ++codes[CodeName(st.error_code())];
    if (st.ok()) {
      ++ok;
    } else {
      std::printf("read %s %lld\n", CodeName(st.error_code()), UnixMs());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::printf("summary ok=%d codes=%s\n", ok, Codes(codes).c_str());
  return 0;
}

int List(const std::string& addr, const std::string& type) {
  auto stub = Stub(addr);
  std::string token;
  do {
    grpc::ClientContext ctx;
    Deadline(&ctx, 10000);
    v1::ListItemsRequest req;
    req.set_type(type);
    req.set_page_size(1000);
    req.set_page_token(token);
    v1::ListItemsResponse resp;
    grpc::Status st = stub->ListItems(&ctx, req, &resp);
    if (!st.ok()) {
      std::fprintf(stderr, "ListItems: %s %s\n", CodeName(st.error_code()),
                   st.error_message().c_str());
      return 1;
    }
    for (const auto& item : resp.items()) {
      std::printf("item %s %s\n", item.title().c_str(), item.name().c_str());
    }
    token = resp.next_page_token();
  } while (!token.empty());
  return 0;
}

int Update(const std::string& addr, const std::string& name, const std::string& title,
           int deadline_ms) {
  auto stub = Stub(addr);
  grpc::ClientContext ctx;
  Deadline(&ctx, deadline_ms);
  v1::UpdateItemRequest req;
  req.mutable_item()->set_name(name);
  req.mutable_item()->set_title(title);
  req.mutable_update_mask()->add_paths("title");
  v1::Item item;
  grpc::Status st = stub->UpdateItem(&ctx, req, &item);
  std::printf("%s\n", CodeName(st.error_code()));
  return 0;
}

// CreateItemType is administrative: called as an operator forwarded with the
// run's gateway secret (E2E_GATEWAY_SECRET, tests/e2e/harness.sh).
void AsOperator(grpc::ClientContext* ctx) {
  const char* secret = std::getenv("E2E_GATEWAY_SECRET");
  if (secret == nullptr || *secret == '\0') return;
  ctx->AddMetadata("x-genesis-gateway-auth", secret);
  ctx->AddMetadata("x-genesis-subject", "e2e-operator");
  ctx->AddMetadata("x-genesis-roles", "admin");
}

int Type(const std::string& addr, const std::string& type) {
  auto stub = Stub(addr);
  grpc::ClientContext ctx;
  Deadline(&ctx, 10000);
  AsOperator(&ctx);
  v1::CreateItemTypeRequest req;
  req.set_item_type_id(type);
  req.mutable_item_type()->set_display_name(type);
  v1::ItemType resp;
  grpc::Status st = stub->CreateItemType(&ctx, req, &resp);
  std::printf("%s\n", CodeName(st.error_code()));
  return st.ok() ? 0 : 1;
}

int Put(const std::string& addr, const std::string& type, const std::string& title) {
  auto stub = Stub(addr);
  grpc::ClientContext ctx;
  Deadline(&ctx, 10000);
  v1::CreateItemRequest req;
  req.mutable_item()->set_type(type);
  req.mutable_item()->set_title(title);
  v1::Item item;
  grpc::Status st = stub->CreateItem(&ctx, req, &item);
  if (!st.ok()) {
    std::fprintf(stderr, "CreateItem: %s %s\n", CodeName(st.error_code()),
                 st.error_message().c_str());
    return 1;
  }
  std::printf("%s\n", item.name().c_str());
  return 0;
}

std::string CheckHealth(grpc::health::v1::Health::Stub* stub) {
  grpc::ClientContext ctx;
  Deadline(&ctx, 2000);
  grpc::health::v1::HealthCheckRequest req;
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status st = stub->Check(&ctx, req, &resp);
  if (!st.ok()) return CodeName(st.error_code());
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
}

int Health(const std::string& addr) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
  std::printf("%s\n", CheckHealth(stub.get()).c_str());
  return 0;
}

int Watch(const std::string& addr, int seconds) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(addr, grpc::InsecureChannelCredentials()));
  std::string last;
  const auto stop_at = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < stop_at) {
    std::string now = CheckHealth(stub.get());
    if (now != last) {
      std::printf("health %s %lld\n", now.c_str(), UnixMs());
      std::fflush(stdout);
      last = now;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 5 && a[0] == "get") return Get(a[1], a[2], std::stoi(a[3]), std::stoi(a[4]));
  if (a.size() == 6 && a[0] == "get_for") {
    return Get(a[1], a[2], 0, std::stoi(a[4]), std::stoi(a[3]), std::stoi(a[5]));
  }
  if (a.size() == 7 && a[0] == "create") {
    return Create(a[1], a[2], a[3], std::stoi(a[4]), std::stoi(a[5]), std::stoi(a[6]));
  }
  if (a.size() == 5 && a[0] == "reads") return Reads(a[1], a[2], std::stoi(a[3]), std::stoi(a[4]));
  if (a.size() == 3 && a[0] == "watch") return Watch(a[1], std::stoi(a[2]));
  if (a.size() == 3 && a[0] == "list") return List(a[1], a[2]);
  if (a.size() == 5 && a[0] == "update") return Update(a[1], a[2], a[3], std::stoi(a[4]));
  if (a.size() == 3 && a[0] == "type") return Type(a[1], a[2]);
  if (a.size() == 4 && a[0] == "put") return Put(a[1], a[2], a[3]);
  if (a.size() == 2 && a[0] == "health") return Health(a[1]);
  std::fprintf(stderr, "usage: see the comment at the top of infra_driver.cc\n");
  return 2;
}
