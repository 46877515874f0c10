#include "gateway/http/server.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/http/listen.h"
#include "common/runtime/logging.h"
#include "gateway/http/tls_context.h"

namespace genesis::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {
// What Stop() needs of a connection, whichever its stream.
class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  virtual void Drain() = 0;
};
}  // namespace

// One listening socket: plain HTTP or HTTPS.
struct Listener {
  Listener(asio::io_context& io, bool tls)
      : acceptor(asio::make_strand(io)), backoff(acceptor.get_executor()), tls(tls) {}
  tcp::acceptor acceptor;
  asio::steady_timer backoff;
  const bool tls;
  absl::Time last_error_log = absl::InfinitePast();  // the acceptor's strand only
};

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  HttpServerOptions options;
  Handler handler;
  asio::io_context io;
  // Keeps the io threads running while nothing waits on a socket: requests
  // handed to the handler (answered from gRPC's threads) are not io work.
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::unique_ptr<Listener> plain;   // null with port -1
  std::unique_ptr<Listener> secure;  // null without HTTPS
  std::string hsts;                  // the Strict-Transport-Security value
  std::vector<std::thread> threads;
  std::atomic<int> connections{0};
  std::atomic<int> busy{0};  // requests between read and written
  std::atomic<bool> stopping{false};
  std::atomic<bool> stopped{false};
  std::atomic<size_t> buffered{0};  // body bytes reserved by all connections
  std::shared_ptr<spdlog::logger> log = Logger("gateway.http");

  std::mutex mu;
  std::map<std::string, int> per_client;                          // guarded by mu
  std::map<ConnectionBase*, std::weak_ptr<ConnectionBase>> live;  // guarded by mu
  absl::Time last_refusal_log = absl::InfinitePast();             // guarded by mu

  mutable std::mutex tls_mu;
  ServerTlsContext tls;  // guarded by tls_mu; replaced whole by ReloadCertificate

  Impl(const HttpServerOptions& o, Handler h)
      : options(o), handler(std::move(h)), io(std::max(1, o.io_threads)) {}

  void Accept(Listener* listener);
  void OnAccept(Listener* listener, beast::error_code ec, tcp::socket socket);
  // Starts a connection from `address` (HTTPS when `tls`) within the limits;
  // false: refused (closed).
  bool Serve(tcp::socket socket, std::string address, bool tls);
  std::shared_ptr<ssl::context> TlsContext() const {
    std::lock_guard lock(tls_mu);
    return tls.context;
  }

  // Counts a connection from `address` against the limits; false: refuse it.
  bool AdmitClient(const std::string& address) {
    std::lock_guard lock(mu);
    int& n = per_client[address];
    if (connections.load() >= options.max_connections || n >= options.max_connections_per_client) {
      if (n == 0) per_client.erase(address);
      if (absl::Now() - last_refusal_log > absl::Seconds(1)) {  // at most once a second
        last_refusal_log = absl::Now();
        log->warn("refusing connections from {}: {} reached", address,
                  n >= options.max_connections_per_client
                      ? absl::StrCat("--max_connections_per_client (",
                                     options.max_connections_per_client, ")")
                      : absl::StrCat("--max_connections (", options.max_connections, ")"));
      }
      return false;
    }
    ++n;
    connections.fetch_add(1);
    return true;
  }
  void ReleaseClient(const std::string& address) {
    std::lock_guard lock(mu);
    if (auto it = per_client.find(address); it != per_client.end() && --it->second <= 0) {
      per_client.erase(it);
    }
    connections.fetch_sub(1);
  }

  // The global body budget.
  bool Reserve(size_t n) {
    size_t used = buffered.load();
    do {
      if (n > options.max_buffered_bytes || used > options.max_buffered_bytes - n) return false;
    } while (!buffered.compare_exchange_weak(used, used + n));
    return true;
  }
  void Unreserve(size_t n) { buffered.fetch_sub(n); }
};

