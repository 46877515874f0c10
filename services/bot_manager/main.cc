// genesis-bot-manager: flags -> validated config -> real dependencies ->
// server, inbox workers and outbox senders (the skeleton is
// common/runtime/service_runtime.h; this file is the bot manager's wiring).
#include <gflags/gflags.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_split.h"
#include "common/base/status.h"
#include "common/runtime/service_runtime.h"
#include "services/bot_manager/bot_manager.h"
#include "services/bot_manager/channel_client.h"
#include "services/bot_manager/context_cache.h"
#include "services/bot_manager/grpc_service.h"
#include "services/bot_manager/pg_store.h"
#include "services/bot_manager/router_client.h"

DEFINE_string(llm_router_address, "",
              "gRPC target of genesis-llm-router (required; host:port, dns:///host:port: calls "
              "balanced over every address).");
DEFINE_int32(reply_timeout_s, 30, "Longest wait for the router's answer, in seconds.");
DEFINE_string(whatsapp_base_url, "https://graph.facebook.com",
              "Base URL of the WhatsApp Cloud (Graph) API; the channel simulator's in tests.");
DEFINE_string(graph_api_version, "v17.0", "Graph API version in WhatsApp send URLs.");
DEFINE_string(telegram_base_url, "https://api.telegram.org", "Base URL of the Telegram Bot API.");
DEFINE_string(mattermost_base_url, "", "Base URL of the Mattermost server (for Mattermost bots).");
DEFINE_int32(send_timeout_ms, 10000, "Deadline of one send to a channel, in milliseconds.");
DEFINE_int32(inbox_workers, 8, "Threads turning inbox rows into replies.");
DEFINE_int32(outbox_workers, 4, "Threads sending outbox rows to the channels.");
DEFINE_int32(inbox_lease_s, 30,
             "How long a worker holds an inbox row; a crashed worker's rows are retaken after it.");
DEFINE_int32(outbox_lease_s, 15,
             "How long a sender holds an outbox row; longer than --send_timeout_ms, and short "
             "enough that a resend after a crash falls within Mattermost's 30 s deduplication "
             "window.");
DEFINE_int32(worker_idle_ms, 200,
             "How often the workers look in PostgreSQL for rows they were not handed in memory "
             "(retries, rows of a crashed process).");
DEFINE_int32(handoff_capacity, 10000,
             "Committed rows handed to the workers (and replies to the senders) in memory, "
             "leased when written, at most this many waiting; beyond it rows wait in PostgreSQL "
             "for a claim. 0: every row through the claims.");
DEFINE_int32(commit_batch, 256,
             "Most webhooks, completions or sent marks written in one transaction (group "
             "commit of those that arrive while the previous one is written).");
DEFINE_int32(reply_retry_window_s, 300,
             "How long a message is retried while the router is unavailable (UNAVAILABLE, "
             "DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED), from its arrival; after it the "
             "conversation goes to a person with the reason 'assistant unavailable'.");
DEFINE_int32(retry_backoff_ms, 2000,
             "First retry delay for replies and sends, doubling per attempt (seed: 2 s, 4 s, "
             "8 s, ...); shorten only in tests.");
DEFINE_int32(max_retry_backoff_ms, 30000, "Longest retry delay (seed: 30 s).");
DEFINE_int32(max_send_attempts, 8, "Send attempts per reply before it is marked failed.");
DEFINE_double(send_rate_per_bot, 100,
              "Replies per second one bot may send (token bucket, per process; 0: no limit).");
DEFINE_double(send_rate_per_recipient, 0,
              "Replies per second to one recipient of a bot (0: no limit).");
DEFINE_int32(retention_days, 730,
             "Finished inbox/outbox rows, messages and idle conversations older than this are "
             "purged (seed 004: two years of operational data); 0 keeps everything.");
DEFINE_int32(context_ttl_s, 1800, "How long a conversation's context stays in Redis.");
DEFINE_string(redis_key_prefix, "genesis:bot:", "Prefix of the bot manager's Redis keys.");
DEFINE_string(alexa_cert_url_prefixes, "https://s3.amazonaws.com/echo.api/",
              "Comma-separated URL prefixes an Alexa SignatureCertChainUrl may have (scheme, "
              "host and port exact, path prefix). Amazon's by default; add the channel "
              "simulator's (http://127.0.0.1:PORT/echo.api/) only for tests.");
DEFINE_string(alexa_trusted_ca_file, "",
              "PEM file of extra root certificates trusted for Alexa signing chains (the "
              "channel simulator's CA in tests).");
DEFINE_bool(alexa_trust_system_roots, true,
            "Trust the system's root certificates for Alexa signing chains.");
DEFINE_int32(alexa_timestamp_tolerance_s, 150,
             "Largest difference between an Alexa request's timestamp and now, in seconds.");
DEFINE_string(alexa_utterance_slots, "query,text,utterance",
              "Comma-separated intent slots that carry the user's words (first filled wins).");
DEFINE_int32(alexa_reply_timeout_ms, 6000,
             "Longest wait for the router's answer to an Alexa request, in milliseconds (Alexa "
             "gives up on a skill after about 8 s).");
