#include "services/bot_manager/conversations/conversations.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/base/status.h"
#include "common/base/text.h"
#include "common/runtime/logging.h"
#include "services/bot_manager/resource_names.h"

namespace genesis::bot {
namespace {

// The position in a page token of list `kind` for `scope` (common/base/paging.h):
// an offset or a row id.
absl::StatusOr<int64_t> PositionOf(const std::string& token, absl::string_view kind,
                                   absl::string_view scope) {
  GENESIS_ASSIGN_OR_RETURN(std::string position, DecodePageToken(token, kind, scope));
  auto n = ParseNonNegative(position, "page_token");
  if (!n.ok()) return InvalidField("page_token", "is not a token this service issued");
  return n;
}

// The scope of a page of a bot's conversations: the bot and the state filter.
std::string ConversationsScope(const std::string& bot_id, const std::string& state) {
  return absl::StrCat(bot_id, ".", absl::WebSafeBase64Escape(state));
}

}  // namespace

Conversations::Conversations(ConversationStore* store, BotRegistry* bots,
                             ConversationCache* conversations, ContextCache* context,
                             ReplyPipeline* pipeline, const BotManagerOptions& options,
                             const BotMetrics& metrics)
    : store_(store),
      bots_(bots),
      conversations_(conversations),
      context_(context),
      pipeline_(pipeline),
      options_(options),
      metrics_(metrics) {}

absl::StatusOr<Page<Conversation>> Conversations::ListConversations(const std::string& parent,
                                                                    const std::string& state,
                                                                    int page_size,
                                                                    const std::string& page_token,
                                                                    const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(parent, "parent", nullptr));
  GENESIS_ASSIGN_OR_RETURN(int limit,
                           PageSize(page_size, options_.default_page_size, options_.max_page_size));
  if (std::string problem = StorableTextProblem(state); !problem.empty()) {
    return InvalidField("state", problem);
  }
  const std::string scope = ConversationsScope(parts[1], state);
  int64_t offset = 0;
  if (!page_token.empty()) {
    GENESIS_ASSIGN_OR_RETURN(offset, PositionOf(page_token, "conversations", scope));
  }
  GENESIS_RETURN_IF_ERROR(bots_->Read(parts[1], ctx).status());
  GENESIS_ASSIGN_OR_RETURN(
      auto convs,
      store_->ListConversations(parts[1], state, static_cast<int>(offset), limit + 1, ctx));
  Page<Conversation> page;
  if (static_cast<int>(convs.size()) > limit) {
    convs.resize(limit);
    page.next_page_token = EncodePageToken("conversations", scope, absl::StrCat(offset + limit));
  }
  page.values = std::move(convs);
  return page;
}

absl::StatusOr<Conversation> Conversations::GetConversation(const std::string& name,
                                                            int message_limit,
                                                            const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "name", "conversations"));
  GENESIS_ASSIGN_OR_RETURN(int64_t id, ConversationIdOf(parts, "name"));
  if (message_limit < 0 || message_limit > 500) {
    return InvalidField("message_limit", "must be 0-500");
  }
  return store_->GetConversation(parts[1], id, message_limit == 0 ? 50 : message_limit, ctx);
}

absl::StatusOr<Page<Conversation>> Conversations::ListHandoffQueue(int page_size,
                                                                   const std::string& page_token,
                                                                   const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(int limit,
                           PageSize(page_size, options_.default_page_size, options_.max_page_size));
  int64_t offset = 0;
  if (!page_token.empty()) {
    GENESIS_ASSIGN_OR_RETURN(offset, PositionOf(page_token, "handoff", "-"));
  }
  GENESIS_ASSIGN_OR_RETURN(auto convs,
                           store_->ListHandoffQueue(static_cast<int>(offset), limit + 1, ctx));
  Page<Conversation> page;
  if (static_cast<int>(convs.size()) > limit) {
    convs.resize(limit);
    page.next_page_token = EncodePageToken("handoff", "-", absl::StrCat(offset + limit));
  }
  page.values = std::move(convs);
  return page;
}

namespace {
absl::Status ResolveAgent(std::string* agent, const CallContext& ctx) {
  if (agent->empty()) *agent = ctx.subject;
  if (agent->empty()) {
    return InvalidField("agent", "required (no caller identity came with the call)");
  }
  if (agent->size() > 200) return InvalidField("agent", "at most 200 bytes");
  if (std::string problem = StorableTextProblem(*agent); !problem.empty()) {
    return InvalidField("agent", problem);
  }
  return absl::OkStatus();
}
}  // namespace

absl::StatusOr<Conversation> Conversations::ClaimConversation(const std::string& name,
                                                              std::string agent,
                                                              const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "name", "conversations"));
  GENESIS_ASSIGN_OR_RETURN(int64_t id, ConversationIdOf(parts, "name"));
  GENESIS_RETURN_IF_ERROR(ResolveAgent(&agent, ctx));
  auto conv = store_->Claim(parts[1], id, agent, ctx);
  if (conv.ok()) conversations_->Remember(*conv);
  return conv;
}

