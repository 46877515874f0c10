// Audio handling shared by every engine: WAV parsing and writing, raw PCM,
// resampling and the limits on what callers may send.
//
// Inside the service audio is always PcmAudio: 16-bit signed mono samples at
// a known rate. Input is validated here once (header fields, truncation,
// duration and size limits) and every problem is INVALID_ARGUMENT naming the
// field and the reason, so callers know what to fix. Pure functions,
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace genesis::voice {

struct PcmAudio {
  int sample_rate_hz = 16000;
  std::vector<int16_t> samples;  // mono

  [[nodiscard]] absl::Duration duration() const {
    return sample_rate_hz > 0 ? absl::Seconds(static_cast<double>(samples.size()) / sample_rate_hz)
                              : absl::ZeroDuration();
  }
};

enum class Encoding { kUnspecified, kWav, kPcm16 };

// Audio as it arrives: the bytes and what the caller said about them.
struct AudioBlob {
  std::string data;
  Encoding encoding = Encoding::kUnspecified;
  int sample_rate_hz = 0;  // raw PCM only
};

struct AudioLimits {
  absl::Duration max_duration = absl::Seconds(60);
  size_t max_bytes = 5 << 20;  // 60 s of 16-bit mono at 44.1 kHz fits
  int min_rate_hz = 8000;
  int max_rate_hz = 48000;
};

// Decodes `blob`: a RIFF/WAVE file (PCM 16-bit, 1 or 2 channels, stereo is
// mixed down) or raw PCM 16-bit little-endian mono at blob.sample_rate_hz.
// With kUnspecified, a RIFF header means WAV and anything else is refused.
// INVALID_ARGUMENT on `field` (e.g. "audio.data") for an empty, corrupt,
// truncated, unsupported, too long or too large input, saying which.
[[nodiscard]] absl::StatusOr<PcmAudio> DecodeAudio(const AudioBlob& blob, const AudioLimits& limits,
                                                   const std::string& field);

// The AudioBlob for an HTTP body by its Content-Type: audio/wav, audio/x-wav,
// audio/wave -> WAV; audio/L16;rate=N (channels=1) -> raw PCM; anything else
// INVALID_ARGUMENT on `field`.
[[nodiscard]] absl::StatusOr<AudioBlob> BlobFromHttpBody(absl::string_view content_type,
                                                         std::string data,
                                                         const std::string& field);

// A canonical 44-byte-header WAV file (PCM 16-bit mono).
[[nodiscard]] std::string EncodeWav(const PcmAudio& audio);
// The samples as raw little-endian bytes.
[[nodiscard]] std::string EncodePcm16(const PcmAudio& audio);

// `audio` at `rate_hz` (linear interpolation after a short low-pass when
// downsampling). The same audio when the rate already matches.
[[nodiscard]] PcmAudio Resample(const PcmAudio& audio, int rate_hz);

// Splits text into sentences at . ! ? ; and line breaks (keeping the
// punctuation), trimming blanks and dropping empty pieces.
[[nodiscard]] std::vector<std::string> SplitSentences(absl::string_view text);

// Lower-case BCP-47-ish normal form: "pt_BR" -> "pt-br".
[[nodiscard]] std::string NormalizeLanguage(absl::string_view language);
// True when `requested` is served by `offered`: equal, or the same primary
// language when either has no region ("en" ~ "en-us", "en-gb" !~ "en-us"
// unless one side is bare).
[[nodiscard]] bool LanguageMatches(absl::string_view requested, absl::string_view offered);
// "pt-br" -> "pt-BR" for display.
[[nodiscard]] std::string DisplayLanguage(absl::string_view language);

}  // namespace genesis::voice
