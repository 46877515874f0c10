#include "services/voice/audio.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/base/status.h"

namespace genesis::voice {
namespace {

uint32_t Le32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return u[0] | (u[1] << 8) | (u[2] << 16) | (static_cast<uint32_t>(u[3]) << 24);
}
uint16_t Le16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(u[0] | (u[1] << 8));
}
void PutLe32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutLe16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v & 0xFF));
  out->push_back(static_cast<char>(v >> 8));
}

absl::Status CheckRate(int rate, const AudioLimits& limits, const std::string& field) {
  if (rate < limits.min_rate_hz || rate > limits.max_rate_hz) {
    return InvalidField(field, absl::StrCat("sample rate ", rate, " Hz is not supported (",
                                            limits.min_rate_hz, "-", limits.max_rate_hz, " Hz)"));
  }
  return absl::OkStatus();
}

absl::Status CheckDuration(size_t frames, int rate, const AudioLimits& limits,
                           const std::string& field) {
  const absl::Duration d = absl::Seconds(static_cast<double>(frames) / rate);
  if (d > limits.max_duration) {
    return InvalidField(
        field, absl::StrCat("audio lasts ", absl::FormatDuration(d), ", longer than the limit of ",
                            absl::FormatDuration(limits.max_duration)));
  }
  if (frames == 0) return InvalidField(field, "the audio holds no samples");
  return absl::OkStatus();
}

absl::StatusOr<PcmAudio> DecodeWav(const std::string& data, const AudioLimits& limits,
                                   const std::string& field) {
  if (data.size() < 12 || std::memcmp(data.data(), "RIFF", 4) != 0 ||
      std::memcmp(data.data() + 8, "WAVE", 4) != 0) {
    return InvalidField(field, "not a WAV file (no RIFF/WAVE header)");
  }
  size_t pos = 12;
  bool have_fmt = false;
  uint16_t format = 0, channels = 0, bits = 0;
  uint32_t rate = 0;
  while (pos + 8 <= data.size()) {
    const std::string id = data.substr(pos, 4);
    const uint32_t size = Le32(data.data() + pos + 4);
    const size_t body = pos + 8;
    if (id == "fmt ") {
      if (size < 16 || body + 16 > data.size()) {
        return InvalidField(field, "WAV file truncated: the fmt chunk is incomplete");
      }
      format = Le16(data.data() + body);
      channels = Le16(data.data() + body + 2);
      rate = Le32(data.data() + body + 4);
      bits = Le16(data.data() + body + 14);
      if (format == 0xFFFE && size >= 40 && body + 26 <= data.size()) {
        format = Le16(data.data() + body + 24);  // WAVE_FORMAT_EXTENSIBLE sub-format
      }
      have_fmt = true;
    } else if (id == "data") {
      if (!have_fmt) return InvalidField(field, "WAV file has a data chunk before its fmt chunk");
      if (format != 1) {
        return InvalidField(
            field, absl::StrCat("WAV format ", format, " is not supported (only PCM, format 1)"));
      }
      if (bits != 16) {
        return InvalidField(field, absl::StrCat("WAV sample width ", bits,
                                                " bits is not supported (only 16-bit PCM)"));
      }
      if (channels != 1 && channels != 2) {
        return InvalidField(field, absl::StrCat("WAV with ", channels,
                                                " channels is not supported (mono or stereo)"));
      }
      GENESIS_RETURN_IF_ERROR(CheckRate(static_cast<int>(rate), limits, field));
      size_t available = data.size() - body;
      // Streaming writers leave the size at 0 or 0xFFFFFFFF: take what is there.
      size_t length = size;
      if (size == 0 || size == 0xFFFFFFFFu) {
        length = available;
      } else if (size > available) {
        return InvalidField(field, absl::StrCat("WAV file truncated: the data chunk declares ",
                                                size, " bytes but only ", available, " follow"));
      }
      const size_t frame_bytes = 2u * channels;
      if (length % frame_bytes != 0) {
        return InvalidField(field, absl::StrCat("WAV file truncated: ", length,
                                                " data bytes is not a whole number of ",
                                                frame_bytes, "-byte frames"));
      }
      const size_t frames = length / frame_bytes;
      GENESIS_RETURN_IF_ERROR(CheckDuration(frames, static_cast<int>(rate), limits, field));
      PcmAudio out;
      out.sample_rate_hz = static_cast<int>(rate);
      out.samples.resize(frames);
      const char* p = data.data() + body;
      for (size_t i = 0; i < frames; ++i) {
        if (channels == 1) {
          out.samples[i] = static_cast<int16_t>(Le16(p + 2 * i));
        } else {
          const int l = static_cast<int16_t>(Le16(p + 4 * i));
          const int r = static_cast<int16_t>(Le16(p + 4 * i + 2));
          out.samples[i] = static_cast<int16_t>((l + r) / 2);
        }
      }
      return out;
    }
    // Chunks are word-aligned.
    const size_t next = body + static_cast<size_t>(size) + (size & 1u);
    if (next <= pos || next > data.size() + 1) {
      return InvalidField(
          field, absl::StrCat("WAV file truncated: chunk '", absl::CHexEscape(id), "' declares ",
                              size, " bytes past the end of the file"));
    }
    pos = next;
  }
  return InvalidField(
      field, have_fmt ? "WAV file truncated: no data chunk" : "WAV file truncated: no fmt chunk");
}

}  // namespace