namespace {

beast::string_view Reason(int status) {
  if (status == 499) return "Client Closed Request";
  return http::obsolete_reason(static_cast<http::status>(status));
}

// The codings of every Transfer-Encoding field, in order, lower-cased.
std::vector<std::string> TransferCodings(const http::request_header<>& h) {
  std::vector<std::string> codings;
  for (auto it = h.find(http::field::transfer_encoding);
       it != h.end() && it->name() == http::field::transfer_encoding; ++it) {
    for (absl::string_view c :
         absl::StrSplit(absl::string_view(it->value().data(), it->value().size()), ',')) {
      c = absl::StripAsciiWhitespace(c);
      if (!c.empty()) codings.push_back(absl::AsciiStrToLower(c));
    }
  }
  return codings;
}

// Sets every header of kSecurityHeaders the handler did not set, and on
// HTTPS the Strict-Transport-Security header.
template <class Fields>
void AddSecurityHeaders(Fields& fields, const std::string& hsts) {
  for (const auto& [name, value] : kSecurityHeaders) {
    if (fields.find(name) == fields.end()) fields.set(name, value);
  }
  if (!hsts.empty()) fields.set(http::field::strict_transport_security, hsts);
}

// A connection on the plain listener (Stream = beast::tcp_stream) or on the
// HTTPS one (TlsStream: the handshake first, then the same exchange).
template <class Stream>
class Connection : public ConnectionBase, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  using std::enable_shared_from_this<Connection<Stream>>::shared_from_this;
  using std::enable_shared_from_this<Connection<Stream>>::weak_from_this;

  Connection(tcp::socket socket, std::shared_ptr<HttpServer::Impl> server,
             std::string address) requires(!kTls)
      : stream_(std::move(socket)),
        server_(std::move(server)),
        buffer_(server_->options.max_header_bytes + kReadSlack),
        remote_address_(std::move(address)) {
    Init();
  }
  // `context` is the certificate the server has now; the connection keeps it.
  Connection(tcp::socket socket, std::shared_ptr<HttpServer::Impl> server, std::string address,
             std::shared_ptr<ssl::context> context) requires kTls
      : context_(std::move(context)),
        stream_(std::move(socket), *context_),
        server_(std::move(server)),
        buffer_(server_->options.max_header_bytes + kReadSlack),
        remote_address_(std::move(address)) {
    Init();
  }
  ~Connection() override {
    server_->Unreserve(reserved_);
    {
      std::lock_guard lock(server_->mu);
      server_->live.erase(this);
    }
    server_->ReleaseClient(remote_address_);
  }

