// The bot manager's logic: bots, verified webhooks into the inbox, the
// workers' steps (inbox -> router -> outbox, outbox -> channel), handoff,
// proactive messages and erasure. Plain domain types in, absl::Status out; no
// gRPC (grpc_service.h is the transport). Store, cache, model, sender,
// secrets and clock are injected.
//
// Errors: INVALID_ARGUMENT with field violations for bad input (names, bot
// settings, page tokens, malformed webhook payloads); UNAUTHENTICATED for a
// bad or missing webhook signature; NOT_FOUND for an unknown bot,
// conversation or proactive message; ALREADY_EXISTS for a taken bot id;
// ABORTED for a stale etag; FAILED_PRECONDITION when the state forbids the
// change (the bot's secret is not configured, someone else holds the
// conversation, a webhook sent to a bot of another channel);
// RESOURCE_EXHAUSTED for the proactive daily limit; UNAVAILABLE /
// DEADLINE_EXCEEDED from storage. Thread-safe.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/call_context.h"
#include "common/group_commit.h"
#include "common/paging.h"
#include "services/bot_manager/channels/alexa/alexa.h"
#include "services/bot_manager/channels/channel_adapter.h"
#include "services/bot_manager/deps.h"
#include "services/bot_manager/handoff_queue.h"
#include "services/bot_manager/metrics.h"
#include "services/bot_manager/store.h"

