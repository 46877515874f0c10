#include "services/bot_manager/channels/alexa/alexa.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/base/status.h"
#include "common/http/http_client.h"
#include "common/runtime/logging.h"
#include "services/bot_manager/channels/webhook_util.h"

namespace genesis::bot {
namespace {

using nlohmann::json;

constexpr size_t kMaxChainBytes = 64 * 1024;

struct ParsedUrl {
  std::string scheme;
  std::string host;
  int port = 0;
  std::string path;
};

int DefaultPort(const std::string& scheme) { return scheme == "https" ? 443 : 80; }

absl::StatusOr<ParsedUrl> ParseUrl(absl::string_view url) {
  ParsedUrl out;
  const size_t sep = url.find("://");
  if (sep == absl::string_view::npos || sep == 0) {
    return absl::InvalidArgumentError("not an absolute URL (scheme://host/path)");
  }
  out.scheme = absl::AsciiStrToLower(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https") {
    return absl::InvalidArgumentError(absl::StrCat("scheme '", out.scheme, "' is not http(s)"));
  }
  absl::string_view rest = url.substr(sep + 3);
  if (rest.find_first_of("?#") != absl::string_view::npos) {
    return absl::InvalidArgumentError("a query or fragment is not allowed");
  }
  const size_t slash = rest.find('/');
  absl::string_view authority = rest.substr(0, slash);
  out.path = slash == absl::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (authority.find('@') != absl::string_view::npos) {
    return absl::InvalidArgumentError("user information is not allowed");
  }
  const size_t colon = authority.rfind(':');
  absl::string_view host = authority.substr(0, colon);
  out.port = DefaultPort(out.scheme);
  if (colon != absl::string_view::npos) {
    if (!absl::SimpleAtoi(authority.substr(colon + 1), &out.port) || out.port <= 0 ||
        out.port > 65535) {
      return absl::InvalidArgumentError("bad port");
    }
  }
  if (host.empty()) return absl::InvalidArgumentError("no host");
  out.host = absl::AsciiStrToLower(host);
  if (out.path.find('%') != std::string::npos) {
    return absl::InvalidArgumentError("percent-encoded paths are not allowed");
  }
  return out;
}

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;

void FreeX509Stack(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }

// Every certificate in a PEM text, in order.
absl::StatusOr<std::vector<X509Ptr>> ReadPemCerts(absl::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<X509Ptr> certs;
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.emplace_back(c);
  ERR_clear_error();  // the read past the last certificate leaves "no start line" queued
  if (certs.empty()) return absl::InvalidArgumentError("no PEM certificate found");
  return certs;
}

// Downloads a chain with the mesh's HTTP client (common/http/http_client.h).
class HttpCertChainFetcher final : public CertChainFetcher {
 public:
  absl::StatusOr<std::string> Fetch(const std::string& url, absl::Duration timeout) override {
    HttpRequest request;
    request.url = url;
    request.timeout = timeout;
    request.max_response_bytes = kMaxChainBytes;
    request.follow_redirects = false;
    auto response = HttpGet(request);
    if (!response.ok()) {
      switch (response.status().code()) {
        case absl::StatusCode::kDeadlineExceeded:
          return absl::DeadlineExceededError(
              absl::StrCat("downloading the Alexa certificate chain ", url, " timed out"));
        case absl::StatusCode::kResourceExhausted:
          return absl::UnauthenticatedError(absl::StrCat("the Alexa certificate chain at ", url,
                                                         " is larger than ", kMaxChainBytes,
                                                         " bytes"));
        default:
          return absl::UnavailableError(absl::StrCat("cannot download the Alexa certificate chain ",
                                                     url, ": ", response.status().message()));
      }
    }
    if (response->status != 200) {
      return absl::UnauthenticatedError(absl::StrCat("the Alexa certificate chain URL ", url,
                                                     " answered HTTP ", response->status));
    }
    return std::move(response->body);
  }
};

}  // namespace

// --- certificate URL rules

std::string RemoveDotSegments(absl::string_view path) {
  std::vector<absl::string_view> out;
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  // parts[0] is the empty segment before the leading '/'.
  for (size_t i = 1; i < parts.size(); ++i) {
    const absl::string_view seg = parts[i];
    const bool last = i + 1 == parts.size();
    if (seg == ".") {
      if (last) out.push_back("");
    } else if (seg == "..") {
      if (!out.empty()) out.pop_back();
      if (last) out.push_back("");
    } else {
      out.push_back(seg);
    }
  }
  return absl::StrCat("/", absl::StrJoin(out, "/"));
}

absl::StatusOr<AlexaCertUrlRule> ParseAlexaCertUrlRule(absl::string_view prefix) {
  auto url = ParseUrl(prefix);
  if (!url.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", prefix, "' is not a certificate URL prefix: ", url.status().message()));
  }
  AlexaCertUrlRule rule{url->scheme, url->host, url->port, RemoveDotSegments(url->path)};
  if (!absl::EndsWith(rule.path_prefix, "/")) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", prefix, "': the path prefix must end with '/' (e.g. /echo.api/)"));
  }
  return rule;
}