absl::StatusOr<PcmAudio> DecodeAudio(const AudioBlob& blob, const AudioLimits& limits,
                                     const std::string& field) {
  if (blob.data.empty()) return InvalidField(field, "no audio was sent");
  if (blob.data.size() > limits.max_bytes) {
    return InvalidField(
        field, absl::StrCat("audio of ", blob.data.size(), " bytes is larger than the limit of ",
                            limits.max_bytes, " bytes"));
  }
  Encoding encoding = blob.encoding;
  if (encoding == Encoding::kUnspecified) {
    if (blob.data.size() >= 4 && std::memcmp(blob.data.data(), "RIFF", 4) == 0) {
      encoding = Encoding::kWav;
    } else if (blob.sample_rate_hz > 0) {
      encoding = Encoding::kPcm16;
    } else {
      return InvalidField(field,
                          "not a WAV file (no RIFF header); for raw PCM 16-bit mono set "
                          "encoding AUDIO_ENCODING_PCM16 and sample_rate_hz");
    }
  }
  if (encoding == Encoding::kWav) return DecodeWav(blob.data, limits, field);
  // Raw PCM: the rate is the caller's sample_rate_hz, beside `field` ("audio.data").
  std::string rate_field = "sample_rate_hz";
  if (const size_t dot = field.rfind('.'); dot != std::string::npos) {
    rate_field = field.substr(0, dot + 1) + rate_field;
  }
  GENESIS_RETURN_IF_ERROR(CheckRate(blob.sample_rate_hz, limits, rate_field));
  if (blob.data.size() % 2 != 0) {
    return InvalidField(field, absl::StrCat("raw PCM 16-bit audio of ", blob.data.size(),
                                            " bytes is truncated (odd byte count)"));
  }
  const size_t frames = blob.data.size() / 2;
  GENESIS_RETURN_IF_ERROR(CheckDuration(frames, blob.sample_rate_hz, limits, field));
  PcmAudio out;
  out.sample_rate_hz = blob.sample_rate_hz;
  out.samples.resize(frames);
  for (size_t i = 0; i < frames; ++i) {
    out.samples[i] = static_cast<int16_t>(Le16(blob.data.data() + 2 * i));
  }
  return out;
}

absl::StatusOr<AudioBlob> BlobFromHttpBody(absl::string_view content_type, std::string data,
                                           const std::string& field) {
  std::vector<std::string> parts = absl::StrSplit(content_type, ';');
  std::string media = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
  AudioBlob blob;
  blob.data = std::move(data);
  if (media == "audio/wav" || media == "audio/x-wav" || media == "audio/wave" ||
      media == "audio/vnd.wave") {
    blob.encoding = Encoding::kWav;
    return blob;
  }
  if (media == "audio/l16") {
    blob.encoding = Encoding::kPcm16;
    for (size_t i = 1; i < parts.size(); ++i) {
      std::pair<std::string, std::string> kv = absl::StrSplit(parts[i], absl::MaxSplits('=', 1));
      std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(kv.first));
      std::string value(absl::StripAsciiWhitespace(kv.second));
      int n = 0;
      if (key == "rate" && absl::SimpleAtoi(value, &n)) blob.sample_rate_hz = n;
      if (key == "channels" && (!absl::SimpleAtoi(value, &n) || n != 1)) {
        return InvalidField(field, "audio/L16 must be mono (channels=1)");
      }
    }
    if (blob.sample_rate_hz <= 0) {
      return InvalidField(field,
                          "audio/L16 needs its rate, e.g. Content-Type: audio/L16;rate=16000");
    }
    // audio/L16 is big-endian (RFC 2586); the engines take little-endian.
    for (size_t i = 0; i + 1 < blob.data.size(); i += 2) std::swap(blob.data[i], blob.data[i + 1]);
    return blob;
  }
  return InvalidField(field, absl::StrCat("Content-Type '", content_type,
                                          "' is not audio this service reads (send audio/wav, or "
                                          "audio/L16;rate=16000 for raw PCM)"));
}

