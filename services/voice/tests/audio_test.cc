#include "services/voice/audio.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "common/base/status.h"

namespace genesis::voice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

PcmAudio Tone(int rate, double seconds) {
  PcmAudio a;
  a.sample_rate_hz = rate;
  for (int i = 0; i < static_cast<int>(rate * seconds); ++i) {
    a.samples.push_back(static_cast<int16_t>(10000 * std::sin(2 * M_PI * 300.0 * i / rate)));
  }
  return a;
}

std::string FieldMessage(const absl::Status& st) {
  auto v = FieldViolationsOf(st);
  return v.empty() ? "" : v[0].first + ": " + v[0].second;
}

TEST(DecodeAudio, WavRoundTripKeepsRateAndSamples) {
  PcmAudio in = Tone(16000, 0.5);
  auto out = DecodeAudio({EncodeWav(in), Encoding::kUnspecified, 0}, {}, "audio.data");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->sample_rate_hz, 16000);
  EXPECT_EQ(out->samples, in.samples);
  EXPECT_EQ(out->duration(), absl::Milliseconds(500));
}

TEST(DecodeAudio, StereoIsMixedToMono) {
  std::string wav = EncodeWav(Tone(8000, 0.1));
  // Rewrite as stereo: channels 2, byte rate x2, block align 4; each frame
  // holds (s, -s + 2) so the mix is 1.
  PcmAudio mono = Tone(8000, 0.1);
  std::string data;
  for (int16_t s : mono.samples) {
    const int16_t r = static_cast<int16_t>(2 - s);
    for (int16_t v : {s, r}) {
      data.push_back(static_cast<char>(v & 0xFF));
      data.push_back(static_cast<char>((v >> 8) & 0xFF));
    }
  }
  std::string header = wav.substr(0, 44);
  header[22] = 2;
  const uint32_t byte_rate = 8000 * 4;
  for (int i = 0; i < 4; ++i) header[28 + i] = static_cast<char>((byte_rate >> (8 * i)) & 0xFF);
  header[32] = 4;
  const uint32_t n = static_cast<uint32_t>(data.size());
  for (int i = 0; i < 4; ++i) header[40 + i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  auto out = DecodeAudio({header + data, Encoding::kWav, 0}, {}, "audio.data");
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->samples.size(), mono.samples.size());
  EXPECT_EQ(out->samples[10], 1);
}

TEST(DecodeAudio, TruncatedWavSaysHowManyBytesAreMissing) {
  std::string wav = EncodeWav(Tone(16000, 0.2));
  auto out = DecodeAudio({wav.substr(0, wav.size() - 1000), Encoding::kWav, 0}, {}, "audio.data");
  ASSERT_TRUE(absl::IsInvalidArgument(out.status()));
  EXPECT_THAT(FieldMessage(out.status()), HasSubstr("audio.data: WAV file truncated"));
  EXPECT_THAT(std::string(out.status().message()), HasSubstr("declares 6400 bytes but only 5400"));
}

TEST(DecodeAudio, HeaderOnlyAndGarbageAreRefused) {
  std::string wav = EncodeWav(Tone(16000, 0.2));
  EXPECT_THAT(FieldMessage(DecodeAudio({wav.substr(0, 30), Encoding::kWav, 0}, {}, "a").status()),
              HasSubstr("fmt chunk is incomplete"));
  EXPECT_THAT(FieldMessage(DecodeAudio({"RIFFxxxxJUNK", Encoding::kWav, 0}, {}, "a").status()),
              HasSubstr("not a WAV file"));
  EXPECT_THAT(FieldMessage(DecodeAudio({"", Encoding::kWav, 0}, {}, "a").status()),
              HasSubstr("no audio was sent"));
}

TEST(DecodeAudio, UnsupportedWidthRateAndFormatAreNamed) {
  std::string wav = EncodeWav(Tone(16000, 0.1));
  std::string eight_bit = wav;
  eight_bit[34] = 8;
  EXPECT_THAT(FieldMessage(DecodeAudio({eight_bit, Encoding::kWav, 0}, {}, "a").status()),
              HasSubstr("sample width 8 bits is not supported"));
  std::string floats = wav;
  floats[20] = 3;
  EXPECT_THAT(FieldMessage(DecodeAudio({floats, Encoding::kWav, 0}, {}, "a").status()),
              HasSubstr("WAV format 3 is not supported"));
  EXPECT_THAT(
      FieldMessage(DecodeAudio({EncodeWav(Tone(4000, 0.1)), Encoding::kWav, 0}, {}, "a").status()),
      HasSubstr("sample rate 4000 Hz is not supported"));
}

