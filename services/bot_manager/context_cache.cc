#include "services/bot_manager/context_cache.h"

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

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

std::string RedisContextCache::Key(int64_t conversation_id) const {
  return absl::StrCat(prefix_, "ctx:", conversation_id);
}

std::optional<std::vector<Message>> RedisContextCache::Get(int64_t conversation_id,
                                                           const CallContext& ctx) {
  auto v = redis_->Get(Key(conversation_id), ctx.deadline);
  if (!v.ok()) {
    Logger("bot.cache")->warn("context cache read failed: {}", v.status().message());
    return std::nullopt;
  }
  if (!v->has_value()) return std::nullopt;
  json j = json::parse(**v, nullptr, false);
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
  if (auto st = redis_->Set(Key(conversation_id), j.dump(), ttl_, ctx.deadline); !st.ok()) {
    Logger("bot.cache")->warn("context cache write failed: {}", st.message());
  }
}

int64_t RedisContextCache::Erase(const std::vector<int64_t>& conversation_ids,
                                 const CallContext& ctx) {
  if (conversation_ids.empty()) return 0;
  std::vector<std::string> argv = {"DEL"};
  for (int64_t id : conversation_ids) argv.push_back(Key(id));
  auto r = redis_->Command(argv, ctx.deadline);
  if (!r.ok() || r->type != RedisReply::Type::kInteger) {
    Logger("bot.cache")->warn("context cache erase failed");
    return 0;
  }
  return r->integer;
}

}  // namespace genesis::bot