std::string EncodeWav(const PcmAudio& audio) {
  std::string out;
  const uint32_t data_bytes = static_cast<uint32_t>(audio.samples.size() * 2);
  out.reserve(44 + data_bytes);
  out.append("RIFF");
  PutLe32(&out, 36 + data_bytes);
  out.append("WAVEfmt ");
  PutLe32(&out, 16);
  PutLe16(&out, 1);  // PCM
  PutLe16(&out, 1);  // mono
  PutLe32(&out, static_cast<uint32_t>(audio.sample_rate_hz));
  PutLe32(&out, static_cast<uint32_t>(audio.sample_rate_hz * 2));
  PutLe16(&out, 2);   // block align
  PutLe16(&out, 16);  // bits
  out.append("data");
  PutLe32(&out, data_bytes);
  out.append(EncodePcm16(audio));
  return out;
}

std::string EncodePcm16(const PcmAudio& audio) {
  std::string out;
  out.resize(audio.samples.size() * 2);
  for (size_t i = 0; i < audio.samples.size(); ++i) {
    const auto v = static_cast<uint16_t>(audio.samples[i]);
    out[2 * i] = static_cast<char>(v & 0xFF);
    out[2 * i + 1] = static_cast<char>(v >> 8);
  }
  return out;
}

PcmAudio Resample(const PcmAudio& audio, int rate_hz) {
  if (audio.sample_rate_hz == rate_hz || audio.samples.empty() || rate_hz <= 0) {
    PcmAudio same = audio;
    if (rate_hz > 0 && audio.samples.empty()) same.sample_rate_hz = rate_hz;
    return same;
  }
  const double ratio = static_cast<double>(audio.sample_rate_hz) / rate_hz;
  std::vector<float> src(audio.samples.begin(), audio.samples.end());
  if (ratio > 1.0) {
    // Moving average over about one output period: a cheap anti-aliasing filter.
    const int taps = std::max(1, static_cast<int>(std::lround(ratio)));
    if (taps > 1) {
      std::vector<float> filtered(src.size());
      double acc = 0;
      for (size_t i = 0; i < src.size(); ++i) {
        acc += src[i];
        if (i >= static_cast<size_t>(taps)) acc -= src[i - taps];
        const size_t n = std::min<size_t>(i + 1, taps);
        filtered[i] = static_cast<float>(acc / n);
      }
      src.swap(filtered);
    }
  }
  PcmAudio out;
  out.sample_rate_hz = rate_hz;
  const size_t n = static_cast<size_t>(static_cast<double>(src.size()) / ratio);
  out.samples.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double x = i * ratio;
    const size_t k = static_cast<size_t>(x);
    const double f = x - k;
    const float a = src[std::min(k, src.size() - 1)];
    const float b = src[std::min(k + 1, src.size() - 1)];
    const double v = a + (b - a) * f;
    out.samples[i] = static_cast<int16_t>(std::clamp(v, -32768.0, 32767.0));
  }
  return out;
}

std::vector<std::string> SplitSentences(absl::string_view text) {
  std::vector<std::string> out;
  std::string current;
  auto flush = [&] {
    std::string s(absl::StripAsciiWhitespace(current));
    if (!s.empty()) out.push_back(std::move(s));
    current.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n' || c == '\r') {
      flush();
      continue;
    }
    current.push_back(c);
    if (c == '.' || c == '!' || c == '?' || c == ';') {
      // "3.5" and "e.g." stay whole: a sentence ends only before a blank.
      if (i + 1 == text.size() || absl::ascii_isspace(static_cast<unsigned char>(text[i + 1]))) {
        flush();
      }
    }
  }
  flush();
  return out;
}

std::string NormalizeLanguage(absl::string_view language) {
  std::string out = absl::AsciiStrToLower(absl::StripAsciiWhitespace(language));
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

bool LanguageMatches(absl::string_view requested, absl::string_view offered) {
  const std::string r = NormalizeLanguage(requested);
  const std::string o = NormalizeLanguage(offered);
  if (r == o) return true;
  const size_t rd = r.find('-');
  const size_t od = o.find('-');
  if (rd != std::string::npos && od != std::string::npos) return false;
  return r.substr(0, rd) == o.substr(0, od);
}

std::string DisplayLanguage(absl::string_view language) {
  std::string out = NormalizeLanguage(language);
  const size_t dash = out.find('-');
  if (dash != std::string::npos && out.size() - dash - 1 == 2) {
    for (size_t i = dash + 1; i < out.size(); ++i) out[i] = absl::ascii_toupper(out[i]);
  }
  return out;
}

}  // namespace genesis::voice
