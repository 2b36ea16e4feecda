"""One post in detail: its history, enrichment (labels, faces, language, sentiment) and
pictures (thumbnails), for posts the workspace may see."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse

from tagpulse.collect.media import MediaStore
from tagpulse.service.deps import WorkspaceAccess, require
from tagpulse.service.routes_data import lake_of, visible_of

__all__ = ["router"]

router = APIRouter(prefix="/workspaces/{workspace}/posts/{platform}/{post_id}", tags=["posts"])
Read = Annotated[WorkspaceAccess, Depends(require("read"))]


def _iso(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def _observations(
    request: Request, access: WorkspaceAccess, platform: str, post_id: str
) -> list[dict[str, Any]]:
    """The post's observations, oldest first, or 404 when the workspace may not see it."""
    where, params = visible_of(request, access).post_filter(platform)
    rows = lake_of(request).rows(
        "SELECT * EXCLUDE (extra, date) FROM posts WHERE post_id = ? AND " + where
        + " ORDER BY collected_at",
        [post_id, *params],
    )  # fmt: skip
    if not rows:
        raise HTTPException(404, f"no post {platform}:{post_id} in this workspace")
    return rows


@router.get("")
def post_detail(request: Request, access: Read, platform: str, post_id: str) -> dict[str, Any]:
    rows = _observations(request, access, platform, post_id)
    lake = lake_of(request)
    labels: list[dict[str, Any]] = []
    if lake.has_data("post_labels"):
        labels = lake.rows(
            "SELECT media_sha256, media_index, model, labels, top_label, top_score, faces, "
            "smiles, error FROM post_labels WHERE platform = ? AND post_id = ? "
            "ORDER BY media_index, enriched_at DESC",
            [platform, post_id],
        )
    text: list[dict[str, Any]] = []
    if lake.has_data("post_text"):
        text = lake.rows(
            "SELECT kind, item_id, language, sentiment, sentiment_method, keywords, emoji "
            "FROM post_text WHERE platform = ? AND post_id = ? AND kind = 'caption' "
            "ORDER BY enriched_at DESC LIMIT 1",
            [platform, post_id],
        )
    media = []
    if request.app.state.media_dir.exists():
        with MediaStore(request.app.state.media_dir) as store:
            media = [
                {"index": i, "sha256": f.sha256, "mime": f.mime, "width": f.width,
                 "height": f.height,
                 "thumbnail": f"media/{i}/thumbnail" if store.thumbnail_path(f.sha256) else None}
                for i, f in enumerate(store.for_post(platform, post_id))
            ]  # fmt: skip
    return {
        "post": _iso(rows[-1]),
        "history": [
            {
                "at": r["collected_at"].isoformat(),
                "likes": r["likes"],
                "comments": r["comments"],
                "views": r["views"],
            }
            for r in rows
        ],
        "labels": labels,
        "text": text[0] if text else None,
        "media": media,
    }


@router.get("/media/{index}/thumbnail", response_class=FileResponse)
def thumbnail(
    request: Request, access: Read, platform: str, post_id: str, index: int
) -> FileResponse:
    """A JPEG thumbnail of the post's ``index``-th stored picture."""
    _observations(request, access, platform, post_id)
    if not request.app.state.media_dir.exists():
        raise HTTPException(404, "no pictures stored")
    with MediaStore(request.app.state.media_dir) as store:
        files = store.for_post(platform, post_id)
        if not 0 <= index < len(files):
            raise HTTPException(404, f"the post has no picture {index}")
        path = store.thumbnail_path(files[index].sha256)
    if path is None:
        raise HTTPException(404, "no thumbnail for this picture")
    return FileResponse(
        path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"}
    )