absl::Status CheckAlexaCertUrl(absl::string_view url, const std::vector<AlexaCertUrlRule>& rules) {
  if (url.empty()) return absl::UnauthenticatedError("missing SignatureCertChainUrl header");
  auto parsed = ParseUrl(url);
  if (!parsed.ok()) {
    return absl::UnauthenticatedError(absl::StrCat(
        "SignatureCertChainUrl '", url, "' is not allowed: ", parsed.status().message()));
  }
  const std::string path = RemoveDotSegments(parsed->path);
  for (const auto& rule : rules) {
    if (parsed->scheme == rule.scheme && parsed->host == rule.host && parsed->port == rule.port &&
        absl::StartsWith(path, rule.path_prefix)) {
      return absl::OkStatus();
    }
  }
  return absl::UnauthenticatedError(absl::StrCat("SignatureCertChainUrl '", url,
                                                 "' is not an Alexa certificate URL (",
                                                 kAlexaCertUrlPrefix, "...)"));
}

std::unique_ptr<CertChainFetcher> MakeHttpCertChainFetcher() {
  return std::make_unique<HttpCertChainFetcher>();
}

// --- the verifier

struct AlexaVerifier::Roots {
  X509_STORE* store = nullptr;
  ~Roots() { X509_STORE_free(store); }
};

struct AlexaVerifier::Chain {
  X509Ptr leaf;
  std::unique_ptr<STACK_OF(X509), Deleter<STACK_OF(X509), FreeX509Stack>> intermediates;
};

absl::StatusOr<std::unique_ptr<AlexaVerifier>> AlexaVerifier::Create(
    AlexaVerifierOptions options, std::unique_ptr<CertChainFetcher> fetcher) {
  auto roots = std::make_unique<Roots>();
  roots->store = X509_STORE_new();
  if (options.trust_system_roots) X509_STORE_set_default_paths(roots->store);
  if (!options.extra_trusted_roots_pem.empty()) {
    auto certs = ReadPemCerts(options.extra_trusted_roots_pem);
    if (!certs.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the extra trusted roots: ", certs.status().message()));
    }
    for (auto& c : *certs) X509_STORE_add_cert(roots->store, c.get());
  }
  if (options.url_rules.empty()) {
    auto amazon = ParseAlexaCertUrlRule(kAlexaCertUrlPrefix);
    options.url_rules.push_back(*amazon);
  }
  std::unique_ptr<AlexaVerifier> v(new AlexaVerifier(std::move(options), std::move(fetcher)));
  v->roots_ = std::move(roots);
  return v;
}

AlexaVerifier::AlexaVerifier(AlexaVerifierOptions options,
                             std::unique_ptr<CertChainFetcher> fetcher)
    : options_(std::move(options)), fetcher_(std::move(fetcher)) {}

AlexaVerifier::~AlexaVerifier() = default;

int AlexaVerifier::fetches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fetches_;
}

