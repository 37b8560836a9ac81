"""What every HTTP handler of the collector shares: the collector behind the request, its
credentials, and answers (a refusal included) as JSON responses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from yte_compliance.collector.refusal import Refused
from yte_compliance.collector.service import Answer, Collector

Handler = Callable[[Request], Awaitable[Response]]


def collector_of(request: Request) -> Collector:
    return request.app.state.collector


def authorization(request: Request) -> str:
    return request.headers.get("authorization", "")


def as_json(answer: Answer) -> Response:
    status, body, headers = answer
    return JSONResponse(body, status_code=status, headers=headers)


def answering(handler: Handler) -> Handler:
    """A handler whose refusals become their JSON answers."""
    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except Refused as r:
            return as_json(r.answer())
    return guarded
