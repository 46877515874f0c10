#include "services/bot_manager/pipeline/reply_rules.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace genesis::bot {

bool IsHandoffRequest(std::string_view text) {
  // Whole words only ("humanidade" is not a request for a human). Bytes of
  // UTF-8 sequences count as letters, so "alguém" stays one word.
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (absl::ascii_isalnum(c) || static_cast<unsigned char>(c) >= 0x80) {
      word.push_back(absl::ascii_tolower(c));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  static const std::vector<std::vector<std::string>> kPhrases = {{"atendente"},
                                                                 {"atendentes"},
                                                                 {"humano"},
                                                                 {"humana"},
                                                                 {"human"},
                                                                 {"operador"},
                                                                 {"operator"},
                                                                 {"representative"},
                                                                 {"falar", "com", "uma", "pessoa"},
                                                                 {"falar", "com", "alguém"},
                                                                 {"falar", "com", "alguem"},
                                                                 {"real", "person"},
                                                                 {"talk", "to", "a", "person"},
                                                                 {"speak", "to", "a", "person"}};
  for (size_t i = 0; i < words.size(); ++i) {
    for (const auto& phrase : kPhrases) {
      if (i + phrase.size() <= words.size() &&
          std::equal(phrase.begin(), phrase.end(), words.begin() + static_cast<long>(i))) {
        return true;
      }
    }
  }
  return false;
}

bool IsLowConfidence(std::string_view answer) {
  return absl::StrContains(absl::string_view(answer.data(), answer.size()), "[HANDOFF]");
}

std::vector<Message> TrimContext(std::vector<Message> messages, int max_messages,
                                 size_t max_bytes) {
  size_t keep = 0;
  size_t bytes = 0;
  for (size_t i = messages.size(); i > 0; --i) {
    const size_t b = messages[i - 1].text.size();
    if (keep > 0 && (static_cast<int>(keep) >= max_messages || bytes + b > max_bytes)) break;
    bytes += b;
    ++keep;
  }
  messages.erase(messages.begin(), messages.end() - static_cast<long>(keep));
  return messages;
}

}  // namespace genesis::bot