absl::StatusOr<std::shared_ptr<const AlexaVerifier::Chain>> AlexaVerifier::ChainFor(
    const std::string& url) {
  const absl::Time now = absl::Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(url);
    if (it != cache_.end() && it->second.second > now) return it->second.first;
  }
  GENESIS_ASSIGN_OR_RETURN(std::string pem, fetcher_->Fetch(url, options_.fetch_timeout));
  auto certs = ReadPemCerts(pem);
  if (!certs.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("the Alexa certificate chain at ", url, " holds no PEM certificate"));
  }
  auto chain = std::make_shared<Chain>();
  chain->leaf = std::move((*certs)[0]);
  chain->intermediates.reset(sk_X509_new_null());
  for (size_t i = 1; i < certs->size(); ++i) {
    sk_X509_push(chain->intermediates.get(), (*certs)[i].release());
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++fetches_;
  if (cache_.size() >= options_.max_cached_chains) cache_.clear();
  cache_[url] = {chain, now + options_.chain_cache_ttl};
  return std::shared_ptr<const Chain>(chain);
}

absl::Status AlexaVerifier::Verify(absl::string_view cert_url, absl::string_view signature_256,
                                   absl::string_view legacy_signature, absl::string_view body) {
  GENESIS_RETURN_IF_ERROR(CheckAlexaCertUrl(cert_url, options_.url_rules));
  if (signature_256.empty()) {
    return absl::UnauthenticatedError(
        legacy_signature.empty()
            ? "missing Signature-256 header"
            : "missing Signature-256 header (the legacy SHA-1 Signature is not accepted)");
  }
  std::string signature;
  if (!absl::Base64Unescape(signature_256, &signature) || signature.empty()) {
    return absl::UnauthenticatedError("Signature-256 is not base64");
  }
  GENESIS_ASSIGN_OR_RETURN(auto chain, ChainFor(std::string(cert_url)));

  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!X509_STORE_CTX_init(ctx.get(), roots_->store, chain->leaf.get(),
                           chain->intermediates.get())) {
    return absl::InternalError("X509_STORE_CTX_init failed");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param,
                             static_cast<time_t>(absl::ToUnixSeconds(options_.clock->Now())));
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return absl::UnauthenticatedError(absl::StrCat(
        "the Alexa signing certificate chain is not valid: ", X509_verify_cert_error_string(err)));
  }
  if (X509_check_host(chain->leaf.get(), kAlexaSigningSan, sizeof(kAlexaSigningSan) - 1,
                      X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_WILDCARDS,
                      nullptr) != 1) {
    return absl::UnauthenticatedError(absl::StrCat("the Alexa signing certificate does not name ",
                                                   kAlexaSigningSan, " among its SANs"));
  }
  EVP_PKEY* key = X509_get0_pubkey(chain->leaf.get());
  MdCtxPtr md(EVP_MD_CTX_new());
  if (key == nullptr || EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    return absl::UnauthenticatedError("the Alexa signing certificate has no usable public key");
  }
  const int ok = EVP_DigestVerify(
      md.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
      reinterpret_cast<const unsigned char*>(body.data()), body.size());
  if (ok != 1) {
    ERR_clear_error();
    return absl::UnauthenticatedError(
        "Signature-256 does not match the body signed with the Alexa certificate");
  }
  return absl::OkStatus();
}

// --- requests and responses

namespace {

std::string Str(const json& obj, std::initializer_list<const char*> path) {
  const json* cur = &obj;
  for (const char* key : path) {
    if (!cur->is_object()) return "";
    auto it = cur->find(key);
    if (it == cur->end()) return "";
    cur = &*it;
  }
  return cur->is_string() ? cur->get<std::string>() : "";
}

}  // namespace

