"""The download side of the recording links the dialects hand out (no API credentials: the link's
signature and expiry are the credential, see `callbot.record.recordings`).

    /r/{sn}.wav?e=&t=               Digelao record_url: both parties
    /r/{sn}/{index}.wav?e=&t=       Digelao cdrFragmentDownload: one utterance of the call
    /r/{id}/full.wav?t=             Yiwise fullAudioUrl (t = "<expiry>.<signature>")
    /r/{id}/customer.wav?t=         Yiwise customerAudioUrl: the customer alone

A bad, expired or foreign link is 403; a link to a call without (or no longer with) a recording is 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response

from callbot.api.deps import get_store
from callbot.api.dialects.digelao import mapping as digelao
from callbot.api.dialects.digelao.options import DigelaoOptions
from callbot.errors import NotFound
from callbot.models import CallRecord
from callbot.record import recordings
from callbot.record import service as record_service

__all__ = ["mount_recording_links"]


def mount_recording_links(app: FastAPI, folder: Path | None, key: str) -> None:
    app.include_router(_router(folder, key))


def _router(folder: Path | None, key: str) -> APIRouter:
    router = APIRouter(tags=["recordings"], include_in_schema=False)

    async def _record(request: Request, *, sn: str | None = None, record_id: int | None = None) -> CallRecord:
        async with get_store(request).transaction() as tx:
            record = await record_service.find_record(tx, sn=sn, record_id=record_id)
        if record is None:
            raise HTTPException(404, "no such call")
        return record

    def _file(record: CallRecord, part: str) -> Path:
        if folder is None:
            raise HTTPException(404, "recordings are not kept by this server")
        try:
            return recordings.recording_file(folder, record, part)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None

    def _check(path: str, expires: int, token: str) -> None:
        if not recordings.link_valid(key, path, expires, token):
            raise HTTPException(403, "this recording link is not valid or has expired")

    @router.get("/r/{sn}.wav")
    async def digelao_full(
        sn: str, request: Request, e: int = Query(0), t: str = Query("", max_length=64)
    ) -> FileResponse:
        _check(f"/r/{sn}.wav", e, t)
        record = await _record(request, sn=sn)
        return FileResponse(_file(record, "full"), media_type="audio/wav", filename=f"{sn}.wav")

    @router.get("/r/{key_}/{part}.wav", response_model=None)
    async def by_part(
        key_: str,
        part: str,
        request: Request,
        e: int = Query(0),
        t: str = Query("", max_length=64),
    ) -> Response:
        if part in recordings.PARTS:  # a Yiwise link: /r/{record id}/{full|customer}.wav?t=<expiry>.<signature>
            expiry, _, token = t.partition(".")
            if not key_.isdigit() or not expiry.isdigit():
                raise HTTPException(403, "this recording link is not valid or has expired")
            _check(f"/r/{key_}/{part}.wav", int(expiry), token)
            record = await _record(request, record_id=int(key_))
            return FileResponse(_file(record, part), media_type="audio/wav", filename=f"{record.sn}-{part}.wav")
        if not part.isdigit():  # a Digelao fragment: /r/{sn}/{index}.wav
            raise HTTPException(404, "no such recording")
        _check(f"/r/{key_}/{part}.wav", e, t)
        record = await _record(request, sn=key_)
        path = _file(record, "full")
        fragments = digelao.fragments(record, DigelaoOptions(), record.created_at)
        index = int(part)
        if index >= len(fragments):
            raise HTTPException(404, f"call {record.sn} has {len(fragments)} fragments")
        start, end = fragments[index]["start_ms"], fragments[index]["end_ms"]
        return Response(recordings.fragment_wav(path, start, end), media_type="audio/wav")

    return router
