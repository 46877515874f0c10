#include "services/bot_manager/context_cache.h"

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/runtime/logging.h"

namespace genesis::bot {

using nlohmann::json;

Secrets EnvironmentSecrets() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (name.empty()) return std::nullopt;
    const char* v = std::getenv(name.c_str());
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
}

namespace {

// KEYS[1] = the generation key, ARGV[1] = "<prefix>ctx:"; the entry's key is
// ARGV[1] .. generation .. ':' .. conversation id.
constexpr char kGetScript[] = R"lua(
local g = redis.call('GET', KEYS[1]) or '0'
return redis.call('GET', ARGV[1] .. g .. ':' .. ARGV[2])
)lua";
// ARGV[2] = id, ARGV[3] = value, ARGV[4] = ttl ms.
constexpr char kPutScript[] = R"lua(
local g = redis.call('GET', KEYS[1]) or '0'
redis.call('SET', ARGV[1] .. g .. ':' .. ARGV[2], ARGV[3], 'PX', ARGV[4])
return 1
)lua";
// ARGV[2..] = ids; how many entries were removed.
constexpr char kEraseScript[] = R"lua(
local g = redis.call('GET', KEYS[1]) or '0'
local n = 0
for i = 2, #ARGV do n = n + redis.call('DEL', ARGV[1] .. g .. ':' .. ARGV[i]) end
return n
)lua";

}  // namespace

std::string RedisContextCache::Key(int64_t generation, int64_t conversation_id) const {
  return absl::StrCat(prefix_, "ctx:", generation, ":", conversation_id);
}

std::optional<std::vector<Message>> RedisContextCache::Get(int64_t conversation_id,
                                                           const CallContext& ctx) {
  if (!generation_.Usable(ctx.deadline)) {
    Logger("bot.cache")->warn("context cache unusable until its generation moves on");
    return std::nullopt;
  }
  auto r = generation_.Read({"EVAL", kGetScript, "1", generation_.key(),
                             prefix_ + "ctx:", std::to_string(conversation_id)},
                            ctx.deadline);
  if (!r.ok() || (r->type != RedisReply::Type::kString && r->type != RedisReply::Type::kNil)) {
    Logger("bot.cache")
        ->warn("context cache read failed: {}",
               r.ok() ? r->str : std::string(r.status().message()));
    return std::nullopt;
  }
  if (r->type == RedisReply::Type::kNil) return std::nullopt;
  json j = json::parse(r->str, nullptr, false);
  if (!j.is_array()) return std::nullopt;
  std::vector<Message> out;
  for (const auto& m : j) {
    if (!m.is_object()) return std::nullopt;
    out.push_back({m.value("a", ""), m.value("g", ""), m.value("t", ""),
                   absl::FromUnixMicros(m.value("c", int64_t{0}))});
  }
  return out;
}

void RedisContextCache::Put(int64_t conversation_id, const std::vector<Message>& messages,
                            const CallContext& ctx) {
  json j = json::array();
  for (const auto& m : messages) {
    j.push_back(
        {{"a", m.author}, {"g", m.agent}, {"t", m.text}, {"c", absl::ToUnixMicros(m.create_time)}});
  }
  if (!generation_.Usable(ctx.deadline)) return;  // a bump is already pending
  auto r = redis_->Command({"EVAL", kPutScript, "1", generation_.key(),
                            prefix_ + "ctx:", std::to_string(conversation_id), j.dump(),
                            std::to_string(absl::ToInt64Milliseconds(ttl_))},
                           ctx.deadline);
  if (!r.ok() || r->type == RedisReply::Type::kError) {
    // The entry may still hold an older context: it must not be read back.
    generation_.WriteFailed();
    Logger("bot.cache")
        ->warn("context cache write failed: {}",
               r.ok() ? r->str : std::string(r.status().message()));
  }
}

int64_t RedisContextCache::Erase(const std::vector<int64_t>& conversation_ids,
                                 const CallContext& ctx) {
  if (conversation_ids.empty()) return 0;
  if (!generation_.Usable(ctx.deadline)) {
    generation_.WriteFailed();
    Logger("bot.cache")->warn("context cache erase failed: Redis unreachable");
    return 0;
  }
  std::vector<std::string> argv = {"EVAL", kEraseScript, "1", generation_.key(), prefix_ + "ctx:"};
  for (int64_t id : conversation_ids) argv.push_back(std::to_string(id));
  auto r = redis_->Command(argv, ctx.deadline);
  if (!r.ok() || r->type != RedisReply::Type::kInteger) {
    generation_.WriteFailed();
    Logger("bot.cache")->warn("context cache erase failed");
    return 0;
  }
  return r->integer;
}

}  // namespace genesis::bot