absl::StatusOr<AlexaRequest> ParseAlexaRequest(absl::string_view body) {
  json root = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return InvalidField("body", "the Alexa request is not a JSON object");
  }
  FieldViolations v;
  AlexaRequest r;
  const json request = root.value("request", json::object());
  if (!request.is_object()) return InvalidField("body.request", "must be an object");
  r.type = Str(request, {"type"});
  r.request_id = Str(request, {"requestId"});
  r.locale = Str(request, {"locale"});
  if (r.type.empty()) v.Add("body.request.type", "required");
  if (r.request_id.empty()) v.Add("body.request.requestId", "required");
  if (r.request_id.size() > 200) v.Add("body.request.requestId", "at most 200 bytes");
  const auto ts = request.find("timestamp");
  std::string err;
  if (ts == request.end()) {
    v.Add("body.request.timestamp", "required");
  } else if (ts->is_string()) {
    if (!absl::ParseTime(absl::RFC3339_full, ts->get<std::string>(), &r.timestamp, &err)) {
      v.Add("body.request.timestamp",
            absl::StrCat("'", ts->get<std::string>(), "' is not an ISO 8601 time"));
    }
  } else if (ts->is_number_integer()) {
    r.timestamp = absl::FromUnixMillis(ts->get<int64_t>());
  } else {
    v.Add("body.request.timestamp", "must be an ISO 8601 string");
  }
  r.application_id = Str(root, {"context", "System", "application", "applicationId"});
  if (r.application_id.empty())
    r.application_id = Str(root, {"session", "application", "applicationId"});
  if (r.application_id.empty()) v.Add("body.context.System.application.applicationId", "required");
  r.user_id = Str(root, {"context", "System", "user", "userId"});
  if (r.user_id.empty()) r.user_id = Str(root, {"session", "user", "userId"});
  if (r.user_id.empty()) v.Add("body.context.System.user.userId", "required");
  if (r.user_id.size() > 512) v.Add("body.context.System.user.userId", "at most 512 bytes");
  r.session_id = Str(root, {"session", "sessionId"});
  if (r.type == "IntentRequest") {
    const json intent = request.value("intent", json::object());
    r.intent_name = Str(intent, {"name"});
    if (r.intent_name.empty()) v.Add("body.request.intent.name", "required in an IntentRequest");
    const json slots = intent.is_object() ? intent.value("slots", json::object()) : json::object();
    if (slots.is_object()) {
      for (auto it = slots.begin(); it != slots.end(); ++it) {
        std::string value = Str(it.value(), {"value"});
        if (!absl::StripAsciiWhitespace(value).empty()) r.slots[it.key()] = std::move(value);
      }
    }
  } else if (r.type == "SessionEndedRequest") {
    r.end_reason = Str(request, {"reason"});
  }
  GENESIS_RETURN_IF_ERROR(v.ToStatus());
  return r;
}

absl::Status CheckAlexaTimestamp(const AlexaRequest& req, absl::Time now,
                                 absl::Duration tolerance) {
  const absl::Duration skew = absl::AbsDuration(now - req.timestamp);
  if (skew > tolerance) {
    return InvalidField(
        "body.request.timestamp",
        absl::StrCat("the request is ", absl::ToInt64Seconds(skew), " s away from now (at most ",
                     absl::ToInt64Seconds(tolerance), " s): stale or replayed"));
  }
  return absl::OkStatus();
}

absl::Status CheckAlexaApplication(const AlexaRequest& req, absl::string_view skill_id) {
  if (skill_id.empty() || !ConstantTimeEquals(req.application_id, skill_id)) {
    return InvalidField("body.context.System.application.applicationId",
                        "the request is for another skill than this bot's alexa_skill_id");
  }
  return absl::OkStatus();
}

std::string AlexaUtterance(const AlexaRequest& req, const std::vector<std::string>& preferred) {
  for (const auto& name : preferred) {
    auto it = req.slots.find(name);
    if (it != req.slots.end()) return it->second;
  }
  if (req.slots.size() == 1) return req.slots.begin()->second;
  return "";
}

std::string AlexaResponseJson(absl::string_view speech, bool end_session) {
  json response = json::object();
  if (!speech.empty()) {
    response["outputSpeech"] = {{"type", "PlainText"}, {"text", std::string(speech)}};
    response["shouldEndSession"] = end_session;
  }
  return json{{"version", "1.0"}, {"response", response}}.dump(-1, ' ', false,
                                                               json::error_handler_t::replace);
}

}  // namespace genesis::bot