DEFINE_int32(alexa_cert_timeout_ms, 5000,
             "Deadline of one download of an Alexa certificate chain, in milliseconds.");

namespace genesis {
std::vector<Migration> BotManagerMigrations();  // generated from migrations/*.sql
}

int main(int argc, char** argv) {
  using namespace genesis;
  ServiceRuntime rt({.name = "bot_manager",
                     .description = "genesis-bot-manager: WhatsApp, Telegram, Mattermost and "
                                    "Alexa bots answered through the LLM router (genesis.bot.v1).",
                     .migrations = BotManagerMigrations,
                     .uses_redis = true},
                    &argc, &argv);
  ConfigErrors& errors = rt.errors();
  errors.RequireNonEmpty("llm_router_address", FLAGS_llm_router_address);
  errors.RequireRange("reply_timeout_s", FLAGS_reply_timeout_s, 1, 600);
  errors.RequireRange("send_timeout_ms", FLAGS_send_timeout_ms, 100, 120000);
  errors.RequireRange("inbox_workers", FLAGS_inbox_workers, 1, 256);
  errors.RequireRange("outbox_workers", FLAGS_outbox_workers, 1, 256);
  errors.RequireRange("inbox_lease_s", FLAGS_inbox_lease_s, 1, 3600);
  errors.RequireRange("outbox_lease_s", FLAGS_outbox_lease_s, 1, 3600);
  if (int64_t{FLAGS_outbox_lease_s} * 1000 <= FLAGS_send_timeout_ms) {
    errors.Add("outbox_lease_s",
               "must be longer than --send_timeout_ms, or a slow send could be repeated by "
               "another sender");
  }
  errors.RequireRange("worker_idle_ms", FLAGS_worker_idle_ms, 1, 60000);
  errors.RequireRange("handoff_capacity", FLAGS_handoff_capacity, 0, 1000000);
  errors.RequireRange("commit_batch", FLAGS_commit_batch, 1, 10000);
  errors.RequireRange("reply_retry_window_s", FLAGS_reply_retry_window_s, 0, 86400);
  errors.RequireRange("retry_backoff_ms", FLAGS_retry_backoff_ms, 1, 600000);
  errors.RequireRange("max_retry_backoff_ms", FLAGS_max_retry_backoff_ms, 1, 3600000);
  if (FLAGS_max_retry_backoff_ms < FLAGS_retry_backoff_ms) {
    errors.Add("max_retry_backoff_ms", "must not be shorter than --retry_backoff_ms");
  }
  errors.RequireRange("max_send_attempts", FLAGS_max_send_attempts, 1, 100);
  errors.RequireRange("retention_days", FLAGS_retention_days, 0, 36500);
  errors.RequireRange("context_ttl_s", FLAGS_context_ttl_s, 1, 30 * 86400);
  if (FLAGS_send_rate_per_bot < 0) errors.Add("send_rate_per_bot", "must not be negative");
  if (FLAGS_send_rate_per_recipient < 0) {
    errors.Add("send_rate_per_recipient", "must not be negative");
  }
  errors.RequireNonEmpty("whatsapp_base_url", FLAGS_whatsapp_base_url);
  errors.RequireNonEmpty("telegram_base_url", FLAGS_telegram_base_url);
  errors.RequireRange("alexa_timestamp_tolerance_s", FLAGS_alexa_timestamp_tolerance_s, 1, 3600);
  errors.RequireRange("alexa_cert_timeout_ms", FLAGS_alexa_cert_timeout_ms, 100, 60000);
  errors.RequireRange("alexa_reply_timeout_ms", FLAGS_alexa_reply_timeout_ms, 100, 60000);
  bot::AlexaVerifierOptions alexa_options;
  for (absl::string_view prefix :
       absl::StrSplit(FLAGS_alexa_cert_url_prefixes, ',', absl::SkipWhitespace())) {
    auto rule = bot::ParseAlexaCertUrlRule(absl::StripAsciiWhitespace(prefix));
    if (rule.ok()) {
      alexa_options.url_rules.push_back(*rule);
    } else {
      errors.Add("alexa_cert_url_prefixes", std::string(rule.status().message()));
    }
  }
  if (alexa_options.url_rules.empty()) errors.Add("alexa_cert_url_prefixes", "at least one prefix");
  if (!FLAGS_alexa_trusted_ca_file.empty()) {
    std::ifstream in(FLAGS_alexa_trusted_ca_file);
    std::stringstream pem;
    pem << in.rdbuf();
    if (!in) errors.Add("alexa_trusted_ca_file", "cannot read " + FLAGS_alexa_trusted_ca_file);
    alexa_options.extra_trusted_roots_pem = pem.str();
  }
  alexa_options.trust_system_roots = FLAGS_alexa_trust_system_roots;
  alexa_options.fetch_timeout = absl::Milliseconds(FLAGS_alexa_cert_timeout_ms);
  auto alexa_verifier = bot::AlexaVerifier::Create(alexa_options, bot::MakeHttpCertChainFetcher());
  if (!alexa_verifier.ok()) {
    errors.Add("alexa_trusted_ca_file", std::string(alexa_verifier.status().message()));
  }
  if (auto code = rt.Init()) return *code;

  std::unique_ptr<bot::ContextCache> cache;
  if (rt.redis() != nullptr) {
    cache = std::make_unique<bot::RedisContextCache>(rt.redis(), FLAGS_redis_key_prefix,
                                                     absl::Seconds(FLAGS_context_ttl_s));
  } else {
    rt.log()->warn("--redis_url is empty: conversation context is read from PostgreSQL every time");
    cache = std::make_unique<bot::NoContextCache>();
  }
  bot::ChannelEndpoints endpoints;
  endpoints.whatsapp_base_url = FLAGS_whatsapp_base_url;
  endpoints.graph_version = FLAGS_graph_api_version;
  endpoints.telegram_base_url = FLAGS_telegram_base_url;
  endpoints.mattermost_base_url = FLAGS_mattermost_base_url;
  endpoints.timeout = absl::Milliseconds(FLAGS_send_timeout_ms);

  bot::BotManagerOptions options;
  options.inbox_lease = absl::Seconds(FLAGS_inbox_lease_s);
  options.outbox_lease = absl::Seconds(FLAGS_outbox_lease_s);
  options.reply_retry_window = absl::Seconds(FLAGS_reply_retry_window_s);
  options.retry_backoff = absl::Milliseconds(FLAGS_retry_backoff_ms);
  options.max_retry_backoff = absl::Milliseconds(FLAGS_max_retry_backoff_ms);
  options.max_send_attempts = FLAGS_max_send_attempts;
  options.send_rate_per_bot = FLAGS_send_rate_per_bot;
  options.retention = absl::Hours(24) * FLAGS_retention_days;
  options.send_rate_per_recipient = FLAGS_send_rate_per_recipient;
  options.handoff_capacity = static_cast<size_t>(FLAGS_handoff_capacity);
  options.commit_batch = static_cast<size_t>(FLAGS_commit_batch);
  options.claim_interval = absl::Milliseconds(FLAGS_worker_idle_ms);
  // A sender takes its next row only once the channel's message id is committed.
  options.wait_for_sent_marks = true;
  options.inbox_workers = FLAGS_inbox_workers;
  options.outbox_workers = FLAGS_outbox_workers;
  options.worker_step_timeout = absl::Seconds(FLAGS_reply_timeout_s + 10);
  options.alexa_verifier = alexa_verifier->get();
  options.alexa_timestamp_tolerance = absl::Seconds(FLAGS_alexa_timestamp_tolerance_s);
  options.alexa_utterance_slots =
      absl::StrSplit(FLAGS_alexa_utterance_slots, ',', absl::SkipWhitespace());
  options.alexa_answer_grace = absl::Seconds(FLAGS_reply_timeout_s + 30);
  options.alexa_reply_timeout = absl::Milliseconds(FLAGS_alexa_reply_timeout_ms);
  bot::BotMetrics metrics = bot::BotMetrics::Register(&rt.registry());
  bot::BotManager logic(
      std::make_unique<bot::PgBotStore>(&rt.pool()), std::move(cache),
      bot::MakeRouterReplyModel(FLAGS_llm_router_address,
                                MeshChannelCredentials(rt.config().server.tls),
                                absl::Seconds(FLAGS_reply_timeout_s)),
      std::make_unique<bot::HttpChannelSender>(endpoints, bot::EnvironmentSecrets()),
      bot::EnvironmentSecrets(), options, metrics);
  rt.registry().AddCallbackGauge(
      "genesis_bot_webhooks_waiting", "Webhooks queued for the inbox writer's next flush.",
      [&logic] { return static_cast<double>(logic.webhooks_waiting()); });

  bot::BotManagerGrpcService admin(&logic, &rt.Dispatcher("genesis.bot.v1.BotManagerService"));
  bot::BotWebhookGrpcService webhooks(&logic, &rt.Dispatcher("genesis.bot.v1.BotWebhookService"));
  rt.AddService(&admin, "genesis.bot.v1.BotManagerService");
  rt.AddService(&webhooks, "genesis.bot.v1.BotWebhookService");

  // Retention: batches until nothing is left, then once an hour.
  rt.AddLoop("bot.retention", 1, absl::Hours(1), [&]() -> absl::StatusOr<int> {
    GENESIS_ASSIGN_OR_RETURN(int64_t n,
                             logic.PurgeExpired(CallContext::Background(absl::Seconds(60))));
    return static_cast<int>(std::min<int64_t>(n, 1 << 30));
  });
  // The reply pipeline's own loops (inbox workers, outbox senders) run from
  // here until the server has drained; then the leases of rows still waiting
  // in memory go back to PostgreSQL unleased, so a restart takes them at once.
  logic.StartWorkers();
  rt.OnStop([&] {
    logic.StopWorkers();
    if (auto st = logic.Drain(CallContext::Background(absl::Seconds(5))); !st.ok()) {
      rt.log()->warn(
          "could not give back the leases of rows waiting in memory (taken again when "
          "they run out): {}",
          st.message());
    }
  });
  return rt.Serve();
}
