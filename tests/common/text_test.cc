// Storable text: what PostgreSQL refuses (NUL, invalid UTF-8) is found and
// named, or replaced by U+FFFD without touching valid text; PgArray literals
// stay whole whatever bytes their values hold.
#include "common/base/text.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "common/storage/pg_array.h"

namespace genesis {
namespace {

using namespace std::string_literals;

TEST(StorableTextTest, ValidUtf8WithoutNulIsStorable) {
  for (const std::string& s : {""s, "olá, São João"s, "meu CPF é 123"s, "\xF0\x9F\x98\x80 emoji"s,
                               "\xEF\xBF\xBD"s, "\xF4\x8F\xBF\xBF"s}) {
    EXPECT_TRUE(IsStorableText(s)) << s;
    EXPECT_EQ(StorableTextProblem(s), "") << s;
    EXPECT_EQ(ToStorableText(s), s);
  }
}

TEST(StorableTextTest, NulAndInvalidUtf8AreNamed) {
  EXPECT_FALSE(IsStorableText("a\0b"s));
  EXPECT_EQ(StorableTextProblem("a\0b"s), "must not contain NUL characters (U+0000)");
  for (const std::string& s :
       {"\xFF"s, "a\xC3"s, "\xC0\xAF"s /* overlong */, "\xED\xA0\x80"s /* surrogate */,
        "\xF4\x90\x80\x80"s /* > U+10FFFF */, "\x80"s, "\xE2\x82"s}) {
    EXPECT_FALSE(IsStorableText(s)) << s;
    EXPECT_TRUE(absl::StartsWith(StorableTextProblem(s), "must be valid UTF-8 (byte 0x")) << s;
  }
  EXPECT_EQ(StorableTextProblem("ab\xFF"), "must be valid UTF-8 (byte 0xff at offset 2 is not)");
}

TEST(StorableTextTest, CheckAddsAViolationNamingTheField) {
  FieldViolations v;
  EXPECT_TRUE(CheckStorableText("bot.display_name", "Suporte", &v));
  EXPECT_FALSE(CheckStorableText("bot.display_name", "Sup\0orte"s, &v));
  auto violations = FieldViolationsOf(v.ToStatus());
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].first, "bot.display_name");
  EXPECT_EQ(violations[0].second, "must not contain NUL characters (U+0000)");
}

TEST(StorableTextTest, ReplacementKeepsEverythingValidAndReplacesEachBadPart) {
  EXPECT_EQ(ToStorableText("meu\0CPF"s),
            "meu\xEF\xBF\xBD"
            "CPF");
  EXPECT_EQ(ToStorableText("a\xFF\xFE"
                           "b"),
            "a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b");
  // A truncated sequence is one bad part; what follows it is kept.
  EXPECT_EQ(ToStorableText("\xE2\x82"
                           "x"),
            "\xEF\xBF\xBD"
            "x");
  EXPECT_EQ(ToStorableText("s\xC3"), "s\xEF\xBF\xBD");
  for (const std::string& s : {"\0\0"s, "\xED\xA0\x80"s, "x\xF0\x9F"s, "\xC0\xAF\xC3\xA9"s}) {
    EXPECT_TRUE(IsStorableText(ToStorableText(s))) << s;
  }
}

TEST(ForCallerTest, UrlsAddressesAndKeysDoNotReachTheCaller) {
  const std::string out = ForCaller(
      "POST http://10.0.3.7:8443/v1beta/models/gemini:generateContent failed; upstream "
      "192.168.1.20:9000 refused; Incorrect API key provided: sk-proj-abc123XYZ; "
      "Authorization: Bearer eyJhbGciOi.x.y; token 9f8e7d6c5b4a39281706f5e4d3c2b1a0",
      1000);
  EXPECT_EQ(out.find("10.0.3.7"), std::string::npos) << out;
  EXPECT_EQ(out.find("generateContent"), std::string::npos) << out;
  EXPECT_EQ(out.find("192.168.1.20"), std::string::npos) << out;
  EXPECT_EQ(out.find("sk-proj"), std::string::npos) << out;
  EXPECT_EQ(out.find("eyJhbGciOi"), std::string::npos) << out;
  EXPECT_EQ(out.find("9f8e7d6c5b4a"), std::string::npos) << out;
  EXPECT_NE(out.find("<url> failed"), std::string::npos) << out;
  EXPECT_NE(out.find("Incorrect API key provided"), std::string::npos) << out;
}

TEST(ForCallerTest, PlainMessagesStayAndLongOnesAreCutOnACharacterBoundary) {
  EXPECT_EQ(ForCaller("max_tokens is too large: 70000. This model supports at most 4096"),
            "max_tokens is too large: 70000. This model supports at most 4096");
  const std::string long_text(300, 'a');
  EXPECT_EQ(ForCaller(long_text, 10), "aaaaaaaaaa...");
  const std::string accents = "ação ação ação";  // 2-byte characters
  const std::string cut = ForCaller(accents, 4);
  EXPECT_TRUE(IsStorableText(cut)) << cut;
  EXPECT_EQ(ForCaller(std::string("bad \xff byte")), "bad \xEF\xBF\xBD byte");
}

TEST(PgArrayTest, EveryValueStaysInsideItsOwnElement) {
  EXPECT_EQ(PgArray(std::vector<std::string>{"a\"b", "c\\d", "", "NULL"}),
            R"({"a\"b","c\\d","","NULL"})");
  // A NUL would have ended the C string (and the literal) early; invalid UTF-8 the statement.
  const std::string literal = PgArray(std::vector<std::string>{"ok", "x\0y"s, "\xFF", "fim"});
  EXPECT_EQ(literal.find('\0'), std::string::npos);
  EXPECT_TRUE(IsStorableText(literal));
  EXPECT_EQ(literal, "{\"ok\",\"x\xEF\xBF\xBDy\",\"\xEF\xBF\xBD\",\"fim\"}");
}

}  // namespace
}  // namespace genesis
