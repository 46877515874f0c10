// genesis-bot-webhook-driver: sends N signed webhooks to a bot manager over
// gRPC (BotWebhookService), as a channel would: each webhook is redelivered
// until it is acknowledged (or --deadline_s passes), so a service that is
// killed and restarted mid-stream still receives every message. Used by the
// e2e tests and the benchmark. Prints one JSON line:
//   {"sent": N, "acked": A, "accepted": a, "duplicates": d, "redeliveries": r,
//    "unacked": u, "seconds": s, "ack_p50_ms": .., "ack_p95_ms": .., "ack_p99_ms": ..}
// Message i (from --first) has id "<prefix><i>" (Telegram: the integer i),
// contact "<contact_base + i % contacts>" and text "<text_prefix> <i>".
#include <gflags/gflags.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "genesis/bot/v1/bot_manager.grpc.pb.h"
#include "services/bot_manager/simulator/simulator.h"

DEFINE_string(target, "", "host:port of the bot manager's gRPC endpoint.");
DEFINE_string(channel, "whatsapp", "whatsapp, telegram or mattermost.");
DEFINE_string(bot, "", "Bot id.");
DEFINE_string(secret, "", "The webhook secret (app secret / secret token / Mattermost token).");
DEFINE_int32(count, 100, "Webhooks to send.");
DEFINE_int64(first, 1, "Number of the first message.");
DEFINE_string(id_prefix, "wamid.drv", "Prefix of message ids (WhatsApp, Mattermost).");
DEFINE_int32(contacts, 10, "Distinct contacts the messages come from.");
DEFINE_int64(contact_base, 5511900000000, "First contact number.");
DEFINE_string(text_prefix, "mensagem", "Text before the message number.");
DEFINE_int32(concurrency, 8, "Webhooks in flight.");
DEFINE_double(rate, 0, "Webhooks per second to start at most (0: as fast as acknowledged).");
DEFINE_int32(deadline_s, 120, "Give up redelivering after this long.");
DEFINE_bool(bad_signature, false, "Sign with a wrong secret (every call must fail).");

namespace v1 = genesis::bot::v1;

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  if (FLAGS_target.empty() || FLAGS_bot.empty()) {
    std::fprintf(stderr, "--target and --bot are required\n");
    return 2;
  }
  auto channel = grpc::CreateChannel(FLAGS_target, grpc::InsecureChannelCredentials());
  auto stub = v1::BotWebhookService::NewStub(channel);
  std::atomic<int64_t> next{0};
  std::atomic<int> acked{0}, accepted{0}, duplicates{0}, redeliveries{0}, unacked{0};
  std::atomic<int> rejected{0};
  std::mutex mu;
  std::vector<double> latencies;
  const absl::Time start = absl::Now();
  const absl::Time give_up = start + absl::Seconds(FLAGS_deadline_s);
  auto worker = [&] {
    std::vector<double> mine;
    while (true) {
      const int64_t k = next.fetch_add(1);
      if (k >= FLAGS_count) break;
      if (FLAGS_rate > 0) {
        absl::Time at = start + absl::Seconds(static_cast<double>(k) / FLAGS_rate);
        absl::SleepFor(at - absl::Now());
      }
      const int64_t i = FLAGS_first + k;
      const std::string contact = std::to_string(FLAGS_contact_base + i % FLAGS_contacts);
      std::string id =
          FLAGS_channel == "telegram" ? std::to_string(i) : absl::StrCat(FLAGS_id_prefix, i);
      std::string chat = FLAGS_channel == "whatsapp" ? "100200300" : contact;
      if (FLAGS_channel == "mattermost") chat = absl::StrCat("chan", i % FLAGS_contacts);
      auto hook = genesis::bot::sim::BuildWebhook(
          FLAGS_channel, FLAGS_bad_signature ? FLAGS_secret + "x" : FLAGS_secret, contact, chat,
          absl::StrCat(FLAGS_text_prefix, " ", i), id);
      if (!hook.ok()) {
        std::fprintf(stderr, "%s\n", std::string(hook.status().message()).c_str());
        std::exit(2);
      }
      const absl::Time t0 = absl::Now();
      int tries = 0;
      while (true) {
        grpc::ClientContext ctx;
        ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
        for (const auto& h : hook->headers) {
          size_t colon = h.find(':');
          std::string name = h.substr(0, colon);
          std::transform(name.begin(), name.end(), name.begin(), ::tolower);
          ctx.AddMetadata(name, h.substr(colon + 2));
        }
        v1::WebhookAck ack;
        grpc::Status st;
        google::api::HttpBody body;
        body.set_content_type("application/json");
        body.set_data(hook->body);
        if (FLAGS_channel == "whatsapp") {
          v1::ReceiveWhatsAppWebhookRequest req;
          req.set_bot(FLAGS_bot);
          *req.mutable_body() = body;
          st = stub->ReceiveWhatsAppWebhook(&ctx, req, &ack);
        } else if (FLAGS_channel == "telegram") {
          v1::ReceiveTelegramWebhookRequest req;
          req.set_bot(FLAGS_bot);
          *req.mutable_body() = body;
          st = stub->ReceiveTelegramWebhook(&ctx, req, &ack);
        } else {
          v1::ReceiveMattermostWebhookRequest req;
          req.set_bot(FLAGS_bot);
          *req.mutable_body() = body;
          st = stub->ReceiveMattermostWebhook(&ctx, req, &ack);
        }
        if (st.ok()) {
          ++acked;
          accepted += ack.accepted();
          duplicates += ack.duplicates();
          mine.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
          break;
        }
        if (st.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
            st.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
            st.error_code() == grpc::StatusCode::NOT_FOUND) {
          ++rejected;
          break;
        }
        ++redeliveries;
        if (absl::Now() > give_up) {
          ++unacked;
          break;
        }
        absl::SleepFor(absl::Milliseconds(std::min(1000, 50 << std::min(tries++, 5))));
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    latencies.insert(latencies.end(), mine.begin(), mine.end());
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < FLAGS_concurrency; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    if (latencies.empty()) return 0.0;
    return latencies[std::min(latencies.size() - 1, static_cast<size_t>(p * latencies.size()))];
  };
  std::printf(
      "{\"sent\": %d, \"acked\": %d, \"accepted\": %d, \"duplicates\": %d, \"rejected\": %d, "
      "\"redeliveries\": %d, \"unacked\": %d, \"seconds\": %.3f, \"ack_p50_ms\": %.2f, "
      "\"ack_p95_ms\": %.2f, \"ack_p99_ms\": %.2f}\n",
      FLAGS_count, acked.load(), accepted.load(), duplicates.load(), rejected.load(),
      redeliveries.load(), unacked.load(), seconds, pct(0.5), pct(0.95), pct(0.99));
  return unacked.load() == 0 ? 0 : 1;
}
