// Shared by the router's tests: models pointing at an in-process simulator
// (time: ManualClock, common/base/clock.h).
#pragma once

#include <string>

#include "common/base/clock.h"
#include "services/llm_router/model.h"

namespace genesis::llmrouter::testing {

inline ModelSpec SimModel(const std::string& id, Protocol protocol, const std::string& sim_url,
                          Locality locality = Locality::kCloud) {
  ModelSpec m;
  m.id = id;
  m.provider = "simulator";
  m.provider_model = id;
  m.protocol = protocol;
  m.base_url = sim_url + (protocol == Protocol::kGemini ? "/v1beta" : "/v1");
  m.locality = locality;
  m.simulated = true;
  m.configured = true;
  m.input_price_per_mtok = 1;
  m.output_price_per_mtok = 2;
  m.context_window = 100000;
  return m;
}

}  // namespace genesis::llmrouter::testing
