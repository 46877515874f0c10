"""The details of a Genesis error: google.rpc.Status from ``grpc-status-details-bin``.

Every Genesis error carries a ``google.rpc.Status`` in that trailer, whose ``details`` hold
``BadRequest`` (the offending fields, for INVALID_ARGUMENT), ``ErrorInfo`` (reason, domain,
metadata) and ``RetryInfo`` (when retrying helps). ``error_details`` decodes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import grpc
from google.rpc import error_details_pb2, status_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"


@dataclass(frozen=True)
class ErrorDetails:
    """What a failed call said, decoded."""

    code: grpc.StatusCode
    message: str
    status: Optional[status_pb2.Status] = None
    bad_request: Optional[error_details_pb2.BadRequest] = None
    error_info: Optional[error_details_pb2.ErrorInfo] = None
    retry_info: Optional[error_details_pb2.RetryInfo] = None
    unknown: List[str] = field(default_factory=list)  # type URLs of other details

    @property
    def field_violations(self) -> List[Tuple[str, str]]:
        """(field path, description) of every BadRequest violation, in order."""
        if self.bad_request is None:
            return []
        return [(v.field, v.description) for v in self.bad_request.field_violations]

    @property
    def retry_delay_seconds(self) -> Optional[float]:
        """RetryInfo's delay, when the server says a retry may succeed after it."""
        if self.retry_info is None or not self.retry_info.HasField("retry_delay"):
            return None
        d = self.retry_info.retry_delay
        return d.seconds + d.nanos / 1e9


def error_details(error: grpc.RpcError) -> ErrorDetails:
    """Decodes the error a stub raised (a ``grpc.RpcError`` that is also a ``grpc.Call``).

    Without a ``grpc-status-details-bin`` trailer, only ``code`` and ``message`` are set.
    """
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    message = error.details() if hasattr(error, "details") else str(error)
    trailers = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    raw = None
    for key, value in trailers or ():
        if key == STATUS_DETAILS_KEY:
            raw = value
    if raw is None:
        return ErrorDetails(code=code, message=message or "")
    status = status_pb2.Status.FromString(raw)
    found = {}
    unknown = []
    for detail in status.details:
        for name, cls in (
            ("bad_request", error_details_pb2.BadRequest),
            ("error_info", error_details_pb2.ErrorInfo),
            ("retry_info", error_details_pb2.RetryInfo),
        ):
            if detail.Is(cls.DESCRIPTOR):
                msg = cls()
                detail.Unpack(msg)
                found.setdefault(name, msg)
                break
        else:
            unknown.append(detail.type_url)
    return ErrorDetails(
        code=code, message=message or status.message, status=status, unknown=unknown, **found
    )
