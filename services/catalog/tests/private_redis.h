// A redis-server of a test's own (label `pg` tests), so stopping it
// (SIGSTOP: a hung server), continuing or killing it touches nothing else.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>

namespace genesis::catalog::testing {

inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

class PrivateRedis {
 public:
  static std::unique_ptr<PrivateRedis> Start() {
    const int port = FreePort();
    const std::string port_text = std::to_string(port);
    pid_t pid = fork();
    if (pid == 0) {
      execlp("redis-server", "redis-server", "--bind", "127.0.0.1", "--port", port_text.c_str(),
             "--save", "", "--appendonly", "no", "--loglevel", "warning", nullptr);
      _exit(127);
    }
    if (pid < 0) return nullptr;
    return std::unique_ptr<PrivateRedis>(new PrivateRedis(pid, port));
  }
  ~PrivateRedis() {
    kill(pid_, SIGCONT);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  void Stop() { kill(pid_, SIGSTOP); }
  void Continue() { kill(pid_, SIGCONT); }
  [[nodiscard]] std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

 private:
  PrivateRedis(pid_t pid, int port) : pid_(pid), port_(port) {}
  pid_t pid_;
  int port_;
};

}  // namespace genesis::catalog::testing
