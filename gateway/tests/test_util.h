// Helpers shared by the gateway's unit tests: the gwtest descriptor set
// (testdata/gwtest.proto) loaded into a Transcoder and a RouteTable.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "gateway/routing/http_rules.h"
#include "gateway/routing/transcoder.h"

namespace genesis::gateway::testing {

inline std::unique_ptr<Transcoder> LoadTestTranscoder(TranscoderOptions options = {}) {
  auto set = Transcoder::ReadDescriptorSet(GWTEST_DESCRIPTOR_SET);
  EXPECT_TRUE(set.ok()) << set.status();
  auto t = Transcoder::Create(*set, options);
  EXPECT_TRUE(t.ok()) << t.status();
  return std::move(*t);
}

inline RouteTable LoadTestRoutes(const Transcoder& transcoder) {
  auto routes = RouteTable::Build(transcoder.Services());
  EXPECT_TRUE(routes.ok()) << routes.status();
  return std::move(*routes);
}

}  // namespace genesis::gateway::testing
