// genesis-wyoming-simulator: a Wyoming server (faster-whisper and piper
// stand-in) for tests and benchmarks. Prints
// "genesis-wyoming-simulator tcp=HOST:PORT" when ready; stops on SIGINT/SIGTERM.
#include <gflags/gflags.h>

#include <csignal>
#include <cstdio>
#include <thread>

#include "services/voice/simulator/wyoming_simulator.h"

DEFINE_string(host, "127.0.0.1", "Address to listen on.");
DEFINE_int32(port, 0, "TCP port (0 picks a free one).");
DEFINE_string(transcript, "turn on the kitchen light", "The text every transcription returns.");
DEFINE_int32(write_piece_bytes, 0, "Write events in pieces of this many bytes (0: whole).");
DEFINE_int32(header_padding, 0, "Pad header lines with this many bytes.");
DEFINE_bool(silent, false, "Never answer transcribe or synthesize.");

namespace {
volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage("genesis-wyoming-simulator: a Wyoming ASR/TTS server for tests.");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  genesis::voice::WyomingSimulatorOptions options;
  options.host = FLAGS_host;
  options.port = FLAGS_port;
  options.transcript = FLAGS_transcript;
  options.write_piece_bytes = static_cast<size_t>(std::max(0, FLAGS_write_piece_bytes));
  options.header_padding = static_cast<size_t>(std::max(0, FLAGS_header_padding));
  options.silent = FLAGS_silent;
  genesis::voice::WyomingSimulator sim(options);
  if (auto st = sim.Start(); !st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::printf("genesis-wyoming-simulator tcp=%s\n", sim.address().c_str());
  std::fflush(stdout);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  sim.Stop();
  return 0;
}
