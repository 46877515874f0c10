// The bot manager's options: one validated set (main.cc fills it from the
// flags), each component reading its part.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/base/clock.h"
#include "services/bot_manager/channels/alexa/alexa.h"

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
  Clock* clock = Clock::Real();
  std::function<std::string()> new_id;  // ids of proactive messages (random when empty)
  // Threads of the reply pipeline's own worker loops (pipeline/reply_pipeline.h):
  // inbox workers (inbox -> router -> outbox) and outbox senders (outbox ->
  // channel), each step given this long. 0: no loops (tests call the steps).
  int inbox_workers = 0;
  int outbox_workers = 0;
  absl::Duration worker_step_timeout = absl::Seconds(40);
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

}  // namespace genesis::bot
