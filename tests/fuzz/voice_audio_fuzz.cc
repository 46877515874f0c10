// Audio validation of the voice service (services/voice/audio.h): what a
// client uploads to Transcribe. The first byte picks: 'w' a WAV file, 'p'
// raw PCM at 16 kHz, 'h' an HTTP body ("Content-Type line\n" then the
// bytes), anything else the encoding is guessed.
// Invariants: a refusal is INVALID_ARGUMENT; decoded audio has a rate and
// duration within the limits, and encoded back to WAV decodes to itself.
#include <cstdint>
#include <string>
#include <string_view>

#include "services/voice/audio.h"
#include "tests/fuzz/fuzz_util.h"

namespace {

using namespace genesis::voice;

void Check(const absl::StatusOr<PcmAudio>& pcm, const AudioLimits& limits) {
  if (!pcm.ok()) {
    FUZZ_CHECK(pcm.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  FUZZ_CHECK(pcm->sample_rate_hz >= limits.min_rate_hz &&
             pcm->sample_rate_hz <= limits.max_rate_hz);
  FUZZ_CHECK(pcm->duration() <= limits.max_duration);
  AudioBlob again{EncodeWav(*pcm), Encoding::kWav, 0};
  auto round = DecodeAudio(again, limits, "audio");
  FUZZ_CHECK(round.ok() && round->samples == pcm->samples &&
             round->sample_rate_hz == pcm->sample_rate_hz);
  FUZZ_CHECK(EncodePcm16(*pcm).size() == 2 * pcm->samples.size());
  if (pcm->samples.size() < 20000) (void)Resample(*pcm, 16000);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char mode = static_cast<char>(data[0]);
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  AudioLimits limits;
  limits.max_duration = absl::Seconds(2);  // small, so the limit is reachable
  if (mode == 'h') {
    const size_t nl = bytes.find('\n');
    const std::string content_type = bytes.substr(0, nl);
    std::string body = nl == std::string::npos ? "" : bytes.substr(nl + 1);
    auto blob = BlobFromHttpBody(content_type, std::move(body), "audio");
    if (!blob.ok()) {
      FUZZ_CHECK(blob.status().code() == absl::StatusCode::kInvalidArgument);
      return 0;
    }
    Check(DecodeAudio(*blob, limits, "audio"), limits);
    return 0;
  }
  AudioBlob blob;
  blob.data = std::move(bytes);
  if (mode == 'w') blob.encoding = Encoding::kWav;
  if (mode == 'p') {
    blob.encoding = Encoding::kPcm16;
    blob.sample_rate_hz = 16000;
  }
  Check(DecodeAudio(blob, limits, "audio"), limits);
  return 0;
}
