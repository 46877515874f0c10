#include "services/voice/engines/wyoming.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/base/status.h"
#include "common/runtime/logging.h"

namespace genesis::voice {
namespace {

using nlohmann::json;

constexpr char kVersion[] = "1.5.2";
constexpr size_t kChunkSamples = 1024;

int PollMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(std::min<int64_t>(absl::ToInt64Milliseconds(left) + 1, 60000));
}

absl::Status Expired(const char* what) {
  return absl::DeadlineExceededError(absl::StrCat("Wyoming peer did not ", what, " in time"));
}

// Splits "host:port" (host may be [v6]).
absl::Status SplitAddress(const std::string& address, std::string* host, std::string* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return absl::InvalidArgumentError(absl::StrCat("'", address, "' is not host:port"));
  }
  *host = address.substr(0, colon);
  *port = address.substr(colon + 1);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  return absl::OkStatus();
}

json AudioFormatJson(int rate) { return {{"rate", rate}, {"width", 2}, {"channels", 1}}; }

// What a Wyoming server sends is read field by field: nlohmann's value()
// throws when a field has another type ({"name": 5}), so these give "" / 0
// for a missing field or one of the wrong type (a number out of int range too).
std::string StringField(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

int IntField(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return 0;
  if (it->is_number_unsigned()) {
    const auto v = it->get<uint64_t>();
    return v > static_cast<uint64_t>(INT_MAX) ? 0 : static_cast<int>(v);
  }
  const auto v = it->get<int64_t>();
  return v < INT_MIN || v > INT_MAX ? 0 : static_cast<int>(v);
}

}  // namespace

WyomingConnection::~WyomingConnection() {
  if (fd_ >= 0) ::close(fd_);
}

std::string WyomingConnection::Encode(const WyomingEvent& event) {
  json header = {{"type", event.type}, {"version", kVersion}};
  std::string data;
  if (!event.data.is_null() && !event.data.empty()) {
    data = event.data.dump();
    header["data_length"] = data.size();
  }
  if (!event.payload.empty()) header["payload_length"] = event.payload.size();
  std::string out = header.dump();
  out.push_back('\n');
  out += data;
  out += event.payload;
  return out;
}