namespace genesis::bot {

struct BotManagerOptions {
  int default_page_size = 50;
  int max_page_size = 500;
  // Inbox rows a worker leases at once, and for how long (a crashed worker's
  // rows are taken again after the lease).
  int inbox_batch = 16;
  absl::Duration inbox_lease = absl::Seconds(30);
  // An unavailable router (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED)
  // is retried with backoff for this long after the message arrived; after
  // it the conversation goes to a person with the reason "assistant
  // unavailable" (seed 001: what automatic retries cannot do goes to a queue
  // for a manual retry). A refusal (any other code) hands off at once.
  absl::Duration reply_retry_window = absl::Minutes(5);
  // Background retries (router replies, sends): 2 s, 4 s, 8 s, ... at most
  // 30 s (seed 001). Counted from the row's attempts.
  absl::Duration retry_backoff = absl::Seconds(2);  // doubles per attempt
  absl::Duration max_retry_backoff = absl::Seconds(30);
  int outbox_batch = 16;
  absl::Duration outbox_lease = absl::Seconds(30);
  // In-memory hand-off: a committed webhook's rows go straight to the
  // workers, and a worker's committed reply straight to the senders, leased
  // to this process when they are written (no claim query). At most this
  // many rows wait in memory per queue; beyond it new rows wait in
  // PostgreSQL for a claim. 0: every row goes through the claims. A row
  // whose lease runs out in memory is dropped there and claimed again.
  size_t handoff_capacity = 10000;
  // How often a worker with nothing handed to it claims rows in PostgreSQL
  // (retries, rows of a crashed process, rows over the capacity); zero:
  // whenever it looks for work. Shared by all workers of one kind.
  absl::Duration claim_interval = absl::ZeroDuration();
  // Group commit: at most this many webhooks, completions or sent marks
  // written in one transaction (those that arrive while one is written).
  size_t commit_batch = 256;
  // A sender waits for the sent mark to be written before its next send (the
  // service does: the window in which a crash repeats a send the channel
  // already accepted is then one commit). false: marks are written in the
  // background (more of them per transaction, a wider window: benchmarks).
  bool wait_for_sent_marks = true;
  // How long background sent marks wait to be written with others.
  absl::Duration sent_mark_linger = absl::Milliseconds(10);
  // How long a contact's conversation (id and state) is reused before it is
  // read again. Every completion refreshes it; a handoff decided by another
  // process may cost one model call whose answer is then dropped.
  absl::Duration conversation_cache_ttl = absl::Seconds(10);
  int max_send_attempts = 8;
  // Outbound rate limits (token buckets, per process): sends per second per
  // bot (seed 004: 100/s toward the messaging API) and per recipient of a bot
  // (0: none). A send over the limit waits in the outbox without spending an
  // attempt.
  double send_rate_per_bot = 100;
  double send_rate_per_recipient = 0;
  // A send over a rate limit by at most this long waits in its sender (the
  // recipient's later replies stay behind it, in order); a longer wait puts
  // it back in the outbox, and a later reply to the same chat may overtake it.
  absl::Duration max_send_pacing = absl::Milliseconds(500);
  // Context sent to the model: at most the bot's max_context_messages and this many bytes.
  size_t max_context_bytes = 12000;
  // How long a bot's configuration is reused before it is read again.
  absl::Duration bot_cache_ttl = absl::Seconds(2);
  // Finished rows and messages older than this are purged (seed 004: two years of
  // operational data); zero keeps everything. Rows per table per purge step.
  absl::Duration retention = absl::Hours(24 * 730);
  int purge_batch = 1000;
  // Sent when the model fails for good and the conversation goes to a human.
  std::string handoff_reply = "Vou chamar um atendente humano para continuar. Aguarde um momento.";
  std::function<absl::Time()> now = [] { return absl::Now(); };
  std::function<std::string()> new_id;  // ids of proactive messages (random when empty)
  // Called after new inbox rows / outbox rows are committed (wakes the workers).
  std::function<void()> on_inbox;
  std::function<void()> on_outbox;
  // Alexa (alexa.h): the request verifier (not owned; null: Alexa requests
  // are refused with FAILED_PRECONDITION), the accepted clock skew of
  // request timestamps, the intent slots that carry the user's words (first
  // filled wins), and how long a worker leaves an Alexa inbox row to the
  // request answering it before recording it without an answer.
  AlexaVerifier* alexa_verifier = nullptr;
  absl::Duration alexa_timestamp_tolerance = absl::Seconds(150);
  std::vector<std::string> alexa_utterance_slots = {"query", "text", "utterance"};
  absl::Duration alexa_answer_grace = absl::Seconds(60);
  // Longest wait for the model's answer (Alexa gives up on a skill after ~8 s).
  absl::Duration alexa_reply_timeout = absl::Seconds(6);
  std::string alexa_welcome = "Olá! Em que posso ajudar?";
  std::string alexa_goodbye = "Até logo!";
  std::string alexa_help = "Faça uma pergunta e eu respondo. Para sair, diga pare.";
  std::string alexa_not_understood = "Desculpe, não entendi. Pode repetir a pergunta?";
  std::string alexa_unavailable =
      "Desculpe, não consigo responder agora. Tente de novo daqui a pouco.";
  // Spoken while a person holds the conversation (the words are recorded for them).
  std::string alexa_held = "Uma pessoa da equipe está cuidando da sua conversa. Obrigado!";
};

// --- pure helpers (exposed for tests)

// The bot's problems as field violations under `prefix` (e.g. "bot.").
absl::Status ValidateBot(const BotConfig& bot, const std::string& prefix);
// True for texts that ask for a person ("falar com um atendente", "human", ...).
bool IsHandoffRequest(std::string_view text);
// The model's answer asks for a human when it carries the marker [HANDOFF].
bool IsLowConfidence(std::string_view answer);
// The most recent messages that fit both limits, oldest first (the newest is always kept).
std::vector<Message> TrimContext(std::vector<Message> messages, int max_messages, size_t max_bytes);
// When a proactive message may go: `now`, or the end of the quiet hours in
// progress. INVALID_ARGUMENT for an unknown time zone.
absl::StatusOr<absl::Time> EarliestSend(absl::Time now, const QuietHours& quiet);
// The date in the bot's zone as YYYY-MM-DD.
std::string LocalDay(absl::Time t, const QuietHours& quiet);

class BotManager {
 public:
  BotManager(std::unique_ptr<BotStore> store, std::unique_ptr<ContextCache> cache,
             std::unique_ptr<ReplyModel> model, std::unique_ptr<ChannelSender> sender,
             Secrets secrets, BotManagerOptions options, BotMetrics metrics = {});