TEST(DecodeAudio, AnUnsupportedRateOfRawPcmNamesTheRateFieldNotTheData) {
  const std::string pcm(3200, '\0');
  auto v = FieldViolationsOf(DecodeAudio({pcm, Encoding::kPcm16, 5}, {}, "audio.data").status());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].first, "audio.sample_rate_hz");
  EXPECT_THAT(v[0].second, HasSubstr("sample rate 5 Hz is not supported"));
  // A WAV file's rate is in its header, inside the data.
  v = FieldViolationsOf(
      DecodeAudio({EncodeWav(Tone(4000, 0.1)), Encoding::kWav, 0}, {}, "audio.data").status());
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].first, "audio.data");
}

TEST(DecodeAudio, DurationAndSizeLimits) {
  AudioLimits limits;
  limits.max_duration = absl::Seconds(1);
  auto too_long =
      DecodeAudio({EncodeWav(Tone(8000, 1.5)), Encoding::kWav, 0}, limits, "audio.data");
  EXPECT_THAT(FieldMessage(too_long.status()), HasSubstr("longer than the limit of 1s"));
  limits.max_bytes = 1000;
  auto too_big =
      DecodeAudio({std::string(1001, 'x'), Encoding::kPcm16, 8000}, limits, "audio.data");
  EXPECT_THAT(FieldMessage(too_big.status()), HasSubstr("1001 bytes is larger than the limit"));
}

TEST(DecodeAudio, RawPcmNeedsARateAndWholeSamples) {
  EXPECT_THAT(FieldMessage(DecodeAudio({"abcd", Encoding::kUnspecified, 0}, {}, "a").status()),
              HasSubstr("set encoding AUDIO_ENCODING_PCM16 and sample_rate_hz"));
  EXPECT_THAT(FieldMessage(DecodeAudio({"abc", Encoding::kPcm16, 16000}, {}, "a").status()),
              HasSubstr("truncated (odd byte count)"));
  auto ok = DecodeAudio({EncodePcm16(Tone(16000, 0.1)), Encoding::kUnspecified, 16000}, {}, "a");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->samples.size(), 1600u);
}

TEST(BlobFromHttpBody, ContentTypes) {
  auto wav = BlobFromHttpBody("audio/wav", "RIFF", "http_body");
  ASSERT_TRUE(wav.ok());
  EXPECT_EQ(wav->encoding, Encoding::kWav);
  auto l16 =
      BlobFromHttpBody("audio/L16; rate=8000; channels=1", std::string("\x01\x02", 2), "http_body");
  ASSERT_TRUE(l16.ok()) << l16.status();
  EXPECT_EQ(l16->sample_rate_hz, 8000);
  EXPECT_EQ(l16->data, std::string("\x02\x01", 2));  // big-endian turned little-endian
  EXPECT_THAT(FieldMessage(BlobFromHttpBody("audio/L16", "", "http_body").status()),
              HasSubstr("needs its rate"));
  EXPECT_THAT(FieldMessage(BlobFromHttpBody("application/json", "{}", "http_body").status()),
              HasSubstr("http_body: Content-Type 'application/json' is not audio"));
}

TEST(Resample, ChangesLengthByTheRatio) {
  PcmAudio in = Tone(22050, 1.0);
  PcmAudio out = Resample(in, 16000);
  EXPECT_EQ(out.sample_rate_hz, 16000);
  EXPECT_NEAR(static_cast<double>(out.samples.size()), 16000, 2);
  // A 300 Hz tone keeps its loudness through the filter.
  int peak = 0;
  for (int16_t s : out.samples) peak = std::max(peak, std::abs(static_cast<int>(s)));
  EXPECT_GT(peak, 9000);
}

TEST(SplitSentences, KeepsPunctuationAndNumbers) {
  EXPECT_THAT(SplitSentences("Olá! Custa 3.5 reais.\nE agora?  Fim"),
              ElementsAre("Olá!", "Custa 3.5 reais.", "E agora?", "Fim"));
  EXPECT_TRUE(SplitSentences("  \n ").empty());
}

TEST(Languages, MatchByRegionOrBareLanguage) {
  EXPECT_TRUE(LanguageMatches("en", "en-US"));
  EXPECT_TRUE(LanguageMatches("EN_us", "en-US"));
  EXPECT_FALSE(LanguageMatches("pt-BR", "en-US"));
  EXPECT_FALSE(LanguageMatches("en-GB", "en-US"));
  EXPECT_EQ(DisplayLanguage("pt_br"), "pt-BR");
}

}  // namespace
}  // namespace genesis::voice
