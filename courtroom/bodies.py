"""Request bodies as the HTTP API takes them: read only after the caller
is known, parsed into a model, names and titles as one line of visible
text."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BaseModel, ValidationError

from .access import credential


def _line(value: str) -> str:
    """A name or title as people write it: one line of visible text."""
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value):
        raise ValueError("must not contain control characters")
    return value


Line = Annotated[str, AfterValidator(_line)]


#: The token a request carries (header, ``?token=``, or the page's cookie).
Credential = Annotated[str, Depends(credential)]
M = TypeVar("M", bound=BaseModel)


async def parse_body(request: Request, model: type[M]) -> M:
    """The request's JSON body as ``model``, read only now (after the caller
    has checked who is asking) and never beyond the body limit."""
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as err:
        problems = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in err.errors()]
        raise RequestValidationError(problems) from None


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI for a body that the endpoint parses itself."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}