absl::Status WyomingConnection::Fill(size_t n, absl::Time deadline) {
  char chunk[16384];
  while (buf_.size() < n) {
    pollfd p{fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, PollMs(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return absl::UnavailableError(absl::StrCat("poll: ", std::strerror(errno)));
    if (r == 0) return Expired("send a whole event");
    const ssize_t got = ::recv(fd_, chunk, std::min(sizeof(chunk), n - buf_.size() + 4096), 0);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got < 0) return absl::UnavailableError(absl::StrCat("recv: ", std::strerror(errno)));
    if (got == 0) {
      return absl::UnavailableError(buf_.empty() ? "the Wyoming peer closed the connection"
                                                 : "the Wyoming peer closed mid-event");
    }
    buf_.append(chunk, static_cast<size_t>(got));
  }
  return absl::OkStatus();
}

absl::StatusOr<WyomingEvent> WyomingConnection::Read(absl::Time deadline) {
  // The header line, never more than max_header_bytes.
  size_t newline = buf_.find('\n');
  while (newline == std::string::npos) {
    if (buf_.size() > limits_.max_header_bytes) {
      return absl::UnavailableError(absl::StrCat("Wyoming header line longer than ",
                                                 limits_.max_header_bytes, " bytes refused"));
    }
    const size_t before = buf_.size();
    GENESIS_RETURN_IF_ERROR(Fill(before + 1, deadline));
    newline = buf_.find('\n', before);
  }
  if (newline > limits_.max_header_bytes) {
    return absl::UnavailableError(absl::StrCat("Wyoming header line of ", newline,
                                               " bytes refused (limit ", limits_.max_header_bytes,
                                               ")"));
  }
  json header = json::parse(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(newline),
                            nullptr, false);
  buf_.erase(0, newline + 1);
  if (!header.is_object() || !header.contains("type") || !header["type"].is_string()) {
    return absl::UnavailableError("Wyoming header is not a JSON object with a string \"type\"");
  }
  WyomingEvent event;
  event.type = header["type"].get<std::string>();
  if (header.contains("data") && header["data"].is_object()) event.data = header["data"];
  auto length_of = [&](const char* key, size_t max, size_t* out) -> absl::Status {
    *out = 0;
    if (!header.contains(key) || header[key].is_null()) return absl::OkStatus();
    if (!header[key].is_number_unsigned()) {
      return absl::UnavailableError(absl::StrCat("Wyoming \"", key, "\" is not a count"));
    }
    *out = header[key].get<size_t>();
    if (*out > max) {
      return absl::UnavailableError(absl::StrCat("Wyoming ", event.type, " ", key, " ", *out,
                                                 " is over the limit of ", max, " bytes"));
    }
    return absl::OkStatus();
  };
  size_t data_length = 0, payload_length = 0;
  GENESIS_RETURN_IF_ERROR(length_of("data_length", limits_.max_data_bytes, &data_length));
  GENESIS_RETURN_IF_ERROR(length_of("payload_length", limits_.max_payload_bytes, &payload_length));
  if (data_length > 0) {
    GENESIS_RETURN_IF_ERROR(Fill(data_length, deadline));
    json extra = json::parse(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(data_length),
                             nullptr, false);
    buf_.erase(0, data_length);
    if (!extra.is_object()) {
      return absl::UnavailableError(absl::StrCat("Wyoming ", event.type, " data is not JSON"));
    }
    event.data.update(extra);
  }
  if (payload_length > 0) {
    GENESIS_RETURN_IF_ERROR(Fill(payload_length, deadline));
    event.payload = buf_.substr(0, payload_length);
    buf_.erase(0, payload_length);
  }
  return event;
}

absl::Status WyomingConnection::Write(const WyomingEvent& event, absl::Time deadline) {
  const std::string bytes = Encode(event);
  size_t sent = 0;
  while (sent < bytes.size()) {
    pollfd p{fd_, POLLOUT, 0};
    const int r = ::poll(&p, 1, PollMs(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return absl::UnavailableError(absl::StrCat("poll: ", std::strerror(errno)));
    if (r == 0) return Expired("take our data");
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) return absl::UnavailableError(absl::StrCat("send: ", std::strerror(errno)));
    sent += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<WyomingConnection>> WyomingConnect(const std::string& address,
                                                                  absl::Time deadline,
                                                                  WyomingLimits limits) {
  std::string host, port;
  GENESIS_RETURN_IF_ERROR(SplitAddress(address, &host, &port));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  // The server's address is internal: it is logged, never put in a status a caller sees.
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    Logger("wyoming")->warn("Wyoming server {}: {}", address, ::gai_strerror(rc));
    return absl::UnavailableError("the Wyoming server's name could not be resolved");
  }
  std::string last = "no address";
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc < 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, PollMs(deadline));
      if (rc == 1) {
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        rc = err == 0 ? 0 : -1;
        errno = err;
      } else {
        rc = -1;
        errno = ETIMEDOUT;
      }
    }
    if (rc == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      ::freeaddrinfo(res);
      return std::make_unique<WyomingConnection>(fd, limits);
    }
    last = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  Logger("wyoming")->warn("Wyoming server {} unreachable: {}", address, last);
  return absl::UnavailableError("the Wyoming server is unreachable");
}

WyomingInfo ParseWyomingInfo(const json& data, const std::string& engine) {
  WyomingInfo info;
  std::set<std::string> langs;
  if (auto asr = data.find("asr"); asr != data.end() && asr->is_array()) {
    for (const auto& program : *asr) {
      if (!program.is_object()) continue;
      if (info.asr_program.empty()) info.asr_program = StringField(program, "name");
      auto models = program.find("models");
      if (models == program.end() || !models->is_array()) continue;
      for (const auto& m : *models) {
        auto l = m.find("languages");
        if (l == m.end() || !l->is_array()) continue;
        for (const auto& s : *l) {
          if (s.is_string() && langs.insert(DisplayLanguage(s.get<std::string>())).second) {
            info.asr_languages.push_back(DisplayLanguage(s.get<std::string>()));
          }
        }
      }
    }
  }
  if (auto tts = data.find("tts"); tts != data.end() && tts->is_array()) {
    for (const auto& program : *tts) {
      if (!program.is_object()) continue;
      if (info.tts_program.empty()) info.tts_program = StringField(program, "name");
      auto voices = program.find("voices");
      if (voices == program.end() || !voices->is_array()) continue;
      for (const auto& v : *voices) {
        if (!v.is_object() || !v.contains("name") || !v["name"].is_string()) continue;
        VoiceInfo vi;
        vi.name = v["name"].get<std::string>();
        vi.engine = engine;
        if (auto l = v.find("languages"); l != v.end() && l->is_array()) {
          for (const auto& s : *l) {
            if (s.is_string()) vi.languages.push_back(DisplayLanguage(s.get<std::string>()));
          }
        }
        info.tts_voices.push_back(std::move(vi));
      }
    }
  }
  return info;
}

absl::Time WyomingClient::Deadline(const CallContext& ctx) const {
  return std::min(ctx.deadline, absl::Now() + timeout_);
}

absl::StatusOr<WyomingInfo> WyomingClient::Describe(const CallContext& ctx) {
  const absl::Time deadline = Deadline(ctx);
  GENESIS_ASSIGN_OR_RETURN(auto conn, WyomingConnect(address_, deadline, limits_));
  GENESIS_RETURN_IF_ERROR(conn->Write({"describe", json::object(), ""}, deadline));
  for (;;) {
    GENESIS_ASSIGN_OR_RETURN(WyomingEvent ev, conn->Read(deadline));
    if (ev.type == "info") return ParseWyomingInfo(ev.data, "wyoming:" + address_);
  }
}

absl::StatusOr<std::string> WyomingClient::Transcribe(const PcmAudio& audio,
                                                      const std::string& language,
                                                      const CallContext& ctx) {
  const absl::Time deadline = Deadline(ctx);
  GENESIS_ASSIGN_OR_RETURN(auto conn, WyomingConnect(address_, deadline, limits_));
  json t = json::object();
  if (!language.empty()) t["language"] = NormalizeLanguage(language).substr(0, 2);
  GENESIS_RETURN_IF_ERROR(conn->Write({"transcribe", t, ""}, deadline));
  GENESIS_RETURN_IF_ERROR(
      conn->Write({"audio-start", AudioFormatJson(audio.sample_rate_hz), ""}, deadline));
  for (size_t off = 0; off < audio.samples.size(); off += kChunkSamples) {
    PcmAudio piece;
    piece.sample_rate_hz = audio.sample_rate_hz;
    const size_t n = std::min(kChunkSamples, audio.samples.size() - off);
    piece.samples.assign(audio.samples.begin() + off, audio.samples.begin() + off + n);
    GENESIS_RETURN_IF_ERROR(conn->Write(
        {"audio-chunk", AudioFormatJson(audio.sample_rate_hz), EncodePcm16(piece)}, deadline));
  }
  GENESIS_RETURN_IF_ERROR(conn->Write({"audio-stop", json::object(), ""}, deadline));
  for (;;) {
    GENESIS_ASSIGN_OR_RETURN(WyomingEvent ev, conn->Read(deadline));
    if (ev.type == "transcript") {
      auto text = ev.data.find("text");
      if (text == ev.data.end() || !text->is_string()) {
        return absl::UnavailableError("Wyoming transcript without a text");
      }
      return text->get<std::string>();
    }
    if (ev.type == "error") {
      // Its own words are passed on (as a provider's are), its address is not.
      return absl::UnavailableError(
          absl::StrCat("the Wyoming server failed: ", StringField(ev.data, "text")));
    }
  }
}

absl::StatusOr<PcmAudio> WyomingClient::Synthesize(const std::string& text,
                                                   const std::string& voice,
                                                   const std::string& language,
                                                   const CallContext& ctx) {
  const absl::Time deadline = Deadline(ctx);
  GENESIS_ASSIGN_OR_RETURN(auto conn, WyomingConnect(address_, deadline, limits_));
  json data = {{"text", text}};
  json v = json::object();
  if (!voice.empty()) v["name"] = voice;
  if (!language.empty()) v["language"] = DisplayLanguage(language);
  if (!v.empty()) data["voice"] = v;
  GENESIS_RETURN_IF_ERROR(conn->Write({"synthesize", data, ""}, deadline));
  PcmAudio out;
  bool started = false;
  int channels = 1;
  for (;;) {
    GENESIS_ASSIGN_OR_RETURN(WyomingEvent ev, conn->Read(deadline));
    if (ev.type == "error") {
      return absl::UnavailableError(
          absl::StrCat("the Wyoming server failed: ", StringField(ev.data, "text")));
    }
    if (ev.type == "audio-start" || (ev.type == "audio-chunk" && !started)) {
      const int rate = IntField(ev.data, "rate");
      const int width = IntField(ev.data, "width");
      channels = IntField(ev.data, "channels");
      if (rate < 8000 || rate > 48000 || width != 2 || (channels != 1 && channels != 2)) {
        return absl::UnavailableError(absl::StrCat("Wyoming audio format not supported: rate ",
                                                   rate, ", width ", width, ", channels ", channels,
                                                   " (need 16-bit mono or stereo at 8-48 kHz)"));
      }
      out.sample_rate_hz = rate;
      started = true;
    }
    if (ev.type == "audio-chunk") {
      if (ev.payload.size() % (2 * channels) != 0) {
        return absl::UnavailableError("Wyoming audio chunk is not whole 16-bit frames");
      }
      const size_t frames = ev.payload.size() / (2 * channels);
      const auto* p = reinterpret_cast<const unsigned char*>(ev.payload.data());
      for (size_t i = 0; i < frames; ++i) {
        int acc = 0;
        for (int c = 0; c < channels; ++c) {
          const size_t at = (i * channels + c) * 2;
          acc += static_cast<int16_t>(p[at] | (p[at + 1] << 8));
        }
        out.samples.push_back(static_cast<int16_t>(acc / channels));
      }
    }
    if (ev.type == "audio-stop") {
      if (!started) return absl::UnavailableError("Wyoming audio-stop before any audio");
      return out;
    }
  }
}

void WyomingBackend::Probe(absl::Duration timeout) {
  auto info = client_->Describe(CallContext::Background(timeout));
  std::lock_guard lock(mu_);
  health_.checked = absl::Now();
  if (info.ok()) {
    health_.healthy = true;
    health_.detail.clear();
    info_ = std::move(*info);
  } else {
    health_.healthy = false;
    health_.detail = std::string(info.status().message());
  }
}

void WyomingBackend::MarkDown(const std::string& why) {
  std::lock_guard lock(mu_);
  health_.healthy = false;
  health_.detail = why;
  health_.checked = absl::Now();
}

EngineHealth WyomingBackend::Health() {
  std::lock_guard lock(mu_);
  return health_;
}

WyomingInfo WyomingBackend::Info() {
  std::lock_guard lock(mu_);
  return info_;
}

absl::StatusOr<Speech> WyomingTts::Synthesize(const SpeechRequest& request,
                                              const CallContext& ctx) {
  auto audio = backend_->client()->Synthesize(request.text, request.voice, request.language, ctx);
  if (!audio.ok()) {
    if (absl::IsUnavailable(audio.status())) {
      backend_->MarkDown(std::string(audio.status().message()));
    }
    return audio.status();
  }
  Speech out;
  out.audio = std::move(*audio);
  out.voice = request.voice;
  out.language = DisplayLanguage(request.language);
  return out;
}

absl::StatusOr<Recognition> WyomingStt::Transcribe(const PcmAudio& audio,
                                                   const RecognitionConfig& config,
                                                   const CallContext& ctx) {
  auto text = backend_->client()->Transcribe(audio, config.language, ctx);
  if (!text.ok()) {
    if (absl::IsUnavailable(text.status())) {
      backend_->MarkDown(std::string(text.status().message()));
    }
    return text.status();
  }
  Recognition r;
  r.text = std::string(absl::StripAsciiWhitespace(*text));
  // Wyoming transcripts carry no confidence; whisper's answer is taken as is.
  r.confidence = r.text.empty() ? 0.0f : 1.0f;
  return r;
}

}  // namespace genesis::voice
