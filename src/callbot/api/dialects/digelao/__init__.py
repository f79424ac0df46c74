"""The Digelao 狄阁老 (ciopaas v6.6+) dialect under `/api/{name}`. Mount it with `mount_digelao(app, options)`."""

from callbot.api.dialects.digelao.options import DigelaoOptions
from callbot.api.dialects.digelao.routes import build_router, mount_digelao

__all__ = ["DigelaoOptions", "build_router", "mount_digelao"]
