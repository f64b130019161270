"""Dependencies declared once as `Annotated` aliases, so routes read like their documentation."""

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from sqlalchemy import Engine

from api.services import Services


def services_of(request: Request) -> Services:
    """The collaborators of the app serving this request."""
    services: Services = request.app.state.services
    return services


async def get_services(request: Request) -> Services:
    """The collaborators (async: no I/O, so no thread-pool hop per request)."""
    return services_of(request)


async def get_engine(request: Request) -> Engine:
    """The store's engine."""
    return services_of(request).store.engine


async def known_yard(
    request: Request,
    yard: Annotated[str, Path(description="a yard id", examples=["tuanjiecun"], max_length=64)],
) -> str:
    """The yard id of the path, if the corridor has such a yard (else 404)."""
    stations = services_of(request).stations
    if yard not in stations:
        known = ", ".join(stations)
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown yard {yard!r}; known: {known}")
    return yard


ServicesDep = Annotated[Services, Depends(get_services)]
EngineDep = Annotated[Engine, Depends(get_engine)]
YardDep = Annotated[str, Depends(known_yard)]