  void Start() {
    {
      std::lock_guard lock(server_->mu);
      server_->live[this] = weak_from_this();
    }
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if constexpr (kTls) {
        self->Handshake();
      } else {
        self->Read();
      }
    });
  }

  // Drain: a connection waiting for a request (or in its handshake) is
  // closed now; one in the middle of a request finishes it (its response
  // says Connection: close).
  void Drain() override {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->waiting_) self->Tcp().socket().cancel();
    });
  }

 private:
  void Init() {
    chunk_header_ = [this](uint64_t size, beast::string_view extensions, beast::error_code& ec) {
      OnChunkHeader(size, extensions, ec);
    };
  }

  beast::tcp_stream& Tcp() { return beast::get_lowest_layer(stream_); }

  // The TLS handshake, bounded in time (handshake_timeout) and in the bytes
  // the TLS engine reads meanwhile (max_handshake_bytes, counted by a BIO
  // callback removed once the handshake is done).
  void Handshake() {
    if (server_->stopping) return Close();
    BIO* bio = SSL_get_rbio(stream_.native_handle());
    BIO_set_callback_arg(bio, reinterpret_cast<char*>(this));
    BIO_set_callback_ex(bio, &Connection::CountHandshakeBytes);
    Tcp().expires_after(absl::ToChronoNanoseconds(server_->options.https.handshake_timeout));
    waiting_ = true;
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              self->waiting_ = false;
                              BIO* bio = SSL_get_rbio(self->stream_.native_handle());
                              BIO_set_callback_ex(bio, nullptr);
                              if (ec) {
                                self->server_->log->debug("TLS handshake with {} failed: {}",
                                                          self->remote_address_, ec.message());
                                return self->Tcp().close();
                              }
                              self->Read();
                            });
  }

  // BIO callback (OpenSSL): before a read, refuses it once the handshake has
  // read max_handshake_bytes; after one, counts what it read.
  static long CountHandshakeBytes(BIO* bio, int oper, const char*, size_t, int, long,  // NOLINT
                                  int ret, size_t* processed) {
    auto* self = reinterpret_cast<Connection*>(BIO_get_callback_arg(bio));
    if (oper == BIO_CB_READ) {
      return self->handshake_bytes_ >= self->server_->options.https.max_handshake_bytes ? -1 : 1;
    }
    if (oper == (BIO_CB_READ | BIO_CB_RETURN) && ret > 0 && processed != nullptr) {
      self->handshake_bytes_ += *processed;
    }
    return ret;
  }

  // Waits for the first byte of the next request: a new connection within
  // header_timeout (which then also bounds its head), a kept-alive one within
  // idle_timeout (its head then gets header_timeout from that byte on).
  void Read() {
    if (server_->stopping) return Close();
    server_->Unreserve(reserved_);
    reserved_ = 0;
    if (buffer_.size() > 0) return ReadHeader(/*restart_timer=*/true);
    const bool fresh = requests_ == 0;
    Tcp().expires_after(absl::ToChronoNanoseconds(fresh ? server_->options.header_timeout
                                                        : server_->options.idle_timeout));
    waiting_ = true;
    stream_.async_read_some(buffer_.prepare(std::min<size_t>(4096, buffer_.max_size())),
                            [self = shared_from_this(), fresh](beast::error_code ec, size_t n) {
                              self->waiting_ = false;
                              if (ec) return self->OnReadError(ec);
                              self->buffer_.commit(n);
                              self->ReadHeader(/*restart_timer=*/!fresh);
                            });
  }

  void ReadHeader(bool restart_timer) {
    parser_.emplace();
    parser_->body_limit(server_->options.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    parser_->on_chunk_header(chunk_header_);
    chunks_seen_ = 0;
    refusal_status_ = 0;
    if (restart_timer) {
      Tcp().expires_after(absl::ToChronoNanoseconds(server_->options.header_timeout));
    }
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  // Sets a refusal the read's error handler answers with (see OnReadError).
  void Refuse(int status, std::string message, beast::error_code& ec) {
    refusal_status_ = status;
    refusal_message_ = std::move(message);
    ec = http::error::bad_chunk;
  }

  void OnChunkHeader(uint64_t size, beast::string_view extensions, beast::error_code& ec) {
    if (extensions.size() > server_->options.max_chunk_extension_bytes) {
      return Refuse(400,
                    absl::StrCat("chunk extensions longer than ",
                                 server_->options.max_chunk_extension_bytes, " bytes"),
                    ec);
    }
    if (++chunks_seen_ > server_->options.max_chunks) {
      return Refuse(400, absl::StrCat("more than ", server_->options.max_chunks, " chunks"), ec);
    }
    if (size > 0) {
      if (!server_->Reserve(size)) {
        return Refuse(503, "the gateway is holding too many request bodies; retry later", ec);
      }
      reserved_ += size;
    }
  }

  // The head is in: refuse framing that another parser could read otherwise,
  // reserve the body's bytes, then read the body.
  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    ++requests_;
    const auto& h = parser_->get().base();
    const size_t hosts = h.count(http::field::host);
    if ((h.version() >= 11 && hosts != 1) || hosts > 1) {
      return WriteError(400, hosts == 0 ? "an HTTP/1.1 request needs a Host header"
                                        : "more than one Host header");
    }
    const std::vector<std::string> codings = TransferCodings(h);
    if (h.count(http::field::transfer_encoding) > 0) {
      if (h.count(http::field::content_length) > 0) {
        return WriteError(400, "Content-Length together with Transfer-Encoding");
      }
      if (h.version() < 11) return WriteError(400, "Transfer-Encoding in an HTTP/1.0 request");
      if (codings.empty() || codings.back() != "chunked") {
        return WriteError(400, "the final transfer coding of a request must be chunked");
      }
      if (codings.size() != 1) {
        return WriteError(501, "the only transfer coding accepted is chunked");
      }
    }
    if (auto length = parser_->content_length(); length.has_value() && *length > 0) {
      if (*length <= server_->options.max_body_bytes) {  // larger: 413 from the parser
        if (!server_->Reserve(*length)) {
          return WriteError(503, "the gateway is holding too many request bodies; retry later");
        }
        reserved_ = *length;
      }
    }
    header_fields_ = static_cast<size_t>(std::distance(h.begin(), h.end()));
    Tcp().expires_after(absl::ToChronoNanoseconds(server_->options.read_timeout));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnReadError(beast::error_code ec) {
    if (refusal_status_ != 0) return WriteError(refusal_status_, refusal_message_);
    if (ec == http::error::body_limit) {
      return WriteError(413, absl::StrCat("request body larger than ",
                                          server_->options.max_body_bytes, " bytes"));
    }
    if (ec == http::error::header_limit) return WriteError(431, "request headers too large");
    if (ec == http::error::buffer_overflow) {
      return WriteError(parser_ && parser_->is_header_done() ? 400 : 431,
                        parser_ && parser_->is_header_done()
                            ? "a chunk-size line or the trailer is too long"
                            : "request headers too large");
    }
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
        ec == asio::error::eof) {
      return Close();
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      return WriteError(400, absl::StrCat("malformed HTTP request: ", ec.message()));
    }
    Close();
  }

  void OnRead(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    Tcp().expires_never();  // the gateway's deadline bounds the backend call
    auto& req = parser_->get();
    if (static_cast<size_t>(std::distance(req.begin(), req.end())) != header_fields_) {
      return WriteError(400, "trailer fields are not accepted");
    }
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    HttpRequest request;
    request.method = std::string(req.method_string());
    request.target = std::string(req.target());
    request.body = std::move(req.body());
    request.remote_address = remote_address_;
    for (const auto& field : req) {
      request.headers[absl::AsciiStrToLower(absl::string_view(
          field.name_string().data(), field.name_string().size()))] = std::string(field.value());
    }
    server_->busy.fetch_add(1);
    server_->handler(std::move(request), [self = shared_from_this()](HttpResponse response) {
      self->Respond(std::move(response));
    });
  }

  // The handler's answer, on whichever thread produced it (usually gRPC's).
  // Between OnRead and this call the connection has no operation in flight
  // and nothing on its strand touches the socket, so a plain response is
  // sent right here with non-blocking sendmsg: no hop to an io thread before
  // the bytes leave. Whatever the socket does not take at once (a large
  // body, a full send buffer) is finished by async_write on the strand;
  // reading the next request always resumes on the strand.
  void Respond(HttpResponse response) {
    if (kTls || response.stream) {  // TLS: the TLS engine writes, on the strand
      asio::post(stream_.get_executor(),
                 [self = shared_from_this(), response = std::move(response)]() mutable {
                   self->Write(std::move(response));
                 });
      return;
    }
    auto res = MakeResponse(std::move(response));
    auto sr = std::make_shared<http::response_serializer<http::string_body>>(*res);
    const int fd = Tcp().socket().native_handle();
    beast::error_code ec;
    bool blocked = false;
    while (!ec && !blocked && !sr->is_done()) {
      size_t sent = 0;
      sr->next(ec, [&](beast::error_code& next_ec, const auto& buffers) {
        std::array<iovec, 16> iov{};
        size_t count = 0;
        for (auto b : beast::buffers_range_ref(buffers)) {
          if (count == iov.size()) break;
          iov[count++] = iovec{const_cast<void*>(b.data()), b.size()};
        }
        msghdr msg{};
        msg.msg_iov = iov.data();
        msg.msg_iovlen = count;
        ssize_t n;
        do {
          n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK) {
            blocked = true;
          } else {
            next_ec = beast::error_code(errno, boost::system::system_category());
          }
          return;
        }
        sent = static_cast<size_t>(n);
      });
      if (!ec && sent > 0) sr->consume(sent);
    }
    asio::post(stream_.get_executor(), [self = shared_from_this(), res, sr, ec]() {
      if (ec) {
        self->server_->busy.fetch_sub(1);
        return self->Close();
      }
      if (!sr->is_done()) {
        self->Tcp().expires_after(absl::ToChronoNanoseconds(self->server_->options.read_timeout));
        http::async_write(self->stream_, *sr, [self, res, sr](beast::error_code ec, size_t) {
          self->Written(ec, *res);
        });
        return;
      }
      self->Written(ec, *res);
    });
  }

  const std::string& Hsts() const {
    static const std::string kNone;
    return kTls ? server_->hsts : kNone;
  }

  std::shared_ptr<http::response<http::string_body>> MakeResponse(HttpResponse response) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(response.status));
    res->reason(Reason(response.status));
    res->set(http::field::content_type, response.content_type);
    for (const auto& [k, v] : response.headers) res->set(k, v);
    AddSecurityHeaders(*res, Hsts());
    res->keep_alive(keep_alive_ && !server_->stopping);
    res->body() = std::move(response.body);
    res->prepare_payload();
    return res;
  }

  void Written(beast::error_code ec, const http::response<http::string_body>& res) {
    server_->busy.fetch_sub(1);
    if (ec || !res.keep_alive()) return Close();
    Read();
  }

  // An answer from the server itself (the handler never saw the request);
  // the connection closes after it, lingering to read what the client still sends.
  void WriteError(int status, std::string message) {
    keep_alive_ = false;
    linger_ = true;
    server_->busy.fetch_add(1);
    HttpResponse r;
    r.status = status;
    const int code = status == 413 ? 8 : status == 501 ? 12 : status == 503 ? 14 : 3;
    r.body = absl::StrCat(R"({"code":)", code, R"(,"message":")", message, "\"}");
    if (status == 503) r.headers.emplace_back("retry-after", "1");
    Write(std::move(r));
  }

  void Write(HttpResponse response) {
    if (response.stream) return WriteStream(std::move(response));
    auto res = MakeResponse(std::move(response));
    Tcp().expires_after(absl::ToChronoNanoseconds(server_->options.read_timeout));
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        self->Written(ec, *res);
                      });
  }

  // A streamed body: the headers, then one chunk per BodyWriter::Write on
  // this connection's strand (one write at a time, in order), then the last
  // chunk and the connection closes. A read that fails meanwhile means the
  // client went away: the source is cancelled.
  void WriteStream(HttpResponse response) {
    source_ = std::move(response.stream);
    auto res = std::make_shared<http::response<http::empty_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(response.status));
    res->reason(Reason(response.status));
    res->set(http::field::content_type, response.content_type);
    for (const auto& [k, v] : response.headers) res->set(k, v);
    AddSecurityHeaders(*res, Hsts());
    res->keep_alive(false);
    res->chunked(true);
    auto sr = std::make_shared<http::response_serializer<http::empty_body>>(*res);
    Tcp().expires_after(absl::ToChronoNanoseconds(server_->options.read_timeout));
    http::async_write_header(stream_, *sr,
                             [self = shared_from_this(), res, sr](beast::error_code ec, size_t) {
                               self->Tcp().expires_never();
                               self->stream_failed_ = static_cast<bool>(ec);
                               self->source_->Start(std::make_shared<ChunkWriter>(self));
                               if (!ec) self->WatchForDisconnect();
                             });
  }

  void WatchForDisconnect() {
    // The raw socket, also under TLS: only its end matters, and the bytes
    // are not TLS records the stream would need (the connection closes
    // after the stream).
    Tcp().socket().async_read_some(asio::buffer(probe_),
                                   [self = shared_from_this()](beast::error_code ec, size_t) {
                                     if (ec && !self->stream_done_ && self->source_)
                                       self->source_->Cancel();
                                   });
  }

  void EnqueueChunk(std::string chunk, std::function<void(bool)> written) {
    chunks_.emplace_back(std::move(chunk), std::move(written));
    PumpChunks();
  }

  void FinishChunks() {
    finishing_ = true;
    PumpChunks();
  }

  void PumpChunks() {
    if (writing_ || stream_done_) return;
    if (stream_failed_) {
      for (auto& [chunk, written] : chunks_) written(false);
      chunks_.clear();
      if (finishing_) EndStream();
      return;
    }
    writing_ = true;
    Tcp().expires_after(absl::ToChronoNanoseconds(server_->options.read_timeout));
    if (!chunks_.empty()) {
      const std::string& data = chunks_.front().first;
      asio::async_write(stream_, http::make_chunk(asio::const_buffer(data.data(), data.size())),
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          self->writing_ = false;
                          self->Tcp().expires_never();
                          if (ec) self->stream_failed_ = true;
                          auto written = std::move(self->chunks_.front().second);
                          self->chunks_.pop_front();
                          written(!ec);
                          self->PumpChunks();
                        });
    } else if (finishing_) {
      asio::async_write(stream_, http::make_chunk_last(),
                        [self = shared_from_this()](beast::error_code, size_t) {
                          self->writing_ = false;
                          self->EndStream();
                        });
    } else {
      writing_ = false;
      Tcp().expires_never();
    }
  }

  void EndStream() {
    if (stream_done_) return;
    stream_done_ = true;
    source_.reset();
    server_->busy.fetch_sub(1);
    Close();
  }

  // The BodyWriter of a streamed response: hops onto the connection's strand.
  class ChunkWriter : public BodyWriter {
   public:
    explicit ChunkWriter(std::shared_ptr<Connection> c) : c_(std::move(c)) {}
    void Write(std::string chunk, std::function<void(bool)> written) override {
      asio::post(c_->stream_.get_executor(),
                 [c = c_, chunk = std::move(chunk), written = std::move(written)]() mutable {
                   c->EnqueueChunk(std::move(chunk), std::move(written));
                 });
    }
    void Finish() override {
      asio::post(c_->stream_.get_executor(), [c = c_] { c->FinishChunks(); });
    }

   private:
    std::shared_ptr<Connection> c_;
  };

  // After an error answer the request may not have been read to its end:
  // closing with unread bytes would reset the connection and could destroy
  // the answer before the client reads it, so read (and drop) what comes for
  // up to a second and 64 KiB, then close.
  void Close() {
    beast::error_code ignored;
    Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (!linger_ || server_->stopping) {
      Tcp().close();
      return;
    }
    linger_ = false;
    drain_.resize(4096);
    Tcp().expires_after(std::chrono::seconds(1));
    Linger(0);
  }

  void Linger(size_t so_far) {
    Tcp().async_read_some(asio::buffer(drain_),
                          [self = shared_from_this(), so_far](beast::error_code ec, size_t n) {
                            if (ec || so_far + n > (64 << 10)) {
                              self->Tcp().close();
                              return;
                            }
                            self->Linger(so_far + n);
                          });
  }

  std::shared_ptr<ssl::context> context_;  // HTTPS: the certificate it was accepted with
  Stream stream_;
  std::shared_ptr<HttpServer::Impl> server_;
  beast::flat_buffer buffer_;  // bounded: max_header_bytes + kReadSlack
  std::optional<http::request_parser<http::string_body>> parser_;
  std::function<void(uint64_t, beast::string_view, beast::error_code&)> chunk_header_;
  size_t chunks_seen_ = 0;    // in the request being read
  size_t header_fields_ = 0;  // fields of the head; more after the body are trailer fields
  size_t reserved_ = 0;       // body bytes taken from the server's budget
  int refusal_status_ = 0;    // set by OnChunkHeader: the answer to a refused body
  std::string refusal_message_;
  int requests_ = 0;      // heads read on this connection
  bool waiting_ = false;  // waiting for the first byte of a request (drained at once)
  bool linger_ = false;   // read what the client still sends before closing
  std::string drain_;
  bool keep_alive_ = true;
  // A streamed response (WriteStream); all touched on the strand only.
  std::shared_ptr<StreamSource> source_;
  std::deque<std::pair<std::string, std::function<void(bool)>>> chunks_;
  bool writing_ = false, finishing_ = false, stream_failed_ = false, stream_done_ = false;
  std::array<char, 64> probe_{};
  unsigned version_ = 11;
  std::string remote_address_;  // the peer's IP
  size_t handshake_bytes_ = 0;  // HTTPS: read by the TLS engine before the handshake completed
};

}  // namespace

