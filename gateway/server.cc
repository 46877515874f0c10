#include "gateway/server.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <deque>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace genesis::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  HttpServerOptions options;
  Handler handler;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  std::atomic<int> connections{0};
  std::atomic<int> busy{0};  // requests between read and written
  std::atomic<bool> stopping{false};
  std::shared_ptr<spdlog::logger> log = Logger("gateway.http");

  Impl(const HttpServerOptions& o, Handler h)
      : options(o), handler(std::move(h)), io(o.io_threads), acceptor(asio::make_strand(io)) {}

  void Accept();
};

namespace {

beast::string_view Reason(int status) {
  if (status == 499) return "Client Closed Request";
  return http::obsolete_reason(static_cast<http::status>(status));
}

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<HttpServer::Impl> server)
      : stream_(std::move(socket)), server_(std::move(server)) {
    server_->connections.fetch_add(1);
  }
  ~Connection() { server_->connections.fetch_sub(1); }

  void Start() {
    beast::error_code endpoint_error;
    auto remote = stream_.socket().remote_endpoint(endpoint_error);
    if (!endpoint_error) remote_address_ = remote.address().to_string();
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    if (server_->stopping) return Close();
    parser_.emplace();
    parser_->body_limit(server_->options.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    // The idle time bounds the wait for a request; read_timeout bounds reading it.
    stream_.expires_after(absl::ToChronoNanoseconds(
        buffer_.size() > 0 ? server_->options.read_timeout : server_->options.idle_timeout));
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    stream_.expires_after(absl::ToChronoNanoseconds(server_->options.read_timeout));
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return WriteError(413, absl::StrCat("request body larger than ",
                                          server_->options.max_body_bytes, " bytes"));
    }
    if (ec == http::error::header_limit) return WriteError(431, "request headers too large");
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      return Close();
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      return WriteError(400, absl::StrCat("malformed HTTP request: ", ec.message()));
    }
    Close();
  }

  void OnRead(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    stream_.expires_never();  // the gateway's deadline bounds the backend call
    auto& req = parser_->get();
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
    if (response.stream) {
      asio::post(stream_.get_executor(),
                 [self = shared_from_this(), response = std::move(response)]() mutable {
                   self->Write(std::move(response));
                 });
      return;
    }
    auto res = MakeResponse(std::move(response));
    auto sr = std::make_shared<http::response_serializer<http::string_body>>(*res);
    const int fd = stream_.socket().native_handle();
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
        self->stream_.expires_after(absl::ToChronoNanoseconds(self->server_->options.read_timeout));
        http::async_write(self->stream_, *sr, [self, res, sr](beast::error_code ec, size_t) {
          self->Written(ec, *res);
        });
        return;
      }
      self->Written(ec, *res);
    });
  }

  std::shared_ptr<http::response<http::string_body>> MakeResponse(HttpResponse response) {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version_);
    res->result(static_cast<unsigned>(response.status));
    res->reason(Reason(response.status));
    res->set(http::field::content_type, response.content_type);
    for (const auto& [k, v] : response.headers) res->set(k, v);
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

  void WriteError(int status, std::string message) {
    keep_alive_ = false;
    server_->busy.fetch_add(1);
    HttpResponse r;
    r.status = status;
    r.body = absl::StrCat(R"({"code":)", status == 413 ? 8 : 3, R"(,"message":")", message, "\"}");
    Write(std::move(r));
  }

  void Write(HttpResponse response) {
    if (response.stream) return WriteStream(std::move(response));
    auto res = MakeResponse(std::move(response));
    stream_.expires_after(absl::ToChronoNanoseconds(server_->options.read_timeout));
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
    res->keep_alive(false);
    res->chunked(true);
    auto sr = std::make_shared<http::response_serializer<http::empty_body>>(*res);
    stream_.expires_after(absl::ToChronoNanoseconds(server_->options.read_timeout));
    http::async_write_header(stream_, *sr,
                             [self = shared_from_this(), res, sr](beast::error_code ec, size_t) {
                               self->stream_.expires_never();
                               self->stream_failed_ = static_cast<bool>(ec);
                               self->source_->Start(std::make_shared<ChunkWriter>(self));
                               if (!ec) self->WatchForDisconnect();
                             });
  }

  void WatchForDisconnect() {
    stream_.socket().async_read_some(asio::buffer(probe_),
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
    stream_.expires_after(absl::ToChronoNanoseconds(server_->options.read_timeout));
    if (!chunks_.empty()) {
      const std::string& data = chunks_.front().first;
      asio::async_write(stream_, http::make_chunk(asio::const_buffer(data.data(), data.size())),
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          self->writing_ = false;
                          self->stream_.expires_never();
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
      stream_.expires_never();
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

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  std::shared_ptr<HttpServer::Impl> server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = true;
  // A streamed response (WriteStream); all touched on the strand only.
  std::shared_ptr<StreamSource> source_;
  std::deque<std::pair<std::string, std::function<void(bool)>>> chunks_;
  bool writing_ = false, finishing_ = false, stream_failed_ = false, stream_done_ = false;
  std::array<char, 64> probe_{};
  unsigned version_ = 11;
  std::string remote_address_;  // the peer's IP, read once
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(asio::make_strand(io),
                        [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                          if (ec) {
                            if (ec != asio::error::operation_aborted && !self->stopping)
                              self->Accept();
                            return;
                          }
                          if (self->connections.load() >= self->options.max_connections) {
                            self->log->warn("refusing a connection: --max_connections ({}) reached",
                                            self->options.max_connections);
                            beast::error_code ignored;
                            socket.close(ignored);
                          } else {
                            std::make_shared<Connection>(std::move(socket), self)->Start();
                          }
                          self->Accept();
                        });
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                              Handler handler) {
  auto impl = std::make_shared<Impl>(options, std::move(handler));
  beast::error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("bad host '", options.host, "'"));
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.host, ":", options.port, ": ", ec.message()));
  }
  impl->Accept();
  for (int i = 0; i < options.io_threads; ++i) {
    impl->threads.emplace_back([io = &impl->io] { io->run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(absl::ZeroDuration()); }

int HttpServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HttpServer::Stop(absl::Duration grace) {
  if (impl_->threads.empty()) return;
  impl_->stopping = true;
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
  });
  const absl::Time deadline = absl::Now() + grace;
  while (impl_->busy.load() > 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace genesis::gateway
