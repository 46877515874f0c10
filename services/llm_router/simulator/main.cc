// genesis-llm-simulator: the provider simulator (simulator.h) as a program,
// for scripts/run.sh and manual runs. Prints "genesis-llm-simulator
// http=HOST:PORT" once listening; stops on SIGINT/SIGTERM.
#include <gflags/gflags.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/runtime/config.h"
#include "services/llm_router/simulator/simulator.h"

DEFINE_string(host, "127.0.0.1", "Address to listen on.");
DEFINE_int32(http_port, 0, "Port to listen on (0: a free port).");
DEFINE_string(answer, "",
              "Every model answers this fixed text instead of the echo (empty: echo). A "
              "request's x-sim-answer header or a model's scripted answer take precedence.");
DEFINE_string(answer_file, "",
              "Like --answer, with the text (e.g. a JSON document) read from this file.");
DEFINE_bool(instant, false,
            "Zero latency: ignore scripted latency_ms and chunk_delay_ms (for benchmarks).");

int main(int argc, char** argv) {
  genesis::ParseFlagsWithEnv(&argc, &argv,
                             "genesis-llm-simulator: simulated OpenAI, Anthropic and Gemini "
                             "endpoints for the LLM router (no keys, no network).");
  genesis::ConfigErrors errors;
  errors.RequirePort("http_port", FLAGS_http_port);
  genesis::llmrouter::sim::SimulatorOptions options;
  options.instant = FLAGS_instant;
  if (!FLAGS_answer.empty() && !FLAGS_answer_file.empty()) {
    errors.Add("answer_file", "give --answer or --answer_file, not both");
  }
  if (!FLAGS_answer.empty()) options.answer = FLAGS_answer;
  if (!FLAGS_answer_file.empty()) {
    std::ifstream in(FLAGS_answer_file);
    if (!in) {
      errors.Add("answer_file", "cannot read " + FLAGS_answer_file);
    } else {
      std::stringstream text;
      text << in.rdbuf();
      options.answer = text.str();
    }
  }
  errors.ExitIfAny();
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // threads started below inherit the mask
  auto sim = genesis::llmrouter::sim::ProviderSimulator::Start(FLAGS_host, FLAGS_http_port,
                                                               std::move(options));
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