  // --- bots
  absl::StatusOr<BotConfig> CreateBot(const std::string& bot_id, BotConfig bot,
                                      const CallContext& ctx);
  absl::StatusOr<BotConfig> GetBot(const std::string& name, const CallContext& ctx);
  absl::StatusOr<Page<BotConfig>> ListBots(int page_size, const std::string& page_token,
                                           const CallContext& ctx);
  // `bot.id` comes from `name`. `mask`: field names of Bot (empty: caller resolved).
  absl::StatusOr<BotConfig> UpdateBot(const std::string& name, const BotConfig& bot,
                                      const std::vector<std::string>& mask, const std::string& etag,
                                      const CallContext& ctx);
  absl::Status DeleteBot(const std::string& name, const CallContext& ctx);

  // --- webhooks
  // The challenge to echo. UNAUTHENTICATED when the token does not match.
  absl::StatusOr<std::string> VerifyWhatsApp(const std::string& bot_id, const std::string& mode,
                                             const std::string& verify_token,
                                             const std::string& challenge, const CallContext& ctx);
  // The request headers (lower-case) a webhook of `channel` is verified with.
  [[nodiscard]] std::vector<std::string> WebhookHeaders(Channel channel) const;
  // Verifies, parses and commits the webhook; returns once it is stored.
  absl::StatusOr<WebhookResult> ReceiveWebhook(Channel channel, const WebhookRequest& req,
                                               const CallContext& ctx);
  // An Alexa skill request (headers signature-256, signature,
  // signaturecertchainurl): verified (alexa.h), answered at once with the
  // Alexa response JSON. An IntentRequest's words go to the model with the
  // conversation's context and the turn is recorded (the answer as an
  // outbox row marked sent). UNAUTHENTICATED for a bad or missing signature,
  // INVALID_ARGUMENT for a stale timestamp, another skill's application id
  // or a malformed body, ALREADY_EXISTS for a request id answered before
  // (nothing stored in all these cases). Defined in channels/alexa/alexa_skill.cc.
  absl::StatusOr<std::string> ReceiveAlexa(const WebhookRequest& req, const CallContext& ctx);

  // --- workers: one step each; the number of rows handled.
  absl::StatusOr<int> ProcessInbox(const CallContext& ctx);
  absl::StatusOr<int> SendOutbox(const CallContext& ctx);

  // --- conversations and handoff
  absl::StatusOr<Page<Conversation>> ListConversations(const std::string& parent,
                                                       const std::string& state, int page_size,
                                                       const std::string& page_token,
                                                       const CallContext& ctx);
  absl::StatusOr<Conversation> GetConversation(const std::string& name, int message_limit,
                                               const CallContext& ctx);
  absl::StatusOr<Page<Conversation>> ListHandoffQueue(int page_size, const std::string& page_token,
                                                      const CallContext& ctx);
  // `agent` empty: the caller's subject.
  absl::StatusOr<Conversation> ClaimConversation(const std::string& name, std::string agent,
                                                 const CallContext& ctx);
  absl::StatusOr<Message> ReplyToConversation(const std::string& name, std::string agent,
                                              const std::string& text,
                                              const std::string& request_id,
                                              const CallContext& ctx);
  absl::StatusOr<Conversation> ReleaseConversation(const std::string& name, std::string agent,
                                                   const CallContext& ctx);

  // --- proactive messages
  absl::StatusOr<ProactiveMessage> CreateProactiveMessage(const std::string& parent,
                                                          const std::string& recipient,
                                                          const std::string& text,
                                                          const std::string& request_id,
                                                          const CallContext& ctx);
  absl::StatusOr<ProactiveMessage> GetProactiveMessage(const std::string& name,
                                                       const CallContext& ctx);
  absl::StatusOr<ProactiveMessage> ApproveProactiveMessage(const std::string& name,
                                                           const CallContext& ctx);

