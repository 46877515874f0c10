// Conversions between the Catalog's protos (genesis.catalog.v1) and its
// domain types. Used by the transport and by the Redis item cache, which
// stores items as serialized genesis.catalog.v1.Item.
#pragma once

#include "absl/status/statusor.h"
#include "genesis/catalog/v1/catalog.pb.h"
#include "services/catalog/model.h"

namespace genesis::catalog {

// Output conversions. `purge_window` fills Item.purge_time for deleted items.
v1::ItemType ToProto(const ItemType& type);
v1::Item ToProto(const Item& item, absl::Duration purge_window);

// Input conversions (names are left as given; the logic parses them).
ItemType FromProto(const v1::ItemType& type);
Item FromProto(const v1::Item& item);

// For the cache: back from the serialized proto (drops purge_time).
absl::StatusOr<Item> ItemFromProtoOutput(const v1::Item& item);

}  // namespace genesis::catalog
