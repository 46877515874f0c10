"""Helpers for calling Genesis services with the generated stubs of this package.

The stubs themselves are the modules protoc generates, e.g. ``genesis.catalog.v1.catalog_pb2``
(messages) and ``genesis.catalog.v1.catalog_pb2_grpc`` (``CatalogServiceStub``); also
``google.rpc.error_details_pb2``, ``grpc_health.v1.health_pb2_grpc`` and
``grpc_reflection.v1alpha.reflection_pb2_grpc``.
"""

from genesis_clients.channel import call_metadata, insecure_channel, secure_channel
from genesis_clients.errors import STATUS_DETAILS_KEY, ErrorDetails, error_details

__all__ = [
    "STATUS_DETAILS_KEY",
    "ErrorDetails",
    "call_metadata",
    "error_details",
    "insecure_channel",
    "secure_channel",
]