  // --- erasure and inspection
  absl::StatusOr<EraseCounts> EraseContact(const std::string& name, const CallContext& ctx);
  absl::StatusOr<Page<InboxRow>> ListInbox(const std::string& parent, int page_size,
                                           const std::string& page_token, const CallContext& ctx);
  absl::StatusOr<Page<OutboxRow>> ListOutbox(const std::string& parent, int page_size,
                                             const std::string& page_token, const CallContext& ctx);

  // One retention step: deletes up to purge_batch rows per table older than
  // `retention`; the number deleted (0 when nothing is left or retention is off).
  absl::StatusOr<int64_t> PurgeExpired(const CallContext& ctx);

  // After the workers stopped: gives the leases of rows still waiting in
  // memory back to PostgreSQL, so that a restarted process takes them at once.
  absl::Status Drain(const CallContext& ctx);
  // Rows waiting in memory for a worker and for a sender (tests, metrics).
  [[nodiscard]] std::pair<size_t, size_t> handed_waiting() const;
  // Webhooks queued for the inbox writer's next flush (tests, metrics).
  [[nodiscard]] size_t webhooks_waiting() const;

  absl::Status Ready(const CallContext& ctx) { return store_->Ping(ctx); }
  [[nodiscard]] const BotManagerOptions& options() const { return options_; }

 private:
  // A page of a bot's inbox or outbox rows, newest first: `list(bot, before_id, limit)`.
  template <typename Row, typename List>
  absl::StatusOr<Page<Row>> ListNewestFirst(const std::string& parent, int page_size,
                                            const std::string& page_token, const CallContext& ctx,
                                            List list);
  // A bot's configuration, reused for bot_cache_ttl.
  absl::StatusOr<BotConfig> CachedBot(const std::string& id, const CallContext& ctx);
  void ForgetBot(const std::string& id);
  // The conversation of (bot, contact), reused for conversation_cache_ttl.
  absl::StatusOr<Conversation> CachedConversation(const std::string& bot_id,
                                                  const std::string& contact,
                                                  const CallContext& ctx);
  void RememberConversation(const Conversation& c);
  void ForgetConversation(const std::string& bot_id, const std::string& contact);
  // Group-commit flushes (see the committers below).
  absl::StatusOr<std::vector<absl::StatusOr<IngestOutcome>>> FlushIngest(
      const std::vector<IngestItem>& items, absl::Time deadline);
  absl::StatusOr<std::vector<absl::StatusOr<CompletionResult>>> FlushCompletions(
      const std::vector<InboxOutcome>& outcomes, absl::Time deadline);
  absl::StatusOr<std::vector<absl::StatusOr<bool>>> FlushMarks(const std::vector<SentMark>& marks,
                                                               absl::Time deadline);
  absl::StatusOr<std::vector<absl::StatusOr<bool>>> FlushStarts(const std::vector<int64_t>& ids,
                                                                absl::Time deadline);
  // Whether a worker that took `row` answers it now (kRun: the conversation
  // is its own until AnswerInOrder returns), leaves it to the worker that
  // holds the conversation (kQueued: moved into the gate) or gives it back
  // to PostgreSQL behind the conversation's backlog (kBehind). See gates_.
  enum class Admission { kRun, kQueued, kBehind };
  Admission AdmitToGate(InboxRow* row);
  // Answers `row` (admitted with kRun), then the messages of its
  // conversation queued meanwhile, in order.
  void AnswerInOrder(InboxRow row, const CallContext& ctx);
  // Gives inbox rows back to PostgreSQL (the attempt uncounted).
  void GiveBackInbox(const std::vector<int64_t>& ids, const CallContext& ctx);
  // One message: answered, handed off or recorded (nullopt), or given back
  // for a retry of the router at the returned time.
  absl::StatusOr<std::optional<absl::Time>> ProcessOne(const InboxRow& row, const CallContext& ctx);
  // True when the sender that took `row` sends it now (the recipient is its
  // own until SendInOrder returns); false: moved into the recipient's gate
  // for the sender that holds it.
  bool AdmitToSendGate(OutboxRow* row);
  // Sends `row` (admitted), then the replies to its recipient queued meanwhile, in order.
  void SendInOrder(OutboxRow row, const CallContext& ctx);
  absl::Status SendOne(const OutboxRow& row, const CallContext& ctx);
  // The spoken answer to an IntentRequest's words; records the turn (alexa_skill.cc).
  absl::StatusOr<std::string> AlexaTurn(const BotConfig& bot, const AlexaRequest& request,
                                        const std::string& words, const CallContext& ctx);
  absl::StatusOr<int> PageSize(int requested, const char* field) const;
  absl::Duration Backoff(int attempts) const;
  // How long `row` must wait for the rate limits: zero (its tokens taken), at
  // most `reserve` (its tokens taken ahead: send after that wait), or longer
  // (nothing taken).
  absl::Duration SendDelay(const OutboxRow& row, absl::Duration reserve);

