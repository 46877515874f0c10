// genesis-channel-simulator: the channel simulator (simulator.h) as a
// program, for scripts/run.sh, the e2e tests and the benchmark. Prints
// "genesis-channel-simulator http=HOST:PORT" once listening; stops on
// SIGINT/SIGTERM.
#include <gflags/gflags.h>

#include <csignal>
#include <cstdio>

#include "common/runtime/config.h"
#include "services/bot_manager/simulator/simulator.h"

DEFINE_string(host, "127.0.0.1", "Address to listen on.");
DEFINE_int32(http_port, 0, "Port to listen on (0: a free port).");
DEFINE_bool(collapse_repeats, true,
            "Answer a send that repeats an idempotency key with the first answer and record it "
            "only as a duplicate; false: record it as another message too (what WhatsApp and "
            "Telegram, which have no such key, would deliver).");

int main(int argc, char** argv) {
  genesis::ParseFlagsWithEnv(&argc, &argv,
                             "genesis-channel-simulator: simulated WhatsApp Cloud API, Telegram "
                             "Bot API and Mattermost endpoints that record every send.");
  genesis::ConfigErrors errors;
  errors.RequirePort("http_port", FLAGS_http_port);
  errors.ExitIfAny();
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto sim = genesis::bot::sim::ChannelSimulator::Start(FLAGS_host, FLAGS_http_port,
                                                        FLAGS_collapse_repeats);
  if (!sim.ok()) {
    std::fprintf(stderr, "genesis-channel-simulator: %s\n",
                 std::string(sim.status().message()).c_str());
    return 1;
  }
  std::printf("genesis-channel-simulator http=%s:%d\n", FLAGS_host.c_str(), (*sim)->port());
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  sim->reset();
  return 0;
}