void HttpServer::Impl::Accept(Listener* listener) {
  listener->acceptor.async_accept(
      asio::make_strand(io),
      [self = shared_from_this(), listener](beast::error_code ec, tcp::socket socket) {
        self->OnAccept(listener, ec, std::move(socket));
      });
}

// A refused connection is closed at once, so one client's flood costs the
// others nothing but the accept itself; out of descriptors, accepting pauses
// briefly instead of spinning (the pending connections wait in the backlog).
void HttpServer::Impl::OnAccept(Listener* listener, beast::error_code ec, tcp::socket socket) {
  if (stopping || ec == asio::error::operation_aborted) return;
  if (ec) {
    if (absl::Now() - listener->last_error_log > absl::Seconds(1)) {
      listener->last_error_log = absl::Now();
      log->warn("accept failed: {}; pausing accepts for 50 ms", ec.message());
    }
    listener->backoff.expires_after(std::chrono::milliseconds(50));
    listener->backoff.async_wait([self = shared_from_this(), listener](beast::error_code wait_ec) {
      if (!wait_ec && !self->stopping) self->Accept(listener);
    });
    return;
  }
  beast::error_code endpoint_error;
  auto remote = socket.remote_endpoint(endpoint_error);
  std::string address = endpoint_error ? "unknown" : remote.address().to_string();
  Serve(std::move(socket), std::move(address), listener->tls);
  Accept(listener);
}

