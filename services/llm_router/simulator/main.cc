// genesis-llm-simulator: the provider simulator (simulator.h) as a program,
// for scripts/run.sh and manual runs. Prints "genesis-llm-simulator
// http=HOST:PORT" once listening; stops on SIGINT/SIGTERM.
#include <gflags/gflags.h>

#include <csignal>
#include <cstdio>

#include "common/config.h"
#include "services/llm_router/simulator/simulator.h"

DEFINE_string(host, "127.0.0.1", "Address to listen on.");
DEFINE_int32(http_port, 0, "Port to listen on (0: a free port).");

int main(int argc, char** argv) {
  genesis::ParseFlagsWithEnv(&argc, &argv,
                             "genesis-llm-simulator: simulated OpenAI, Anthropic and Gemini "
                             "endpoints for the LLM router (no keys, no network).");
  genesis::ConfigErrors errors;
  errors.RequirePort("http_port", FLAGS_http_port);
  errors.ExitIfAny();
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // threads started below inherit the mask
  auto sim = genesis::llmrouter::sim::ProviderSimulator::Start(FLAGS_host, FLAGS_http_port);
  if (!sim.ok()) {
    std::fprintf(stderr, "genesis-llm-simulator: %s\n",
                 std::string(sim.status().message()).c_str());
    return 1;
  }
  std::printf("genesis-llm-simulator http=%s:%d\n", FLAGS_host.c_str(), (*sim)->port());
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  sim->reset();
  return 0;
}
