"""The Yiwise 探意 open API v1 (the 2018 dialect, spec yiwise-v1): `/apiOpen/v1/...` and `/v1/...`."""

from callbot.api.dialects.yiwise.options import YiwiseOptions
from callbot.api.dialects.yiwise.routes import build_router, mount_yiwise

__all__ = ["YiwiseOptions", "build_router", "mount_yiwise"]