bool HttpServer::Impl::Serve(tcp::socket socket, std::string address, bool tls) {
  if (!AdmitClient(address)) {
    beast::error_code ignored;
    socket.close(ignored);
    return false;
  }
  if (tls) {
    std::make_shared<Connection<TlsStream>>(std::move(socket), shared_from_this(),
                                            std::move(address), TlsContext())
        ->Start();
  } else {
    std::make_shared<Connection<beast::tcp_stream>>(std::move(socket), shared_from_this(),
                                                    std::move(address))
        ->Start();
  }
  return true;
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                              Handler handler) {
  auto impl = std::make_shared<Impl>(options, std::move(handler));
  if (options.port == -1 && options.https.port == -1) {
    return absl::InvalidArgumentError("--http_port: -1 (no plain HTTP) needs --https_port");
  }
  if (options.https.port != -1) {
    auto tls = MakeServerTlsContext(options.https.cert_file, options.https.key_file);
    if (!tls.ok()) return tls.status();
    impl->tls = *std::move(tls);
    impl->hsts = absl::StrCat("max-age=", absl::ToInt64Seconds(options.https.hsts_max_age),
                              options.https.hsts_include_subdomains ? "; includeSubDomains" : "");
    impl->secure = std::make_unique<Listener>(impl->io, /*tls=*/true);
    const std::string& host = options.https.host.empty() ? options.host : options.https.host;
    if (auto st = ListenTcp(impl->secure->acceptor, host, options.https.port, "HTTPS"); !st.ok()) {
      return absl::Status(st.code(), absl::StrCat("--https_port: ", st.message()));
    }
  }
  if (options.port != -1) {
    impl->plain = std::make_unique<Listener>(impl->io, /*tls=*/false);
    if (auto st = ListenTcp(impl->plain->acceptor, options.host, options.port, "HTTP"); !st.ok()) {
      return absl::Status(st.code(), absl::StrCat("--http_port: ", st.message()));
    }
  }
  for (Listener* l : {impl->plain.get(), impl->secure.get()}) {
    if (l != nullptr) impl->Accept(l);
  }
  for (int i = 0; i < options.io_threads; ++i) {
    impl->threads.emplace_back([io = &impl->io] { io->run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(absl::ZeroDuration()); }

namespace {
int PortOf(const std::unique_ptr<Listener>& listener) {
  if (listener == nullptr) return -1;
  beast::error_code ec;
  return listener->acceptor.local_endpoint(ec).port();
}
}  // namespace

int HttpServer::port() const { return PortOf(impl_->plain); }

int HttpServer::https_port() const { return PortOf(impl_->secure); }

size_t HttpServer::buffered_bytes() const { return impl_->buffered.load(); }

absl::StatusOr<std::string> HttpServer::ReloadCertificate() {
  if (impl_->secure == nullptr) {
    return absl::FailedPreconditionError("--https_port: no HTTPS listener to reload");
  }
  auto tls = MakeServerTlsContext(impl_->options.https.cert_file, impl_->options.https.key_file);
  if (!tls.ok()) return tls.status();
  std::string certificate = tls->certificate;
  std::lock_guard lock(impl_->tls_mu);
  impl_->tls = *std::move(tls);
  return certificate;
}

std::string HttpServer::certificate() const {
  std::lock_guard lock(impl_->tls_mu);
  return impl_->tls.certificate;
}

int HttpServer::busy() const { return impl_->busy.load(); }

absl::Status HttpServer::Adopt(int fd, std::string address) {
  if (impl_->stopping) {
    ::close(fd);
    return absl::FailedPreconditionError("the HTTP server is stopping");
  }
  tcp::socket socket(asio::make_strand(impl_->io));
  beast::error_code ec;
  socket.assign(tcp::v4(), fd, ec);
  if (ec) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat("cannot serve descriptor ", fd, ": ", ec.message()));
  }
  if (!impl_->Serve(std::move(socket), std::move(address), /*tls=*/false)) {
    return absl::ResourceExhaustedError("connection limit reached");
  }
  return absl::OkStatus();
}

size_t HttpServer::Poll(absl::Duration timeout) {
  return impl_->io.run_one_for(absl::ToChronoNanoseconds(timeout)) + impl_->io.poll();
}

void HttpServer::Stop(absl::Duration grace) {
  if (impl_->stopped.exchange(true)) return;
  impl_->stopping = true;
  for (Listener* l : {impl_->plain.get(), impl_->secure.get()}) {
    if (l == nullptr) continue;
    asio::post(l->acceptor.get_executor(), [impl = impl_, l] {
      beast::error_code ignored;
      l->acceptor.close(ignored);
      l->backoff.cancel();
    });
  }
  std::vector<std::shared_ptr<ConnectionBase>> open;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& [raw, weak] : impl_->live) {
      if (auto c = weak.lock()) open.push_back(std::move(c));
    }
  }
  for (auto& c : open) c->Drain();
  open.clear();
  const absl::Time deadline = absl::Now() + grace;
  while (impl_->busy.load() > 0 && absl::Now() < deadline) {
    if (impl_->threads.empty()) {
      Poll(absl::Milliseconds(10));  // nobody else runs the work
    } else {
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  if (impl_->threads.empty()) impl_->io.poll();  // the acceptor's close, the drains
  impl_->work.reset();
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace genesis::gateway