  std::unique_ptr<BotStore> store_;
  std::unique_ptr<ContextCache> cache_;
  std::unique_ptr<ReplyModel> model_;
  std::unique_ptr<ChannelSender> sender_;
  Secrets secrets_;
  // The channels whose webhooks go to the inbox (channels/channel_adapter.h).
  const std::map<Channel, std::unique_ptr<ChannelAdapter>> adapters_;
  const BotManagerOptions options_;
  BotMetrics metrics_;

  std::mutex bots_mu_;
  std::map<std::string, std::pair<BotConfig, absl::Time>> bots_;

  struct Bucket {
    double tokens = 0;
    absl::Time refill;
  };
  std::mutex rate_mu_;
  std::map<std::string, Bucket> buckets_;  // "<bot>" and "<bot>/<recipient>"

  // Per conversation (bot, contact), the order of its messages in this
  // process: one worker at a time answers a conversation (messages handed to
  // others meanwhile wait in `waiting`, by id). Once a message waits for a
  // retry of the router, it and every later message of the conversation up
  // to `backlog_to` wait in PostgreSQL, where a claim takes only the oldest
  // waiting message of each conversation; messages handed over in memory go
  // there too until the backlog is answered (or, answered elsewhere, until
  // `backlog_expiry`).
  struct Gate {
    bool busy = false;
    std::deque<std::pair<InboxRow, absl::Time>> waiting;  // with the end of their usable lease
    int64_t backlog_to = 0;
    absl::Time backlog_expiry = absl::InfinitePast();
  };
  std::mutex gates_mu_;
  std::map<std::pair<std::string, std::string>, Gate> gates_;

  // Per recipient (bot, recipient): one sender at a time, so that one chat's
  // replies reach the channel in order; replies handed to other senders
  // meanwhile wait here (by id, with the end of their usable lease).
  struct SendGate {
    bool busy = false;
    std::deque<std::pair<OutboxRow, absl::Time>> waiting;
  };
  std::mutex send_gates_mu_;
  std::map<std::pair<std::string, std::string>, SendGate> send_gates_;

  std::mutex convs_mu_;
  std::map<std::pair<std::string, std::string>, std::pair<Conversation, absl::Time>> convs_;

  // Rows handed over in memory: inbox rows to the workers, replies to the senders.
  HandoffQueue<InboxRow> handed_inbox_{options_.handoff_capacity, options_.claim_interval};
  HandoffQueue<OutboxRow> handed_outbox_{options_.handoff_capacity, options_.claim_interval};

  // Declared last: stopped (flushing what is queued) before the rest goes.
  std::unique_ptr<GroupCommitter<IngestItem, IngestOutcome>> ingest_;
  std::unique_ptr<GroupCommitter<InboxOutcome, CompletionResult>> completions_;
  std::unique_ptr<GroupCommitter<SentMark, bool>> marks_;
  std::unique_ptr<GroupCommitter<int64_t, bool>> starts_;  // "send started" before each send
};

}  // namespace genesis::bot
