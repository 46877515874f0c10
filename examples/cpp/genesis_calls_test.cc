// The example's calls against the generated gMock stub of the catalog: no server needed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "genesis/catalog/v1/catalog_mock.grpc.pb.h"
#include "genesis_calls.h"
#include "google/rpc/status.pb.h"

namespace {

using ::testing::_;
using ::testing::DoAll;
using ::testing::Return;
using ::testing::SetArgPointee;

TEST(DescribeItem, PrintsTheItemTheStubReturns) {
  genesis::catalog::v1::MockCatalogServiceStub stub;
  genesis::catalog::v1::Item item;
  item.set_name("items/7");
  item.set_title("Ana");
  item.set_type("types/lead");
  EXPECT_CALL(stub, GetItem(_, _, _))
      .WillOnce(DoAll(SetArgPointee<2>(item), Return(grpc::Status::OK)));
  EXPECT_EQ(example::DescribeItem(stub, "items/7"), "items/7 \"Ana\" (types/lead)");
}

TEST(DescribeItem, PrintsTheViolationsOfABadRequest) {
  google::rpc::BadRequest bad;
  auto* v = bad.add_field_violations();
  v->set_field("name");
  v->set_description("must be items/{item}");
  google::rpc::Status details;
  details.set_code(grpc::StatusCode::INVALID_ARGUMENT);
  details.set_message("invalid name");
  details.add_details()->PackFrom(bad);
  genesis::catalog::v1::MockCatalogServiceStub stub;
  EXPECT_CALL(stub, GetItem(_, _, _))
      .WillOnce(Return(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "invalid name",
                                    details.SerializeAsString())));
  EXPECT_EQ(example::DescribeItem(stub, "x"),
            "INVALID_ARGUMENT: invalid name; name: must be items/{item}");
}

}  // namespace