absl::StatusOr<Message> Conversations::ReplyToConversation(const std::string& name,
                                                           std::string agent,
                                                           const std::string& text,
                                                           const std::string& request_id,
                                                           const CallContext& ctx) {
  // Every violation in one answer, the name's among them.
  FieldViolations v;
  std::vector<std::string> parts;
  int64_t id = 0;
  auto add = [&v](const absl::Status& st) {
    for (auto& [field, what] : FieldViolationsOf(st)) v.Add(field, what);
  };
  if (auto split = SplitName(name, "name", "conversations"); !split.ok()) {
    add(split.status());
  } else if (auto conversation = ConversationIdOf(*split, "name"); !conversation.ok()) {
    add(conversation.status());
  } else {
    parts = *std::move(split);
    id = *conversation;
  }
  if (auto st = ResolveAgent(&agent, ctx); !st.ok()) v.Add("agent", std::string(st.message()));
  if (absl::StripAsciiWhitespace(text).empty()) v.Add("text", "required");
  if (text.size() > kMaxTextBytes) v.Add("text", absl::StrCat("at most ", kMaxTextBytes, " bytes"));
  CheckStorableText("text", text, &v);
  if (request_id.size() > 100) v.Add("request_id", "at most 100 bytes");
  CheckStorableText("request_id", request_id, &v);
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  GENESIS_ASSIGN_OR_RETURN(BotConfig bot, bots_->Cached(parts[1], ctx));
  if (bot.channel == Channel::kAlexa) {
    return absl::FailedPreconditionError(
        "an Alexa bot speaks only in answer to a request: a person cannot write to its users");
  }
  auto msg = store_->HumanReply(parts[1], id, agent, text, request_id, bot.sandbox, ctx);
  if (msg.ok()) {
    context_->Erase({id}, ctx);
    pipeline_->OutboxWritten();
  }
  return msg;
}

absl::StatusOr<Conversation> Conversations::ReleaseConversation(const std::string& name,
                                                                std::string agent,
                                                                const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "name", "conversations"));
  GENESIS_ASSIGN_OR_RETURN(int64_t id, ConversationIdOf(parts, "name"));
  GENESIS_RETURN_IF_ERROR(ResolveAgent(&agent, ctx));
  auto conv = store_->Release(parts[1], id, agent, ctx);
  if (conv.ok()) {
    context_->Erase({id}, ctx);
    conversations_->Remember(*conv);
  }
  return conv;
}

absl::StatusOr<EraseCounts> Conversations::EraseContact(const std::string& name,
                                                        const CallContext& ctx) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(name, "name", "contacts"));
  GENESIS_ASSIGN_OR_RETURN(auto erased, store_->EraseContact(parts[1], parts[3], ctx));
  conversations_->Forget(parts[1], parts[3]);
  erased.first.cache = context_->Erase(erased.second, ctx);
  Logger("bot")->info("erased contact {} of bot {}: {} messages, {} conversations",
                      MaskForLog(parts[3]), parts[1], erased.first.messages,
                      erased.first.conversations);
  return erased.first;
}

absl::StatusOr<int64_t> Conversations::PurgeExpired(const CallContext& ctx) {
  if (options_.retention <= absl::ZeroDuration()) return 0;
  GENESIS_ASSIGN_OR_RETURN(
      int64_t n,
      store_->PurgeBefore(options_.clock->Now() - options_.retention, options_.purge_batch, ctx));
  Inc(metrics_.purged, static_cast<double>(n));
  return n;
}

template <typename Row, typename List>
absl::StatusOr<Page<Row>> Conversations::ListNewestFirst(const char* kind,
                                                         const std::string& parent, int page_size,
                                                         const std::string& page_token,
                                                         const CallContext& ctx, List list) {
  GENESIS_ASSIGN_OR_RETURN(auto parts, SplitName(parent, "parent", nullptr));
  GENESIS_ASSIGN_OR_RETURN(int limit,
                           PageSize(page_size, options_.default_page_size, options_.max_page_size));
  int64_t before = INT64_MAX;
  if (!page_token.empty()) {
    GENESIS_ASSIGN_OR_RETURN(before, PositionOf(page_token, kind, parts[1]));
  }
  GENESIS_RETURN_IF_ERROR(bots_->Read(parts[1], ctx).status());
  GENESIS_ASSIGN_OR_RETURN(std::vector<Row> rows, list(parts[1], before, limit + 1));
  Page<Row> page;
  if (static_cast<int>(rows.size()) > limit) {
    rows.resize(limit);
    page.next_page_token = EncodePageToken(kind, parts[1], absl::StrCat(rows.back().id));
  }
  page.values = std::move(rows);
  return page;
}

absl::StatusOr<Page<InboxRow>> Conversations::ListInbox(const std::string& parent, int page_size,
                                                        const std::string& page_token,
                                                        const CallContext& ctx) {
  return ListNewestFirst<InboxRow>("inbox", parent, page_size, page_token, ctx,
                                   [&](const std::string& bot, int64_t before, int limit) {
                                     return store_->ListInbox(bot, before, limit, ctx);
                                   });
}

absl::StatusOr<Page<OutboxRow>> Conversations::ListOutbox(const std::string& parent, int page_size,
                                                          const std::string& page_token,
                                                          const CallContext& ctx) {
  return ListNewestFirst<OutboxRow>("outbox", parent, page_size, page_token, ctx,
                                    [&](const std::string& bot, int64_t before, int limit) {
                                      return store_->ListOutbox(bot, before, limit, ctx);
                                    });
}

}  // namespace genesis::bot
