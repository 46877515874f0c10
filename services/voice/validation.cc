#include "services/voice/validation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace genesis::voice {
namespace {

// Code points of valid UTF-8, or -1.
long Utf8Length(const std::string& s) {
  long n = 0;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return -1;
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return -1;
    }
    i += len;
    ++n;
  }
  return n;
}

}  // namespace

void CheckLanguage(const std::string& field, const std::string& language, FieldViolations* v) {
  if (language.empty()) return;
  bool ok = language.size() <= 35 && absl::ascii_isalpha(static_cast<unsigned char>(language[0]));
  for (char c : language) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') ok = false;
  }
  if (!ok) {
    v->Add(field, absl::StrCat("'", language.substr(0, 40),
                               "' is not a language tag such as en-US or pt-BR"));
  }
}

void CheckText(const std::string& field, const std::string& text, size_t max_chars,
               FieldViolations* v) {
  const long n = Utf8Length(text);
  if (n < 0) {
    v->Add(field, "is not valid UTF-8");
  } else if (absl::StripAsciiWhitespace(text).empty()) {
    v->Add(field, "is required: the text to speak");
  } else if (static_cast<size_t>(n) > max_chars) {
    v->Add(field, absl::StrCat("has ", n, " characters; at most ", max_chars,
                               " (use StreamSynthesize for long texts in pieces)"));
  }
}

void CheckOutputFormat(const std::string& field, const OutputFormat& format, FieldViolations* v) {
  if (format.sample_rate_hz != 0 &&
      (format.sample_rate_hz < 8000 || format.sample_rate_hz > 48000)) {
    v->Add(absl::StrCat(field, ".sample_rate_hz"),
           absl::StrCat(format.sample_rate_hz,
                        " Hz is not supported: 0 (the engine's rate) or "
                        "8000-48000"));
  }
}

void CheckCommandMode(const std::vector<std::string>& phrases, const std::string& grammar,
                      FieldViolations* v) {
  if (!phrases.empty() && !grammar.empty()) {
    v->Add("grammar", "give either phrases or a grammar, not both");
  }
  if (phrases.size() > 500) {
    v->Add("phrases", absl::StrCat(phrases.size(), " phrases; at most 500"));
    return;
  }
  for (size_t i = 0; i < phrases.size(); ++i) {
    if (absl::StripAsciiWhitespace(phrases[i]).empty()) {
      v->Add(absl::StrCat("phrases[", i, "]"), "is empty");
    } else if (phrases[i].size() > 200) {
      v->Add(absl::StrCat("phrases[", i, "]"), "is longer than 200 characters");
    }
  }
  if (!grammar.empty() && grammar.find("public") == std::string::npos) {
    v->Add("grammar", "a JSGF grammar needs a public rule: `public <command> = ... ;`");
  }
}

absl::Status ValidateSpeak(const SpeakParams& params, size_t max_chars) {
  FieldViolations v;
  CheckText("text", params.text, max_chars, &v);
  CheckLanguage("language", params.language, &v);
  if (params.voice.size() > 200) v.Add("voice", "is longer than 200 characters");
  CheckOutputFormat("format", params.format, &v);
  return v.ToStatus();
}

absl::Status ValidateListen(const ListenParams& params) {
  FieldViolations v;
  CheckLanguage("language", params.language, &v);
  CheckCommandMode(params.phrases, params.grammar, &v);
  return v.ToStatus();
}

}  // namespace genesis::voice
